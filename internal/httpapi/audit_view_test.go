package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/genesis-science/genesis/internal/compartment"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store/storetest"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/sumdb/note"
)

// auditWorld is a server whose audit log the test can wait on.
type auditWorld struct {
	t        *testing.T
	ts       *httptest.Server
	log      *audit.Log
	dir      string
	verifier note.Verifier
	id       *identity.Service
	cat      *catalog.Service
	tokens   map[string]string // principal name → bearer token
	ids      map[string]string // principal name → ID
}

// auditPrincipals are the askers: none may read the hidden assets.
var auditPrincipals = []struct {
	name, clearance string
	roles           []genesis.Role
}{
	{"olive", "OPEN", []genesis.Role{genesis.RoleContributor}},
	{"piet", "PROPRIETARY", []genesis.Role{genesis.RoleContributor}},
	{"vera", "PROPRIETARY//FISSION", []genesis.Role{genesis.RoleViewer}},
	{"stew", "OPEN", []genesis.Role{genesis.RoleSteward}}, // an auditor, cleared for nothing hidden
}

func newAuditWorld(t *testing.T) *auditWorld {
	t.Helper()
	db := storetest.Migrated(t, storetest.SQLite)
	id := identity.New(db)
	if _, err := id.Bootstrap(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	skey, vkey, err := audit.GenerateKey(audit.Origin("view"))
	if err != nil {
		t.Fatal(err)
	}
	signer, verifier, err := audit.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	log, err := audit.Open(ctx, dir, audit.Options{Signer: signer, Verifier: verifier, FlushInterval: 2 * time.Millisecond, CheckpointInterval: 10 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	az, err := authz.New(id, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(catalog.Config{DB: db, Blobs: memblob.New(false), Authz: az, Principals: id, Audit: log})
	srv := httpapi.New(httpapi.Config{DB: db, Identity: id, Authz: az, AuditLog: log, AuditKey: vkey, Catalog: cat, Logger: slog.New(slog.DiscardHandler)})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	for _, c := range []string{"FUSION", "FISSION"} {
		if _, err := compartment.Register(ctx, db, "test", c, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	w := &auditWorld{t: t, ts: ts, log: log, dir: dir, verifier: verifier, id: id, cat: cat, tokens: map[string]string{}, ids: map[string]string{}}
	mk := func(name, clearance string, roles []genesis.Role) {
		p, err := id.CreatePrincipal(ctx, genesis.Principal{Name: name, Clearance: clearance, Roles: roles})
		if err != nil {
			t.Fatal(err)
		}
		_, secret, err := id.CreateToken(ctx, p.ID, "t", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		w.tokens[name], w.ids[name] = secret, string(p.ID)
	}
	for _, p := range auditPrincipals {
		mk(p.name, p.clearance, p.roles)
	}
	mk("hera", "NATIONAL-SECURITY//FUSION", []genesis.Role{genesis.RoleContributor})
	mk("offi", "NATIONAL-SECURITY//FUSION", []genesis.Role{genesis.RoleClassificationOfficer})
	return w
}

// putVersion commits a one-file version to asset name as p.
func (w *auditWorld) putVersion(p *genesis.Principal, name, content string) {
	w.t.Helper()
	data := []byte(content)
	id := blob.Sum(data)
	m := &manifest.Manifest{Entries: []manifest.Entry{{Path: "f", Type: manifest.File, Mode: 0o644, Size: int64(len(data)), Hash: id,
		Chunks: []manifest.Chunk{{ID: id, Size: int64(len(data))}}}}}
	raw, err := m.Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	for _, c := range [][]byte{data, raw} {
		if err := w.cat.PutChunk(ctx, p, name, blob.Sum(c), c); err != nil {
			w.t.Fatal(err)
		}
	}
	if _, err := w.cat.Commit(ctx, p, name, catalog.CommitSpec{Manifest: blob.Sum(raw)}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *auditWorld) principal(name string) *genesis.Principal {
	p, err := w.id.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, name)
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// settle waits, without any timing margin, until every record appended so
// far is durable and readable: a synchronous append is covered by a
// checkpoint, and entries are written in order.
func (w *auditWorld) settle() uint64 {
	w.t.Helper()
	if _, err := w.log.AppendSync(ctx, audit.Record{Principal: "barrier", Action: "barrier", Decision: audit.Allow}); err != nil {
		w.t.Fatal(err)
	}
	n, err := w.log.Size(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

func (w *auditWorld) do(method, path, who string, body any) (int, []byte) {
	w.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, w.ts.URL+path, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+w.tokens[who])
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := w.ts.Client().Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	return res.StatusCode, buf.Bytes()
}

// view is what who is shown of the audit log by every read path, with
// what differs between any two runs (times, request IDs, positions, and
// the values of keyed label hashes, which are random without the key)
// normalised away.
func (w *auditWorld) view(who, query string, base uint64) string {
	w.t.Helper()
	status, body := w.do("GET", "/api/v1/audit/entries?limit=1000&"+query, who, nil)
	if status != 200 {
		w.t.Fatalf("audit entries %s = %d %s", query, status, body)
	}
	var page httpapi.AuditEntries
	if err := json.Unmarshal(body, &page); err != nil {
		w.t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "size+%d next+%d\n", page.Size-base, page.Next-min(page.Next, base))
	for _, e := range page.Items {
		idx := e.Index
		e.Index = idx - min(idx, base)
		e.Time, e.RequestID = "", ""
		e.LabelHash = strconv.Itoa(len(e.LabelHash))
		fmt.Fprintf(&b, "%+v\n", e)
		// The proof of every entry shown, and its raw bytes.
		ps, pb := w.do("GET", "/api/v1/audit/entries/"+strconv.FormatUint(idx, 10)+"/proof", who, nil)
		var p httpapi.AuditProof
		if ps != 200 || json.Unmarshal(pb, &p) != nil {
			w.t.Fatalf("proof of an entry shown = %d %s", ps, pb)
		}
		raw, _ := base64.StdEncoding.DecodeString(p.Raw)
		rec, err := audit.DecodeRecord(raw)
		if err != nil {
			w.t.Fatal(err)
		}
		rec.Time, rec.RequestID, rec.LabelHash = time.Time{}, "", nil
		fmt.Fprintf(&b, "  raw %+v\n", rec)
	}
	return b.String()
}

// auditAsks are requests about one named asset, of every kind that looks
// an asset up.
var auditAsks = []struct {
	method, path string
	body         any
}{
	{"GET", "/api/v1/assets/%s", nil},
	{"GET", "/api/v1/assets/%s/versions", nil},
	{"GET", "/api/v1/assets/%s/versions/1", nil},
	{"GET", "/api/v1/assets/%s/versions/1/manifest", nil},
	{"GET", "/api/v1/assets/%s/metadata", nil},
	{"GET", "/api/v1/assets/%s/lineage", nil},
	{"POST", "/api/v1/assets/%s/label", map[string]any{"label": "NATIONAL-SECURITY//FUSION"}},
	{"PUT", "/api/v1/assets/%s/metadata", map[string]any{"core": map[string]any{"title": "t"}}},
	{"POST", "/api/v1/assets/%s/chunks/missing", map[string]any{"ids": []string{}}},
	{"POST", "/api/v1/assets/%s/releases", map[string]any{"to_label": "OPEN", "justification": "justified enough"}},
	{"GET", "/api/v1/releases/%s", nil},
	{"POST", "/api/v1/releases/%s/approve", nil},
	{"POST", "/api/v1/releases/%s/reject", nil},
}

// TestOwnAuditViewHiddenLikeMissing: random principals ask for names that
// are hidden from them in one world and missing in another; whatever they
// read of the audit log — each window of entries, the log's size, the
// proofs and raw entries, filtered lists, and all their own records —
// is the same in both worlds. (Before records were keyed and refusals of
// missing names recorded, a hidden name left a deny record with the
// asset's ID and a bare SHA-256 of its label, which a missing one did not.)
func TestOwnAuditViewHiddenLikeMissing(t *testing.T) {
	hidden := newAuditWorld(t)
	missing := newAuditWorld(t)
	hera := hidden.principal("hera")
	var names []string
	for _, l := range []string{"NATIONAL-SECURITY", "PROPRIETARY//FUSION", "NATIONAL-SECURITY//FUSION"} {
		name := "h-" + strings.ToLower(strings.ReplaceAll(l, "/", ""))
		a, err := hidden.cat.Create(ctx, hera, catalog.CreateSpec{Name: name, Label: l})
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, name, a.ID) // asked by name and by ID
		hidden.putVersion(hera, name, "data of "+name)
		rel, err := hidden.cat.RequestRelease(ctx, hidden.principal("offi"), name, 1, "OPEN", "for the test of audit views")
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, rel.ID)
	}
	names = append(names, "never-there")
	// Positions count from the end of the setup, which differs.
	start := [2]uint64{hidden.settle(), missing.settle()}
	rng := rand.New(rand.NewPCG(12, 1))
	for step := 0; step < 120; step++ {
		who := auditPrincipals[rng.IntN(len(auditPrincipals))].name
		ask := auditAsks[rng.IntN(len(auditAsks))]
		name := names[rng.IntN(len(names))]
		path := fmt.Sprintf(ask.path, url.PathEscape(name))
		var views [2]string
		for i, w := range []*auditWorld{hidden, missing} {
			base := w.settle()
			w.do(ask.method, path, who, ask.body)
			w.settle()
			views[i] = w.view(who, "from="+strconv.FormatUint(base, 10), base) +
				w.view(who, "from="+strconv.FormatUint(base, 10)+"&object_id="+url.QueryEscape(name), base) +
				w.view(who, "from="+strconv.FormatUint(base, 10)+"&label=NATIONAL-SECURITY", base) +
				w.view(who, "tail=3", base)
		}
		if diff := cmp.Diff(views[1], views[0]); diff != "" {
			t.Fatalf("step %d: %s %s %s: what %s reads of the audit log differs when the name is hidden (-missing +hidden):\n%s", step, who, ask.method, path, who, diff)
		}
	}
	for _, p := range auditPrincipals {
		a := hidden.view(p.name, "from="+strconv.FormatUint(start[0], 10), start[0])
		b := missing.view(p.name, "from="+strconv.FormatUint(start[1], 10), start[1])
		if diff := cmp.Diff(b, a); diff != "" {
			t.Errorf("%s's whole view differs (-missing +hidden):\n%s", p.name, diff)
		}
	}
}

// TestHostileRefusalsAreRecorded: a refused mutation is on the record
// whatever its path ID holds — bytes that are not UTF-8, a very long
// value — as what was asked, escaped and bounded (audit.Escape).
func TestHostileRefusalsAreRecorded(t *testing.T) {
	w := newAuditWorld(t)
	long := strings.Repeat("x", 5000)
	for _, c := range []struct{ id, want string }{
		{"\xff\xfe", `\xff\xfe`},
		{"caf\xe9", `caf\xe9`},
		{long, long[:audit.MaxFieldLen-len("…[5000 bytes]")] + "…[5000 bytes]"},
	} {
		base := w.settle()
		status, body := w.do("POST", "/api/v1/principals/"+url.PathEscape(c.id)+"/disable", "olive", nil)
		if status < 400 {
			t.Fatalf("olive disabled %q: %d %s", c.id, status, body)
		}
		w.settle()
		_, b := w.do("GET", "/api/v1/audit/entries?from="+strconv.FormatUint(base, 10)+"&principal="+w.ids["olive"], "olive", nil)
		var page httpapi.AuditEntries
		json.Unmarshal(b, &page)
		found := false
		for _, e := range page.Items {
			found = found || e.Action == "POST /api/v1/principals/{id}/disable" && e.ObjectID == c.want && e.Detail == strconv.Itoa(status)
		}
		if !found {
			t.Errorf("the refusal of %q is not on the record: %+v", c.id, page.Items)
		}
	}
	w.settle()
	if rep, err := audit.Verify(ctx, w.dir, w.verifier); err != nil || !rep.Intact() {
		t.Fatalf("the log does not verify: %v %+v", err, rep.Problems)
	}
}
