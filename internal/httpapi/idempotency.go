package httpapi

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// inFlightTimeout is how long a key whose first request never finished
// (the server crashed) blocks retries before it may be taken over.
const inFlightTimeout = 5 * time.Minute

// keyRetention is how long a response is kept for replay under its key.
const keyRetention = 24 * time.Hour

// idempotent runs h at most once per (principal, Idempotency-Key): a retry
// with the same key and the same request gets the first response again
// (with Idempotent-Replayed: true); the same key with a different request is
// refused; a retry while the first is still running gets 409. Responses with
// status ≥ 500 are not kept, so the client may retry them. The whole body
// is part of the request (never cut; see holdBody). A response marked
// Cache-Control: no-store (one that carries a new token's secret) is not
// kept either: only that the request was done, and a retry gets 409
// saying the secret was shown once — secrets are never at rest here.
func (s *Server) idempotent(w http.ResponseWriter, r *http.Request, p *genesis.Principal, h handlerFunc) {
	const op errors.Op = "httpapi.idempotent"
	ctx := r.Context()
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 255 {
		s.writeError(w, r, errors.E(op, errors.Invalid, errors.Field("Idempotency-Key"), errors.Msg("Idempotency-Key is longer than 255 characters")))
		return
	}
	// The key names the whole request: the body is hashed to its end.
	// Bodies up to MaxJSONBody stay in memory; a larger one (a catalog
	// import) is spooled to an unnamed temporary file, up to
	// maxIdempotentBody, and the handler reads it from there.
	hh := sha256.New()
	hh.Write([]byte(r.Method + " " + r.URL.RequestURI() + "\n"))
	body, spool, err := holdBody(r.Body, hh)
	if spool != nil {
		defer spool.Close()
	}
	if err != nil {
		s.writeError(w, r, errors.E(op, err))
		return
	}
	if spool != nil {
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), spool))
	} else {
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	sum := hh.Sum(nil)

	var replay *recorded
	now := s.now()
	err = s.db.Update(ctx, func(tx store.Tx) error {
		replay = nil
		var method, path, ctype string
		var hash, rbody []byte
		var status int
		var created int64
		err := tx.QueryRow(ctx, `SELECT method, path, request_hash, status, content_type, body, created_at FROM idempotency_keys WHERE principal_id = ? AND key = ?`,
			p.ID, key).Scan(&method, &path, &hash, &status, &ctype, &rbody, &created)
		switch {
		case errors.Is(errors.NotExist, err):
			// Keys are kept for a day: forget this principal's older ones.
			if _, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE principal_id = ? AND created_at < ?`, p.ID, store.T(now.Add(-keyRetention))); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO idempotency_keys (principal_id, key, method, path, request_hash, status, content_type, body, created_at) VALUES (?, ?, ?, ?, ?, 0, '', NULL, ?)`,
				p.ID, key, r.Method, r.URL.Path, sum, store.T(now))
			return err
		case err != nil:
			return err
		case !bytes.Equal(hash, sum):
			return errors.E(op, errors.Invalid, errors.Field("Idempotency-Key"), errors.Msg("this Idempotency-Key was used for a different request"))
		case status == 0 && now.Sub(store.FromT(created)) < inFlightTimeout:
			return errors.E(op, errors.Conflict, errors.Msg("a request with this Idempotency-Key is still in progress"))
		case status == 0:
			_, err = tx.Exec(ctx, `UPDATE idempotency_keys SET created_at = ? WHERE principal_id = ? AND key = ?`, store.T(now), p.ID, key)
			return err
		case ctype == withheld:
			return errors.E(op, errors.Conflict, errors.Msg(fmt.Sprintf("this request was already done (status %d); its response carried a secret, which is shown only once and not kept: "+
				"list your tokens (GET /api/v1/tokens) to find what it created, and revoke it if you no longer have the secret", status)))
		default:
			replay = &recorded{status: status, contentType: ctype, body: rbody}
			return nil
		}
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if replay != nil {
		w.Header().Set("Idempotent-Replayed", "true")
		if replay.contentType != "" {
			w.Header().Set("Content-Type", replay.contentType)
		}
		w.WriteHeader(replay.status)
		w.Write(replay.body)
		return
	}

	rec := &recorder{ResponseWriter: w, header: http.Header{}}
	if err := h(rec, r); err != nil {
		s.writeError(rec, r, err)
	}
	if rec.status == 0 {
		rec.status = http.StatusOK // nothing written: an empty 200, as flushTo sends
	}
	// The response is on record before the client sees any of it: a
	// retry the client sends the moment it has the answer — perhaps to
	// another replica behind the load balancer — finds it and replays it
	// rather than meeting "still in progress".
	defer rec.flushTo(w)
	ctx = contextWithoutCancel(ctx)
	if rec.status >= 500 || rec.status == 499 {
		s.db.Update(ctx, func(tx store.Tx) error {
			_, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE principal_id = ? AND key = ?`, p.ID, key)
			return err
		})
		return
	}
	// A response that must not be stored (Cache-Control: no-store: a new
	// token's secret) is not: only that the request was done.
	ctype, kept := rec.header.Get("Content-Type"), rec.body.Bytes()
	if strings.Contains(strings.ToLower(rec.header.Get("Cache-Control")), "no-store") {
		ctype, kept = withheld, nil
	}
	err = s.db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE idempotency_keys SET status = ?, content_type = ?, body = ? WHERE principal_id = ? AND key = ?`,
			rec.status, ctype, kept, p.ID, key)
		return err
	})
	if err != nil {
		s.log.ErrorContext(ctx, "record idempotent response", "err", err, "request_id", requestID(ctx))
	}
}

// withheld is the content type kept for a response whose body was not
// stored because it carried a secret; a replay answers 409 saying so.
const withheld = "genesis/withheld; secret shown once"

// maxIdempotentBody is the largest body the idempotency layer holds (the
// largest any endpoint takes, a catalog import's); larger is 413, never cut.
const maxIdempotentBody = MaxImportBody

// holdBody reads body to its end, into h as well: up to MaxJSONBody in
// memory, the rest (up to maxIdempotentBody in all) into an unnamed
// temporary file positioned at its start. The error is user-facing.
func holdBody(body io.Reader, h io.Writer) (head []byte, spool *os.File, err error) {
	tee := io.TeeReader(body, h)
	head, err = io.ReadAll(io.LimitReader(tee, MaxJSONBody+1))
	if err != nil {
		return nil, nil, errors.E(errors.Invalid, errors.Msg("cannot read the request body"), err)
	}
	if len(head) <= MaxJSONBody {
		return head, nil, nil
	}
	spool, err = os.CreateTemp("", "genesis-body-*")
	if err != nil {
		return nil, nil, errors.E(errors.Unavailable, errors.Msg("cannot hold the request body"), err)
	}
	os.Remove(spool.Name()) // unnamed: gone when closed, even after a crash
	n, err := io.Copy(spool, io.LimitReader(tee, maxIdempotentBody-int64(len(head))+1))
	if err != nil {
		return nil, spool, errors.E(errors.Invalid, errors.Msg("cannot read the request body"), err)
	}
	if int64(len(head))+n > maxIdempotentBody {
		return nil, spool, errors.E(errors.TooLarge, errors.Msg(fmt.Sprintf("a request with an Idempotency-Key may carry at most %d MiB", maxIdempotentBody>>20)))
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return nil, spool, errors.E(errors.Unavailable, errors.Msg("cannot hold the request body"), err)
	}
	return head, spool, nil
}

type recorded struct {
	status      int
	contentType string
	body        []byte
}

// recorder buffers a response so it can be both sent and kept.
type recorder struct {
	http.ResponseWriter
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func (r *recorder) flushTo(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	if r.status == 0 {
		r.status = http.StatusOK
	}
	w.WriteHeader(r.status)
	w.Write(r.body.Bytes())
}
