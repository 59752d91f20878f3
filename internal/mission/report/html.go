package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
)

// Formats a report renders to.
const (
	FormatHTML = "html"
	FormatPDF  = "pdf"
)

// MediaType returns the media type of format.
func MediaType(format string) string {
	if format == FormatPDF {
		return "application/pdf"
	}
	return "text/html; charset=utf-8"
}

// Render writes d in format ("html" or "pdf"); anything else is
// errors.Invalid naming the format and writes nothing.
func Render(w io.Writer, format string, d *Data) error {
	const op errors.Op = "report.Render"
	var b bytes.Buffer
	var err error
	switch format {
	case FormatHTML:
		err = renderHTML(&b, d)
	case FormatPDF:
		err = renderPDF(&b, d)
	default:
		return errors.E(op, errors.Invalid, errors.Field("format"), errors.Msg("the report format must be html or pdf"))
	}
	if err != nil {
		return errors.E(op, err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return errors.E(op, errors.Msg("cannot write the report"), err)
	}
	return nil
}

// colours of a marking's level, as classified systems colour banners.
type colours struct{ Bg, Fg string }

func levelColours(l label.Level) colours {
	switch l {
	case label.NationalSecurity:
		return colours{"#c8102e", "#ffffff"}
	case label.Proprietary:
		return colours{"#ff8c00", "#000000"}
	}
	return colours{"#007a33", "#ffffff"}
}

func levelOf(marking string) label.Level {
	l, err := label.Parse(marking)
	if err != nil {
		return label.MaxLevel // unparseable: shown as the most restrictive
	}
	return l.Level()
}

// notes numbers the sources of a report, each once, in order of use.
type notes struct {
	index map[Source]int
	list  []Source
}

func (n *notes) ref(s Source) int {
	if s.API == "" && s.CLI == "" {
		return 0
	}
	if n.index == nil {
		n.index = map[Source]int{}
	}
	if i, ok := n.index[s]; ok {
		return i
	}
	n.list = append(n.list, s)
	n.index[s] = len(n.list)
	return len(n.list)
}

type htmlFigure struct {
	Figure
	Ref int
}

type htmlChart struct {
	SVG template.HTML
	Ref int
}

type htmlTable struct {
	Table
	Ref int
}

type htmlItem struct {
	Title, Marking string
	Colours        colours
	Lines          []string
	Figures        []htmlFigure
	Charts         []htmlChart
}

type htmlSection struct {
	Title, Marking, Note string
	Colours              colours
	Figures              []htmlFigure
	Charts               []htmlChart
	Tables               []htmlTable
	Items                []htmlItem
}

type htmlPage struct {
	*Data
	Colours  colours
	Sections []htmlSection
	Notes    []Source
}

func renderHTML(w io.Writer, d *Data) error {
	var n notes
	pg := htmlPage{Data: d, Colours: levelColours(d.Level)}
	figs := func(fs []Figure) []htmlFigure {
		var out []htmlFigure
		for _, f := range fs {
			out = append(out, htmlFigure{Figure: f, Ref: n.ref(f.Source)})
		}
		return out
	}
	charts := func(cs []Chart) ([]htmlChart, error) {
		var out []htmlChart
		for i := range cs {
			b, err := cs[i].svg()
			if err != nil {
				return nil, err
			}
			// gonum's SVG canvas escapes every text it draws
			// (html.EscapeString in vgsvg.FillString), so the
			// drawing is safe to inline.
			out = append(out, htmlChart{SVG: template.HTML(b), Ref: n.ref(cs[i].Source)})
		}
		return out, nil
	}
	for _, s := range d.Sections {
		hs := htmlSection{Title: s.Title, Marking: s.Marking, Note: s.Note, Colours: levelColours(levelOf(s.Marking)), Figures: figs(s.Figures)}
		var err error
		if hs.Charts, err = charts(s.Charts); err != nil {
			return err
		}
		for _, t := range s.Tables {
			hs.Tables = append(hs.Tables, htmlTable{Table: t, Ref: n.ref(t.Source)})
		}
		for _, it := range s.Items {
			hi := htmlItem{Title: it.Title, Marking: it.Marking, Colours: levelColours(levelOf(it.Marking)), Lines: it.Lines, Figures: figs(it.Figures)}
			if hi.Charts, err = charts(it.Charts); err != nil {
				return err
			}
			hs.Items = append(hs.Items, hi)
		}
		pg.Sections = append(pg.Sections, hs)
	}
	pg.Notes = n.list
	if err := pageTmpl.Execute(w, pg); err != nil {
		return errors.E(errors.Internal, errors.Msg("cannot render the report"), err)
	}
	return nil
}

var pageTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"date": func(d *Data) string { return d.GeneratedAt.Format("2006-01-02 15:04 MST") },
	"fn": func(i int) string {
		if i == 0 {
			return ""
		}
		return fmt.Sprintf("[%d]", i)
	},
	"inc": func(i int) int { return i + 1 },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Marking}} — Genesis annual report {{.Year}}</title>
<style>
body{font-family:"Liberation Sans",Arial,Helvetica,sans-serif;margin:0;color:#1a1a1a;background:#fff}
main{max-width:960px;margin:0 auto;padding:1em 2em 3em}
.banner{text-align:center;font-weight:bold;letter-spacing:.08em;padding:.35em;position:sticky;z-index:1}
.banner.top{top:0}.banner.bottom{bottom:0}
.marking{display:inline-block;font-size:.8em;font-weight:bold;padding:.1em .5em;border-radius:3px;margin-left:.5em;vertical-align:middle}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
.meta{color:#555}
table{border-collapse:collapse;width:100%;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.4em .8em}
.item{border:1px solid #ddd;border-radius:4px;padding:.5em 1em;margin:1em 0}
sup a{text-decoration:none}
svg{max-width:100%;height:auto}
ol.sources{font-size:.9em}
code{font-size:.95em}
</style>
</head>
<body>
<div class="banner top" style="background:{{.Colours.Bg}};color:{{.Colours.Fg}}">{{.Marking}}</div>
<main>
<h1>Genesis annual progress report {{.Year}}</h1>
<p class="meta">Period {{.From.Format "2006-01-02"}} to {{.To.Format "2006-01-02"}} (exclusive) · generated {{date .Data}} for <b>{{.Reader}}</b>.
This report counts only the records its reader may read. Every number is traceable to platform records: its footnote names the API path and the CLI command that list them.</p>
{{range .Sections}}
<section>
<h2>{{.Title}} <span class="marking" style="background:{{.Colours.Bg}};color:{{.Colours.Fg}}">{{.Marking}}</span></h2>
{{with .Note}}<p class="note">{{.}}</p>{{end}}
{{with .Figures}}<table>{{range .}}<tr><td>{{.Name}}</td><td class="num">{{.Value}}{{with .Ref}}<sup><a href="#src-{{.}}">{{fn .}}</a></sup>{{end}}</td></tr>{{end}}</table>{{end}}
{{range .Charts}}<figure>{{.SVG}}{{with .Ref}}<figcaption>Source <a href="#src-{{.}}">{{fn .}}</a></figcaption>{{end}}</figure>{{end}}
{{range .Tables}}<table><tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr>{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</table>{{with .Ref}}<p>Source <a href="#src-{{.}}">{{fn .}}</a></p>{{end}}{{end}}
{{range .Items}}<div class="item">
<h3>{{.Title}} <span class="marking" style="background:{{.Colours.Bg}};color:{{.Colours.Fg}}">{{.Marking}}</span></h3>
{{range .Lines}}<p>{{.}}</p>{{end}}
{{with .Figures}}<table>{{range .}}<tr><td>{{.Name}}</td><td class="num">{{.Value}}{{with .Ref}}<sup><a href="#src-{{.}}">{{fn .}}</a></sup>{{end}}</td></tr>{{end}}</table>{{end}}
{{range .Charts}}<figure>{{.SVG}}{{with .Ref}}<figcaption>Source <a href="#src-{{.}}">{{fn .}}</a></figcaption>{{end}}</figure>{{end}}
</div>{{end}}
</section>
{{end}}
<h2>Sources</h2>
<ol class="sources">{{range $i, $s := .Notes}}<li id="src-{{inc $i}}"><code>GET {{$s.API}}</code>{{with $s.CLI}} · <code>{{.}}</code>{{end}}</li>{{end}}</ol>
</main>
<div class="banner bottom" style="background:{{.Colours.Bg}};color:{{.Colours.Fg}}">{{.Marking}}</div>
</body>
</html>
`))
