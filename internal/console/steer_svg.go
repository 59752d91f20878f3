package console

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// chartPoint is one point of a small chart. Best marks the point drawn as
// the best one (a larger, filled marker); Tip is its tooltip.
type chartPoint struct {
	X, Y float64
	Best bool
	Tip  string
}

// chart is a small server-rendered SVG chart: a scatter (parameters
// against an objective) or a line through its points in X order (a
// metric across versions). XCats, when set, names the X positions 0..n-1
// (a categorical parameter); LogX draws X on a log scale (every X > 0).
type chart struct {
	Title, XLabel, YLabel string
	Points                []chartPoint
	Line                  bool
	XCats                 []string
	LogX                  bool
	// Target, when set, is drawn as a dashed horizontal line.
	Target *float64
	// XLo and XHi, when set, widen the X axis to them (a parameter's
	// bounds).
	XLo, XHi *float64
}

// Chart geometry.
const (
	chartW, chartH                 = 360.0, 240.0
	chartL, chartR, chartT, chartB = 56.0, 12.0, 28.0, 40.0
)

// svg writes the chart as a standalone SVG document. Every point is a
// <circle class="pt"> (the best one also "best"); nothing else is a
// circle. Text is escaped; nothing is taken from outside unescaped.
func (c *chart) svg() []byte {
	var b bytes.Buffer
	esc := svgText
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" role="img" aria-label="%s">`, chartW, chartH, chartW, chartH, esc(c.Title))
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%g" height="%g" fill="#fff"/>`, chartW, chartH)
	fmt.Fprintf(&b, `<text x="%g" y="16" font-family="sans-serif" font-size="13" font-weight="bold" fill="#1b1f24">%s</text>`, chartL, esc(c.Title))
	x0, x1, y0, y1 := chartL, chartW-chartR, chartH-chartB, chartT
	fmt.Fprintf(&b, `<path d="M%g %gV%gH%g" stroke="#5b6470" fill="none"/>`, x0, y1, y0, x1)

	fx := func(x float64) float64 { return x }
	if c.LogX {
		fx = math.Log10
	}
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	var pts []chartPoint
	for _, p := range c.Points {
		if math.IsNaN(p.X) || math.IsInf(p.X, 0) || math.IsNaN(p.Y) || math.IsInf(p.Y, 0) || (c.LogX && p.X <= 0) {
			continue
		}
		pts = append(pts, p)
		xlo, xhi = math.Min(xlo, fx(p.X)), math.Max(xhi, fx(p.X))
		ylo, yhi = math.Min(ylo, p.Y), math.Max(yhi, p.Y)
	}
	if t := c.Target; t != nil && !math.IsNaN(*t) && !math.IsInf(*t, 0) {
		ylo, yhi = math.Min(ylo, *t), math.Max(yhi, *t)
	}
	for _, b := range []*float64{c.XLo, c.XHi} {
		if b != nil && !math.IsNaN(*b) && !math.IsInf(*b, 0) && (!c.LogX || *b > 0) {
			xlo, xhi = math.Min(xlo, fx(*b)), math.Max(xhi, fx(*b))
		}
	}
	if len(c.XCats) > 0 {
		xlo, xhi = -0.5, float64(len(c.XCats))-0.5
	}
	if math.IsInf(xlo, 0) {
		xlo, xhi = 0, 1
	}
	if math.IsInf(ylo, 0) {
		ylo, yhi = 0, 1
	}
	if xhi == xlo {
		xlo, xhi = xlo-1, xhi+1
	}
	if yhi == ylo {
		ylo, yhi = ylo-1, yhi+1
	}
	pad := (yhi - ylo) * 0.05
	ylo, yhi = ylo-pad, yhi+pad
	px := func(x float64) float64 { return x0 + (fx(x)-xlo)/(xhi-xlo)*(x1-x0) }
	if len(c.XCats) > 0 {
		px = func(x float64) float64 { return x0 + (x-xlo)/(xhi-xlo)*(x1-x0) }
	}
	py := func(y float64) float64 { return y0 - (y-ylo)/(yhi-ylo)*(y0-y1) }

	// Axis labels and ticks: the ends of each axis, or every category.
	text := func(x, y float64, anchor, s string) {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="%s" font-family="sans-serif" font-size="11" fill="#5b6470">%s</text>`, x, y, anchor, esc(s))
	}
	if len(c.XCats) > 0 {
		for i, cat := range c.XCats {
			text(px(float64(i)), y0+14, "middle", cat)
		}
	} else {
		unf := func(v float64) float64 {
			if c.LogX {
				return math.Pow(10, v)
			}
			return v
		}
		text(x0, y0+14, "start", num(unf(xlo)))
		text(x1, y0+14, "end", num(unf(xhi)))
	}
	text((x0+x1)/2, chartH-6, "middle", c.XLabel)
	text(x0-4, y0, "end", num(ylo))
	text(x0-4, y1+8, "end", num(yhi))
	fmt.Fprintf(&b, `<text x="12" y="%.1f" text-anchor="middle" font-family="sans-serif" font-size="11" fill="#5b6470" transform="rotate(-90 12 %.1f)">%s</text>`, (y0+y1)/2, (y0+y1)/2, esc(c.YLabel))

	if t := c.Target; t != nil && !math.IsNaN(*t) && !math.IsInf(*t, 0) {
		fmt.Fprintf(&b, `<path class="target" d="M%g %.1fH%g" stroke="#d62728" stroke-dasharray="4 3" fill="none"/>`, x0, py(*t), x1)
	}
	if c.Line && len(pts) > 1 {
		b.WriteString(`<path class="line" d="`)
		for i, p := range pts {
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&b, "%s%.1f %.1f", cmd, px(p.X), py(p.Y))
		}
		b.WriteString(`" stroke="#1f77b4" stroke-width="1.5" fill="none"/>`)
	}
	for _, p := range pts {
		if p.Best {
			continue
		}
		fmt.Fprintf(&b, `<circle class="pt" cx="%.1f" cy="%.1f" r="3" fill="#1f77b4" fill-opacity="0.7"><title>%s</title></circle>`, px(p.X), py(p.Y), esc(p.Tip))
	}
	// The best point last, on top.
	for _, p := range pts {
		if p.Best {
			fmt.Fprintf(&b, `<circle class="pt best" cx="%.1f" cy="%.1f" r="6" fill="#d62728" stroke="#1b1f24"><title>best: %s</title></circle>`, px(p.X), py(p.Y), esc(p.Tip))
		}
	}
	b.WriteString(`</svg>`)
	return b.Bytes()
}

// num formats a number for a chart or table: at most 4 significant
// digits, no exponent for everyday magnitudes.
func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e9 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// svgText is s as SVG text: valid UTF-8, without the characters XML
// cannot carry (control characters), escaped.
func svgText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF {
			return r
		}
		return -1
	}, s)
	return html.EscapeString(s)
}
