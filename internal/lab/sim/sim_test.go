package sim_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/labtest"
	"github.com/genesis-science/genesis/internal/lab/sim"
)

// requests returns valid requests for a model, varied by i.
func request(model string, i int) lab.Request {
	f := float64(i%7) / 7
	id := fmt.Sprintf("exp-%d", i)
	switch model {
	case sim.FlowReactor:
		return lab.Request{ID: id, Action: "run", Params: map[string]any{
			"temperature": 40 + 100*f, "residence_time": 1 + 20*f, "concentration": 0.1 + 0.8*f,
			"catalyst": []string{"Pd-A", "Pd-B", "Ni-C", "Cu-D"}[i%4]}}
	case sim.ThinFilm:
		return lab.Request{ID: id, Action: "deposit_and_measure", Params: map[string]any{
			"fraction_a": 0.2 + 0.5*f, "fraction_b": 0.3, "fraction_c": 1 - 0.3 - (0.2 + 0.5*f), "anneal_temperature": 250 + 300*f}}
	default:
		return lab.Request{ID: id, Action: "print_and_test", Params: map[string]any{
			"nozzle_temperature": 200 + 50*f, "layer_height": 0.1 + 0.2*f, "infill": 20 + 70*f, "print_speed": 30 + 80*f}}
	}
}

func invalid(model string) lab.Request {
	r := request(model, 99)
	r.ID = "bad-1"
	switch model {
	case sim.FlowReactor:
		r.Params["temperature"] = 151.0
	case sim.ThinFilm:
		r.Params["fraction_a"] = 0.9 // the simplex no longer sums to 1
	default:
		r.Params["infill"] = 101.0
	}
	return r
}

func settings(model string) json.RawMessage {
	// A run takes about 0.5 s: long enough to be seen running, short
	// enough for the suite.
	speed := map[string]float64{sim.FlowReactor: 1200, sim.ThinFilm: 3600, sim.PrinterTester: 4800}[model]
	b, _ := json.Marshal(map[string]any{"model": model, "speed": speed, "seed": 7})
	return b
}

func TestConformance(t *testing.T) {
	for _, model := range sim.Models() {
		t.Run(model, func(t *testing.T) {
			labtest.Run(t, func(t *testing.T) labtest.Harness {
				dir := t.TempDir()
				cfg := lab.Config{Kind: "sim", Settings: settings(model), StateDir: dir}
				open := func(t *testing.T) lab.Driver {
					d, err := lab.Open(cfg)
					if err != nil {
						t.Fatal(err)
					}
					return d
				}
				return labtest.Harness{
					Driver:  open(t),
					Request: func(i int) lab.Request { return request(model, i) },
					Invalid: invalid(model),
					Reopen:  open,
					Runs: func(t *testing.T, id string) int {
						n, err := sim.JournalRuns(dir)
						if err != nil {
							t.Fatal(err)
						}
						return n[id]
					},
				}
			})
		})
	}
}
