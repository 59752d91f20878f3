// Package cli is the genesis command line: every subcommand, built on cobra.
// Run is the whole program behind main, with its environment passed in, so
// tests drive it in-process.
package cli

import (
	"context"
	"encoding/json"
	stderrors "errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/genesis-science/genesis/internal/client"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/spf13/cobra"
)

// Env is the world a command runs in.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Run runs the genesis command with args (without the program name) and
// returns the exit code. Errors print as one line on stderr.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &Env{Getenv: getenv, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	root := newRoot(env)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if cmd, err := root.ExecuteContextC(ctx); err != nil {
		var ue *usageError
		if stderrors.As(err, &ue) {
			fmt.Fprintln(stderr, "genesis: "+ue.msg)
			return 2
		}
		if ctx.Err() != nil && (errors.Is(errors.Canceled, err) || stderrors.Is(err, context.Canceled)) {
			// Stopped by a signal (Ctrl-C): the chain of "canceled"s
			// from every layer says nothing more.
			fmt.Fprintln(stderr, "genesis: interrupted")
			return 130
		}
		msg := Message(err)
		// The server answers a bare "not found" alike for what is missing
		// and what the caller may not read; the caller's own words say
		// which thing it was.
		if msg == "not found" && cmd != nil {
			if refs := references(cmd); len(refs) > 0 {
				msg = strings.Join(refs, " ") + ": not found"
			}
		}
		fmt.Fprintln(stderr, "genesis: "+msg)
		return 1
	}
	return 0
}

// refsAnnotation on a command is how many of its leading arguments name
// things on the server; the rest are local files. Without it, all do.
const refsAnnotation = "genesis/refs"

// references are the arguments of cmd's run that name things on the
// server.
func references(cmd *cobra.Command) []string {
	args := cmd.Flags().Args()
	if n, err := strconv.Atoi(cmd.Annotations[refsAnnotation]); err == nil && n < len(args) {
		args = args[:n]
	}
	return args
}

// Message renders err as one user-facing line.
func Message(err error) string {
	msg := errors.SafeMessage(err)
	if msg == "" {
		msg = err.Error()
	}
	if f := errors.FieldOf(err); f != "" && !strings.Contains(msg, f) {
		msg += " (field " + f + ")"
	}
	return strings.ReplaceAll(strings.TrimSpace(msg), "\n", " ")
}

func newRoot(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "genesis",
		Short: "Genesis: federated data, compute, models and autonomous labs under one security model",
		Long: `Genesis unifies federated scientific data, compute, models, AI agents and
robotic labs under one security model: every artifact carries a
classification label that follows it through lineage, and every action lands
in a tamper-evident audit log.

Start a local system with 'genesis up'; point the CLI at a server with
GENESIS_URL and GENESIS_TOKEN or 'genesis login'.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(
		upCmd(env), serveCmd(env), versionCmd(env),
		loginCmd(env), whoamiCmd(env),
		adminCmd(env), projectCmd(env), tokenCmd(env),
		siteCmd(env), inventoryCmd(env), jobCmd(env), allocationCmd(env),
		datasetCmd(env), modelCmd(env), catalogCmd(env), searchCmd(env), lineageCmd(env), declassifyCmd(env), fsckCmd(env), gcCmd(env), agreementCmd(env), auditCmd(env), benchCmd(env),
		iriCmd(env),
	)
	root.AddCommand(extraCommands(env)...)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{msg: err.Error() + " (see '" + cmd.CommandPath() + " --help')"}
	})
	strictGroups(root)
	return root
}

// suggest returns the subcommands of cmd nearest to typed: those it
// begins, and those at the least edit distance from it, if that is small
// for its length (1 for up to four letters, else 2).
func suggest(cmd *cobra.Command, typed string) []string {
	limit := 1
	if len(typed) > 4 {
		limit = 2
	}
	best := limit
	var near, prefix []string
	for _, sub := range cmd.Commands() {
		if !sub.IsAvailableCommand() {
			continue
		}
		if len(typed) > 1 && strings.HasPrefix(sub.Name(), typed) {
			prefix = append(prefix, sub.Name())
			continue
		}
		d := editDistance(typed, sub.Name())
		for _, a := range sub.Aliases {
			d = min(d, editDistance(typed, a))
		}
		switch {
		case d > limit:
		case d < best:
			best, near = d, []string{sub.Name()}
		case d == best:
			near = append(near, sub.Name())
		}
	}
	return append(near, prefix...)
}

// editDistance is the Levenshtein distance between a and b (in bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// usageError is a command line that names no command or a bad flag: it
// exits with status 2, as a usage error does.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// strictGroups makes every command that only groups subcommands refuse an
// argument that names none of them (cobra checks this only at the root and
// otherwise prints the group's help and succeeds), suggesting the nearest
// names. Without arguments a group prints its help.
func strictGroups(c *cobra.Command) {
	if c.HasSubCommands() && !c.Runnable() {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
			if s := suggest(cmd, args[0]); len(s) > 0 {
				for i := range s {
					s[i] = strconv.Quote(s[i])
				}
				msg += "; did you mean " + strings.Join(s, " or ") + "?"
			} else {
				msg += "; see '" + cmd.CommandPath() + " --help'"
			}
			return &usageError{msg: msg}
		}
		c.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
	}
	for _, sub := range c.Commands() {
		strictGroups(sub)
	}
}

// extraCommands is where later parts add their top-level commands.
var extraCommands = func(env *Env) []*cobra.Command { return nil }

// credentials are what `genesis login` stores.
type credentials struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

func (env *Env) configDir() string {
	if d := env.Getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "genesis")
	}
	if h := env.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "genesis")
	}
	return ""
}

func (env *Env) credentialsPath() string {
	d := env.configDir()
	if d == "" {
		return ""
	}
	return filepath.Join(d, "credentials.json")
}

// client returns an API client from GENESIS_URL/GENESIS_TOKEN, falling back
// to the stored login.
func (env *Env) client() (*client.Client, error) {
	url, token := env.Getenv("GENESIS_URL"), env.Getenv("GENESIS_TOKEN")
	from := "GENESIS_TOKEN"
	if url == "" || token == "" {
		if p := env.credentialsPath(); p != "" {
			if b, err := os.ReadFile(p); err == nil {
				var c credentials
				if json.Unmarshal(b, &c) == nil {
					if url == "" {
						url = c.URL
					}
					if token == "" {
						token, from = c.Token, p+" (genesis login)"
					}
				}
			}
		}
	}
	if url == "" {
		return nil, errors.E(errors.Invalid, errors.Msg("no server: set GENESIS_URL or run `genesis login URL`"))
	}
	c := client.New(url, token)
	c.TokenFrom = from
	return c, nil
}

// output renders v as JSON (with --json) or through the table function.
func (env *Env) output(asJSON bool, v any, table func(w *tabwriter.Writer)) error {
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}
