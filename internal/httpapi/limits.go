package httpapi

import (
	"io"
	"net/http"
	"time"
)

// How a request body must arrive. Go's http.Server bounds the header
// (ReadHeaderTimeout) and the wait between requests (IdleTimeout), but a
// fixed ReadTimeout would cut off a slow, legitimate 16 MiB chunk upload,
// while none at all lets a client that sends half a body hold the
// connection (and its goroutine, buffers and file descriptor) forever. So
// the body's read deadline moves with its progress: a body must keep an
// average of at least MinRate bytes a second after a grace period, and
// the deadline also bounds the server's own discarding of a body the
// handler did not read (an unauthenticated request's, say).
const (
	// DefaultBodyGrace is the time a body may take before MinRate applies.
	DefaultBodyGrace = 30 * time.Second
	// DefaultBodyMinRate is the slowest average a body may arrive at:
	// a 16 MiB chunk may take 30 s + 68 minutes.
	DefaultBodyMinRate = 4 << 10
)

// chunkMemory bounds the chunk bodies the server holds at once (sixteen
// of the largest; typical chunks are 1-4 MiB). An upload that would pass
// it waits until others are done, or its client gives up.
const chunkMemory = 256 << 20

// bodyDeadlines sets and advances the connection's read deadline while a
// request body arrives, and lifts it once the body has been read to its
// end (after which net/http reads the connection in the background to
// notice a client that goes away, and a deadline then would cancel a
// handler that is still working).
func (s *Server) bodyDeadlines(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		start := time.Now()
		if err := rc.SetReadDeadline(start.Add(s.bodyGrace)); err != nil {
			next.ServeHTTP(w, r) // not a network connection (a test recorder)
			return
		}
		r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc, start: start, grace: s.bodyGrace, rate: s.bodyMinRate, length: r.ContentLength}
		next.ServeHTTP(w, r)
	})
}

type deadlineBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	grace time.Duration
	rate  int64
	n     int64
	// length is the declared length (-1 if unknown): a reader that stops
	// at it (io.ReadFull) never sees EOF, but the body is complete.
	length int64
	done   bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	switch {
	case b.done:
	case err == io.EOF || b.length >= 0 && b.n >= b.length:
		b.done = true
		b.rc.SetReadDeadline(time.Time{})
	case n > 0:
		b.rc.SetReadDeadline(b.start.Add(b.grace + time.Duration(float64(b.n)/float64(b.rate)*float64(time.Second))))
	}
	return n, err
}

// importSlots is how many catalog imports run at once.
const importSlots = 2
