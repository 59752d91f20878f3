package formats

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/genesis-science/genesis/internal/lit"
)

// A random article as a tree (the reference model), rendered as JATS in
// the many ways JATS allows — inline markup, entities, character
// references, figures inside paragraphs, nested sections, white space —
// must read back as the model's flattened Document.

type modelSec struct {
	heading string
	items   []any // string (a paragraph) or *modelSec
}

// jatsWord is one word of the model and a JATS spelling of it.
func jatsWord(rng *rand.Rand) (model, xml string) {
	switch rng.IntN(9) {
	case 0:
		return "CsPbI3", "CsPbI<sub>3</sub>"
	case 1:
		return "R&D", []string{"R&amp;D", "R&#38;D"}[rng.IntN(2)]
	case 2:
		return "café", []string{"caf&#233;", "caf&eacute;", "café", "caf&#xE9;"}[rng.IntN(4)]
	case 3:
		w := plainWords[rng.IntN(len(plainWords))]
		tag := []string{"italic", "bold", "sc", "monospace", "named-content"}[rng.IntN(5)]
		return w, "<" + tag + ">" + w + "</" + tag + ">"
	case 4:
		return "10⁻³", "10<sup>&#x2212;3</sup>"
	case 5:
		return "x²", `<inline-formula><mml:math><mml:msup><mml:mi>x</mml:mi><mml:mn>2</mml:mn></mml:msup></mml:math></inline-formula>`
	}
	w := plainWords[rng.IntN(len(plainWords))]
	return w, w
}

// jatsText returns n random words as model text and as JATS.
func jatsText(rng *rand.Rand, n int) (string, string) {
	var m, x []string
	for range n {
		mw, xw := jatsWord(rng)
		m = append(m, mw)
		x = append(x, xw)
	}
	sep := []string{" ", "\n   ", "  "}[rng.IntN(3)]
	return strings.Join(m, " "), strings.Join(x, sep)
}

type jatsGen struct {
	rng      *rand.Rand
	headings int
	figs     int
	captions []lit.Caption
}

func (g *jatsGen) sec(depth int) (*modelSec, string) {
	g.headings++
	hm, hx := jatsText(g.rng, 1+g.rng.IntN(3))
	s := &modelSec{heading: fmt.Sprintf("%s %d", hm, g.headings)}
	var b strings.Builder
	fmt.Fprintf(&b, "<sec id=\"s%d\">\n<title>%s %d</title>\n", g.headings, hx, g.headings)
	for range g.rng.IntN(4) {
		if depth < 3 && g.rng.IntN(3) == 0 {
			sub, x := g.sec(depth + 1)
			s.items = append(s.items, sub)
			b.WriteString(x)
			continue
		}
		pm, px := jatsText(g.rng, 1+g.rng.IntN(12))
		s.items = append(s.items, pm)
		b.WriteString("<p>" + px)
		if g.rng.IntN(4) == 0 {
			b.WriteString(g.fig())
		}
		b.WriteString("</p>\n")
		if g.rng.IntN(5) == 0 {
			b.WriteString(g.fig())
		}
	}
	b.WriteString("</sec>\n")
	return s, b.String()
}

func (g *jatsGen) fig() string {
	g.figs++
	cm, cx := jatsText(g.rng, 1+g.rng.IntN(6))
	label := fmt.Sprintf("Figure %d", g.figs)
	g.captions = append(g.captions, lit.Caption{Label: label, Text: cm})
	return fmt.Sprintf(`<fig id="f%d"><label>%s</label><caption><p>%s</p></caption><graphic xlink:href="f%d.tif"/></fig>`, g.figs, label, cx, g.figs)
}

// flatten is the reference reading of a section tree: reading order,
// heading paths, runs of paragraphs under one path together, empty
// headings dropped.
func flatten(secs []*modelSec) []lit.Section {
	var out []lit.Section
	var walk func(s *modelSec, path []string)
	walk = func(s *modelSec, path []string) {
		path = append(append([]string(nil), path...), s.heading)
		h := strings.Join(path, " / ")
		for _, it := range s.items {
			switch it := it.(type) {
			case string:
				if k := len(out); k > 0 && out[k-1].Heading == h {
					out[k-1].Paragraphs = append(out[k-1].Paragraphs, it)
				} else {
					out = append(out, lit.Section{Heading: h, Paragraphs: []string{it}})
				}
			case *modelSec:
				walk(it, path)
			}
		}
	}
	for _, s := range secs {
		walk(s, nil)
	}
	return out
}

func TestJATSRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 2))
	for iter := range 300 {
		g := &jatsGen{rng: rng}
		want := lit.Document{Format: lit.FormatJATS, DOI: fmt.Sprintf("10.5555/t.%d", iter)}
		var x strings.Builder
		x.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Publishing DTD v1.2 20190208//EN" "JATS-journalpublishing1.dtd">
<article xmlns:mml="http://www.w3.org/1998/Math/MathML" xmlns:xlink="http://www.w3.org/1999/xlink"><front><article-meta>`)
		fmt.Fprintf(&x, `<article-id pub-id-type="doi">%s</article-id>`, strings.ToUpper(want.DOI))
		tm, tx := jatsText(rng, 1+rng.IntN(8))
		want.Title = tm
		fmt.Fprintf(&x, "<title-group><article-title>%s</article-title></title-group><contrib-group>", tx)
		for range rng.IntN(4) {
			gm, gx := jatsText(rng, 1)
			fm, fx := jatsText(rng, 1)
			want.Authors = append(want.Authors, gm+" "+fm)
			fmt.Fprintf(&x, `<contrib contrib-type="author"><name><surname>%s</surname><given-names>%s</given-names></name></contrib>`, fx, gx)
		}
		x.WriteString("</contrib-group>")
		if rng.IntN(4) > 0 {
			want.Year = 1950 + rng.IntN(75)
			fmt.Fprintf(&x, `<pub-date pub-type="epub"><year>%d</year></pub-date>`, want.Year)
		}
		if rng.IntN(2) == 0 {
			var ps []string
			x.WriteString("<abstract>")
			for range 1 + rng.IntN(3) {
				am, ax := jatsText(rng, 1+rng.IntN(10))
				ps = append(ps, am)
				x.WriteString("<p>" + ax + "</p>")
			}
			x.WriteString("</abstract>")
			want.Abstract = strings.Join(ps, " ")
		}
		x.WriteString("</article-meta></front>\n<body>\n")
		var secs []*modelSec
		for range rng.IntN(5) {
			s, sx := g.sec(1)
			secs = append(secs, s)
			x.WriteString(sx)
		}
		x.WriteString("</body>\n<back><ref-list>")
		for i := range rng.IntN(4) {
			rm, rx := jatsText(rng, 1+rng.IntN(6))
			doi := fmt.Sprintf("10.%d/R%d", 1000+i, rng.IntN(1000))
			want.References = append(want.References, lit.Reference{DOI: strings.ToLower(doi), Title: rm,
				Text: fmt.Sprintf("Roe R (2001) %s. J Test 1, %d. doi:%s", rm, i+1, doi)})
			fmt.Fprintf(&x, `<ref id="r%d"><element-citation publication-type="journal"><person-group person-group-type="author"><name><surname>Roe</surname><given-names>R</given-names></name></person-group><article-title>%s</article-title><source>J Test</source><year>2001</year><volume>1</volume><fpage>%d</fpage><pub-id pub-id-type="doi">%s</pub-id></element-citation></ref>`, i, rx, i+1, doi)
		}
		x.WriteString("</ref-list></back></article>\n")
		want.Sections = flatten(secs)
		want.Captions = g.captions
		if len(want.Authors) == 0 {
			want.Authors = nil
		}
		got, err := Parse(context.Background(), "gen.xml", strings.NewReader(x.String()), "")
		if err != nil {
			t.Fatalf("iteration %d: %v\n%s", iter, err, x.String())
		}
		checkDocs(t, got)
		if diff := cmp.Diff([]lit.Document{want}, got); diff != "" {
			t.Fatalf("iteration %d (-want +got):\n%s\n%s", iter, diff, x.String())
		}
	}
}
