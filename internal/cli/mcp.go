package cli

import (
	"io"
	"log/slog"

	"github.com/genesis-science/genesis/internal/app"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/mcp"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"
)

func init() {
	prev := extraCommands
	extraCommands = func(env *Env) []*cobra.Command { return append(prev(env), mcpCmd(env)) }
}

func mcpCmd(env *Env) *cobra.Command {
	var verbose bool
	c := &cobra.Command{
		Use:   "mcp",
		Short: "Serve the Model Context Protocol on stdin/stdout for a local assistant, as your principal",
		Long: `Serve the Model Context Protocol (MCP) on stdin and stdout, for an assistant
that starts MCP servers as local commands (Claude Desktop, IDE agents, …).

Every tool call is forwarded to the server's /mcp endpoint with your token
(GENESIS_URL and GENESIS_TOKEN, or 'genesis login'), so the assistant sees
and does exactly what you may, decided and audited by the server. Tools:
search_catalog, get_dataset, read_file, lineage, campaign_status, and, when
the server has them, the literature and agent tools. Logs go to stderr.

Example assistant configuration:
  {"mcpServers": {"genesis": {"command": "genesis", "args": ["mcp"],
    "env": {"GENESIS_URL": "https://genesis.example.org", "GENESIS_TOKEN": "gnt_…"}}}}`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := env.client()
			if err != nil {
				return err
			}
			if cl.Token == "" {
				return errors.E(errors.Unauthenticated, errors.Msg("no token: set GENESIS_TOKEN or run `genesis login`"))
			}
			level := slog.LevelWarn
			if verbose {
				level = slog.LevelDebug
			}
			log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
			t := &sdk.IOTransport{Reader: io.NopCloser(env.Stdin), Writer: nopWriteCloser{env.Stdout}, MaxLineLength: mcp.MaxStdioMessage}
			return mcp.Proxy(cmd.Context(), t, mcp.ProxyConfig{Endpoint: cl.BaseURL + "/mcp", Token: cl.Token, Logger: log, Version: app.Version})
		},
	}
	c.Flags().BoolVarP(&verbose, "verbose", "v", false, "log every request on stderr")
	return c
}

// nopWriteCloser is a writer whose Close does nothing (stdout stays open
// for the rest of the program).
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
