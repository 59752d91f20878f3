package instruments_test

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/instruments"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/text"
)

// FuzzBounds decodes operator bounds as the API does and checks the rules
// that make them safe: accepted bounds only narrow — every effective bound
// lies within the driver's, and every request the effective bounds admit
// the driver's admit too; refused bounds are errors.Invalid naming a field
// under "bounds".
func FuzzBounds(f *testing.F) {
	f.Add([]byte(`{"heat":{"temperature":{"max":120}}}`), 100.0, 60.0, "Pd")
	f.Add([]byte(`{"heat":{"temperature":{"max":180}}}`), 170.0, 60.0, "Pd")
	f.Add([]byte(`{"heat":{"temperature":{"min":10,"max":30}}}`), 15.0, 60.0, "Ni")
	f.Add([]byte(`{"heat":{"catalyst":{"choices":["Pd"]}}}`), 100.0, 60.0, "Ni")
	f.Add([]byte(`{"heat":{"catalyst":{"choices":["Pt"]}}}`), 100.0, 60.0, "Pt")
	f.Add([]byte(`{"heat":{"time":{"min":100,"max":50}}}`), 100.0, 75.0, "Cu")
	f.Add([]byte(`{"ignite":{"power":{"min":5,"max":95}}}`), 100.0, 1.0, "Pd")
	f.Add([]byte(`{"fly":{}}`), 0.0, 0.0, "")
	f.Fuzz(func(t *testing.T, body []byte, temp, tm float64, cat string) {
		var b instruments.Bounds
		if json.Unmarshal(body, &b) != nil {
			return
		}
		info := reactor()
		err := instruments.Narrowable(&info, b)
		if err != nil {
			if !errors.Is(errors.Invalid, err) || len(errors.FieldOf(err)) < 6 || errors.FieldOf(err)[:6] != "bounds" {
				t.Fatalf("refusal %v (field %q)", err, errors.FieldOf(err))
			}
			return
		}
		eff := instruments.Effective(&info, b)
		for i, a := range eff {
			for j, p := range a.Params {
				d := info.Actions[i].Params[j]
				if d.Min != nil && (p.Min == nil || *p.Min < *d.Min) || d.Max != nil && (p.Max == nil || *p.Max > *d.Max) {
					t.Fatalf("%s.%s widened: [%v, %v] from [%v, %v]", a.Name, p.Name, p.Min, p.Max, d.Min, d.Max)
				}
				for _, c := range p.Choices {
					if !slices.Contains(d.Choices, c) {
						t.Fatalf("%s.%s gained choice %q", a.Name, p.Name, c)
					}
				}
			}
		}
		req := map[string]any{"temperature": temp, "time": math.Trunc(tm), "catalyst": cat}
		if instruments.CheckParams(&eff[0], req) == nil && instruments.CheckParams(info.Action("heat"), req) != nil {
			t.Fatalf("effective bounds admit %v, the driver's do not", req)
		}
		ign := map[string]any{"power": temp}
		if instruments.CheckParams(&eff[1], ign) == nil && instruments.CheckParams(info.Action("ignite"), ign) != nil {
			t.Fatalf("effective bounds admit %v, the driver's do not", ign)
		}
	})
}

// FuzzCheckParams checks any decoded request body against the reference
// rules: admitted only when every value is of its kind, finite, integral
// where it must be, within its bounds, and no parameter is unknown.
func FuzzCheckParams(f *testing.F) {
	f.Add([]byte(`{"temperature":100,"time":60,"catalyst":"Pd"}`))
	f.Add([]byte(`{"temperature":180,"time":60,"catalyst":"Pd"}`))
	f.Add([]byte(`{"temperature":100,"time":60.5,"catalyst":"Pd","stir":10}`))
	f.Add([]byte(`{"temperature":"hot","time":60,"catalyst":"Pt","x":1}`))
	f.Add([]byte(`{"temperature":1e400}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var params map[string]any
		if json.Unmarshal(body, &params) != nil {
			return
		}
		info := reactor()
		heat := info.Action("heat")
		err := instruments.CheckParams(heat, params)
		ok := true
		for k, v := range params {
			i := slices.IndexFunc(heat.Params, func(p lab.Param) bool { return p.Name == k })
			if i < 0 {
				ok = false
				continue
			}
			p := heat.Params[i]
			if v == nil {
				ok = ok && p.Optional
				continue
			}
			if p.Kind == lab.Choice {
				s, isStr := v.(string)
				ok = ok && isStr && slices.Contains(p.Choices, s)
				continue
			}
			x, isNum := v.(float64)
			ok = ok && isNum && x >= *p.Min && x <= *p.Max && (p.Kind != lab.Integer || x == math.Trunc(x))
		}
		for _, p := range heat.Params {
			if _, has := params[p.Name]; !has && !p.Optional {
				ok = false
			}
		}
		if ok != (err == nil) {
			t.Fatalf("%s: admitted %v, reference %v (%v)", body, err == nil, ok, err)
		}
		if err != nil && (!errors.Is(errors.Invalid, err) || errors.FieldOf(err) == "") {
			t.Fatalf("%s: %v is not Invalid naming a field", body, err)
		}
	})
}

// FuzzSpec decodes an instrument's spec as the API does and checks it:
// a refusal is errors.Invalid naming a field; an accepted spec has a valid
// name, a known kind, a canonical accreditation (its own canonical form),
// upper-case ISO alpha-3 nationalities, and settings that are a JSON
// object or absent.
func FuzzSpec(f *testing.F) {
	f.Add([]byte(`{"name":"r1","kind":"testdev","accreditation":"OPEN"}`))
	f.Add([]byte(`{"name":"r1","kind":"testdev","accreditation":"proprietary","operator_nationalities":["usa","gbr"],"settings":{"a":1}}`))
	f.Add([]byte(`{"name":"r1","kind":"testdev","accreditation":"OPEN","settings":[1]}`))
	f.Add([]byte(`{"name":"r 1","kind":"sim","accreditation":""}`))
	f.Add([]byte(`{"name":"r1","kind":"testdev","accreditation":"NATIONAL-SECURITY//REL TO USA, GBR","lab":"B\u202e"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var s instruments.Spec
		if json.Unmarshal(body, &s) != nil {
			return
		}
		acc, err := s.Check()
		if err != nil {
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) == "" {
				t.Fatalf("%s: %v (field %q)", body, err, errors.FieldOf(err))
			}
			return
		}
		if again, err := label.Canonical(acc); err != nil || again != acc {
			t.Fatalf("%s: accreditation %q is not canonical (%q, %v)", body, acc, again, err)
		}
		if text.Name("name", s.Name) != nil || !slices.Contains(lab.Kinds(), s.Kind) {
			t.Fatalf("%s: accepted name %q kind %q", body, s.Name, s.Kind)
		}
		for _, n := range s.Nationalities {
			if n != strings.ToUpper(n) || !label.IsNation(n) {
				t.Fatalf("%s: nationality %q", body, n)
			}
		}
		if len(s.Settings) > 0 {
			var obj map[string]any
			if json.Unmarshal(s.Settings, &obj) != nil || obj == nil {
				t.Fatalf("%s: settings %s", body, s.Settings)
			}
		}
	})
}
