package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// TestPageRecordsConsoleErrors checks the harness itself against a page
// that misbehaves in each way it must catch: console.error, an uncaught
// exception, a rejected promise, a dialog, a refused resource. A quiet page
// records nothing.
func TestPageRecordsConsoleErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/quiet":
			fmt.Fprint(w, `<!doctype html><title>quiet</title><link rel=icon href="data:,"><p id=ok>fine</p><script>console.log("just a log")</script>`)
		case "/noisy":
			fmt.Fprint(w, `<!doctype html><title>noisy</title><p id=ok>noisy</p><script>
console.error("first-error");
Promise.reject(new Error("second-rejection"));
alert("third-dialog");
setTimeout(function(){ throw new Error("fourth-exception") }, 0);
</script><img src="/missing.png">`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	quiet := NewPage(t)
	quiet.Open(srv.URL + "/quiet")
	if got := quiet.Text(); !strings.Contains(got, "fine") {
		t.Fatalf("quiet page text %q", got)
	}
	if errs := quiet.Errors(); len(errs) != 0 {
		t.Errorf("a quiet page recorded %q", errs)
	}

	noisy := NewPage(t)
	noisy.Open(srv.URL + "/noisy")
	// The exception comes from a timer: wait for it in the page, not by
	// sleeping here.
	noisy.Settle()
	want := []string{"first-error", "second-rejection", "third-dialog", "fourth-exception", "404"}
	for i := 0; i < 100 && !containsAll(noisy.Errors(), want); i++ {
		noisy.Settle()
	}
	errs := noisy.Errors()
	if !containsAll(errs, want) {
		t.Errorf("recorded %q; want each of %q", errs, want)
	}
	if d := noisy.Dialogs(); len(d) != 1 || d[0] != "third-dialog" {
		t.Errorf("dialogs %q, want [third-dialog]", d)
	}
	// Announced, so the cleanup does not fail this test.
	noisy.Allow(`.`)
}

func containsAll(errs, want []string) bool {
	all := strings.Join(errs, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			return false
		}
	}
	return true
}
