package meta

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/genesis-science/genesis/internal/errors"
)

// Registry holds the domain-extension schemas that stewards register, by
// name ("materials-synthesis", "fusion-shot"…). It is in memory and safe for
// concurrent use; the caller persists the schema sources (Source) and
// registers them again at start-up. Schemas are compiled with no loader:
// a $ref to anything outside the schema itself fails at registration, so
// validation never touches the network or the file system.
type Registry struct {
	mu      sync.RWMutex
	schemas map[string]*extSchema
}

type extSchema struct {
	source []byte
	schema *jsonschema.Schema
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{schemas: map[string]*extSchema{}} }

var extNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// MaxSchemaSize bounds a registered schema; MaxExtensionSize an extension document.
const (
	MaxSchemaSize    = 1 << 20
	MaxExtensionSize = 4 << 20
)

var printer = message.NewPrinter(language.English)

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("external schema references are not allowed (%s)", url)
}

// Register compiles schema (a JSON Schema document; draft 2020-12 unless its
// $schema says otherwise) and stores it under name, replacing any earlier
// schema of that name.
func (r *Registry) Register(name string, schema []byte) error {
	const op errors.Op = "meta.Registry.Register"
	if !extNameRE.MatchString(name) {
		return errors.E(op, errors.Invalid, errors.Field("name"), errors.Msg("extension name must be lower-case letters, digits and '-', starting with a letter, at most 63 characters"))
	}
	if len(schema) > MaxSchemaSize {
		return errors.E(op, errors.TooLarge, errors.Field("schema"), errors.Msg("schema larger than 1 MiB"))
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return errors.E(op, errors.Invalid, errors.Field("schema"), errors.Msg("schema is not valid JSON"), err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	url := "urn:genesis:extension:" + name
	if err := c.AddResource(url, doc); err != nil {
		return errors.E(op, errors.Invalid, errors.Field("schema"), errors.Msg("schema cannot be used: "+firstLine(err.Error())), err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return errors.E(op, errors.Invalid, errors.Field("schema"), errors.Msg("schema is not a valid JSON Schema: "+firstLine(err.Error())), err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.schemas == nil {
		r.schemas = map[string]*extSchema{}
	}
	r.schemas[name] = &extSchema{source: append([]byte(nil), schema...), schema: sch}
	return nil
}

// Names lists the registered extensions, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	for n := range r.schemas {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Source returns the schema registered under name as it was given.
func (r *Registry) Source(name string) ([]byte, error) {
	const op errors.Op = "meta.Registry.Source"
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.schemas[name]
	if !ok {
		return nil, errors.E(op, errors.NotExist, errors.Field("name"), errors.Msg("no such extension"))
	}
	return append([]byte(nil), s.source...), nil
}

// Remove forgets the extension name.
func (r *Registry) Remove(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.schemas, name)
}

// ValidateExtension validates doc (a JSON document) against the schema
// registered under name. A violation is errors.Invalid whose Field is the
// JSON pointer of the failing value ("/sample/temperature_K", "" for the
// root) and whose message lists up to five violations with their pointers.
// An unknown name is errors.NotExist.
func (r *Registry) ValidateExtension(name string, doc []byte) error {
	const op errors.Op = "meta.ValidateExtension"
	r.mu.RLock()
	s, ok := r.schemas[name]
	r.mu.RUnlock()
	if !ok {
		return errors.E(op, errors.NotExist, errors.Field("extension"), errors.Msg("no such extension schema"))
	}
	if len(doc) > MaxExtensionSize {
		return errors.E(op, errors.TooLarge, errors.Msg("extension document larger than 4 MiB"))
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return errors.E(op, errors.Invalid, errors.Field(""), errors.Msg("extension document is not valid JSON"), err)
	}
	err = s.schema.Validate(v)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return errors.E(op, errors.Invalid, errors.Msg("extension document does not validate"), err)
	}
	var leaves []*jsonschema.ValidationError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, e)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.SliceStable(leaves, func(i, j int) bool {
		return pointer(leaves[i].InstanceLocation) < pointer(leaves[j].InstanceLocation)
	})
	var msgs []string
	for i, l := range leaves {
		if i == 5 {
			msgs = append(msgs, fmt.Sprintf("and %d more", len(leaves)-5))
			break
		}
		p := pointer(l.InstanceLocation)
		if p == "" {
			p = "/"
		}
		msgs = append(msgs, p+": "+l.ErrorKind.LocalizedString(printer))
	}
	return errors.E(op, errors.Invalid, errors.Field(pointer(leaves[0].InstanceLocation)), errors.Msg(strings.Join(msgs, "; ")))
}

// pointer renders an instance location as an RFC 6901 JSON pointer.
func pointer(loc []string) string {
	var b strings.Builder
	for _, t := range loc {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
