package store

import "context"

// MigrateTo applies the embedded migrations up to version v only, for
// tests of one migration against data written before it.
func MigrateTo(ctx context.Context, db DB, v int) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	_, err = migrate(ctx, db, ms[:v])
	return err
}
