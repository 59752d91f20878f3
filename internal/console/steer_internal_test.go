package console

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var circleRe = regexp.MustCompile(`<circle class="pt( best)?"`)

// checkSVG checks a chart's SVG: well-formed XML with one <svg> root, one
// circle per finite point (best ones marked "best"), and every text of
// the chart's escaped back to itself.
func checkSVG(t *testing.T, c *chart, out []byte) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(out)))
	depth, roots := 0, 0
	var texts []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, out)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if x.Name.Local != "svg" {
					t.Fatalf("root %q", x.Name.Local)
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			texts = append(texts, string(x))
		}
	}
	if roots != 1 || depth != 0 {
		t.Fatalf("%d roots, depth %d", roots, depth)
	}
	want, best := 0, 0
	for _, p := range c.Points {
		if math.IsNaN(p.X) || math.IsInf(p.X, 0) || math.IsNaN(p.Y) || math.IsInf(p.Y, 0) || (c.LogX && len(c.XCats) == 0 && p.X <= 0) {
			continue
		}
		want++
		if p.Best {
			best++
		}
	}
	got := circleRe.FindAllStringSubmatch(string(out), -1)
	gotBest := 0
	for _, m := range got {
		if m[1] != "" {
			gotBest++
		}
	}
	if len(got) != want || gotBest != best {
		t.Fatalf("%d circles (%d best), want %d (%d best)", len(got), gotBest, want, best)
	}
	all := strings.Join(texts, "\x00")
	for _, s := range []string{c.Title, c.XLabel, c.YLabel} {
		if s != "" && strings.ToValidUTF8(s, "") == s && !strings.ContainsAny(s, "\x00\r") && xmlChars(s) && !strings.Contains(all, s) {
			t.Fatalf("text %q not in the chart's text", s)
		}
	}
}

// xmlChars reports whether s holds only characters XML allows.
func xmlChars(s string) bool {
	for _, r := range s {
		if !(r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF) {
			return false
		}
	}
	return true
}

// FuzzChartSVG: whatever the points and labels, the chart is well-formed
// SVG with one marker per drawable point and its text escaped.
func FuzzChartSVG(f *testing.F) {
	f.Add("yield vs temperature", "temperature (°C)", "yield (%)", []byte{1, 2, 3, 4, 200, 7}, false, false, uint8(0))
	f.Add("<script>alert(1)</script>", `a"b&c`, "]]>", []byte{0, 0, 0, 0}, true, true, uint8(3))
	f.Add("r2 by version", "version", "r2", []byte{}, true, false, uint8(0))
	f.Fuzz(func(t *testing.T, title, xl, yl string, raw []byte, line, logx bool, cats uint8) {
		c := &chart{Title: title, XLabel: xl, YLabel: yl, Line: line, LogX: logx}
		for i := 0; i < int(cats%6); i++ {
			c.XCats = append(c.XCats, strings.Repeat("c", i+1))
		}
		if len(c.XCats) > 0 {
			c.LogX = false
		}
		specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, -1e308, 1e308}
		for i := 0; i+1 < len(raw); i += 2 {
			x, y := float64(int8(raw[i])), float64(int8(raw[i+1]))/3
			if raw[i] > 250 {
				x = specials[int(raw[i])%len(specials)]
			}
			if raw[i+1] > 250 {
				y = specials[int(raw[i+1])%len(specials)]
			}
			c.Points = append(c.Points, chartPoint{X: x, Y: y, Best: raw[i]%7 == 0, Tip: title})
		}
		checkSVG(t, c, c.svg())
	})
}

// FuzzNumericMetrics: the metrics read from a version's JSON are exactly
// its top-level finite numbers.
func FuzzNumericMetrics(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "metrics", "*.json"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"r2": 0.9, "nested": {"a": 1}, "s": "x", "n": null}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got := numericMetrics(raw)
		var obj map[string]any
		if json.Unmarshal(raw, &obj) != nil {
			if len(got) != 0 {
				t.Fatalf("metrics %v from invalid JSON", got)
			}
			return
		}
		for k, v := range obj {
			x, isNum := v.(float64)
			g, ok := got[k]
			if isNum != ok || (ok && g != x) {
				t.Fatalf("key %q: got %v (%v), object has %v", k, g, ok, v)
			}
		}
		if len(got) > len(obj) {
			t.Fatalf("%d metrics from an object of %d", len(got), len(obj))
		}
	})
}
