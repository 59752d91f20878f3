package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/genesis-science/genesis/internal/compute/iri"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/spf13/cobra"
)

func iriCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "iri", Short: "DOE IRI Facility API: expose this facility's Genesis compute resources to IRI clients"}
	var file, listen string
	serve := &cobra.Command{
		Use:   "serve --config FILE [--listen ADDR]",
		Short: "Serve local or Slurm resources through the IRI Facility API v2",
		Long: `Serve the DOE IRI Facility API v2 (under /api/v2) over this machine's
Genesis compute backends, so that IRI clients — a Genesis site of kind iri
among them — can run jobs on them.

The config file (YAML or JSON; unknown fields are refused) names: listen,
root (job records and default work directories), facility {id, name, …},
site {id, operating_organization, …}, resources [{id, name, description,
kind: local|slurm; for slurm: endpoint, partition, credentials_file holding
{"user", "token"}}], tokens_file (JSON {"TOKEN": "USER"}, mode 0600),
projects [{id, users, allocations}], capabilities, allowed_dirs (where jobs
may name their directories) and optionally base_url, tls_cert, tls_key.
Relative paths are relative to the config file.

Stop it with Ctrl-C or SIGTERM: in-flight requests finish first; jobs on
local resources stop with it, and Slurm jobs keep running.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return errors.E(errors.Invalid, errors.Msg("--config FILE is required"))
			}
			fc, err := iri.LoadProviderFile(file)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("listen") {
				fc.Listen = listen
			}
			return serveIRI(cmd.Context(), env, fc)
		},
	}
	serve.Flags().StringVar(&file, "config", "", "provider config file (.yaml or .json)")
	serve.Flags().StringVar(&listen, "listen", iri.DefaultListen, "listen address (overrides the file's listen)")
	c.AddCommand(serve)
	return c
}

// serveIRI runs the provider until ctx ends, then shuts down cleanly.
func serveIRI(ctx context.Context, env *Env, fc *iri.ProviderFile) error {
	level := slog.LevelInfo
	if v := env.Getenv("GENESIS_LOG_LEVEL"); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return errors.E(errors.Invalid, errors.Msg("GENESIS_LOG_LEVEL: want debug, info, warn or error"))
		}
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
	cfg, closeBackends, err := fc.Open()
	if err != nil {
		return err
	}
	defer closeBackends()
	cfg.Logger = logger
	p, err := iri.NewProvider(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", fc.Listen)
	if err != nil {
		return errors.E(errors.Invalid, errors.Field("listen"), errors.Msg("cannot listen on "+fc.Listen+": "+err.Error()))
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	scheme := "http"
	if fc.TLSCert != "" {
		scheme = "https"
	}
	base := scheme + "://" + ln.Addr().String()
	if fc.BaseURL != "" {
		base = strings.TrimRight(fc.BaseURL, "/")
	}
	ids := make([]string, len(cfg.Resources))
	for i, r := range cfg.Resources {
		ids[i] = r.ID
	}
	fmt.Fprintf(env.Stdout, "iri provider serving %s/api/v2 (resources: %s)\n", base, strings.Join(ids, ", "))
	if scheme == "http" && !isLoopback(ln.Addr()) {
		logger.Warn("serving plain HTTP on a non-loopback address: bearer tokens cross the network in the clear; set tls_cert and tls_key")
	}
	done := make(chan error, 1)
	go func() {
		if fc.TLSCert != "" {
			done <- srv.ServeTLS(ln, fc.TLSCert, fc.TLSKey)
		} else {
			done <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-done:
		return errors.E(errors.Internal, errors.Msg("iri provider stopped: "+err.Error()))
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	fmt.Fprintln(env.Stdout, "iri provider stopped")
	return nil
}

func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
