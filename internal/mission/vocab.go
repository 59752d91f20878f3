package mission

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lit/extract"
	"github.com/genesis-science/genesis/internal/text"
)

// Domains are the priority domains of the national challenges, by slug.
var Domains = []string{
	"advanced-manufacturing",
	"biotechnology",
	"critical-minerals-materials",
	"nuclear-fission-fusion",
	"quantum-information-science",
	"semiconductors-microelectronics",
	"robotics",
	"other",
}

// domainAliases maps the obvious other spellings (after folding: lower
// case, runs of spaces, '_', '&' and '/' as one '-', "and" dropped) to a
// slug.
var domainAliases = map[string]string{
	"manufacturing":                       "advanced-manufacturing",
	"advanced-manufacture":                "advanced-manufacturing",
	"biotech":                             "biotechnology",
	"bio":                                 "biotechnology",
	"critical-minerals":                   "critical-minerals-materials",
	"critical-materials":                  "critical-minerals-materials",
	"minerals":                            "critical-minerals-materials",
	"materials":                           "critical-minerals-materials",
	"nuclear":                             "nuclear-fission-fusion",
	"fusion":                              "nuclear-fission-fusion",
	"fission":                             "nuclear-fission-fusion",
	"nuclear-energy":                      "nuclear-fission-fusion",
	"nuclear-fission-fusion-energy":       "nuclear-fission-fusion",
	"nuclear-fusion-fission-energy":       "nuclear-fission-fusion",
	"fission-fusion":                      "nuclear-fission-fusion",
	"quantum":                             "quantum-information-science",
	"qis":                                 "quantum-information-science",
	"quantum-information":                 "quantum-information-science",
	"semiconductors":                      "semiconductors-microelectronics",
	"semiconductor":                       "semiconductors-microelectronics",
	"microelectronics":                    "semiconductors-microelectronics",
	"semiconductor-microelectronics":      "semiconductors-microelectronics",
	"semiconductors-and-microelectronics": "semiconductors-microelectronics",
	"robot":                               "robotics",
}

// foldDomain is s folded for lookup.
func foldDomain(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	var b strings.Builder
	dash := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	parts := strings.Split(b.String(), "-")
	out := parts[:0]
	for _, p := range parts {
		if p != "and" && p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "-")
}

// ParseDomain returns the slug s names ("Nuclear fission & fusion energy"
// → nuclear-fission-fusion). An unknown domain is Invalid, with a did-you-mean
// when s looks like a typo of one.
func ParseDomain(s string) (string, error) {
	const op errors.Op = "mission.ParseDomain"
	f := foldDomain(s)
	for _, d := range Domains {
		if f == d {
			return d, nil
		}
	}
	if d, ok := domainAliases[f]; ok {
		return d, nil
	}
	msg := "unknown domain " + quote(s) + didYouMean(f, Domains) + " (one of " + strings.Join(Domains, ", ") + ")"
	if s == "" {
		msg = "a challenge needs a domain (one of " + strings.Join(Domains, ", ") + ")"
	}
	return "", errors.E(op, errors.Invalid, errors.Field("domain"), errors.Msg(msg))
}

// Metric is one entry of the metric vocabulary: a measurable quantity a
// target may name, with the canonical unit values are compared in.
type Metric struct {
	Name string `json:"name"`
	Unit string `json:"unit"`
	// Source is "mission" (the mission table) or "literature" (the
	// literature extractor's properties).
	Source      string `json:"source"`
	Description string `json:"description,omitempty"`
}

// unitGroup is a dimension: its units and each one's factor to the
// group's base unit.
type unitGroup map[string]float64

var (
	percent = unitGroup{"%": 1, "percent": 1, "fraction": 100}
	plain   = unitGroup{"": 1, "1": 1, "ratio": 1, "count": 1}
	seconds = unitGroup{"s": 1, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "ns": 1e-9, "min": 60, "h": 3600, "d": 86400, "day": 86400, "days": 86400, "year": 365.25 * 86400}
	hours   = unitGroup{"h": 1, "s": 1.0 / 3600, "min": 1.0 / 60, "d": 24, "day": 24, "days": 24}
	days    = unitGroup{"d": 1, "day": 1, "days": 1, "h": 1.0 / 24, "week": 7, "weeks": 7, "month": 30.44, "months": 30.44}
	metres  = unitGroup{"mm": 1, "m": 1000, "cm": 10, "µm": 1e-3, "um": 1e-3, "nm": 1e-6}
	nanom   = unitGroup{"nm": 1, "Å": 0.1, "µm": 1000, "um": 1000, "mm": 1e6}
	perHour = unitGroup{"1/h": 1, "/h": 1, "per hour": 1, "1/min": 60, "/min": 60, "1/s": 3600, "/s": 3600, "1/d": 1.0 / 24, "/d": 1.0 / 24, "1/day": 1.0 / 24, "/day": 1.0 / 24}
	usd     = unitGroup{"USD": 1, "$": 1, "kUSD": 1000, "MUSD": 1e6}
	usdKg   = unitGroup{"USD/kg": 1, "$/kg": 1, "USD/t": 1e-3, "$/t": 1e-3, "USD/g": 1000}
	gPerL   = unitGroup{"g/L": 1, "mg/L": 1e-3, "g/l": 1, "mg/l": 1e-3, "kg/m3": 1}
	gPerLh  = unitGroup{"g/(L h)": 1, "g/L/h": 1, "mg/(L h)": 1e-3, "g/(L d)": 1.0 / 24}
	perCm2  = unitGroup{"cm-2": 1, "1/cm2": 1, "/cm2": 1, "mm-2": 100, "m-2": 1e-4}
	burnup  = unitGroup{"GWd/tHM": 1, "MWd/kgHM": 1}
	watts   = unitGroup{"W": 1, "mW": 1e-3, "kW": 1e3, "MW": 1e6}
	anyUnit = unitGroup(nil) // any unit, not converted (errors carry their quantity's unit)
)

// missionMetrics is the mission's own table of metrics beside the
// literature extractor's properties.
var missionMetrics = []struct {
	name, unit string
	group      unitGroup
	desc       string
}{
	{"throughput", "1/h", perHour, "items (samples, parts, wafers, experiments) per hour"},
	{"experiments_per_day", "", plain, "experiments completed per day"},
	{"cycle_time", "h", hours, "time from design to result"},
	{"time_to_result", "d", days, "time from question to validated answer"},
	{"cost_per_unit", "USD", usd, "cost of one unit of output"},
	{"cost_per_kg", "USD/kg", usdKg, "cost of a kilogram of product"},
	{"accuracy", "%", percent, "share of correct predictions"},
	{"precision", "%", percent, "share of positive predictions that are right"},
	{"recall", "%", percent, "share of positives found"},
	{"f1", "%", percent, "harmonic mean of precision and recall"},
	{"auc", "", plain, "area under the ROC curve"},
	{"rmse", "", anyUnit, "root mean square error (in its quantity's unit)"},
	{"mae", "", anyUnit, "mean absolute error (in its quantity's unit)"},
	{"r2", "", plain, "coefficient of determination"},
	{"success_rate", "%", percent, "share of attempts that succeed"},
	{"purity", "%", percent, "mass share of the wanted product"},
	{"recovery", "%", percent, "share of the element recovered from the feed"},
	{"titer", "g/L", gPerL, "product concentration at harvest"},
	{"productivity", "g/(L h)", gPerLh, "volumetric productivity"},
	{"fidelity", "%", percent, "gate or state fidelity"},
	{"gate_error", "%", percent, "error per gate"},
	{"coherence_time", "s", seconds, "qubit coherence time (T2)"},
	{"logical_error_rate", "", plain, "logical errors per cycle"},
	{"qubit_count", "", plain, "number of working qubits"},
	{"fusion_gain", "", plain, "fusion energy gain Q"},
	{"tritium_breeding_ratio", "", plain, "tritium bred per tritium burned"},
	{"burnup", "GWd/tHM", burnup, "fuel burnup"},
	{"capacity_factor", "%", percent, "energy produced over energy at full power"},
	{"defect_density", "cm-2", perCm2, "defects per unit area"},
	{"feature_size", "nm", nanom, "smallest printed feature"},
	{"overlay_error", "nm", nanom, "layer-to-layer overlay error"},
	{"position_error", "mm", metres, "positioning error of a manipulator"},
	{"mean_time_between_failures", "h", hours, "mean operating time between failures"},
	{"power", "W", watts, "power drawn"},
}

var missionIndex = func() map[string]int {
	m := map[string]int{}
	for i, mm := range missionMetrics {
		if _, clash := extract.Properties()[mm.name]; clash {
			panic("mission: metric " + mm.name + " is a literature property too")
		}
		m[mm.name] = i
	}
	return m
}()

// Metrics returns the metric vocabulary, by name.
func Metrics() []Metric {
	var out []Metric
	for name, unit := range extract.Properties() {
		out = append(out, Metric{Name: name, Unit: unit, Source: "literature"})
	}
	for _, mm := range missionMetrics {
		u := mm.unit
		if mm.group == nil {
			u = "any"
		}
		out = append(out, Metric{Name: mm.name, Unit: u, Source: "mission", Description: mm.desc})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func metricNames() []string {
	var out []string
	for _, m := range Metrics() {
		out = append(out, m.Name)
	}
	return out
}

// foldMetric folds a metric name for lookup: lower case, spaces and '-'
// as '_'.
func foldMetric(s string) string {
	return strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(s)))
}

// Canonical returns the canonical name and unit of metric, and v (in
// unit) converted to that unit. An unknown metric is Invalid with a
// did-you-mean; a unit that is not a unit of the metric's dimension is
// Invalid naming the canonical unit; no unit is the canonical unit. field
// prefixes the error's field.
func Canonical(field, metric string, v float64, unit string) (name string, value float64, canon string, err error) {
	const op errors.Op = "mission.Canonical"
	name = foldMetric(metric)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "", 0, "", errors.E(op, errors.Invalid, errors.Field(field), errors.Msg(field+": the value must be a finite number"))
	}
	if i, ok := missionIndex[name]; ok {
		mm := missionMetrics[i]
		if mm.group == nil {
			return name, v, strings.TrimSpace(unit), nil
		}
		u := strings.TrimSpace(unit)
		if u == "" {
			u = mm.unit
		}
		f, ok := mm.group[u]
		if !ok {
			return "", 0, "", errors.E(op, errors.Invalid, errors.Field(field+".unit"),
				errors.Msg(field+".unit: "+quote(unit)+" is not a unit of "+name+" (use "+unitsOf(mm.group, mm.unit)+")"))
		}
		return name, v * f / mm.group[mm.unit], mm.unit, nil
	}
	if cu, ok := extract.Properties()[name]; ok {
		if strings.TrimSpace(unit) == cu || strings.TrimSpace(unit) == "" {
			return name, v, cu, nil // as written, not rounded by a conversion
		}
		out, cu, err := extract.Normalize(name, v, unit)
		if err != nil {
			return "", 0, "", errors.E(op, errors.Invalid, errors.Field(field+"."+errors.FieldOf(err)), errors.Msg(field+": "+errors.SafeMessage(err)))
		}
		return name, out, cu, nil
	}
	msg := field + ".metric: unknown metric " + quote(metric) + didYouMean(name, metricNames()) + " (genesis challenge metrics lists them)"
	return "", 0, "", errors.E(op, errors.Invalid, errors.Field(field+".metric"), errors.Msg(msg))
}

func unitsOf(g unitGroup, canon string) string {
	var us []string
	for u := range g {
		if u != "" {
			us = append(us, strconv.Quote(u))
		}
	}
	sort.Strings(us)
	c := strconv.Quote(canon)
	if canon == "" {
		c = "no unit"
	}
	return c + "; also " + strings.Join(us, ", ")
}

func didYouMean(s string, candidates []string) string {
	if h := text.Suggest(s, candidates); h != "" {
		return "; did you mean " + strconv.Quote(h) + "?"
	}
	return ""
}
