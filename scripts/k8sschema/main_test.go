package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// A miniature swagger document with the shapes the real one has: a kind
// with x-kubernetes-group-version-kind, nested $refs, a recursive
// reference, IntOrString and Quantity, free-form maps and descriptions.
const miniSwagger = `{"definitions": {
 "io.k8s.api.apps.v1.Widget": {
  "description": "A widget.",
  "type": "object",
  "required": ["spec"],
  "properties": {
   "apiVersion": {"type": "string"}, "kind": {"type": "string"},
   "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
   "spec": {"$ref": "#/definitions/io.k8s.api.apps.v1.WidgetSpec"}
  },
  "x-kubernetes-group-version-kind": [{"group": "apps", "kind": "Widget", "version": "v1"}]
 },
 "io.k8s.api.apps.v1.WidgetSpec": {
  "type": "object",
  "properties": {
   "port": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString"},
   "memory": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity"},
   "parts": {"type": "array", "items": {"$ref": "#/definitions/io.k8s.api.apps.v1.WidgetSpec"}},
   "properties": {"type": "string", "description": "a field named properties"}
  }
 },
 "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {
  "type": "object",
  "properties": {"name": {"type": "string"}, "labels": {"type": "object", "additionalProperties": {"type": "string"}}}
 },
 "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"type": "string", "format": "int-or-string"},
 "io.k8s.apimachinery.pkg.api.resource.Quantity": {"type": "string"}
}}`

func TestGenerate(t *testing.T) {
	out, err := Generate([]byte(miniSwagger), []GVK{{"apps", "v1", "Widget"}})
	if err != nil {
		t.Fatal(err)
	}
	b, ok := out["widget-apps-v1.json"]
	if !ok {
		t.Fatalf("files %v; want widget-apps-v1.json (kubeconform's name)", keys(out))
	}
	if strings.Contains(string(b), "$ref") || strings.Contains(string(b), "description") {
		t.Errorf("schema keeps a $ref or a description:\n%s", b)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	// Every object with properties is strict; free-form maps stay open.
	var check func(path string, v any)
	check = func(path string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			if l, ok := v.([]any); ok {
				for _, x := range l {
					check(path+"[]", x)
				}
			}
			return
		}
		if props, ok := m["properties"].(map[string]any); ok {
			if m["additionalProperties"] != false {
				t.Errorf("%s: additionalProperties = %v; want false", path, m["additionalProperties"])
			}
			for k, x := range props {
				check(path+"."+k, x)
			}
		}
		for _, k := range []string{"items", "oneOf"} {
			if x, ok := m[k]; ok {
				check(path+"/"+k, x)
			}
		}
		if ap, ok := m["additionalProperties"].(map[string]any); ok {
			check(path+"/*", ap)
		}
	}
	check("", s)
	get := func(path ...string) any {
		var v any = s
		for _, p := range path {
			v = v.(map[string]any)[p]
		}
		return v
	}
	if e := get("properties", "kind", "enum"); len(e.([]any)) != 1 || e.([]any)[0] != "Widget" {
		t.Errorf("kind enum %v", e)
	}
	if e := get("properties", "apiVersion", "enum"); e.([]any)[0] != "apps/v1" {
		t.Errorf("apiVersion enum %v", e)
	}
	if _, ok := get("properties", "spec", "properties", "port", "oneOf").([]any); !ok {
		t.Error("IntOrString is not string-or-integer")
	}
	if _, ok := get("properties", "spec", "properties", "memory", "oneOf").([]any); !ok {
		t.Error("Quantity is not string-or-number")
	}
	if p := get("properties", "spec", "properties", "properties", "type"); p != "string" {
		t.Errorf("a field named properties was taken for the keyword: %v", p)
	}
	req := get("required").([]any)
	if len(req) != 3 {
		t.Errorf("required %v; want spec, apiVersion, kind", req)
	}

	if _, err := Generate([]byte(miniSwagger), []GVK{{"apps", "v1", "Gadget"}}); err == nil {
		t.Error("a kind the document lacks was generated")
	}
	if _, err := Generate([]byte("{"), Kinds); err == nil {
		t.Error("a truncated document was accepted")
	}
}

func TestFileNames(t *testing.T) {
	for g, want := range map[GVK]string{
		{"", "v1", "Service"}:                            "service-v1.json",
		{"apps", "v1", "Deployment"}:                     "deployment-apps-v1.json",
		{"networking.k8s.io", "v1", "NetworkPolicy"}:     "networkpolicy-networking-v1.json",
		{"autoscaling", "v2", "HorizontalPodAutoscaler"}: "horizontalpodautoscaler-autoscaling-v2.json",
	} {
		if got := g.FileName(); got != want {
			t.Errorf("%v: %s; want %s", g, got, want)
		}
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
