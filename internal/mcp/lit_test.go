package mcp_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/agent"
	"github.com/genesis-science/genesis/internal/app"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/client"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/lit/library"
	"github.com/genesis-science/genesis/internal/mcp"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// bandGaps reads "the band gap of M is V eV [at T K]": the facts the
// property-gap method needs, from a corpus written for it. (The server's
// own extractor is internal/lit/extract; this keeps the test's facts
// exact.)
func bandGaps(s string) []lit.Assertion {
	var out []lit.Assertion
	for _, m := range bandGapRE.FindAllStringSubmatchIndex(s, -1) {
		v, _ := strconv.ParseFloat(s[m[4]:m[5]], 64)
		a := lit.Assertion{Material: s[m[2]:m[3]], Formula: s[m[2]:m[3]], Property: "band_gap", Value: lit.Value{Value: v, Unit: "eV", Raw: s[m[4]:m[5]] + " eV"}, Start: m[0], End: m[1]}
		if m[6] >= 0 {
			k, _ := strconv.ParseFloat(s[m[6]:m[7]], 64)
			a.Conditions = []lit.Condition{{Name: "temperature", Value: lit.Value{Value: k, Unit: "K", Raw: s[m[6]:m[7]] + " K"}}}
		}
		out = append(out, a)
	}
	return out
}

var bandGapRE = regexp.MustCompile(`band gap of ([A-Z][A-Za-z0-9]+) is ([0-9.]+) eV(?: at ([0-9.]+) K)?`)

func doc(title string, paras ...string) lit.Document {
	return lit.Document{Format: lit.FormatMarkdown, Title: title, Sections: []lit.Section{{Heading: "Body", Paragraphs: paras}}}
}

// litWorld is a booted system whose literature has an extractor, with
// open perovskite papers (bob's) and a FUSION report (alice's) naming a
// material and a word no one else may see.
func litWorld(t *testing.T, dsn string) (*world, *library.Service) {
	var lib *library.Service
	sys := bootWith(t, dsn, func(a *app.App) {
		ix, err := search.New(a.DB)
		if err != nil {
			t.Fatal(err)
		}
		if lib, err = library.New(library.Config{DB: a.DB, Catalog: a.Catalog, Index: ix, Authz: a.Authz, Principals: a.Identity, Audit: a.Audit, Extract: bandGaps}); err != nil {
			t.Fatal(err)
		}
		ag, err := agent.New(agent.Config{Library: lib, Catalog: a.Catalog, Campaigns: a.Campaigns, Fleet: a.Instruments, Audit: a.Audit, DB: a.DB, WorkDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		m := mcp.New(mcp.Config{Catalog: a.Catalog, Campaigns: a.Campaigns, Library: lib, Agent: ag, Audit: a.Audit})
		a.API = httpapi.New(httpapi.Config{DB: a.DB, Identity: a.Identity, Authz: a.Authz, AuditLog: a.Audit, AuditKey: a.AuditKey,
			Catalog: a.Catalog, Instruments: a.Instruments, Campaigns: a.Campaigns, Agent: ag, MCP: m.Handler(), Logger: slog.New(slog.DiscardHandler)})
	})
	sys.genesis(t, sys.Admin, "admin", "compartment", "add", "FUSION")
	w := &world{system: sys, alice: sys.principal(t, "alice", "PROPRIETARY//FUSION"), bob: sys.principal(t, "bob", "OPEN")}
	ctx := context.Background()
	who := func(tok string) *genesis.Principal {
		p, err := sys.App.Identity.Authenticate(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := lib.ImportDocuments(ctx, who(w.bob), "OPEN", "", []lit.Document{
		doc("Iodide perovskite", "The band gap of CsPbI3 is 1.73 eV at 300 K according to UV-vis absorption."),
		doc("Bromide perovskite", "We find that the band gap of CsPbBr3 is 2.36 eV at 295 K."),
		doc("Tin perovskite", "The band gap of CsSnI3 is 1.3 eV at 300 K."),
		doc("Mixed bromide", "Thin films of CsPbBr3 are stable in air; the band gap of CsPbBr3 is 2.3 eV at 310 K."),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := lib.ImportDocuments(ctx, who(w.alice), "PROPRIETARY//FUSION", "", []lit.Document{
		doc("Zorblaxite report", "The band gap of CsGeI3 is 2.0 eV at 300 K in zorblaxite perovskite films."),
	}); err != nil {
		t.Fatal(err)
	}
	return w, lib
}

// secret words of alice's report.
var secrets = []string{"zorblaxite", "Zorblaxite", "CsGeI3"}

func leaks(v any) string {
	b, _ := json.Marshal(v)
	for _, s := range secrets {
		if strings.Contains(string(b), s) {
			return s
		}
	}
	return ""
}

func TestLiteratureAndAgentTools(t *testing.T) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			w, _ := litWorld(t, dsn)
			ctx := context.Background()
			alice, bob := w.connect(t, w.alice), w.connect(t, w.bob)

			// Literature search: the report is found by alice only.
			out, e := call(t, alice, "search_literature", map[string]any{"query": "band gap perovskite films", "limit": 20})
			if e != "" || leaks(out) == "" || out["label"] != "PROPRIETARY//FUSION" {
				t.Fatalf("alice's literature search: %v %q", out, e)
			}
			var secretPassage, secretPub string
			for _, h := range out["hits"].([]any) {
				h := h.(map[string]any)
				if strings.Contains(h["text"].(string), "zorblaxite") {
					secretPassage, secretPub = h["id"].(string), h["publication"].(string)
				}
				if h["citation"] == "" || !strings.HasPrefix(h["id"].(string), "psg_") {
					t.Errorf("hit without citation or ID: %v", h)
				}
			}
			out, e = call(t, bob, "search_literature", map[string]any{"query": "band gap", "limit": 20})
			if e != "" || leaks(out) != "" || out["label"] != "OPEN" || len(out["hits"].([]any)) != 4 {
				t.Errorf("bob's literature search: %v %q", out, e)
			}
			out, e = call(t, bob, "search_literature", map[string]any{"query": "zorblaxite"})
			if e != "" || len(out["hits"].([]any)) != 0 {
				t.Errorf("bob's search for the hidden word: %v %q", out, e)
			}

			// Passages, publications, resources: hidden = missing.
			if out, e := call(t, alice, "get_passage", map[string]any{"id": secretPassage}); e != "" || !strings.Contains(out["text"].(string), "zorblaxite") {
				t.Errorf("alice's passage: %v %q", out, e)
			}
			if out, e := call(t, alice, "get_publication", map[string]any{"ref": secretPub}); e != "" || out["id"] != secretPub {
				t.Errorf("alice's publication: %v %q", out, e)
			}
			for _, c := range []struct{ tool, field, hidden, missing string }{
				{"get_passage", "id", secretPassage, "psg_0000000000000000"},
				{"get_publication", "ref", secretPub, "pub_0000000000000000"},
				{"list_facts", "publication", secretPub, "pub_0000000000000000"},
			} {
				ho, hidden := call(t, bob, c.tool, map[string]any{c.field: c.hidden})
				mo, missing := call(t, bob, c.tool, map[string]any{c.field: c.missing})
				hb, _ := json.Marshal(ho)
				mb, _ := json.Marshal(mo)
				if hidden != missing || string(hb) != string(mb) {
					t.Errorf("%s: hidden %q %s, missing %q %s", c.tool, hidden, hb, missing, mb)
				}
			}
			for _, uri := range []string{"genesis://passage/" + secretPassage, "genesis://publication/" + secretPub} {
				if res, err := alice.ReadResource(ctx, &sdk.ReadResourceParams{URI: uri}); err != nil || !strings.Contains(res.Contents[0].Text, secretPub) {
					t.Errorf("alice reads %s: %v", uri, err)
				}
				missingURI := uri[:strings.LastIndex(uri, "/")+1] + "psg_0000000000000000"
				_, herr := bob.ReadResource(ctx, &sdk.ReadResourceParams{URI: uri})
				_, merr := bob.ReadResource(ctx, &sdk.ReadResourceParams{URI: missingURI})
				if herr == nil || merr == nil || strings.ReplaceAll(herr.Error(), uri, "URI") != strings.ReplaceAll(merr.Error(), missingURI, "URI") {
					t.Errorf("bob reads %s: hidden %v, missing %v", uri, herr, merr)
				}
			}

			// Facts: bob's exclude the report's.
			out, e = call(t, bob, "list_facts", map[string]any{"property": "band_gap"})
			if e != "" || len(out["facts"].([]any)) != 4 || leaks(out) != "" {
				t.Errorf("bob's facts: %v %q", out, e)
			}
			out, e = call(t, alice, "list_facts", map[string]any{"property": "band_gap", "material": "CsGeI3"})
			if e != "" || len(out["facts"].([]any)) != 1 || out["label"] != "PROPRIETARY//FUSION" {
				t.Errorf("alice's facts: %v %q", out, e)
			}

			// Hypotheses: bob's rest on what he may read only.
			out, e = call(t, bob, "hypothesize", map[string]any{"topic": "perovskite band gap", "target": "band_gap=2.0 eV", "methods": []string{"gap"}})
			if e != "" || out["label"] != "OPEN" || leaks(out) != "" || len(out["hypotheses"].([]any)) == 0 {
				t.Fatalf("bob's hypotheses: %v %q", out, e)
			}
			var mix string
			for _, h := range out["hypotheses"].([]any) {
				h := h.(map[string]any)
				if g, ok := h["gap"].(map[string]any); ok && g["kind"] == "mix" && mix == "" {
					mix = h["id"].(string)
				}
				if len(h["passages"].([]any)) == 0 {
					t.Errorf("hypothesis without passages: %v", h)
				}
			}
			aout, e := call(t, alice, "hypothesize", map[string]any{"topic": "perovskite band gap", "target": "band_gap=2.0 eV", "methods": []string{"gap"}})
			if e != "" || aout["label"] != "PROPRIETARY//FUSION" || leaks(aout) == "" {
				t.Errorf("alice's hypotheses: %v %q", aout, e)
			}
			if _, e = call(t, bob, "hypothesize", map[string]any{"topic": "x", "target": "band_gap is low"}); !strings.Contains(e, "target") {
				t.Errorf("a malformed target: %q", e)
			}

			// A draft waits for a person's approval; start_campaign says so
			// and starts nothing.
			if mix == "" {
				t.Fatalf("no mix hypothesis in %v", out)
			}
			d, e := call(t, bob, "propose_campaign", map[string]any{"hypothesis_id": mix, "budget": 8})
			if e != "" || d["status"] != "awaiting_approval" || !strings.Contains(d["campaign_yaml"].(string), "band_gap") {
				t.Fatalf("propose_campaign: %v %q", d, e)
			}
			draft := d["id"].(string)
			s, e := call(t, bob, "start_campaign", map[string]any{"draft_id": draft})
			if e != "" || s["status"] != "awaiting_approval" || !strings.Contains(s["message"].(string), "awaiting approval") || s["campaign"] != nil {
				t.Errorf("start_campaign before approval: %v %q", s, e)
			}
			var cs httpapi.List[map[string]any]
			if err := client.New(w.URL, w.bob).Do(ctx, "GET", "/api/v1/campaigns", nil, &cs); err != nil || len(cs.Items) != 0 {
				t.Errorf("campaigns after an unapproved start: %v %v", cs.Items, err)
			}
			// Alice's hypotheses and drafts do not exist for bob.
			var ahyp string
			for _, h := range aout["hypotheses"].([]any) {
				ahyp = h.(map[string]any)["id"].(string)
			}
			_, hidden := call(t, bob, "propose_campaign", map[string]any{"hypothesis_id": ahyp})
			_, missing := call(t, bob, "propose_campaign", map[string]any{"hypothesis_id": "hyp_0000000000000000"})
			if hidden != "not-exist: not found" || hidden != missing {
				t.Errorf("propose on alice's hypothesis: %q vs %q", hidden, missing)
			}

			// A person approves through the API; then it starts.
			if err := client.New(w.URL, w.bob).Do(ctx, "POST", "/api/v1/agent/drafts/"+draft+"/approve", nil, nil); err != nil {
				t.Fatal(err)
			}
			s, e = call(t, bob, "start_campaign", map[string]any{"draft_id": draft})
			if e != "" || (s["status"] != "started" && s["status"] != "created") || s["campaign"] == nil {
				t.Fatalf("start_campaign after approval: %v %q", s, e)
			}
			t.Logf("start_campaign after approval: %v: %v", s["status"], s["message"])
			id := s["campaign"].(map[string]any)["id"].(string)
			if st, e := call(t, bob, "campaign_status", map[string]any{"id": id}); e != "" || st["id"] != id || st["label"] != "OPEN" {
				t.Errorf("campaign_status: %v %q", st, e)
			}
			if s, e := call(t, bob, "start_campaign", map[string]any{"draft_id": draft}); !strings.Contains(e, "started already") {
				t.Errorf("start twice: %v %q", s, e)
			}

			want := map[string]int{"mcp.search_literature/allow": 2, "mcp.get_passage/deny": 4, "mcp.get_publication/deny": 4,
				"mcp.list_facts/allow": 1, "mcp.list_facts/deny": 2, "mcp.hypothesize/allow": 1, "mcp.hypothesize/error": 1,
				"mcp.propose_campaign/allow": 1, "mcp.propose_campaign/deny": 2, "mcp.start_campaign/allow": 2,
				"mcp.start_campaign/error": 1, "mcp.campaign_status/allow": 1}
			if got := w.auditOf(t, w.bob, "mcp.", want); !maps.Equal(got, want) {
				t.Errorf("bob's audit records: %v, want %v", got, want)
			}
		})
	}
}
