// Package kubernetes holds Genesis's Kubernetes manifests; its tests
// validate them offline against the Kubernetes API's JSON schemas
// (testdata/schemas, made by scripts/k8sschema) with kubeconform, strictly
// (unknown fields are errors), check what ties them together (selectors,
// ports, Secrets, probes) and check that the ConfigMap's genesis config,
// with the environment the Deployment gives it, is one internal/config
// accepts.
package kubernetes

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/config"
	"github.com/yannh/kubeconform/pkg/validator"
	"sigs.k8s.io/yaml"
)

// schemaLocation is kubeconform's template for the vendored schemas.
const schemaLocation = "testdata/schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json"

// notResources are the YAML files here that are not Kubernetes objects
// applied as they are: kustomize's own file.
var notResources = map[string]bool{"kustomization.yaml": true}

func newValidator(t testing.TB) validator.Validator {
	t.Helper()
	v, err := validator.New([]string{schemaLocation}, validator.Opts{Strict: true, KubernetesVersion: "1.37.2"})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// validate returns one line per resource that is not Valid (an invalid
// field, an unknown kind, a parse error: anything but Valid).
func validate(v validator.Validator, name string, b []byte) []string {
	var bad []string
	n := 0
	for _, r := range v.Validate(name, io.NopCloser(bytes.NewReader(b))) {
		if r.Status == validator.Empty {
			continue
		}
		n++
		sig, _ := r.Resource.Signature()
		what := name
		if sig != nil {
			what = fmt.Sprintf("%s %s/%s", name, sig.Kind, sig.Name)
		}
		switch r.Status {
		case validator.Valid:
		case validator.Invalid:
			var msgs []string
			for _, e := range r.ValidationErrors {
				msgs = append(msgs, e.Path+": "+e.Msg)
			}
			if len(msgs) == 0 && r.Err != nil {
				msgs = append(msgs, r.Err.Error())
			}
			bad = append(bad, what+": invalid: "+strings.Join(msgs, "; "))
		default:
			bad = append(bad, fmt.Sprintf("%s: status %d: %v", what, r.Status, r.Err))
		}
	}
	if n == 0 {
		bad = append(bad, name+": holds no resource")
	}
	return bad
}

func manifestFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if !notResources[f] {
			out = append(out, f)
		}
	}
	if len(out) < 5 {
		t.Fatalf("found only %v", out)
	}
	return out
}

// TestManifestsValidate validates every manifest strictly against the
// Kubernetes 1.37 schemas.
func TestManifestsValidate(t *testing.T) {
	v := newValidator(t)
	for _, f := range manifestFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range validate(v, f, b) {
			t.Error(e)
		}
	}
}

// TestValidatorRejects shows the check can fail: real manifests with one
// mistake each (a misspelt field, a field at the wrong level, a wrong type,
// a wrong apiVersion, a kind with no schema, a duplicated key) are
// rejected.
func TestValidatorRejects(t *testing.T) {
	v := newValidator(t)
	read := func(f string) string {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	dep, pg := read("genesis.yaml"), read("postgres.yaml")
	for _, c := range []struct{ name, in, old, new string }{
		{"misspelt field", dep, "          imagePullPolicy: IfNotPresent", "          imagePulPolicy: IfNotPresent"},
		{"field at the wrong level", dep, "  minReadySeconds: 10", "  minReadySeconds: 10\n  maxUnavailable: 0"},
		{"wrong type", dep, "  replicas: 3", "  replicas: three"},
		{"string where a list goes", dep, `args: ["serve", "--config", "/etc/genesis/genesis.yaml"]`, `args: serve --config /etc/genesis/genesis.yaml`},
		{"unknown probe field", dep, "              path: /readyz", "              path: /readyz\n              scheme: HTTP\n              hots: x"},
		{"unknown apiVersion", dep, "apiVersion: apps/v1", "apiVersion: apps/v1beta9"},
		{"kind with no schema", dep, "kind: PodDisruptionBudget", "kind: PodDisruptionBudgett"},
		{"duplicate key", pg, "  serviceName: postgres", "  serviceName: postgres\n  serviceName: pg"},
		{"missing required container name", pg, "        - name: postgres\n          image:", "        - image:"},
	} {
		if !strings.Contains(c.in, c.old) {
			t.Fatalf("%s: the manifest no longer contains %q; update the case", c.name, c.old)
		}
		broken := strings.Replace(c.in, c.old, c.new, 1)
		if bad := validate(v, c.name+".yaml", []byte(broken)); len(bad) == 0 {
			t.Errorf("%s: accepted", c.name)
		} else {
			t.Logf("%s: %s", c.name, bad[0])
		}
	}
}

// freeForm are the maps whose keys are data, not fields (labels, config
// files, resource amounts): an extra key there is allowed.
var freeForm = map[string]bool{"labels": true, "annotations": true, "data": true, "stringData": true,
	"matchLabels": true, "requests": true, "limits": true, "nodeSelector": true}

// TestUnknownFieldAnywhereRejected is the property behind strictness: an
// unknown field added to any object of any manifest, at any depth (other
// than a free-form map), makes that manifest invalid. It tries every
// object of every manifest.
func TestUnknownFieldAnywhereRejected(t *testing.T) {
	v := newValidator(t)
	rng := rand.New(rand.NewPCG(17, 6))
	tried := 0
	for _, f := range manifestFiles(t) {
		docs := splitDocs(t, f)
		for di, doc := range docs {
			var paths [][]string
			walkMaps(doc, nil, func(path []string) { paths = append(paths, path) })
			for _, p := range paths {
				var copyDoc map[string]any
				if err := yaml.Unmarshal(mustJSON(t, doc), &copyDoc); err != nil {
					t.Fatal(err)
				}
				m := lookup(copyDoc, p)
				key := fmt.Sprintf("unknownField%d", rng.IntN(1000))
				m[key] = "x"
				b, err := yaml.Marshal(copyDoc)
				if err != nil {
					t.Fatal(err)
				}
				tried++
				if bad := validate(v, f, b); len(bad) == 0 {
					t.Errorf("%s document %d: an unknown field %s at %s was accepted", f, di, key, strings.Join(p, "."))
				}
			}
		}
	}
	if tried < 100 {
		t.Errorf("tried only %d objects", tried)
	}
	t.Logf("an unknown field was rejected in each of %d objects", tried)
}

func splitDocs(t testing.TB, f string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, part := range regexpSplitDocs(string(b)) {
		var m map[string]any
		if err := yaml.UnmarshalStrict([]byte(part), &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if m != nil {
			out = append(out, m)
		}
	}
	return out
}

func regexpSplitDocs(s string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.TrimRight(line, "\r\n") == "---" {
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	return append(out, cur.String())
}

// walkMaps calls fn with the path of every map (object) in v, lists
// indexed by position, skipping free-form maps and what is inside them.
func walkMaps(v any, path []string, fn func([]string)) {
	switch v := v.(type) {
	case map[string]any:
		if len(path) > 0 && (freeForm[path[len(path)-1]] || path[len(path)-1] == "selector" && allStrings(v)) {
			return // a Service's selector is a label map too
		}
		fn(append([]string(nil), path...))
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walkMaps(v[k], append(path, k), fn)
		}
	case []any:
		for i, x := range v {
			walkMaps(x, append(path, fmt.Sprint(i)), fn)
		}
	}
}

func allStrings(m map[string]any) bool {
	for _, v := range m {
		if _, ok := v.(string); !ok {
			return false
		}
	}
	return true
}

func lookup(v any, path []string) map[string]any {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			var i int
			fmt.Sscan(p, &i)
			v = x[i]
		}
	}
	return v.(map[string]any)
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// objects returns every manifest's documents, by kind and name.
func objects(t testing.TB) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, f := range manifestFiles(t) {
		for _, d := range splitDocs(t, f) {
			key := fmt.Sprintf("%s/%s", d["kind"], get(d, "metadata", "name"))
			if _, dup := out[key]; dup {
				t.Fatalf("%s is defined twice", key)
			}
			out[key] = d
		}
	}
	return out
}

// get follows keys (and list indexes as ints) through nested YAML.
func get(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func list(v any) []any { l, _ := v.([]any); return l }

// TestDeploymentShape checks what the brief of the deployment asks for:
// three replicas rolled with none unavailable, /readyz and /healthz
// probes, non-root with a read-only root file system, a disruption budget,
// a Service and network policies that select the pods, Prometheus
// annotations on the metrics port, and the Secrets every reference names.
func TestDeploymentShape(t *testing.T) {
	objs := objects(t)
	dep := objs["Deployment/genesis"]
	if dep == nil {
		t.Fatal("no Deployment genesis")
	}
	if r := get(dep, "spec", "replicas"); r != float64(3) {
		t.Errorf("replicas = %v; want 3", r)
	}
	if u := get(dep, "spec", "strategy", "rollingUpdate", "maxUnavailable"); u != float64(0) {
		t.Errorf("maxUnavailable = %v; want 0", u)
	}
	podLabels := get(dep, "spec", "template", "metadata", "labels").(map[string]any)
	selector := get(dep, "spec", "selector", "matchLabels").(map[string]any)
	if !selects(selector, podLabels) {
		t.Errorf("the Deployment's selector %v does not select its pods %v", selector, podLabels)
	}
	pod := get(dep, "spec", "template", "spec")
	c := get(pod, "containers", 0)
	if get(c, "readinessProbe", "httpGet", "path") != "/readyz" || get(c, "livenessProbe", "httpGet", "path") != "/healthz" {
		t.Errorf("probes: readiness %v liveness %v", get(c, "readinessProbe"), get(c, "livenessProbe"))
	}
	if get(pod, "securityContext", "runAsNonRoot") != true || get(c, "securityContext", "readOnlyRootFilesystem") != true ||
		get(c, "securityContext", "allowPrivilegeEscalation") != false {
		t.Errorf("security contexts: pod %v container %v", get(pod, "securityContext"), get(c, "securityContext"))
	}
	if get(c, "resources", "requests") == nil || get(c, "resources", "limits") == nil {
		t.Error("the genesis container has no resource requests and limits")
	}
	ports := map[string]float64{}
	for _, p := range list(get(c, "ports")) {
		ports[get(p, "name").(string)] = get(p, "containerPort").(float64)
	}
	ann := get(dep, "spec", "template", "metadata", "annotations").(map[string]any)
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != fmt.Sprint(ports["metrics"]) {
		t.Errorf("Prometheus annotations %v; metrics port %v", ann, ports["metrics"])
	}

	for _, name := range []string{"PodDisruptionBudget/genesis", "Service/genesis", "NetworkPolicy/genesis"} {
		o := objs[name]
		if o == nil {
			t.Errorf("no %s", name)
			continue
		}
		sel := get(o, "spec", "selector")
		if strings.HasPrefix(name, "PodDisruptionBudget") {
			sel = get(sel, "matchLabels")
		}
		if strings.HasPrefix(name, "NetworkPolicy") {
			sel = get(o, "spec", "podSelector", "matchLabels")
		}
		m, _ := sel.(map[string]any)
		if len(m) == 0 || !selects(m, podLabels) {
			t.Errorf("%s selects %v, not the genesis pods %v", name, sel, podLabels)
		}
	}
	if tp := get(objs["Service/genesis"], "spec", "ports", 0, "targetPort"); ports[fmt.Sprint(tp)] == 0 {
		t.Errorf("Service/genesis targets port %v, which the container does not name", tp)
	}
	if objs["NetworkPolicy/default-deny"] == nil {
		t.Error("no default-deny NetworkPolicy")
	}
	for _, name := range []string{"StatefulSet/postgres", "StatefulSet/s3"} {
		if objs[name] == nil {
			t.Errorf("no %s for a self-contained install", name)
		}
	}

	// Every Secret key a pod refers to is in secret.example.yaml.
	secrets := map[string]map[string]any{}
	for _, d := range splitDocs(t, "secret.example.yaml") {
		secrets[get(d, "metadata", "name").(string)] = get(d, "stringData").(map[string]any)
	}
	for name, o := range objs {
		if !strings.HasPrefix(name, "Deployment/") && !strings.HasPrefix(name, "StatefulSet/") {
			continue
		}
		for _, c := range list(get(o, "spec", "template", "spec", "containers")) {
			for _, e := range list(get(c, "env")) {
				if ref := get(e, "valueFrom", "secretKeyRef"); ref != nil {
					s, k := get(ref, "name").(string), get(ref, "key").(string)
					if _, ok := secrets[s][k]; !ok {
						t.Errorf("%s: env %s refers to Secret %s key %s, which secret.example.yaml lacks", name, get(e, "name"), s, k)
					}
				}
			}
		}
	}
}

func selects(selector, labels map[string]any) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestKustomizationListsEveryManifest: kubectl apply -k applies exactly
// the manifests here (secret.example.yaml is a template applied by hand).
func TestKustomizationListsEveryManifest(t *testing.T) {
	b, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Namespace  string   `json:"namespace"`
		Resources  []string `json:"resources"`
		Images     []struct {
			Name    string `json:"name"`
			NewName string `json:"newName"`
			NewTag  string `json:"newTag"`
		} `json:"images"`
	}
	if err := yaml.UnmarshalStrict(b, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if k.Kind != "Kustomization" || k.Namespace != "genesis" {
		t.Errorf("kustomization: kind %q namespace %q", k.Kind, k.Namespace)
	}
	var want []string
	for _, f := range manifestFiles(t) {
		if f != "secret.example.yaml" {
			want = append(want, f)
		}
	}
	got := append([]string(nil), k.Resources...)
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("kustomization resources %v; manifests here %v", got, want)
	}
	if len(k.Images) != 1 || k.Images[0].Name != get(objects(t)["Deployment/genesis"], "spec", "template", "spec", "containers", 0, "image") {
		t.Errorf("kustomization images %+v do not name the Deployment's image", k.Images)
	}
}

// TestConfigMapConfigParses: the genesis.yaml in the ConfigMap, with the
// environment the Deployment gives the container (Secrets from
// secret.example.yaml, the pod name for the replica ID), is a config
// internal/config parses strictly and validates, and it says what the
// manifests promise: PostgreSQL, S3, the API on the container's http
// port, metrics on its metrics port, the replica named after the pod,
// the config file where the container's args say, the shared audit log
// with keys from the mounted Secret.
func TestConfigMapConfigParses(t *testing.T) {
	objs := objects(t)
	cm := objs["ConfigMap/genesis-config"]
	dep := objs["Deployment/genesis"]
	if cm == nil || dep == nil {
		t.Fatal("no ConfigMap genesis-config or Deployment genesis")
	}
	text, _ := get(cm, "data", "genesis.yaml").(string)
	if text == "" {
		t.Fatal("the ConfigMap has no genesis.yaml")
	}
	pod := get(dep, "spec", "template", "spec")
	c := get(pod, "containers", 0)

	// The config file is where the args point: the ConfigMap's volume.
	args := list(get(c, "args"))
	cfgPath := ""
	for i, a := range args {
		if a == "--config" && i+1 < len(args) {
			cfgPath = args[i+1].(string)
		}
	}
	mounts := map[string]string{} // volume name → mount path
	for _, m := range list(get(c, "volumeMounts")) {
		mounts[get(m, "name").(string)] = get(m, "mountPath").(string)
	}
	volumes := map[string]any{}
	for _, v := range list(get(pod, "volumes")) {
		volumes[get(v, "name").(string)] = v
	}
	cfgVol := ""
	for name, v := range volumes {
		if get(v, "configMap", "name") == "genesis-config" {
			cfgVol = name
		}
	}
	if cfgVol == "" || cfgPath != mounts[cfgVol]+"/genesis.yaml" {
		t.Errorf("--config %q, but the ConfigMap is mounted at %q", cfgPath, mounts[cfgVol])
	}

	// The audit section: the keys are files in the mounted Secret
	// genesis-audit-keys.
	var raw map[string]any
	if err := yaml.UnmarshalStrict([]byte(text), &raw); err != nil {
		t.Fatal(err)
	}
	audit, _ := raw["audit"].(map[string]any)
	if get(audit, "backend") != "store" {
		t.Errorf("audit.backend = %v; want store (one log for every replica)", get(audit, "backend"))
	}
	auditVol := ""
	for name, v := range volumes {
		if get(v, "secret", "secretName") == "genesis-audit-keys" {
			auditVol = name
		}
	}
	for _, k := range []string{"signing_key_file", "label_key_file"} {
		p, _ := audit[k].(string)
		if auditVol == "" || filepath.Dir(p) != mounts[auditVol] {
			t.Errorf("audit.%s = %q, not a file of the mounted Secret genesis-audit-keys (%q)", k, p, mounts[auditVol])
		}
	}
	// Key files must exist for Validate: point them at stand-ins.
	keyDir := t.TempDir()
	if auditVol != "" {
		text = strings.ReplaceAll(text, mounts[auditVol]+"/", keyDir+"/")
		for _, k := range []string{"signing_key_file", "label_key_file"} {
			p, _ := audit[k].(string)
			os.WriteFile(filepath.Join(keyDir, filepath.Base(p)), []byte("stand-in\n"), 0o600)
		}
	}
	cfg, err := config.Parse("genesis.yaml", []byte(text))
	if err != nil {
		t.Fatalf("the ConfigMap's genesis.yaml: %v", err)
	}
	// The same parse refuses a misspelt key: the check can fail.
	if _, err := config.Parse("genesis.yaml", []byte(strings.Replace(text, "metrics_addr:", "metric_addr:", 1))); err == nil {
		t.Error("config.Parse accepted telemetry.metric_addr")
	}
	// The environment the Deployment sets.
	secrets := map[string]map[string]any{}
	for _, d := range splitDocs(t, "secret.example.yaml") {
		secrets[get(d, "metadata", "name").(string)] = get(d, "stringData").(map[string]any)
	}
	const podName = "genesis-7c9d8f6b5-x2kqz"
	env := map[string]string{}
	for _, e := range list(get(c, "env")) {
		name := get(e, "name").(string)
		switch {
		case get(e, "value") != nil:
			env[name] = get(e, "value").(string)
		case get(e, "valueFrom", "fieldRef", "fieldPath") == "metadata.name":
			env[name] = podName
		case get(e, "valueFrom", "secretKeyRef") != nil:
			ref := get(e, "valueFrom", "secretKeyRef")
			env[name], _ = secrets[get(ref, "name").(string)][get(ref, "key").(string)].(string)
		default:
			t.Errorf("env %s: a source this test does not know", name)
		}
	}
	cfg.ApplyEnv(func(k string) string { return env[k] })
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the effective config does not validate: %v", err)
	}
	if kind, _, _ := config.StoreDSN(cfg.Store.DSN); kind != "postgres" {
		t.Errorf("store is %q; want postgres (the genesis-store Secret)", kind)
	}
	if u, err := config.BlobURL(cfg.Blob.URL); err != nil || u.Scheme != "s3" {
		t.Errorf("blob is %v, %v; want s3 (the genesis-blob Secret)", u, err)
	}
	if cfg.ReplicaID() != podName {
		t.Errorf("replica id %q; want the pod name", cfg.ReplicaID())
	}
	ports := map[string]string{}
	for _, p := range list(get(c, "ports")) {
		ports[get(p, "name").(string)] = fmt.Sprint(get(p, "containerPort"))
	}
	if !strings.HasSuffix(cfg.Listen.Addr, ":"+ports["http"]) || !strings.HasSuffix(cfg.Telemetry.MetricsAddr, ":"+ports["metrics"]) {
		t.Errorf("listen %q metrics %q; container ports %v", cfg.Listen.Addr, cfg.Telemetry.MetricsAddr, ports)
	}
	if cfg.Log.Format != "json" {
		t.Errorf("log.format %q; want json (structured logs for the cluster's collector)", cfg.Log.Format)
	}
	if !cfg.AuditStore() {
		t.Errorf("audit.backend %q; want store (one log for every replica)", cfg.Audit.Backend)
	}
	if mounts["data"] != cfg.DataDir {
		t.Errorf("data_dir %q is not the mounted data volume %q (the root file system is read-only)", cfg.DataDir, mounts["data"])
	}
}
