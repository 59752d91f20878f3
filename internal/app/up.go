package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/console"
	"github.com/genesis-science/genesis/internal/errors"
)

// AdminTokenFile is where `genesis up` writes the first administrator's
// token, mode 0600.
const AdminTokenFile = "admin.token"

// LogFile is where `genesis up` writes the server log, in the data dir.
const LogFile = "genesis.log"

// Up runs the main job on embedded defaults: it opens the system in the
// data dir, creates the first administrator on first start, listens, prints
// where, and serves until ctx ends.
//
// The terminal is for the person who started it: the server log (every
// request at info) goes to DATA_DIR/LogFile, and the terminal shows
// warnings and errors only — unless cfg.Log.Level is set, when the
// terminal shows that level too.
func Up(ctx context.Context, cfg config.Config, stdout, logw io.Writer) error {
	const op errors.Op = "app.Up"
	if err := os.MkdirAll(cfg.DataDir, 0o711); err != nil { // as Open makes it
		return errors.E(op, errors.Invalid, errors.Msg("cannot create the data dir "+cfg.DataDir+": "+err.Error()))
	}
	logPath := filepath.Join(cfg.DataDir, LogFile)
	lf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return errors.E(op, errors.Invalid, errors.Msg("cannot open the log file "+logPath+": "+err.Error()))
	}
	defer lf.Close()
	term := cfg.Log
	if term.Level == "" {
		term.Level = "warn"
	}
	file := cfg.Log
	if file.Level == "" {
		file.Level = "info"
	}
	log := slog.New(slog.NewMultiHandler(NewLogger(logw, term).Handler(), NewLogger(lf, file).Handler()))
	a, err := Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()

	tokenPath := filepath.Join(cfg.DataDir, AdminTokenFile)
	secret, err := a.Identity.Bootstrap(ctx, "admin")
	if err != nil {
		return err
	}
	if secret != "" {
		if err := WriteSecretFile(tokenPath, []byte(secret+"\n")); err != nil {
			return errors.E(op, errors.Internal, errors.Msg("cannot write the admin token file"), err)
		}
	}

	// The embedded default computes here: one local site, this machine.
	if _, err := a.Sites.EnsureLocal(ctx, "OPEN", localCapacity(cfg.DataDir)); err != nil {
		return err
	}
	// And runs experiments here: a demo workcell of simulated instruments
	// with a campaign on them, set up on first start.
	demo := false
	if !cfg.NoDemo {
		if _, err := a.setUpDemo(ctx, "admin"); err != nil {
			log.Warn("the demo lab could not be set up", "err", err)
		} else {
			demo = true
		}
	}

	ln, err := net.Listen("tcp", cfg.Listen.Addr)
	if err != nil {
		return errors.E(op, errors.Invalid, errors.Field("listen.addr"), errors.Msg("cannot listen on "+cfg.Listen.Addr+": "+err.Error()))
	}
	scheme := "http"
	if cfg.Listen.TLSCert != "" {
		scheme = "https"
	}
	base := fmt.Sprintf("%s://%s", scheme, ln.Addr())
	abs, _ := filepath.Abs(cfg.DataDir)
	fmt.Fprintf(stdout, "Genesis %s is up.\n", Version)
	fmt.Fprintf(stdout, "  URL:          %s  (for the CLI: GENESIS_URL=%s)\n", base, base)
	fmt.Fprintf(stdout, "  API:          %s/api/v1  (OpenAPI document at %s/api/v1/openapi.json)\n", base, base)
	fmt.Fprintf(stdout, "  health:       %s/healthz\n", base)
	fmt.Fprintf(stdout, "  console:      %s/\n", base)
	if link, err := a.signinLink(ctx, base); err != nil {
		log.Warn("no one-time console sign-in link", "err", err)
	} else {
		fmt.Fprintf(stdout, "  sign in:      %s  (once, within %d minutes; then sign in with a token)\n", link, int(console.OnceTTL/time.Minute))
	}
	fmt.Fprintf(stdout, "  data dir:     %s\n", abs)
	fmt.Fprintf(stdout, "  log:          %s  (requests and start-up; warnings also here)\n", filepath.Join(abs, LogFile))
	if sock := filepath.Join(abs, "api.sock"); len(sock) < maxSocketPath {
		fmt.Fprintf(stdout, "  local socket: %s  (dataset put from this machine, as this user, is packed by the server)\n", sock)
	}
	fmt.Fprintf(stdout, "  compute:      site \"local\" (this machine, accredited for OPEN data)\n")
	if demo {
		fmt.Fprintf(stdout, "  lab:          workcell %q: simulated flow reactors %s (accredited for OPEN)\n", DemoWorkcell, strings.Join(demoReactors, ", "))
		fmt.Fprintf(stdout, "  campaign:     %q maximises their yield  (genesis campaign watch %s)\n", DemoCampaign, DemoCampaign)
		fmt.Fprintf(stdout, "  challenges:   demo national challenges across the priority domains  (genesis challenge list)\n")
	}
	if _, err := os.Stat(tokenPath); err == nil {
		fmt.Fprintf(stdout, "  admin token:  %s  (export GENESIS_URL=%s GENESIS_TOKEN=$(cat %s))\n", tokenPath, base, tokenPath)
	}
	fmt.Fprintf(stdout, "WARNING: embedded defaults (SQLite metadata store, local blob directory, local audit log, no TLS) are for trying Genesis on one machine, not for production; use `genesis serve --config FILE`.\n")
	fmt.Fprintf(stdout, "Listening on %s — press Ctrl-C to stop.\n", ln.Addr())
	if f, ok := stdout.(interface{ Sync() error }); ok {
		f.Sync()
	}
	err = a.Serve(ctx, ln, 30*time.Second)
	if err == nil {
		fmt.Fprintln(stdout, "Genesis stopped cleanly.")
	}
	return err
}

// signinLink makes a one-time console sign-in link for the first
// administrator ("admin"): the code is valid once and for
// console.OnceTTL, and the store keeps only its hash.
func (a *App) signinLink(ctx context.Context, base string) (string, error) {
	admin := &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}
	p, err := a.Identity.Principal(ctx, admin, "admin")
	if err != nil {
		return "", err
	}
	code, err := a.Console.Sessions().CreateOnce(ctx, p.ID)
	if err != nil {
		return "", err
	}
	return base + "/signin/once?code=" + code, nil
}

// Serve runs a production server from a config file.
func Serve(ctx context.Context, cfg config.Config, stdout, logw io.Writer) error {
	log := NewLogger(logw, cfg.Log)
	a, err := Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", cfg.Listen.Addr)
	if err != nil {
		return errors.E(errors.Op("app.Serve"), errors.Invalid, errors.Field("listen.addr"), errors.Msg("cannot listen on "+cfg.Listen.Addr+": "+err.Error()))
	}
	scheme := "http"
	if cfg.Listen.TLSCert != "" {
		scheme = "https"
	}
	log.Info("serving", "url", fmt.Sprintf("%s://%s/api/v1", scheme, ln.Addr()), "store", storeKind(cfg), "version", Version)
	fmt.Fprintf(stdout, "Genesis %s serving on %s://%s/api/v1\n", Version, scheme, ln.Addr())
	return a.Serve(ctx, ln, 30*time.Second)
}

func storeKind(cfg config.Config) string {
	k, _, _ := config.StoreDSN(cfg.Store.DSN)
	return k
}

// localCapacity describes this machine for the local site.
func localCapacity(dataDir string) sites.Capacity {
	c := sites.Capacity{Nodes: 1, CoresPerNode: runtime.NumCPU(), MemoryGBNode: 1}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
					c.MemoryGBNode = kb / (1 << 20)
				}
			}
		}
	}
	var st syscall.Statfs_t
	if syscall.Statfs(dataDir, &st) == nil {
		c.ScratchTB = float64(st.Bavail) * float64(st.Bsize) / 1e12
	}
	return c
}
