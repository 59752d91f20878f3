package sim

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
)

// Settings are the "sim" kind's driver settings.
type Settings struct {
	Model string `json:"model"`
	// Speed divides durations: 1 is real time, 1000 makes a 600 s run take 0.6 s.
	Speed float64 `json:"speed"`
	// Noise is the relative standard deviation of measurement noise.
	Noise float64 `json:"noise"`
	// FaultRate is the probability that a run faults.
	FaultRate float64 `json:"fault_rate"`
	// RecoverySeconds is how long the instrument stays in error after a
	// fault (scaled by Speed).
	RecoverySeconds float64 `json:"recovery_seconds"`
	Seed            uint64  `json:"seed"`
	// Consumables overrides capacities by consumable name.
	Consumables map[string]float64 `json:"consumables,omitempty"`
}

// Defaults of the settings a user leaves out.
const (
	DefaultSpeed           = 1.0
	DefaultNoise           = 0.01
	DefaultRecoverySeconds = 30.0
)

// ParseSettings decodes and checks sim settings; fields left out take
// their defaults. Unknown fields and bad values are errors.Invalid naming
// the field.
func ParseSettings(raw []byte) (Settings, error) {
	const op errors.Op = "sim.ParseSettings"
	s := Settings{Speed: DefaultSpeed, Noise: DefaultNoise, RecoverySeconds: DefaultRecoverySeconds}
	var fields map[string]json.RawMessage
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return Settings{}, errors.E(op, errors.Invalid, errors.Field("settings"), errors.Msg("settings must be a JSON object"))
	}
	for _, name := range sortedKeys(fields) {
		v := fields[name]
		var err error
		switch name {
		case "model":
			err = json.Unmarshal(v, &s.Model)
		case "speed":
			err = json.Unmarshal(v, &s.Speed)
		case "noise":
			err = json.Unmarshal(v, &s.Noise)
		case "fault_rate":
			err = json.Unmarshal(v, &s.FaultRate)
		case "recovery_seconds":
			err = json.Unmarshal(v, &s.RecoverySeconds)
		case "seed":
			err = json.Unmarshal(v, &s.Seed)
		case "consumables":
			err = json.Unmarshal(v, &s.Consumables)
		default:
			field := errors.Field(name)
			if name == "" {
				field = "settings"
			}
			return Settings{}, errors.E(op, errors.Invalid, field, errors.Msg("unknown setting "+strconv.Quote(name)))
		}
		if err != nil || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			return Settings{}, errors.E(op, errors.Invalid, errors.Field(name), errors.Msg("setting "+strconv.Quote(name)+" has the wrong type"))
		}
	}
	if len(s.Consumables) == 0 {
		s.Consumables = nil
	}
	if err := s.Validate(); err != nil {
		return Settings{}, errors.E(op, err)
	}
	return s, nil
}

// Validate checks the settings' values.
func (s *Settings) Validate() error {
	bad := func(field, msg string) error {
		return errors.E(errors.Invalid, errors.Field(field), errors.Msg(msg))
	}
	m := newModel(s.Model)
	switch {
	case m == nil:
		return bad("model", "model must be one of "+quoteList(Models()))
	case !(s.Speed > 0) || s.Speed > 1e9:
		return bad("speed", "speed must be a number above 0 and at most 1e9")
	case !(s.Noise >= 0 && s.Noise <= 1):
		return bad("noise", "noise must be between 0 and 1")
	case !(s.FaultRate >= 0 && s.FaultRate <= 1):
		return bad("fault_rate", "fault_rate must be between 0 and 1")
	case !(s.RecoverySeconds >= 0 && s.RecoverySeconds <= 1e7):
		return bad("recovery_seconds", "recovery_seconds must be between 0 and 1e7")
	}
	known := map[string]bool{}
	for _, c := range m.info.Consumables {
		known[c.Name] = true
	}
	for _, name := range sortedKeys(s.Consumables) {
		v := s.Consumables[name]
		if !known[name] {
			return bad("consumables."+name, "model "+s.Model+" has no consumable "+strconv.Quote(name))
		}
		if !(v > 0 && v <= 1e9) {
			return bad("consumables."+name, "a consumable's capacity must be above 0 and at most 1e9")
		}
	}
	return nil
}

func quoteList(xs []string) string {
	var b bytes.Buffer
	for i, x := range xs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(x))
	}
	return b.String()
}

// Open builds a simulated instrument from a "sim" configuration.
func Open(cfg lab.Config) (lab.Driver, error) {
	const op errors.Op = "sim.Open"
	s, err := ParseSettings(cfg.Settings)
	if err != nil {
		return nil, errors.E(op, err)
	}
	d, err := NewFromSettings(s, cfg.StateDir)
	if err != nil {
		return nil, errors.E(op, err)
	}
	return d, nil
}

// NewFromSettings builds a simulated instrument from checked settings.
func NewFromSettings(s Settings, stateDir string) (*Driver, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	o := s.Options()
	o.StateDir = stateDir
	return New(s.Instrument(), o)
}

// Instrument returns the settings' model with its consumable capacities
// overridden. The settings must be valid.
func (s Settings) Instrument() Model {
	m := newModel(s.Model)
	for i := range m.info.Consumables {
		c := &m.info.Consumables[i]
		if v, ok := s.Consumables[c.Name]; ok {
			c.Capacity, c.Level = v, v
		}
	}
	return m
}

// Options returns the driver options the settings give (no StateDir,
// the wall clock).
func (s Settings) Options() Options {
	return Options{
		Speed:     s.Speed,
		Noise:     s.Noise,
		FaultRate: s.FaultRate,
		Recovery:  time.Duration(math.Round(s.RecoverySeconds * float64(time.Second))),
		Seed:      s.Seed,
	}
}

func init() { lab.RegisterKind("sim", Open) }
