package meta

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
)

const synthesisSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Materials synthesis run",
  "type": "object",
  "required": ["precursors", "anneal"],
  "additionalProperties": false,
  "properties": {
    "precursors": {
      "type": "array", "minItems": 1,
      "items": {
        "type": "object", "required": ["formula", "mass_g"],
        "properties": {
          "formula": {"type": "string", "pattern": "^[A-Z][A-Za-z0-9()]*$"},
          "mass_g": {"type": "number", "exclusiveMinimum": 0}
        }
      }
    },
    "anneal": {
      "type": "object", "required": ["temperature_K", "duration_h"],
      "properties": {
        "temperature_K": {"type": "number", "minimum": 0, "maximum": 3500},
        "duration_h": {"type": "number", "minimum": 0},
        "atmosphere": {"enum": ["air", "N2", "Ar", "vacuum"]}
      }
    },
    "operator_email": {"type": "string", "format": "email"},
    "a/b~c": {"type": "integer"}
  }
}`

func TestExtensionRegistry(t *testing.T) {
	reg := NewRegistry()
	if err := reg.Register("materials-synthesis", []byte(synthesisSchema)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, doc, field string
	}{
		{"valid", `{"precursors": [{"formula": "Li2CO3", "mass_g": 1.25}], "anneal": {"temperature_K": 1173, "duration_h": 12, "atmosphere": "Ar"}}`, "-"},
		{"too hot", `{"precursors": [{"formula": "Li2CO3", "mass_g": 1}], "anneal": {"temperature_K": 9000, "duration_h": 1}}`, "/anneal/temperature_K"},
		{"bad formula", `{"precursors": [{"formula": "li", "mass_g": 1}, {"formula": "Co3O4", "mass_g": 2}], "anneal": {"temperature_K": 1, "duration_h": 1}}`, "/precursors/0/formula"},
		{"second item", `{"precursors": [{"formula": "Li", "mass_g": 1}, {"formula": "Co3O4", "mass_g": -2}], "anneal": {"temperature_K": 1, "duration_h": 1}}`, "/precursors/1/mass_g"},
		{"missing", `{"precursors": [{"formula": "Li", "mass_g": 1}]}`, ""},
		{"extra", `{"precursors": [{"formula": "Li", "mass_g": 1}], "anneal": {"temperature_K": 1, "duration_h": 1}, "colour": "red"}`, ""},
		{"format", `{"precursors": [{"formula": "Li", "mass_g": 1}], "anneal": {"temperature_K": 1, "duration_h": 1}, "operator_email": "not an email"}`, "/operator_email"},
		{"escaped pointer", `{"precursors": [{"formula": "Li", "mass_g": 1}], "anneal": {"temperature_K": 1, "duration_h": 1}, "a/b~c": 1.5}`, "/a~1b~0c"},
		{"not json", `{"precursors": `, ""},
	} {
		err := reg.ValidateExtension("materials-synthesis", []byte(tc.doc))
		if tc.field == "-" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != tc.field {
			t.Errorf("%s: got %v (field %q), want Invalid at %q", tc.name, err, errors.FieldOf(err), tc.field)
		}
		if tc.field != "" && !strings.Contains(errors.SafeMessage(err), tc.field) {
			t.Errorf("%s: message %q does not name %s", tc.name, errors.SafeMessage(err), tc.field)
		}
	}
	if err := reg.ValidateExtension("nope", []byte(`{}`)); !errors.Is(errors.NotExist, err) {
		t.Errorf("unknown extension: %v", err)
	}
	src, err := reg.Source("materials-synthesis")
	if err != nil || string(src) != synthesisSchema {
		t.Errorf("source: %v", err)
	}
	if got := reg.Names(); len(got) != 1 || got[0] != "materials-synthesis" {
		t.Errorf("names %q", got)
	}
	reg.Remove("materials-synthesis")
	if err := reg.ValidateExtension("materials-synthesis", []byte(`{}`)); !errors.Is(errors.NotExist, err) {
		t.Errorf("after remove: %v", err)
	}
}

func TestExtensionRegisterErrors(t *testing.T) {
	reg := NewRegistry()
	for _, tc := range []struct{ name, schema string }{
		{"Bad Name", `{}`},
		{"ok-name", `{"type": `},
		{"ok-name", `{"type": "no-such-type"}`},
		{"ok-name", `{"$ref": "https://example.org/remote.json"}`},
		{"ok-name", `{"$ref": "file:///etc/passwd"}`},
		{"ok-name", `{"minimum": "ten"}`},
	} {
		if err := reg.Register(tc.name, []byte(tc.schema)); !errors.Is(errors.Invalid, err) {
			t.Errorf("Register(%q, %s) = %v, want Invalid", tc.name, tc.schema, err)
		}
	}
	if len(reg.Names()) != 0 {
		t.Errorf("failed registrations left %q", reg.Names())
	}
	// Older drafts named by $schema use the built-in meta-schemas, offline.
	if err := reg.Register("draft-seven", []byte(`{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": {"n": {"type": "integer", "exclusiveMaximum": 10}}}`)); err != nil {
		t.Fatalf("draft-07: %v", err)
	}
	if err := reg.ValidateExtension("draft-seven", []byte(`{"n": 10}`)); errors.FieldOf(err) != "/n" {
		t.Errorf("draft-07 exclusiveMaximum: %v", err)
	}
	// Internal references are fine.
	if err := reg.Register("with-defs", []byte(`{"$defs": {"k": {"type": "number", "minimum": 0}}, "properties": {"t": {"$ref": "#/$defs/k"}}}`)); err != nil {
		t.Fatal(err)
	}
	if err := reg.ValidateExtension("with-defs", []byte(`{"t": -1}`)); errors.FieldOf(err) != "/t" {
		t.Errorf("$defs: %v", err)
	}
}

func TestExtensionConcurrent(t *testing.T) {
	reg := NewRegistry()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("ext-%d", i%3)
			for range 20 {
				_ = reg.Register(name, []byte(`{"type": "object"}`))
				_ = reg.ValidateExtension(name, []byte(`{}`))
				_ = reg.Names()
			}
		}()
	}
	wg.Wait()
}
