package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
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
// status ≥ 500 are not kept, so the client may retry them — unless the
// attempt had already committed something, when the response is kept like
// any other (and a 499, the client gone, leaves the key as a crash would). The whole body is part of the request (never cut; see
// holdBody). A response marked Cache-Control: no-store (one that carries a
// new token's secret) is not kept either: only that the request was done,
// and a retry gets 409 saying the secret was shown once — secrets are
// never at rest here.
//
// Done at most once holds across a crash too. The key's row names the
// attempt that holds it (its request ID), and every transaction that
// attempt commits on s.db counts itself in the row, inside that
// transaction (store.WithCommitHook): the count is durable exactly when the
// changes are. A key whose attempt has not answered for inFlightTimeout
// (its replica died, or stalled) is taken over by a retry only if nothing
// was committed; otherwise the retry gets 409 saying the request was done
// and its response lost, with the first attempt's request ID, under which
// the audit log holds its records. A taken-over attempt that is in fact
// still running can no longer commit: the count's UPDATE finds the key
// held by another attempt and rolls its transaction back. This holds for
// every handler, however many transactions it commits, as long as they run
// on s.db under the request's context.
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

	// This attempt's name in the key's row: the request ID, which its
	// audit records carry too.
	attempt := requestID(ctx)
	if attempt == "" {
		var b [8]byte
		rand.Read(b[:])
		attempt = hex.EncodeToString(b[:])
	}
	var replay *recorded
	now := s.now()
	err = s.db.Update(ctx, func(tx store.Tx) error {
		replay = nil
		var method, path, ctype, holder string
		var hash, rbody []byte
		var status, committed int
		var created int64
		err := tx.QueryRow(ctx, `SELECT method, path, request_hash, status, content_type, body, created_at, attempt, committed FROM idempotency_keys WHERE principal_id = ? AND key = ?`,
			p.ID, key).Scan(&method, &path, &hash, &status, &ctype, &rbody, &created, &holder, &committed)
		switch {
		case errors.Is(errors.NotExist, err):
			// Keys are kept for a day: forget this principal's older ones.
			if _, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE principal_id = ? AND created_at < ?`, p.ID, store.T(now.Add(-keyRetention))); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO idempotency_keys (principal_id, key, method, path, request_hash, status, content_type, body, created_at, attempt, committed) VALUES (?, ?, ?, ?, ?, 0, '', NULL, ?, ?, 0)`,
				p.ID, key, r.Method, r.URL.Path, sum, store.T(now), attempt)
			return err
		case err != nil:
			return err
		case !bytes.Equal(hash, sum):
			return errors.E(op, errors.Invalid, errors.Field("Idempotency-Key"), errors.Msg("this Idempotency-Key was used for a different request"))
		case status == 0 && now.Sub(store.FromT(created)) < inFlightTimeout:
			return errors.E(op, errors.Conflict, errors.Msg("a request with this Idempotency-Key is still in progress"))
		case status == 0 && committed > 0:
			s.log.WarnContext(ctx, "idempotency key done but not answered", "first_request_id", holder, "committed", committed)
			return errors.E(op, errors.Conflict, errors.Msg(fmt.Sprintf("this request was already done: its first attempt (request ID %s) committed its changes "+
				"but stopped before answering, so its response is lost; it is not run again. "+
				"The audit log's records with request ID %s show what it did", holder, holder)))
		case status == 0:
			// The first attempt stopped before committing anything:
			// this one takes the key over (and fences that one out).
			_, err = tx.Exec(ctx, `UPDATE idempotency_keys SET created_at = ?, attempt = ?, committed = 0 WHERE principal_id = ? AND key = ?`, store.T(now), attempt, p.ID, key)
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

	// Every transaction the handler commits on s.db counts itself in the
	// key's row, or fails if another attempt has taken the key over.
	var running atomic.Bool
	running.Store(true)
	hctx := store.WithCommitHook(ctx, s.db, func(ctx context.Context, tx store.Tx) error {
		if !running.Load() {
			return nil // work the handler left running: the answer is recorded
		}
		res, err := tx.Exec(ctx, `UPDATE idempotency_keys SET committed = committed + 1 WHERE principal_id = ? AND key = ? AND attempt = ?`, p.ID, key, attempt)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.E(op, errors.Conflict, errors.Msg("a retry with this Idempotency-Key took this request over after it had not answered for "+inFlightTimeout.String()+"; nothing more of this attempt is done"))
		}
		return nil
	})
	rec := &recorder{ResponseWriter: w, header: http.Header{}}
	if err := h(rec, r.WithContext(hctx)); err != nil {
		s.writeError(rec, r, err)
	}
	running.Store(false)
	if rec.status == 0 {
		rec.status = http.StatusOK // nothing written: an empty 200, as flushTo sends
	}
	if crash := crashBeforeRecording.Load(); crash != nil && (*crash)(r) {
		panic(http.ErrAbortHandler) // the replica "dies" here (tests)
	}
	// The response is on record before the client sees any of it: a
	// retry the client sends the moment it has the answer — perhaps to
	// another replica behind the load balancer — finds it and replays it
	// rather than meeting "still in progress".
	defer rec.flushTo(w)
	ctx = contextWithoutCancel(ctx)
	// A response that must not be stored (Cache-Control: no-store: a new
	// token's secret) is not: only that the request was done.
	ctype, kept := rec.header.Get("Content-Type"), rec.body.Bytes()
	if strings.Contains(strings.ToLower(rec.header.Get("Cache-Control")), "no-store") {
		ctype, kept = withheld, nil
	}
	err = s.db.Update(ctx, func(tx store.Tx) error {
		if rec.status >= 500 || rec.status == 499 {
			// A failure that committed nothing may be retried: forget
			// the key. One that committed something is kept.
			res, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE principal_id = ? AND key = ? AND attempt = ? AND committed = 0`, p.ID, key, attempt)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n > 0 {
				return err
			}
			if rec.status == 499 {
				// The client left and the handler stopped part way:
				// no answer to keep. A retry is told at once that the
				// request was done and its answer lost (as after a crash).
				_, err := tx.Exec(ctx, `UPDATE idempotency_keys SET created_at = ? WHERE principal_id = ? AND key = ? AND attempt = ?`,
					store.T(now.Add(-inFlightTimeout)), p.ID, key, attempt)
				return err
			}
		}
		// Only while this attempt holds the key: one taken over by a
		// retry has that retry's answer.
		_, err := tx.Exec(ctx, `UPDATE idempotency_keys SET status = ?, content_type = ?, body = ? WHERE principal_id = ? AND key = ? AND attempt = ?`,
			rec.status, ctype, kept, p.ID, key, attempt)
		return err
	})
	if err != nil {
		s.log.ErrorContext(ctx, "record idempotent response", "err", err, "request_id", requestID(ctx))
	}
}

// crashBeforeRecording, set by tests, stops a request the way a replica's
// death would: after its handler returned, before its answer is recorded
// or sent.
var crashBeforeRecording atomic.Pointer[func(r *http.Request) bool]

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
