package sim_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/sim"
)

// Random sequences of starts (new and re-sent IDs, valid and not), admin
// commands and clock moves, sent to two instruments: one never restarts
// (journal in memory), the other is closed and reopened from its journal
// at random moments. After every step both answer exactly alike — the
// restart changes nothing — and the invariants hold: at most one run is
// running, no ID is journaled twice, nothing starts while e-stopped, and
// consumable levels are the capacity less what runs since the last reset
// used.
func TestRestartChangesNothing(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			const settings = `{"model":"flow-reactor","speed":20,"fault_rate":0.15,"recovery_seconds":120,"seed":9,"consumables":{"substrate":30}}`
			rng := rand.New(rand.NewPCG(seed, 77))
			c := newClock()
			dir := t.TempDir()
			ref := open(t, settings, "", c)
			d := open(t, settings, dir, c)
			var ids []string
			estopped := false
			used := 0.0 // substrate since the last reset
			for step := 0; step < 300; step++ {
				switch op := rng.IntN(20); {
				case op < 9: // a start, new or re-sent
					req := request(sim.FlowReactor, rng.IntN(1000))
					if len(ids) > 0 && rng.IntN(3) == 0 {
						req.ID = ids[rng.IntN(len(ids))]
					} else {
						req.ID = fmt.Sprint("p", step)
					}
					if rng.IntN(10) == 0 {
						req.Params["temperature"] = 500.0
					}
					r1, e1 := ref.Start(ctx, req)
					r2, e2 := d.Start(ctx, req)
					if errors.KindOf(e1) != errors.KindOf(e2) || !reflect.DeepEqual(r1, r2) {
						t.Fatalf("step %d: Start(%s) = %+v, %v without a restart; %+v, %v with", step, req.ID, r1, e1, r2, e2)
					}
					if e1 == nil && !contains(ids, req.ID) {
						if estopped {
							t.Fatalf("step %d: a new run started while e-stopped", step)
						}
						ids = append(ids, req.ID)
						if r1.State != lab.Failed || r1.StartedAt != nil {
							used += 5
						}
					}
				case op < 14:
					c.Add(time.Duration(rng.IntN(60)) * time.Second)
				case op < 17:
					cmds := []lab.AdminCommand{lab.SafetyStop, lab.Reset, lab.Reset, lab.Pause, lab.Resume, lab.Resume, lab.CancelAll}
					cmd := cmds[rng.IntN(len(cmds))]
					e1, e2 := ref.Admin(ctx, cmd), d.Admin(ctx, cmd)
					if e1 != nil || e2 != nil {
						t.Fatalf("Admin(%s): %v, %v", cmd, e1, e2)
					}
					switch cmd {
					case lab.SafetyStop:
						estopped = true
					case lab.Reset:
						estopped, used = false, 0
					}
				default: // restart
					d.Close()
					d = open(t, settings, dir, c)
				}
				s1, s2 := status(t, ref), status(t, d)
				if !reflect.DeepEqual(s1, s2) {
					t.Fatalf("step %d: status %+v without a restart, %+v with", step, s1, s2)
				}
				running := 0
				for _, id := range ids {
					r1, r2 := result(t, ref, id), result(t, d, id)
					if !reflect.DeepEqual(r1, r2) {
						t.Fatalf("step %d: %s is %+v without a restart, %+v with", step, id, r1, r2)
					}
					if r1.State == lab.Running {
						running++
					}
				}
				if running > 1 {
					t.Fatalf("step %d: %d runs running at once", step, running)
				}
				if lvl := s1.Consumables[0].Level; lvl > 30 || lvl < 30-used {
					t.Fatalf("step %d: substrate %v, used since reset %v", step, lvl, used)
				}
			}
			states := map[string]int{}
			for _, id := range ids {
				r := result(t, ref, id)
				states[string(r.State)+" "+r.Reason]++
			}
			t.Logf("outcomes: %v", states)
			runs, err := sim.JournalRuns(dir)
			if err != nil {
				t.Fatal(err)
			}
			for id, n := range runs {
				if n != 1 {
					t.Fatalf("%s journaled %d times", id, n)
				}
			}
			if len(runs) != len(ids) {
				t.Fatalf("journal holds %d runs, %d were accepted", len(runs), len(ids))
			}
		})
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
