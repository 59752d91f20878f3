package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestUnknownSubcommand runs, for every command that groups others, the
// group with a word that names none of its commands, and with each of its
// commands misspelled (a letter dropped or doubled): each is a usage error
// (status 2) naming the word and the group, and a misspelling suggests the
// command meant.
func TestUnknownSubcommand(t *testing.T) {
	getenv := func(string) string { return "" }
	run := func(args ...string) (int, string, string) {
		var out, errb strings.Builder
		code := Run(context.Background(), args, getenv, strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	groups := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.HasSubCommands() {
			return
		}
		groups++
		path := strings.Fields(c.CommandPath())[1:]
		code, stdout, stderr := run(append(path, "zzqx")...)
		want := `genesis: unknown command "zzqx" for "` + c.CommandPath() + `"`
		if code != 2 || stdout != "" || !strings.HasPrefix(stderr, want) {
			t.Errorf("%s zzqx: status %d, stdout %q, stderr %q; want 2 and %q", c.CommandPath(), code, stdout, stderr, want)
		}
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() || len(sub.Name()) < 3 {
				continue
			}
			name := sub.Name()
			for _, typo := range []string{name[:len(name)-1] + name[len(name)-1:] + name[len(name)-1:], name[:1] + name[2:]} {
				if hasSub(c, typo) {
					continue
				}
				code, _, stderr := run(append(path, typo)...)
				if code != 2 || !strings.Contains(stderr, `"`+name+`"`) {
					t.Errorf("%s %s: status %d, stderr %q; want 2 and a suggestion of %q", c.CommandPath(), typo, code, stderr, name)
				}
			}
		}
		// Without an argument a group prints its help and succeeds.
		if code, stdout, _ := run(path...); code != 0 || !strings.Contains(stdout, "Usage:") {
			t.Errorf("%s: status %d, stdout %q; want its help", c.CommandPath(), code, stdout)
		}
	}
	walk(newRoot(&Env{Getenv: getenv}))
	if groups < 5 {
		t.Fatalf("only %d command groups", groups)
	}
}

func hasSub(c *cobra.Command, name string) bool {
	for _, s := range c.Commands() {
		if s.Name() == name || s.HasAlias(name) {
			return true
		}
	}
	return false
}
