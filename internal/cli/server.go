package cli

import (
	"github.com/genesis-science/genesis/internal/app"
	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/spf13/cobra"
)

func upCmd(env *Env) *cobra.Command {
	var dataDir, addr, logLevel string
	var noDemo bool
	c := &cobra.Command{
		Use:   "up",
		Short: "Run Genesis on this machine with embedded defaults (SQLite, local blobs, local audit log)",
		Long: `Run the whole system on this machine with embedded defaults: a SQLite
metadata store, a local blob directory and a local audit log, all under
--data-dir. On first start it creates an administrator and writes its API
token to DATA_DIR/admin.token (mode 0600). The server log (every request)
goes to DATA_DIR/genesis.log; the terminal shows warnings and errors, or
every message at --log-level when it is given. Stop it with Ctrl-C or SIGTERM:
in-flight requests finish first. Not for production: see 'genesis serve'.

On first start it also sets up a demo lab: workcell demo-cell with two
simulated flow reactors (reactor-1, reactor-2) and a campaign, demo, that
maximises their yield (watch it: genesis campaign watch demo). --no-demo
leaves it out.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("data-dir") {
				if v := env.Getenv("GENESIS_DATA_DIR"); v != "" {
					dataDir = v
				}
			}
			cfg := config.Default(dataDir)
			cfg.Log.Level = "" // the terminal shows warnings; the log file, everything
			cfg.ApplyEnv(env.Getenv)
			if cmd.Flags().Changed("addr") {
				cfg.Listen.Addr = addr
			}
			if cmd.Flags().Changed("log-level") {
				cfg.Log.Level = logLevel
			}
			cfg.NoDemo = noDemo
			if err := cfg.Validate(); err != nil {
				return err
			}
			return app.Up(cmd.Context(), cfg, env.Stdout, env.Stderr)
		},
	}
	c.Flags().StringVar(&dataDir, "data-dir", "./genesis-data", "where the embedded stores live (env GENESIS_DATA_DIR)")
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "listen address (env GENESIS_ADDR)")
	c.Flags().StringVar(&logLevel, "log-level", "", "also show the log on the terminal from this level: debug, info, warn or error (env GENESIS_LOG_LEVEL)")
	c.Flags().BoolVar(&noDemo, "no-demo", false, "do not set up the demo lab (workcell demo-cell, campaign demo) on first start")
	return c
}

func serveCmd(env *Env) *cobra.Command {
	var file string
	c := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Run a production server from a YAML or TOML config file",
		Long: `Run a server from a config file (YAML or TOML) naming the metadata store
(store.dsn: sqlite:PATH or postgres://…), the blob store (blob.url), the
listen address and TLS key pair (listen.addr, listen.tls_cert,
listen.tls_key), optional OIDC (oidc.issuer, oidc.audience) and data_dir.
The config is validated before anything starts; errors name the field.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return errors.E(errors.Invalid, errors.Msg("--config FILE is required"))
			}
			cfg, err := config.Load(file)
			if err != nil {
				return err
			}
			cfg.ApplyEnv(env.Getenv)
			if err := cfg.Validate(); err != nil {
				return err
			}
			return app.Serve(cmd.Context(), cfg, env.Stdout, env.Stderr)
		},
	}
	c.Flags().StringVar(&file, "config", "", "config file (.yaml, .yml or .toml)")
	return c
}

func versionCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := cmd.OutOrStdout().Write([]byte("genesis " + app.Version + "\n"))
			return err
		},
	}
}
