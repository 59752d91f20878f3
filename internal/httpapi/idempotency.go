package httpapi

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
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
// status ≥ 500 are not kept, so the client may retry them.
func (s *Server) idempotent(w http.ResponseWriter, r *http.Request, p *genesis.Principal, h handlerFunc) {
	const op errors.Op = "httpapi.idempotent"
	ctx := r.Context()
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 255 {
		s.writeError(w, r, errors.E(op, errors.Invalid, errors.Field("Idempotency-Key"), errors.Msg("Idempotency-Key is longer than 255 characters")))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxJSONBody+1))
	if err != nil {
		s.writeError(w, r, errors.E(op, errors.Invalid, errors.Msg("cannot read the request body"), err))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	hh := sha256.New()
	hh.Write([]byte(r.Method + " " + r.URL.RequestURI() + "\n"))
	hh.Write(body)
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
	rec.flushTo(w)
	ctx = contextWithoutCancel(ctx)
	if rec.status >= 500 || rec.status == 499 {
		s.db.Update(ctx, func(tx store.Tx) error {
			_, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE principal_id = ? AND key = ?`, p.ID, key)
			return err
		})
		return
	}
	err = s.db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE idempotency_keys SET status = ?, content_type = ?, body = ? WHERE principal_id = ? AND key = ?`,
			rec.status, rec.header.Get("Content-Type"), rec.body.Bytes(), p.ID, key)
		return err
	})
	if err != nil {
		s.log.ErrorContext(ctx, "record idempotent response", "err", err, "request_id", requestID(ctx))
	}
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
