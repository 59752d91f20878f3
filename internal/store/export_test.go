package store

import (
	"context"
	"io/fs"
)

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

// MigrateFS applies the migrations in fsys's directory dir, as a binary
// whose embedded migrations they were would.
func MigrateFS(ctx context.Context, db DB, fsys fs.FS, dir string) (int, error) {
	ms, err := loadMigrations(fsys, dir)
	if err != nil {
		return 0, err
	}
	return migrate(ctx, db, ms)
}

// LoadMigrationsFS is loadMigrations, for tests of the file format.
func LoadMigrationsFS(fsys fs.FS, dir string) ([]Migration, error) { return loadMigrations(fsys, dir) }

// ParseRequires is parseRequires, for its fuzz test.
var ParseRequires = parseRequires

// MigrationFiles is the embedded migrations directory.
func MigrationFiles() fs.FS { return migrationFS }
