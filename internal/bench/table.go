package bench

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/genesis-science/genesis/internal/campaign/bo"
	"github.com/genesis-science/genesis/internal/errors"
)

// Table is an experiment table: a header and string cells.
type Table struct {
	Header []string
	Rows   [][]string
}

// maxTableBytes bounds what the parsers accept.
const maxTableBytes = 64 << 20

// ParseCSV reads a CSV table. With header false, columns are named by names
// (which must match the column count). A UTF-8 BOM, CRLF line endings, a
// missing final newline and blank lines are accepted.
func ParseCSV(r io.Reader, header bool, names []string) (*Table, error) {
	const op errors.Op = "bench.ParseCSV"
	data, err := io.ReadAll(io.LimitReader(r, maxTableBytes+1))
	if err != nil {
		return nil, errors.E(op, errors.Invalid, err)
	}
	if len(data) > maxTableBytes {
		return nil, errors.E(op, errors.TooLarge, errors.Msg("table is too large"))
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg("malformed CSV"), err)
	}
	var rows [][]string
	for _, rec := range recs {
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		rows = append(rows, rec)
	}
	t := &Table{}
	if header {
		if len(rows) == 0 {
			return nil, errors.E(op, errors.Invalid, errors.Msg("table has no header"))
		}
		t.Header, rows = rows[0], rows[1:]
	} else {
		t.Header = names
	}
	seen := map[string]bool{}
	for _, h := range t.Header {
		if h == "" {
			return nil, errors.E(op, errors.Invalid, errors.Msg("empty column name"))
		}
		if seen[h] {
			return nil, errors.E(op, errors.Invalid, errors.Msg("duplicate column name "+strconv.Quote(h)))
		}
		seen[h] = true
	}
	for i, r := range rows {
		if len(r) != len(t.Header) {
			return nil, errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("row %d has %d fields, want %d", i+1, len(r), len(t.Header))))
		}
	}
	if len(rows) == 0 {
		return nil, errors.E(op, errors.Invalid, errors.Msg("table has no rows"))
	}
	t.Rows = rows
	return t, nil
}

// OlympusConfig is the part of an Olympus dataset config.json that matters.
type OlympusConfig struct {
	Parameters []struct {
		Name    string   `json:"name"`
		Type    string   `json:"type"`
		Low     *float64 `json:"low"`
		High    *float64 `json:"high"`
		Options []string `json:"options"`
	} `json:"parameters"`
	Measurements []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"measurements"`
	DefaultGoal string `json:"default_goal"`
}

// ParseOlympusConfig reads an Olympus-style config.json.
func ParseOlympusConfig(r io.Reader) (*OlympusConfig, error) {
	const op errors.Op = "bench.ParseOlympusConfig"
	data, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, errors.E(op, errors.Invalid, err)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	var c OlympusConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg("malformed config.json"), err)
	}
	if len(c.Parameters) == 0 || len(c.Measurements) == 0 {
		return nil, errors.E(op, errors.Invalid, errors.Msg("config.json needs parameters and measurements"))
	}
	for _, p := range c.Parameters {
		if p.Name == "" {
			return nil, errors.E(op, errors.Invalid, errors.Msg("config.json has a parameter without a name"))
		}
	}
	for _, m := range c.Measurements {
		if m.Name == "" {
			return nil, errors.E(op, errors.Invalid, errors.Msg("config.json has a measurement without a name"))
		}
	}
	switch c.DefaultGoal {
	case "", "maximize", "minimize", "max", "min":
	default:
		return nil, errors.E(op, errors.Invalid, errors.Msg("default_goal must be maximize or minimize"))
	}
	return &c, nil
}

// Columns lists the column names of an Olympus data.csv: parameters, then measurements.
func (c *OlympusConfig) Columns() []string {
	var cols []string
	for _, p := range c.Parameters {
		cols = append(cols, p.Name)
	}
	for _, m := range c.Measurements {
		cols = append(cols, m.Name)
	}
	return cols
}

// Goal returns the config's default goal.
func (c *OlympusConfig) Goal() bo.Goal {
	if c.DefaultGoal == "minimize" || c.DefaultGoal == "min" {
		return bo.Minimize
	}
	return bo.Maximize
}

// ParamSpec names a table column used as a parameter. Kind is "" (infer),
// "cat" or "num".
type ParamSpec struct {
	Name string
	Kind string
}

// ParseParamSpecs parses "A,B:cat,C:num".
func ParseParamSpecs(s string) ([]ParamSpec, error) {
	const op errors.Op = "bench.ParseParamSpecs"
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []ParamSpec
	seen := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		name, kind, _ := strings.Cut(f, ":")
		name = strings.TrimSpace(name)
		if name == "" {
			return nil, errors.E(op, errors.Invalid, errors.Field("params"), errors.Msg("empty parameter name"))
		}
		switch kind {
		case "", "cat", "num":
		default:
			return nil, errors.E(op, errors.Invalid, errors.Field("params"), errors.Msg("parameter kind must be :cat or :num"))
		}
		if seen[name] {
			return nil, errors.E(op, errors.Invalid, errors.Field("params"), errors.Msg("duplicate parameter "+strconv.Quote(name)))
		}
		seen[name] = true
		out = append(out, ParamSpec{Name: name, Kind: kind})
	}
	return out, nil
}

// Lookup is a pool-based problem built from a table: the pool holds each
// distinct parameter tuple once; replicated measurements are averaged.
type Lookup struct {
	Space  bo.Space
	Values []float64 // objective per pool row, in the table's units
	Goal   bo.Goal
	// Replicates is how many table rows were folded into other rows.
	Replicates int
}

// BuildLookup turns a table into a pool problem. Numeric columns become
// continuous parameters bounded by their observed range (or bounds, if given);
// the rest become categorical.
func BuildLookup(t *Table, params []ParamSpec, objective string, goal bo.Goal, bounds map[string][2]float64) (*Lookup, error) {
	const op errors.Op = "bench.BuildLookup"
	col := map[string]int{}
	for i, h := range t.Header {
		col[h] = i
	}
	oi, ok := col[objective]
	if !ok {
		return nil, errors.E(op, errors.Invalid, errors.Field("objective"), errors.Msg("no column "+strconv.Quote(objective)))
	}
	if len(params) == 0 {
		for _, h := range t.Header {
			if h != objective {
				params = append(params, ParamSpec{Name: h})
			}
		}
	}
	var space bo.Space
	type colInfo struct {
		idx  int
		cat  bool
		cats map[string]int
	}
	var infos []colInfo
	for _, ps := range params {
		ci, ok := col[ps.Name]
		if !ok {
			return nil, errors.E(op, errors.Invalid, errors.Field("params"), errors.Msg("no column "+strconv.Quote(ps.Name)))
		}
		if ci == oi {
			return nil, errors.E(op, errors.Invalid, errors.Field("params"), errors.Msg("the objective cannot also be a parameter"))
		}
		numeric := true
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, r := range t.Rows {
			v, err := strconv.ParseFloat(r[ci], 64)
			if err != nil || !finiteF(v) {
				numeric = false
				break
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		if ps.Kind == "num" && !numeric {
			return nil, errors.E(op, errors.Invalid, errors.Field("params"), errors.Msg("column "+strconv.Quote(ps.Name)+" is not numeric"))
		}
		if numeric && ps.Kind != "cat" && hi > lo {
			if b, ok := bounds[ps.Name]; ok && b[0] <= lo && b[1] >= hi && b[1] > b[0] {
				lo, hi = b[0], b[1]
			}
			space.Params = append(space.Params, bo.Param{Name: ps.Name, Kind: bo.Continuous, Low: lo, High: hi})
			infos = append(infos, colInfo{idx: ci})
			continue
		}
		// Categorical (also a numeric column with a single value).
		cats := map[string]int{}
		var names []string
		for _, r := range t.Rows {
			if _, ok := cats[r[ci]]; !ok {
				cats[r[ci]] = 0
				names = append(names, r[ci])
			}
		}
		sort.Strings(names)
		for i, n := range names {
			cats[n] = i
		}
		space.Params = append(space.Params, bo.Param{Name: ps.Name, Kind: bo.Categorical, Categories: names})
		infos = append(infos, colInfo{idx: ci, cat: true, cats: cats})
	}
	type acc struct {
		sum float64
		n   int
	}
	index := map[string]int{}
	var sums []acc
	lk := &Lookup{Goal: goal}
	for ri, r := range t.Rows {
		y, err := strconv.ParseFloat(r[oi], 64)
		if err != nil || !finiteF(y) {
			return nil, errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("row %d: objective %q is not a finite number", ri+1, r[oi])))
		}
		p := make(bo.Point, len(infos))
		for k, in := range infos {
			if in.cat {
				p[k] = float64(in.cats[r[in.idx]])
			} else {
				p[k], _ = strconv.ParseFloat(r[in.idx], 64)
			}
		}
		key := fmt.Sprint(p)
		if i, ok := index[key]; ok {
			sums[i].sum += y
			sums[i].n++
			lk.Replicates++
			continue
		}
		index[key] = len(space.Pool)
		space.Pool = append(space.Pool, p)
		sums = append(sums, acc{y, 1})
	}
	for _, a := range sums {
		lk.Values = append(lk.Values, a.sum/float64(a.n))
	}
	lk.Space = space
	return lk, nil
}

func finiteF(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
