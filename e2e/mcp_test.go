package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/cli"
	"github.com/genesis-science/genesis/internal/client"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/mcp"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestMCPStdio runs `genesis mcp` as a separate process, as an assistant
// does, and drives it with the MCP SDK's client: the tools are the
// server's, run as the CLI's principal; what that principal may not read
// is not found, exactly like what does not exist.
func TestMCPStdio(t *testing.T) {
	sys := boot(t, "")
	ctx := context.Background()
	admin := client.New(sys.URL, sys.AdminToken)
	token := func(name, clearance string) string {
		if err := admin.Do(ctx, "POST", "/api/v1/principals", httpapi.CreatePrincipalRequest{Name: name, Nationality: "USA",
			Clearance: &clearance, Roles: []genesis.Role{genesis.RoleContributor}}, nil); err != nil {
			t.Fatal(err)
		}
		var nt httpapi.CreateTokenResponse
		if err := admin.Do(ctx, "POST", "/api/v1/principals/"+name+"/tokens", httpapi.CreateTokenRequest{Name: "mcp"}, &nt); err != nil {
			t.Fatal(err)
		}
		return nt.Secret
	}
	run := func(tok string, args ...string) {
		t.Helper()
		var out bytes.Buffer
		env := map[string]string{"GENESIS_URL": sys.URL, "GENESIS_TOKEN": tok, "HOME": t.TempDir()}
		if code := cli.Run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &out); code != 0 {
			t.Fatalf("genesis %v: %d %s", args, code, out.String())
		}
	}
	run(sys.AdminToken, "admin", "compartment", "add", "FUSION")
	alice, bob := token("alice", "PROPRIETARY//FUSION"), token("bob", "OPEN")
	dir := t.TempDir()
	for name, content := range map[string]string{"open-runs": "open run log\n", "secret-runs": "wombatquasar anomaly\n"} {
		os.MkdirAll(filepath.Join(dir, name), 0o755)
		os.WriteFile(filepath.Join(dir, name, "log.txt"), []byte(content), 0o644)
		lbl := "OPEN"
		if name == "secret-runs" {
			lbl = "PROPRIETARY//FUSION"
		}
		run(alice, "dataset", "create", name, "--label", lbl, "--title", "Beam runs "+name)
		run(alice, "dataset", "put", name, filepath.Join(dir, name), "--no-local")
	}

	// Publications: one open, one FUSION report only alice may read.
	who := func(tok string) *genesis.Principal {
		p, err := sys.App.Identity.Authenticate(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := sys.App.Literature.ImportDocuments(ctx, who(bob), "OPEN", "", []lit.Document{{Format: lit.FormatMarkdown,
		Title: "Beam tuning notes", Sections: []lit.Section{{Paragraphs: []string{"Beam tuning reduces emittance growth."}}}}}); err != nil {
		t.Fatal(err)
	}
	res, err := sys.App.Literature.ImportDocuments(ctx, who(alice), "PROPRIETARY//FUSION", "", []lit.Document{{Format: lit.FormatMarkdown,
		Title: "Beam tuning with wombatquasar", Sections: []lit.Section{{Paragraphs: []string{"Beam tuning with wombatquasar halves emittance growth."}}}}})
	if err != nil {
		t.Fatal(err)
	}
	secretPub := res.Publications[0].ID

	// connect starts `genesis mcp` as tok's principal.
	connect := func(tok string) (*sdk.ClientSession, *bytes.Buffer) {
		cmd := exec.Command(genesisBinary(t), "mcp")
		cmd.Env = append(os.Environ(), "GENESIS_URL="+sys.URL, "GENESIS_TOKEN="+tok, "HOME="+t.TempDir())
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		c := sdk.NewClient(&sdk.Implementation{Name: "e2e", Version: "1"}, nil)
		cs, err := c.Connect(ctx, &sdk.CommandTransport{Command: cmd}, nil)
		if err != nil {
			t.Fatalf("genesis mcp: %v\n%s", err, stderr.String())
		}
		t.Cleanup(func() { cs.Close() })
		return cs, &stderr
	}
	call := func(cs *sdk.ClientSession, name string, args any) (map[string]any, string) {
		t.Helper()
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.IsError {
			return nil, res.Content[0].(*sdk.TextContent).Text
		}
		var out map[string]any
		b, _ := json.Marshal(res.StructuredContent)
		json.Unmarshal(b, &out)
		return out, ""
	}

	ac, _ := connect(alice)
	bc, bstderr := connect(bob)
	tools, err := bc.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
		if tl.InputSchema == nil || tl.Description == "" {
			t.Errorf("%s: no schema or description through the proxy", tl.Name)
		}
	}
	for _, want := range []string{"search_catalog", "get_dataset", "read_file", "lineage", "campaign_status"} {
		if !strings.Contains(" "+strings.Join(names, " ")+" ", " "+want+" ") {
			t.Errorf("tools %v lack %s", names, want)
		}
	}

	hits := func(out map[string]any) (ns []string) {
		for _, h := range out["hits"].([]any) {
			ns = append(ns, h.(map[string]any)["name"].(string))
		}
		return ns
	}
	if out, e := call(ac, "search_catalog", map[string]any{"text": "beam runs"}); e != "" || len(hits(out)) != 2 {
		t.Errorf("alice's search: %v %q", out, e)
	}
	if out, e := call(bc, "search_catalog", map[string]any{"text": "beam runs"}); e != "" || strings.Join(hits(out), " ") != "open-runs" {
		t.Errorf("bob's search: %v %q", out, e)
	}
	if out, e := call(ac, "read_file", map[string]any{"ref": "secret-runs", "path": "log.txt"}); e != "" || out["content"] != "wombatquasar anomaly\n" || out["label"] != "PROPRIETARY//FUSION" {
		t.Errorf("alice reads: %v %q", out, e)
	}
	if out, e := call(bc, "read_file", map[string]any{"ref": "open-runs", "path": "log.txt"}); e != "" || out["content"] != "open run log\n" {
		t.Errorf("bob reads: %v %q", out, e)
	}
	for _, tool := range []string{"get_dataset", "lineage"} {
		_, hidden := call(bc, tool, map[string]any{"ref": "secret-runs"})
		_, missing := call(bc, tool, map[string]any{"ref": "no-such-runs"})
		if hidden != "not-exist: not found" || hidden != missing {
			t.Errorf("%s: hidden %q, missing %q", tool, hidden, missing)
		}
	}

	// The literature through the proxy: tools and resources.
	lits := func(cs *sdk.ClientSession) string {
		out, e := call(cs, "search_literature", map[string]any{"query": "beam tuning emittance"})
		if e != "" {
			t.Fatalf("search_literature: %q", e)
		}
		b, _ := json.Marshal(out)
		return string(b)
	}
	if got := lits(ac); !strings.Contains(got, "wombatquasar") || !strings.Contains(got, "Beam tuning reduces") {
		t.Errorf("alice's literature search: %s", got)
	}
	if got := lits(bc); strings.Contains(got, "wombatquasar") || !strings.Contains(got, "Beam tuning reduces") {
		t.Errorf("bob's literature search: %s", got)
	}
	if r, err := ac.ReadResource(ctx, &sdk.ReadResourceParams{URI: "genesis://publication/" + secretPub}); err != nil || !strings.Contains(r.Contents[0].Text, "wombatquasar") {
		t.Errorf("alice reads the report's resource: %v", err)
	}
	_, herr := bc.ReadResource(ctx, &sdk.ReadResourceParams{URI: "genesis://publication/" + secretPub})
	_, merr := bc.ReadResource(ctx, &sdk.ReadResourceParams{URI: "genesis://publication/pub_0000000000000000"})
	if herr == nil || merr == nil || strings.ReplaceAll(herr.Error(), secretPub, "X") != strings.ReplaceAll(merr.Error(), "pub_0000000000000000", "X") {
		t.Errorf("bob reads the report's resource: hidden %v, missing %v", herr, merr)
	}

	// Protocol abuse through the proxy: errors, and the proxy lives on.
	if _, err := bc.CallTool(ctx, &sdk.CallToolParams{Name: "no_such_tool", Arguments: map[string]any{}}); err == nil {
		t.Error("unknown tool: no error")
	}
	if _, e := call(bc, "get_dataset", map[string]any{"ref": 42}); !strings.Contains(e, "ref") {
		t.Errorf("malformed arguments: %q", e)
	}
	big := strings.Repeat("y", mcp.MaxRequestBody+10)
	if res, err := bc.CallTool(ctx, &sdk.CallToolParams{Name: "search_catalog", Arguments: map[string]any{"text": big}}); err == nil && !res.IsError {
		t.Error("an oversized call was answered")
	}
	if out, e := call(bc, "search_catalog", map[string]any{"text": "open"}); e != "" || len(hits(out)) != 1 {
		t.Errorf("after the abuse: %v %q\n%s", out, e, bstderr.String())
	}

	// A token the server refuses: the command says so and exits.
	cmd := exec.Command(genesisBinary(t), "mcp")
	cmd.Env = append(os.Environ(), "GENESIS_URL="+sys.URL, "GENESIS_TOKEN=gnt_wrong", "HOME="+t.TempDir())
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "refused the token") {
		t.Errorf("genesis mcp with a wrong token: %v %s", err, out)
	}
}
