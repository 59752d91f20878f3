package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/blob/pack"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/client"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/postgres"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// BenchmarkCapacity measures the per-object costs that docs/DESIGN.md's
// capacity model multiplies out: a real `genesis up` on PostgreSQL, driven
// through the API as a user would (create a dataset, put a tree of small
// files through the chunk protocol, read it back, search), then the
// database's own accounting of what that added. Reported:
//
//   - rows/asset, bytes/asset: rows and on-disk bytes (tables, indexes,
//     TOAST) that one dataset with one version of GENESIS_BENCH_FILES files
//     added, over every table;
//   - bytes/chunk-row: asset_chunks' bytes per row (the table that grows
//     with the data: one row per distinct chunk per asset);
//   - search-rows/asset: rows the search index added per asset;
//   - audit/create, audit/put, audit/read, audit/search: audit records per
//     user operation (a put is the chunk checks, the chunk uploads and the
//     commit);
//   - audit-B/record: bytes per audit entry in PostgreSQL (entries, hash
//     tiles, head), with the log shared in the store (audit.backend store)
//     as replicas run it.
//
// GENESIS_BENCH_ASSETS (default 200) datasets are made, each with
// GENESIS_BENCH_FILES (default 8) files of 16 KiB; per-table figures are
// logged with -v:
//
//	GENESIS_TEST_POSTGRES=postgres://… go test ./e2e -run XXX -bench Capacity -benchtime 1x -v
func BenchmarkCapacity(b *testing.B) {
	assets := envInt("GENESIS_BENCH_ASSETS", 200)
	files := envInt("GENESIS_BENCH_FILES", 8)
	dsn := storetest.PostgresDSN(b)
	b.Setenv("GENESIS_STORE_DSN", dsn)
	dir := b.TempDir()
	bin := buildBench(b, dir)
	// As in production: the audit log is the one shared in the store.
	keys := filepath.Join(dir, "keys")
	if out, err := exec.Command(bin, "audit", "keygen", "--out", keys).CombinedOutput(); err != nil {
		b.Fatalf("audit keygen: %v\n%s", err, out)
	}
	for env, file := range map[string]string{"GENESIS_AUDIT_SIGNING_KEY": "audit.key", "GENESIS_AUDIT_LABEL_KEY": "audit-label.key"} {
		k, err := os.ReadFile(filepath.Join(keys, file))
		if err != nil {
			b.Fatal(err)
		}
		b.Setenv(env, strings.TrimSpace(string(k)))
	}
	b.Setenv("GENESIS_AUDIT_BACKEND", "store")
	dataDir := filepath.Join(dir, "data")
	srv := startBenchServer(b, bin, dataDir, "--no-demo")
	ctx := context.Background()
	c := client.New(srv.url, srv.token)
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()

	auditSize := func() int64 {
		var cp httpapi.AuditCheckpoint
		if err := c.Do(ctx, http.MethodGet, "/api/v1/audit/checkpoint", nil, &cp); err != nil {
			b.Fatal(err)
		}
		return int64(cp.Size)
	}
	// The checkpoint trails appends by its interval: wait until it stops
	// moving, so that each phase counts only its own records.
	settled := func() int64 {
		prev := auditSize()
		for {
			time.Sleep(time.Second) // past the checkpoint interval (≤ 500 ms)
			n := auditSize()
			if n == prev {
				return n
			}
			prev = n
		}
	}

	tree := filepath.Join(dir, "tree")
	if err := os.MkdirAll(tree, 0o755); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	refill := func() {
		for f := 0; f < files; f++ {
			buf := make([]byte, 16<<10)
			for i := range buf {
				buf[i] = byte(rng.Uint32())
			}
			if err := os.WriteFile(filepath.Join(tree, fmt.Sprintf("f%03d.bin", f)), buf, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}

	before := tableStats(b, db)
	a0 := settled()
	names := make([]string, assets)
	for i := range names {
		names[i] = fmt.Sprintf("capacity-%05d", i)
		req := httpapi.CreateDatasetRequest{Name: names[i], Title: "capacity sample " + names[i], Description: "measured by BenchmarkCapacity", Label: "OPEN"}
		var a catalog.Asset
		if err := c.Do(ctx, http.MethodPost, "/api/v1/datasets", req, &a); err != nil {
			b.Fatal(err)
		}
	}
	a1 := settled()
	var chunks int
	for _, name := range names {
		refill()
		res, err := pack.Pack(ctx, c.Asset(name), []pack.Source{{Path: tree}}, pack.Options{})
		if err != nil {
			b.Fatal(err)
		}
		chunks += res.Chunks
		parent := int64(0)
		var v catalog.Version
		if err := c.Do(ctx, http.MethodPost, "/api/v1/assets/"+url.PathEscape(name)+"/versions",
			httpapi.CommitRequest{Manifest: res.ID.String(), Message: "capacity", Parent: &parent}, &v); err != nil {
			b.Fatal(err)
		}
	}
	a2 := settled()
	for _, name := range names {
		if _, _, err := c.Get(ctx, "/api/v1/assets/"+url.PathEscape(name)+"/versions/1/manifest"); err != nil {
			b.Fatal(err)
		}
	}
	a3 := settled()
	for i := range names {
		if _, _, err := c.Get(ctx, "/api/v1/search?q="+url.QueryEscape(fmt.Sprintf("capacity-%05d", i))); err != nil {
			b.Fatal(err)
		}
	}
	a4 := settled()
	after := tableStats(b, db)

	var rows, bytes int64
	var lines []string
	for t, s := range after {
		d := s.sub(before[t])
		rows += d.rows
		bytes += d.bytes
		if d.rows != 0 || d.bytes != 0 {
			lines = append(lines, fmt.Sprintf("%-32s %+8d rows %+10d bytes", t, d.rows, d.bytes))
		}
	}
	sort.Strings(lines)
	b.Logf("per table, for %d datasets of %d files (%d chunks):\n%s", assets, files, chunks, strings.Join(lines, "\n"))
	n := float64(assets)
	b.ReportMetric(float64(rows)/n, "rows/asset")
	b.ReportMetric(float64(bytes)/n, "bytes/asset")
	if ac := after["asset_chunks"].sub(before["asset_chunks"]); ac.rows > 0 {
		b.ReportMetric(float64(ac.bytes)/float64(ac.rows), "bytes/chunk-row")
	}
	var search int64
	for t, s := range after {
		if strings.HasPrefix(t, "search") {
			search += s.sub(before[t]).rows
		}
	}
	b.ReportMetric(float64(search)/n, "search-rows/asset")
	b.ReportMetric(float64(a1-a0)/n, "audit/create")
	b.ReportMetric(float64(a2-a1)/n, "audit/put")
	b.ReportMetric(float64(a3-a2)/n, "audit/read")
	b.ReportMetric(float64(a4-a3)/n, "audit/search")
	var audit tableStat
	for _, t := range []string{"audit_entries", "audit_tiles", "audit_head"} {
		d := after[t].sub(before[t])
		audit.bytes += d.bytes
	}
	if n := after["audit_entries"].sub(before["audit_entries"]).rows; n > 0 {
		b.ReportMetric(float64(audit.bytes)/float64(n), "audit-B/record")
	}
}

type tableStat struct{ rows, bytes int64 }

func (s tableStat) sub(o tableStat) tableStat { return tableStat{s.rows - o.rows, s.bytes - o.bytes} }

// tableStats counts every table's rows exactly and its on-disk bytes
// (pg_total_relation_size: heap, indexes and TOAST).
func tableStats(b *testing.B, db store.DB) map[string]tableStat {
	ctx := context.Background()
	out := map[string]tableStat{}
	if err := db.View(ctx, func(tx store.Tx) error {
		rs, err := tx.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`)
		if err != nil {
			return err
		}
		var names []string
		for rs.Next() {
			var n string
			if err := rs.Scan(&n); err != nil {
				rs.Close()
				return err
			}
			names = append(names, n)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return err
		}
		for _, n := range names {
			var s tableStat
			if err := tx.QueryRow(ctx, `SELECT count(*), pg_total_relation_size('`+n+`') FROM `+n).Scan(&s.rows, &s.bytes); err != nil {
				return err
			}
			out[n] = s
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return out
}
