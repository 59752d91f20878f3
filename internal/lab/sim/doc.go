// Package sim is the "sim" driver kind: digital twins of lab instruments
// that run in the Genesis process, for the embedded default, demos, tests
// and benchmarks.
//
// Settings (JSON): {"model": "flow-reactor" | "thin-film" |
// "printer-tester", "speed": 1, "noise": 0.01, "fault_rate": 0,
// "recovery_seconds": 30, "seed": 0, "consumables": {name: capacity}}.
// Unknown fields are refused.
//
// Models (each has one action; every parameter is required):
//
//	flow-reactor — action "run", 600 s; uses 5 mL of substrate (500 mL)
//	  temperature     °C     30–150
//	  residence_time  min    0.5–30
//	  concentration   mol/L  0.05–1.0
//	  catalyst        Pd-A, Pd-B, Ni-C, Cu-D
//	  outputs: yield (%), impurity (%)
//	  optimum: yield 92 % at 95 °C, 6 min, 0.6 mol/L, Pd-A
//
//	thin-film — action "deposit_and_measure", 1800 s; uses 1 substrate (48 pcs)
//	  fraction_a, fraction_b, fraction_c  0–1, summing to 1 within 1e-6
//	  anneal_temperature                  °C  200–600
//	  outputs: band_gap (eV), conductivity (S/cm)
//	  optimum: conductivity 120 S/cm at 0.45, 0.35, 0.20, 420 °C
//
//	printer-tester — action "print_and_test", 2400 s; uses 12 g of filament (1000 g)
//	  nozzle_temperature  °C    190–260
//	  layer_height        mm    0.08–0.32
//	  infill              %     10–100
//	  print_speed         mm/s  20–120
//	  outputs: toughness (MJ/m³), print_time (min)
//	  optimum: toughness 18 MJ/m³ at 232 °C, 0.16 mm, 85 %, 45 mm/s
//
// Each hidden response is a peak over a positive-definite quadratic form
// of the normalised parameters (interacting terms; for the flow reactor
// each catalyst has its own peak and height), so Optimum states the
// optimum exactly; the tests check it against a dense search.
//
// Behaviour. Runs queue on the instrument and take their nominal time
// over speed. Measurements carry Gaussian noise of relative standard
// deviation noise. A run faults with probability fault_rate: it fails with
// a reason and the instrument is in error for recovery_seconds/speed,
// then idle again. Each run uses its consumables; a run that needs more
// than is left fails ("substrate exhausted") and the instrument stays in
// error until Admin Reset (the operator reloads: Reset refills). Admin
// supports safety_stop (cancels running and queued runs; nothing starts
// until reset), reset, pause, resume (pause refuses new runs) and cancel.
//
// Exactly once. Every accepted Start and every admin command is appended
// to a journal in the instrument's state directory and fsynced before the
// call returns (lab/journal). A run's outcome — duration, fault, measured
// values, consumables used — is decided when it is accepted (noise and
// faults from the seed and the request ID alone) and journaled with it;
// everything the driver reports is a pure function of the journal and the
// clock. So after a restart, even a kill -9, a running run completes at
// the right time with the same values, a re-sent ID is found and not run
// again, e-stop and consumable levels are as they were, and changed
// settings apply to new runs only. JournalRuns counts the starts of each
// ID. With no state directory the journal lives in memory. One process
// holds a journal at a time; opens of one state directory within a
// process share one instrument.
//
// lab/table reuses this engine (New with its own Model).
package sim
