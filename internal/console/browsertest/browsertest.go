// Package browsertest drives the web console in a real, headless Chromium
// (from Debian packages; scripts/services.sh installs it and exports
// GENESIS_TEST_CHROMIUM). One browser runs per test binary (Start, from
// TestMain; Stop after m.Run); each Page is a fresh browser context — its
// own cookies, as a separate person's browser — and collects every console
// error, uncaught exception and dialog, failing its test on any that the
// test did not announce with Page.Allow.
//
// Boot starts a real Genesis (internal/app with the embedded defaults in a
// temporary directory, served on a loopback port) for the pages to talk to.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/genesis-science/genesis/internal/testenv"
)

// ScreenshotsEnv names the directory screenshots are written to; unset,
// Page.Screenshot writes nothing.
const ScreenshotsEnv = "GENESIS_CONSOLE_SCREENSHOTS"

// actionTimeout bounds one step of a test (a navigation, a wait for an
// element): generous, as the machine may be loaded; it only turns a hang
// into a failure and asserts nothing about speed.
const actionTimeout = 60 * time.Second

var (
	mu         sync.Mutex
	browserCtx context.Context // nil until the first Page
	stopAlloc  context.CancelFunc
	stopBrows  context.CancelFunc
	userData   string
)

// browser returns the test binary's browser, starting it on first use.
func browser(t testing.TB) context.Context {
	t.Helper()
	bin := testenv.Chromium(t)
	mu.Lock()
	defer mu.Unlock()
	if browserCtx != nil {
		return browserCtx
	}
	dir, err := os.MkdirTemp("", "genesis-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 900),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	// The first Run starts the browser; it must have no deadline (a
	// deadline would end the browser with it).
	if err := chromedp.Do(bctx); err != nil {
		bcancel()
		acancel()
		os.RemoveAll(dir)
		t.Fatalf("starting chromium %s: %v", bin, err)
	}
	browserCtx, stopBrows, stopAlloc, userData = bctx, bcancel, acancel, dir
	return browserCtx
}

// Stop ends the browser, if one started; call it from TestMain after m.Run.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if browserCtx == nil {
		return
	}
	stopBrows()
	stopAlloc()
	os.RemoveAll(userData)
	browserCtx = nil
}

// Page is one tab in its own browser context (its own cookie jar).
type Page struct {
	t   testing.TB
	ctx context.Context

	mu      sync.Mutex
	errs    []string // console errors, exceptions, dialogs, in order
	dialogs []string
	allow   []*regexp.Regexp
}

// NewPage opens a tab in a new browser context. At the end of the test it
// fails the test for every console error, uncaught exception or dialog not
// matched by an Allow pattern.
func NewPage(t testing.TB) *Page {
	t.Helper()
	b := browser(t)
	ctx, cancel := chromedp.NewContext(b, chromedp.WithNewBrowserContext())
	p := &Page{t: t, ctx: ctx}
	if err := chromedp.Listen(ctx, p.event); err != nil {
		cancel()
		t.Fatalf("opening a tab: %v", err)
	}
	t.Cleanup(func() {
		p.mu.Lock()
		var bad []string
		for _, e := range p.errs {
			if !p.allowed(e) {
				bad = append(bad, e)
			}
		}
		p.mu.Unlock()
		cancel()
		for _, e := range bad {
			t.Errorf("browser console: %s", e)
		}
	})
	return p
}

// event records what the page says on its console; it runs on chromedp's
// reader goroutine, so it only appends (and starts the dismissal of a
// dialog elsewhere).
func (p *Page) event(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg = "exception: " + d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		msg += fmt.Sprintf(" (%s:%d)", d.URL, d.LineNumber)
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var parts []string
		for _, a := range ev.Args {
			if len(a.Value) > 0 {
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		msg = "console." + string(ev.Type) + ": " + strings.Join(parts, " ")
	case *log.EventEntryAdded:
		if ev.Entry.Level != log.EntryLevelError {
			return
		}
		msg = "log " + string(ev.Entry.Source) + ": " + ev.Entry.Text + " " + ev.Entry.URL
	case *page.EventJavascriptDialogOpening:
		msg = "dialog " + string(ev.Type) + ": " + ev.Message
		p.mu.Lock()
		p.dialogs = append(p.dialogs, ev.Message)
		p.mu.Unlock()
		go chromedp.Call(p.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
	default:
		return
	}
	p.mu.Lock()
	p.errs = append(p.errs, msg)
	p.mu.Unlock()
}

func (p *Page) allowed(e string) bool {
	for _, re := range p.allow {
		if re.MatchString(e) {
			return true
		}
	}
	return false
}

// Allow announces console errors the test expects (a regular expression
// matched against each recorded message, e.g. the network error of a
// deliberate 404): they do not fail the test.
func (p *Page) Allow(pattern string) {
	p.mu.Lock()
	p.allow = append(p.allow, regexp.MustCompile(pattern))
	p.mu.Unlock()
}

// Errors returns what the page has written on its console so far (errors,
// exceptions, dialogs), allowed or not.
func (p *Page) Errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errs...)
}

// Dialogs returns the messages of the dialogs (alert, confirm, prompt) the
// page opened so far; each was dismissed.
func (p *Page) Dialogs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.dialogs...)
}

// Context returns the tab's chromedp context (for actions the helpers
// below do not cover); bound it with a timeout per action.
func (p *Page) Context() context.Context { return p.ctx }

// Do runs the actions in the tab, failing the test on error.
func (p *Page) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v (console so far: %q)", what, err, p.Errors())
	}
}

// Run runs one action that returns a value, failing the test on error.
func Run[T any](p *Page, what string, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.t.Fatalf("%s: %v (console so far: %q)", what, err, p.Errors())
	}
	return v
}

// Eval evaluates a JavaScript expression in the page and decodes its
// value.
func Eval[T any](p *Page, expr string) T {
	p.t.Helper()
	return Run(p, "evaluating "+expr, chromedp.Evaluate[T](expr))
}

// Drop turns an action with a value into one without (for Page.Do).
func Drop[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}

// Until is an action that waits until the JavaScript expression is true
// in the tab's current document, evaluating it again every 25 ms; an
// evaluation cut short by a navigation (the document changing under it)
// is tried again on the next document.
func Until(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		for {
			ok, err := chromedp.Evaluate[bool](expr)(ctx, t)
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			if ctx.Err() != nil {
				return chromedp.Void{}, fmt.Errorf("waiting for %s: %w (last error: %v)", expr, ctx.Err(), err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(25 * time.Millisecond):
			}
		}
	}
}

// Settle lets the page run its pending timers and promise callbacks: it
// waits, in the page, for two animation frames and a zero-delay timer.
func (p *Page) Settle() {
	p.t.Helper()
	Run(p, "settling", chromedp.Evaluate[bool](`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => r(true), 0))))`, chromedp.EvalAwaitPromise))
}

// Open navigates to url and waits for its body.
func (p *Page) Open(url string) {
	p.t.Helper()
	p.Do("opening "+url, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
}

// Location returns the page's URL.
func (p *Page) Location() string {
	p.t.Helper()
	return Run(p, "reading the location", chromedp.Location())
}

// Text returns the visible text of the whole page.
func (p *Page) Text() string {
	p.t.Helper()
	return Eval[string](p, `document.body.innerText`)
}

// SignIn signs in at base (the console's URL, no trailing slash) with an
// API token, typing it into the sign-in form and submitting, and waits for
// the dashboard (the sign-out button).
func (p *Page) SignIn(base, token string) {
	p.t.Helper()
	p.Open(base + "/signin")
	p.Navigating("signing in",
		chromedp.WaitVisible(chromedp.CSS("#signin-token")),
		chromedp.SendKeys(chromedp.CSS("#signin-token"), token),
		chromedp.Click(chromedp.CSS("#signin-submit")),
	)
	p.SignedIn("signing in")
}

// Navigating runs actions that make the tab load another document (a
// form's submission, a click on a link) and waits until that document has
// loaded, whatever its status.
func (p *Page) Navigating(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	mark := Drop(chromedp.Evaluate[bool](`window.__browsertestOld = true`))
	p.Do(what, append(append([]chromedp.Action[chromedp.Void]{mark}, actions...),
		Until(`window.__browsertestOld === undefined && document.readyState === "complete"`))...)
}

// SignedIn waits for the page a sign-in leads to and fails the test, with
// that page's text, unless it is the dashboard with a sign-out button.
func (p *Page) SignedIn(what string) {
	p.t.Helper()
	if Eval[int](p, `document.querySelectorAll("#signout").length`) != 1 {
		p.t.Fatalf("%s: not signed in; at %s the page says %q (console: %q)", what, p.Location(), p.Text(), p.Errors())
	}
}

// Screenshot writes a full-page PNG named name+".png" to the directory
// $GENESIS_CONSOLE_SCREENSHOTS (created if missing); without it, nothing.
func (p *Page) Screenshot(name string) {
	p.t.Helper()
	dir := os.Getenv(ScreenshotsEnv)
	if dir == "" {
		return
	}
	png := Run(p, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}
