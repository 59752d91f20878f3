package console

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
)

// page is what every template gets: the layout's parts and the page's own
// Data. Marking and Level are the banner: the join of every label the page
// shows, which handlers add with show before rendering.
type page struct {
	Title   string
	Nav     string
	User    string
	CSRF    string
	Marking string
	Level   string
	Data    any

	join label.Label
}

func (c *Console) newPage(title string, v *viewer, csrf string) *page {
	pg := &page{Title: title, CSRF: csrf, join: label.MustParse("OPEN")}
	if v != nil {
		pg.User, pg.CSRF = v.p.Name, v.sess.CSRF
	}
	return pg
}

// show adds the label of something the page shows to its banner. A label
// that does not parse is an error (fail closed: the page is not shown).
func (pg *page) show(marking string) error {
	l, err := label.Parse(marking)
	if err != nil {
		return errors.E(errors.Op("console.show"), errors.Internal, err)
	}
	pg.join = label.Join(pg.join, l)
	return nil
}

// levelClass is the CSS name of a label's level (the banner's colour).
func levelClass(l label.Level) string {
	switch l {
	case label.Open:
		return "open"
	case label.Proprietary:
		return "proprietary"
	default:
		return "national-security"
	}
}

// markingLevel is levelClass for a marking string; one that does not
// parse is shown as the highest level.
func markingLevel(marking string) string {
	l, err := label.Parse(marking)
	if err != nil {
		return "national-security"
	}
	return levelClass(l.Level())
}

// segment is a piece of a snippet, highlighted or not.
type segment struct {
	Text string
	Hit  bool
}

// highlight splits a plain-text snippet at its highlight spans (byte
// ranges; out-of-range or overlapping spans are ignored).
func highlight(text string, spans []search.Span) []segment {
	var out []segment
	at := 0
	for _, s := range spans {
		if s.Start < at || s.End <= s.Start || s.End > len(text) {
			continue
		}
		if s.Start > at {
			out = append(out, segment{Text: text[at:s.Start]})
		}
		out = append(out, segment{Text: text[s.Start:s.End], Hit: true})
		at = s.End
	}
	if at < len(text) {
		out = append(out, segment{Text: text[at:]})
	}
	return out
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

var funcs = template.FuncMap{
	"level":     markingLevel,
	"highlight": highlight,
	"bytes":     humanBytes,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"pct": func(a, b int) int {
		if b <= 0 {
			return 0
		}
		return a * 100 / b
	},
}

type pages struct {
	byName map[string]*template.Template
}

// mustParsePages parses every page template in templates/ (each with the
// layout); a page is named by its file, "search" for search.html.
func mustParsePages() *pages {
	ps := &pages{byName: map[string]*template.Template{}}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		n := strings.TrimSuffix(path.Base(f), ".html")
		if n == "layout" {
			continue
		}
		t := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+n+".html"))
		ps.byName[n] = t
	}
	return ps
}

// render executes a page into a buffer (a template error never leaves a
// half page) and writes it with status.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, pg *page) error {
	pg.Marking = pg.join.Format()
	pg.Level = levelClass(pg.join.Level())
	var buf bytes.Buffer
	if err := c.pages.byName[name].Execute(&buf, pg); err != nil {
		return errors.E(errors.Op("console.render"), errors.Internal, err)
	}
	writeBody(w, status, "text/html; charset=utf-8", buf.Bytes())
	return nil
}

// renderFragment executes one named template of a page (a live part that
// a page's script swaps in) and writes it.
func (c *Console) renderFragment(w http.ResponseWriter, name, fragment string, data any) error {
	var buf bytes.Buffer
	if err := c.pages.byName[name].ExecuteTemplate(&buf, fragment, data); err != nil {
		return errors.E(errors.Op("console.renderFragment"), errors.Internal, err)
	}
	writeBody(w, http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
	return nil
}

// writeBody writes a whole response made in memory; nothing the console
// makes per viewer may be cached.
func writeBody(w http.ResponseWriter, status int, contentType string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}

type errorData struct {
	Status  int
	Heading string
	Message string
}

// fail writes the page for err. What the viewer may not read is NotExist
// from the services and gets the not-found page, which names nothing from
// the request, so a hidden object's page equals a missing one's.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, v *viewer, err error) {
	kind := errors.KindOf(err)
	if kind == errors.NotExist {
		pg := c.newPage("Not found", v, "")
		if rerr := c.render(w, r, http.StatusNotFound, "notfound", pg); rerr != nil {
			c.log.ErrorContext(r.Context(), "console render", "err", rerr)
		}
		return
	}
	d := errorData{Status: http.StatusInternalServerError, Heading: "Something went wrong", Message: "The server could not show this page; the error is in its log."}
	switch kind {
	case errors.Invalid:
		d.Status, d.Heading = http.StatusBadRequest, "That request is not valid"
	case errors.Permission:
		d.Status, d.Heading = http.StatusForbidden, "Refused"
	case errors.TooLarge:
		d.Status, d.Heading = http.StatusRequestEntityTooLarge, "Too large"
	case errors.Unavailable, errors.Transient:
		d.Status, d.Heading = http.StatusServiceUnavailable, "Not available"
	case errors.Canceled:
		return
	}
	if d.Status != http.StatusInternalServerError {
		if m := errors.SafeMessage(err); m != "" {
			d.Message = m
		} else {
			d.Message = strings.TrimSpace(d.Heading + ".")
		}
	} else {
		c.log.ErrorContext(r.Context(), "console page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	pg := c.newPage(d.Heading, v, "")
	pg.Data = d
	if rerr := c.render(w, r, d.Status, "error", pg); rerr != nil {
		c.log.ErrorContext(r.Context(), "console render", "err", rerr)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// principalOf returns the viewer's principal (nil before sign-in).
func (v *viewer) principal() *genesis.Principal {
	if v == nil {
		return nil
	}
	return v.p
}

// formStatus is the status of a refusal a page shows to its user beside
// its form or buttons (steering, cancel, release requests); ok is false
// for errors that are the error page's (missing, internal).
func formStatus(err error) (int, bool) {
	switch errors.KindOf(err) {
	case errors.Invalid:
		return http.StatusBadRequest, true
	case errors.Permission:
		return http.StatusForbidden, true
	case errors.Conflict, errors.Exist:
		return http.StatusConflict, true
	case errors.TooLarge:
		return http.StatusRequestEntityTooLarge, true
	}
	return 0, false
}
