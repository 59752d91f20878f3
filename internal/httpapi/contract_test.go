package httpapi_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
	"github.com/getkin/kin-openapi/openapi3"
)

// operation is one documented operation, its path filled in with values
// that name nothing.
type operation struct {
	id, method, template, path string
	op                         *openapi3.Operation
	params                     openapi3.Parameters // the path's and the operation's
}

func (o operation) secured(doc *openapi3.T) bool {
	if o.op.Security != nil {
		return len(*o.op.Security) > 0
	}
	return len(doc.Security) > 0
}

func (o operation) bodyTypes() []string {
	if o.op.RequestBody == nil || o.op.RequestBody.Value == nil {
		return nil
	}
	var ts []string
	for t := range o.op.RequestBody.Value.Content {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return ts
}

// send makes a request for o: over the server's Unix socket for the
// operations that exist only there.
func (h *harness) send(o operation, path, token string, body any, hdr ...string) resp {
	h.t.Helper()
	if o.id == "localPut" {
		return h.doUnix(o.method, path, token, body, hdr...)
	}
	return h.do(o.method, path, token, body, hdr...)
}

// operations lists the documented operations in a stable order.
func (h *harness) operations() []operation {
	fill := strings.NewReplacer("{name}", "no-such-thing", "{id}", "no-such-thing", "{version}", "1", "{index}", "0", "{path}", "f.txt")
	var ops []operation
	for _, tmpl := range h.doc.Paths.InMatchingOrder() {
		item := h.doc.Paths.Value(tmpl)
		for method, op := range item.Operations() {
			params := append(slices.Clone(item.Parameters), op.Parameters...)
			ops = append(ops, operation{op.OperationID, method, tmpl, fill.Replace(tmpl), op, params})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].id < ops[j].id })
	return ops
}

// TestEveryOperationAnswersAsDocumented drives every documented operation
// with the requests a hostile or careless client sends — no token, a
// malformed or overlong Idempotency-Key, a body of another media type, an
// oversized or malformed body, nonsense and overlong query values — and
// checks every real response against the document (h.do validates status,
// content type and body, so a status the document does not list fails).
// It is built from the document, so an operation added there is driven
// too.
func TestEveryOperationAnswersAsDocumented(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	h := newHarness(t, db)
	admin := h.admin
	if r := h.do("POST", "/api/v1/principals", admin, map[string]any{"name": "norole", "nationality": "USA"}); r.status != 201 {
		t.Fatalf("create norole: %d %s", r.status, r.body)
	}
	var nt httpapi.CreateTokenResponse
	h.do("POST", "/api/v1/principals/norole/tokens", admin, map[string]any{}).decode(t, &nt)
	norole := nt.Secret
	long := strings.Repeat("x", 100_000)

	for _, o := range h.operations() {
		t.Run(o.id, func(t *testing.T) {
			h := *h
			h.t = t
			types := o.bodyTypes()
			var body any
			if len(types) > 0 {
				body = "{}"
			}
			// No token: 401 with no detail.
			if o.secured(h.doc) {
				if r := h.send(o, o.path, "", body); r.status != 401 {
					t.Errorf("no token: %d, want 401", r.status)
				}
			}
			// The simplest request, by the administrator and by a principal
			// with no role.
			// (A handler may look up its object before it reads the body:
			// then a body refusal is hidden behind the 404 for the
			// object these paths name.)
			missing := h.send(o, o.path, admin, body).status == 404
			h.send(o, o.path, norole, body)

			// Nonsense, negative, huge and overlong query values.
			for _, p := range o.params {
				if p.Value.In != "query" {
					continue
				}
				for _, v := range []string{"x", "-1", "0", "99999999999999999999", "%00", long} {
					h.send(o, o.path+"?"+p.Value.Name+"="+v, admin, body)
				}
			}

			if o.method == "POST" && o.secured(h.doc) {
				if r := h.send(o, o.path, admin, body, "Idempotency-Key", strings.Repeat("k", 256)); r.status != 400 || r.problem(t).Field != "Idempotency-Key" {
					t.Errorf("overlong Idempotency-Key: %d %s, want 400 naming it", r.status, r.body)
				}
			}

			parsed := slices.ContainsFunc(types, func(t string) bool { return t == "application/json" || t == "application/yaml" })
			if !parsed {
				return
			}
			// A body of another media type: 415, naming Content-Type.
			for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json-seq", "bogus"} {
				if r := h.send(o, o.path, admin, `{}`, "Content-Type", ct); !(missing && r.status == 404) && (r.status != 415 || r.problem(t).Field != "Content-Type") {
					t.Errorf("Content-Type %q: %d %s, want 415 naming Content-Type", ct, r.status, r.body)
				}
			}
			// A JSON body with a charset parameter is still JSON.
			if r := h.send(o, o.path, admin, `{}`, "Content-Type", "application/json; charset=utf-8"); r.status == 415 {
				t.Errorf("application/json; charset=utf-8 refused: %s", r.body)
			}
			// Too large: 413; malformed: 400.
			if r := h.send(o, o.path, admin, `{"x":"`+strings.Repeat("a", httpapi.MaxJSONBody)+`"}`); !(missing && r.status == 404) && r.status != 413 {
				t.Errorf("oversized body: %d %s, want 413", r.status, r.body)
			}
			for _, b := range []string{`{`, `[`, `"x"`, "\xff"} {
				if r := h.send(o, o.path, admin, b); !(missing && r.status == 404) && r.status != 400 {
					t.Errorf("body %q: %d %s, want 400", b, r.status, r.body)
				}
			}
		})
	}
}

// TestCursorsRefusedUniformly: every list with a cursor refuses one it did
// not make, naming the cursor — before, /datasets and /models read any
// base64 as a position while /jobs and /search refused it.
func TestCursorsRefusedUniformly(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	h := newHarness(t, db)
	n := 0
	for _, o := range h.operations() {
		if !slices.ContainsFunc(o.params, func(p *openapi3.ParameterRef) bool { return p.Value.In == "query" && p.Value.Name == "cursor" }) {
			continue
		}
		n++
		for _, c := range []string{"garbage", "AAAA", base64.RawURLEncoding.EncodeToString([]byte("zzz")), "nonsense!"} {
			if r := h.do(o.method, o.path+"?cursor="+c, h.admin, nil); r.status != 400 || r.problem(t).Field != "cursor" {
				t.Errorf("%s cursor %q: %d %s, want 400 naming cursor", o.id, c, r.status, r.body)
			}
		}
	}
	if n < 4 {
		t.Errorf("%d operations take a cursor; want at least datasets, models, jobs, search", n)
	}
}

// TestLongFieldsNamed: a request field over its bound is refused naming
// that field (a long title was refused as "description", a long display
// name or email as "clearance", a long agreement title as "ip_terms").
func TestLongFieldsNamed(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	h := newHarness(t, db)
	h.do("POST", "/api/v1/organizations", h.admin, map[string]any{"name": "ornl", "country": "USA"})
	mb := strings.Repeat("t", 1_000_000)
	agr := func(k, v string) map[string]any {
		a := map[string]any{"id": "CRADA-1", "type": "CRADA", "parties": []string{"ornl"}, "not_before": "2026-01-01T00:00:00Z", "not_after": "2036-01-01T00:00:00Z"}
		a[k] = v
		return a
	}
	for _, c := range []struct {
		path  string
		body  map[string]any
		field string
	}{
		{"/api/v1/datasets", map[string]any{"name": "d1", "label": "OPEN", "title": mb}, "title"},
		{"/api/v1/datasets", map[string]any{"name": "d1", "label": "OPEN", "title": strings.Repeat("t", 513)}, "title"},
		{"/api/v1/datasets", map[string]any{"name": "d1", "label": "OPEN", "description": strings.Repeat("d", 65537)}, "description"},
		{"/api/v1/principals", map[string]any{"name": "p1", "display_name": strings.Repeat("n", 257)}, "display_name"},
		{"/api/v1/principals", map[string]any{"name": "p1", "email": strings.Repeat("e", 257)}, "email"},
		{"/api/v1/agreements", agr("title", strings.Repeat("t", 513)), "title"},
		{"/api/v1/agreements", agr("ip_terms", strings.Repeat("i", 65537)), "ip_terms"},
	} {
		r := h.do("POST", c.path, h.admin, c.body)
		if r.status != 400 || r.problem(t).Field != c.field {
			t.Errorf("POST %s with a long %s: %d %.200s, want 400 naming %s", c.path, c.field, r.status, r.body, c.field)
		}
	}
}

// TestIdempotencyRefusalsDocumented: the Idempotency-Key refusals are
// answered as documented — 400 for a key reused with another request,
// 409 while the first request with the key is still in progress.
func TestIdempotencyRefusalsDocumented(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	h := newHarness(t, db)
	body := `{"name":"fusion"}`
	if r := h.do("POST", "/api/v1/projects", h.admin, body, "Idempotency-Key", "k1"); r.status != 201 {
		t.Fatalf("first: %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/projects", h.admin, `{"name":"other"}`, "Idempotency-Key", "k1"); r.status != 400 || r.problem(t).Field != "Idempotency-Key" {
		t.Errorf("reused key: %d %s, want 400 naming Idempotency-Key", r.status, r.body)
	}
	// A first request that has not finished: its key is held, unanswered.
	var who struct{ ID string }
	h.do("GET", "/api/v1/whoami", h.admin, nil).decode(t, &who)
	sum := sha256.Sum256([]byte("POST /api/v1/projects\n" + `{"name":"slow"}`))
	err := db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (principal_id, key, method, path, request_hash, status, content_type, body, created_at) VALUES (?, ?, ?, ?, ?, 0, '', NULL, ?)`,
			who.ID, "k2", "POST", "/api/v1/projects", sum[:], store.T(time.Now()))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := h.do("POST", "/api/v1/projects", h.admin, `{"name":"slow"}`, "Idempotency-Key", "k2"); r.status != 409 {
		t.Errorf("key in progress: %d %s, want 409", r.status, r.body)
	}
}

// TestNoBareObjects: every object schema in a response says what it holds
// (properties, or the schema of its values); and every schema that lists
// required properties defines them.
func TestNoBareObjects(t *testing.T) {
	b, err := httpapi.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if isType(v["type"], "object") {
				_, props := v["properties"]
				ap, hasAP := v["additionalProperties"]
				apSchema := false
				if m, ok := ap.(map[string]any); ok && len(m) > 0 {
					apSchema = true
				}
				if !props && !apSchema && !(hasAP && ap == true && v["description"] != nil) {
					t.Errorf("%s: an object schema with no properties", where)
				}
			}
			if req, ok := v["required"].([]any); ok {
				if props, ok := v["properties"].(map[string]any); ok || isType(v["type"], "object") {
					for _, r := range req {
						if _, ok := props[r.(string)]; !ok {
							t.Errorf("%s: required %q is not defined", where, r)
						}
					}
				}
			}
			for k, x := range v {
				walk(where+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(where+"/"+strconv.Itoa(i), x)
			}
		}
	}
	walk("#", doc)
}

func isType(t any, want string) bool {
	switch t := t.(type) {
	case string:
		return t == want
	case []any:
		return slices.Contains(t, any(want))
	}
	return false
}
