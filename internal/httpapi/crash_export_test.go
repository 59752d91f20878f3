package httpapi

import "net/http"

// CrashBeforeRecording makes the server stop, as a dying replica would,
// every keyed request for which crash is true: after its handler, before
// its answer is recorded or sent. The returned func undoes it.
func CrashBeforeRecording(crash func(r *http.Request) bool) (undo func()) {
	crashBeforeRecording.Store(&crash)
	return func() { crashBeforeRecording.Store(nil) }
}
