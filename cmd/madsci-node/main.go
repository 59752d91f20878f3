// Command madsci-node serves a Genesis lab driver as a MADSci REST node:
// the same paths and fields as a node built with AD-SDL/MADSci's RestNode
// (docs/MADSCI.md), so a MADSci workcell — or Genesis's madsci driver —
// can run its actions.
//
//	madsci-node --kind demo --state-dir /var/lib/node --listen 127.0.0.1:2000
//	madsci-node --kind sim --settings '{"model":"flow-reactor","speed":100}' --state-dir /var/lib/reactor
//
// The node keeps a durable record of its actions in --state-dir: an
// action_id is started at most once, also across restarts; an action that
// was running when the node stopped, and that the driver no longer knows,
// is reported failed.
//
// --token makes every request carry "Authorization: Bearer TOKEN".
//
// Fault flags, for tests: --hang (accept actions, then never answer their
// status, nor the node's), --garbage (answer everything with invalid
// MADSci), --exit-after-start (exit right after answering a start).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/genesis-science/genesis/internal/lab"
	_ "github.com/genesis-science/genesis/internal/lab/sim"   // --kind sim: the digital twins
	_ "github.com/genesis-science/genesis/internal/lab/table" // --kind table: replay of a data table
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "madsci-node:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("madsci-node", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("kind", "demo", "driver kind to serve ("+fmt.Sprint(lab.Kinds())+")")
	settings := fs.String("settings", "", "the driver's settings, as JSON")
	endpoint := fs.String("endpoint", "", "the driver's endpoint, for kinds that reach a device")
	stateDir := fs.String("state-dir", "", "directory for the node's durable action record (required)")
	listen := fs.String("listen", "127.0.0.1:2000", "address to serve on")
	name := fs.String("name", "genesis_node", "the node's name")
	hang := fs.Bool("hang", false, "fault: accept actions, then never answer status or results")
	garbage := fs.Bool("garbage", false, "fault: answer every request with invalid MADSci")
	exitAfterStart := fs.Bool("exit-after-start", false, "fault: exit right after answering a start")
	token := fs.String("token", "", "require this bearer token on every request (stock MADSci nodes have none; for a node behind an authenticating proxy)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *stateDir == "" {
		return fmt.Errorf("--state-dir is required")
	}
	if err := os.MkdirAll(*stateDir, 0o700); err != nil {
		return err
	}
	cfg := lab.Config{Kind: *kind, Endpoint: *endpoint, StateDir: filepath.Join(*stateDir, "driver")}
	if *settings != "" {
		if !json.Valid([]byte(*settings)) {
			return fmt.Errorf("--settings is not valid JSON")
		}
		cfg.Settings = json.RawMessage(*settings)
	}
	drv, err := lab.Open(cfg)
	if err != nil {
		return err
	}
	defer drv.Close()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	n, err := newNode(*name, drv, *stateDir, log)
	if err != nil {
		return err
	}
	defer n.close()
	n.hang, n.garbage, n.exitAfterStart, n.token = *hang, *garbage, *exitAfterStart, *token
	if *kind == "demo" {
		log.Warn("serving the built-in demo device, not a real instrument")
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: n.routes(), ReadHeaderTimeout: 10 * time.Second}
	n.shutdown = func() { go func() { time.Sleep(100 * time.Millisecond); srv.Close() }() }
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		return nil
	case err := <-errc:
		if err == http.ErrServerClosed {
			return nil
		}
		return err
	}
}
