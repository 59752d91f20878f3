package compute

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/genesis-science/genesis/internal/errors"
)

const fullYAML = `
name: relax
executable: /usr/bin/python3
arguments: ["train.py", "--lr", "0.1", "a b 'c'"]
environment:
  OMP_NUM_THREADS: "4"
  EMPTY: ""
directory: run
stdin_path: in.txt
stdout_path: out.txt
stderr_path: err.txt
resources:
  node_count: 2
  processes_per_node: 4
  process_count: 8
  cpu_cores_per_process: 2
  gpu_cores_per_process: 1
  exclusive_node_use: true
  memory: 4GiB
attributes:
  duration: 1h30m
  queue_name: debug
  account: proj-fusion
  reservation_id: resv1
  custom_attributes:
    slurm.constraint: haswell
container: docker.io/library/python:3.12
inputs: [materials/perovskites@3, weights@1.0.2]
outputs:
  results/table.csv: fusion-results
models:
  results/model/:
    name: fusion-surrogate
    framework: pytorch
    task: regression
    metrics: results/metrics.json
    card: results/MODEL.md
label: PROPRIETARY//AGR:CRADA-0042
`

func TestParseJobSpecFull(t *testing.T) {
	got, err := ParseJobSpec([]byte(fullYAML))
	if err != nil {
		t.Fatal(err)
	}
	want := &JobSpec{
		Name:        "relax",
		Executable:  "/usr/bin/python3",
		Arguments:   []string{"train.py", "--lr", "0.1", "a b 'c'"},
		Environment: map[string]string{"OMP_NUM_THREADS": "4", "EMPTY": ""},
		Directory:   "run", StdinPath: "in.txt", StdoutPath: "out.txt", StderrPath: "err.txt",
		Resources: Resources{NodeCount: 2, ProcessesPerNode: 4, ProcessCount: 8, CPUCoresPerProcess: 2,
			GPUCoresPerProcess: 1, ExclusiveNodeUse: true, Memory: 4 << 30},
		Attributes: Attributes{Duration: Duration(90 * time.Minute), QueueName: "debug", Account: "proj-fusion",
			ReservationID: "resv1", CustomAttributes: map[string]string{"slurm.constraint": "haswell"}},
		Container: "docker.io/library/python:3.12",
		Inputs:    []AssetRef{"materials/perovskites@3", "weights@1.0.2"},
		Outputs:   map[string]string{"results/table.csv": "fusion-results"},
		Models: map[string]ModelOutput{"results/model/": {Name: "fusion-surrogate", Framework: "pytorch", Task: "regression",
			Metrics: "results/metrics.json", Card: "results/MODEL.md"}},
		Label: "PROPRIETARY//AGR:CRADA-0042",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("(-want +got)\n%s", d)
	}
	// JSON is accepted too, and round-trips.
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseJobSpec(b)
	if err != nil {
		t.Fatalf("reparse %s: %v", b, err)
	}
	if d := cmp.Diff(got, again); d != "" {
		t.Fatalf("JSON round trip (-want +got)\n%s", d)
	}
}

func TestParseJobSpecForms(t *testing.T) {
	for _, tc := range []struct {
		in       string
		duration time.Duration
		memory   ByteSize
	}{
		{`{"executable":"x","attributes":{"duration":"10m"}}`, 10 * time.Minute, 0},
		{`{"executable":"x","attributes":{"duration":90}}`, 90 * time.Second, 0},
		{`{"executable":"x","attributes":{"duration":"01:02:03"},"resources":{"memory":1048576}}`, time.Hour + 2*time.Minute + 3*time.Second, 1 << 20},
		{"executable: x\nattributes: {duration: 0.5}\nresources: {memory: 512M}", 500 * time.Millisecond, 512 << 20},
		{"executable: x\nattributes: {duration: 2h}\nresources: {memory: 2GB}", 2 * time.Hour, 2e9},
		{"executable: x\nattributes: {duration: '3s'}\nresources: {memory: \"1KiB\"}", 3 * time.Second, 1024},
	} {
		s, err := ParseJobSpec([]byte(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if s.Attributes.Duration.D() != tc.duration || s.Resources.Memory != tc.memory {
			t.Errorf("%s: duration %v memory %d, want %v %d", tc.in, s.Attributes.Duration, s.Resources.Memory, tc.duration, tc.memory)
		}
	}
}

func TestParseJobSpecInvalid(t *testing.T) {
	const ok = "executable: /bin/true\nattributes: {duration: 1m}\n"
	for _, tc := range []struct {
		name, in, field string
	}{
		{"empty", "", "executable"},
		{"missing executable", "attributes: {duration: 1m}", "executable"},
		{"blank executable", "executable: ' '\nattributes: {duration: 1m}", "executable"},
		{"unknown top field", ok + "queue: debug\n", "queue"},
		{"unknown resource field", ok + "resources: {cores: 3}\n", "cores"},
		{"unknown attribute", "executable: x\nattributes: {duration: 1m, walltime: 3}\n", "walltime"},
		{"no duration", "executable: x\n", "attributes.duration"},
		{"zero duration", "executable: x\nattributes: {duration: 0s}\n", "attributes.duration"},
		{"negative duration", "executable: x\nattributes: {duration: -5m}\n", "attributes.duration"},
		{"bad duration", "executable: x\nattributes: {duration: soon}\n", ""},
		{"negative nodes", ok + "resources: {node_count: -1}\n", "resources.node_count"},
		{"zero nodes", ok + "resources: {node_count: 0}\n", "resources.node_count"},
		{"zero processes", ok + "resources: {process_count: 0}\n", "resources.process_count"},
		{"negative gpus", ok + "resources: {gpu_cores_per_process: -2}\n", "resources.gpu_cores_per_process"},
		{"negative memory", ok + "resources: {memory: -1}\n", "resources.memory"},
		{"bad memory", ok + "resources: {memory: lots}\n", ""},
		{"inconsistent processes", ok + "resources: {node_count: 2, processes_per_node: 4, process_count: 7}\n", "resources.process_count"},
		{"fewer processes than nodes", ok + "resources: {node_count: 4, process_count: 2}\n", "resources.process_count"},
		{"not a multiple", ok + "resources: {processes_per_node: 4, process_count: 6}\n", "resources.process_count"},
		{"bad env name", ok + "environment: {'A B': x}\n", "environment"},
		{"bad input", ok + "inputs: [justaname]\n", "inputs[0]"},
		{"duplicate input", ok + "inputs: [a@1, a@2]\n", "inputs[1]"},
		{"escaping output", ok + "outputs: {'../x': ds}\n", "outputs"},
		{"absolute output", ok + "outputs: {'/etc/passwd': ds}\n", "outputs"},
		{"escaping model", ok + "models: {'../m': {name: m, framework: f, task: t}}\n", "models"},
		{"model without framework", ok + "models: {m: {name: m, task: t}}\n", "models.m.framework"},
		{"model without task", ok + "models: {m: {name: m, framework: f}}\n", "models.m.task"},
		{"bad model name", ok + "models: {m: {name: '-x', framework: f, task: t}}\n", "models.m.name"},
		{"escaping metrics", ok + "models: {m: {name: m, framework: f, task: t, metrics: ../../etc/passwd}}\n", "models.m.metrics"},
		{"model path is an output", ok + "outputs: {m: ds}\nmodels: {m: {name: m, framework: f, task: t}}\n", "models.m"},
		{"unknown model field", ok + "models: {m: {name: m, framework: f, task: t, weights: w}}\n", ""},
		{"bad queue", ok + "attributes: {duration: 1m, queue_name: 'a b'}\n", ""},
		{"wrong type", "executable: [1, 2]\nattributes: {duration: 1m}\n", ""},
		{"not a mapping", "- a\n- b\n", ""},
		{"alias bomb", "a: &a [x, x]\nb: &b [*a, *a]\nexecutable: x\nattributes: {duration: 1m}\n", ""},
		{"deep nesting", "executable: x\nattributes: {duration: 1m}\narguments: " + strings.Repeat("[", 100000), ""},
		{"percent in stdout", ok + "stdout_path: out-%j\n", "stdout_path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseJobSpec([]byte(tc.in))
			if err == nil {
				t.Fatalf("accepted: %+v", s)
			}
			if !errors.Is(errors.Invalid, err) {
				t.Fatalf("kind %v, want invalid: %v", errors.KindOf(err), err)
			}
			if tc.field != "" && errors.FieldOf(err) != tc.field {
				t.Fatalf("field %q, want %q (%v)", errors.FieldOf(err), tc.field, err)
			}
			if errors.SafeMessage(err) == "" {
				t.Fatalf("no user-safe message: %v", err)
			}
		})
	}
}

func TestResourcesDerived(t *testing.T) {
	for _, tc := range []struct {
		r            Resources
		nodes, procs int
	}{
		{Resources{}, 1, 1},
		{Resources{NodeCount: 3}, 3, 1},
		{Resources{ProcessCount: 8, ProcessesPerNode: 4}, 2, 8},
		{Resources{ProcessCount: 7, ProcessesPerNode: 4}, 2, 7},
		{Resources{NodeCount: 2, ProcessesPerNode: 3}, 2, 6},
	} {
		if n, p := tc.r.Nodes(), tc.r.Processes(); n != tc.nodes || p != tc.procs {
			t.Errorf("%+v: nodes %d processes %d, want %d %d", tc.r, n, p, tc.nodes, tc.procs)
		}
	}
}

func TestJobIDValidate(t *testing.T) {
	for id, ok := range map[JobID]bool{"j1": true, "01HZX.a_b-c": true, "": false, ".x": false, "-x": false, "a/b": false, JobID(strings.Repeat("a", 129)): false} {
		if err := id.Validate(); (err == nil) != ok {
			t.Errorf("%q: %v", id, err)
		}
	}
}

func FuzzParseJobSpec(f *testing.F) {
	f.Add([]byte(fullYAML))
	f.Add([]byte(`{"executable":"x","attributes":{"duration":"10m"},"resources":{"node_count":2,"process_count":4}}`))
	f.Add([]byte("executable: x\nattributes: {duration: 01:00:00}\nresources: {memory: 1.5G}"))
	f.Add([]byte("executable: x\nattributes: {duration: 1e300}"))
	f.Add([]byte("&a [*a]"))
	f.Add([]byte("executable: !!binary AAAA\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseJobSpec(data)
		if err != nil {
			if k := errors.KindOf(err); k != errors.Invalid && k != errors.TooLarge {
				t.Fatalf("kind %v: %v", k, err)
			}
			return
		}
		// Whatever parses is valid, and survives a JSON round trip unchanged.
		if err := s.Validate(); err != nil {
			t.Fatalf("parsed but invalid: %v", err)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseJobSpec(b)
		if err != nil {
			t.Fatalf("round trip of %s: %v", b, err)
		}
		if d := cmp.Diff(s, again, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("round trip (-first +second)\n%s", d)
		}
	})
}
