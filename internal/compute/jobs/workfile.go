package jobs

import (
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// ByName returns the newest of p's own jobs named name that p may read
// (NotExist if there is none): a caller that names its jobs by an
// idempotency key — the campaign runner's job executor — finds the job it
// submitted before a crash instead of submitting it again.
func (s *Service) ByName(ctx context.Context, p *genesis.Principal, name string) (*Job, error) {
	const op errors.Op = "jobs.ByName"
	var j *Job
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		j, err = scan(tx.QueryRow(ctx, `SELECT `+cols+` FROM jobs WHERE owner_id = ? AND name = ? ORDER BY created_at DESC, id DESC LIMIT 1`, string(p.ID), name))
		return err
	})
	if err == nil {
		err = s.can(ctx, p, authz.Read, j)
	}
	if err == nil {
		err = s.seenBy(ctx, p, j)
	}
	if errors.Is(errors.NotExist, err) {
		return nil, errors.E(op, errors.NotExist)
	}
	if err != nil {
		return nil, errors.E(op, err)
	}
	return j, nil
}

// WorkFile returns the file at path, relative to the working directory of
// job id, which p may read: at most max bytes (TooLarge beyond). A path
// that is not local to the directory is Invalid; a missing file, or one
// reached through a link out of the directory, is NotExist.
func (s *Service) WorkFile(ctx context.Context, p *genesis.Principal, id, path string, max int64) ([]byte, error) {
	const op errors.Op = "jobs.WorkFile"
	if !filepath.IsLocal(path) {
		return nil, errors.E(op, errors.Invalid, errors.Field("path"), errors.Msg("the path must be relative to the job's directory, without .."))
	}
	j, err := s.get(ctx, p, id)
	if err != nil {
		return nil, errors.E(op, err)
	}
	root, err := os.OpenRoot(s.dirOf(j))
	if err != nil {
		if errors.Is(errors.NotExist, err) || os.IsNotExist(err) {
			return nil, errors.E(op, errors.NotExist, errors.Msg("the job has no working directory"))
		}
		return nil, errors.E(op, errors.Internal, err)
	}
	defer root.Close()
	f, err := root.Open(path)
	if err != nil {
		return nil, errors.E(op, errors.NotExist, errors.Msg("the job did not write "+path))
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, errors.E(op, errors.Invalid, errors.Msg(path+" is not a regular file"))
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	if int64(len(b)) > max {
		return nil, errors.E(op, errors.TooLarge, errors.Msg(path+" is larger than the limit"))
	}
	return b, nil
}
