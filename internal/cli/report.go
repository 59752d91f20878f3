package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/mission/report"
	"github.com/spf13/cobra"
)

func init() {
	prev := extraCommands
	extraCommands = func(env *Env) []*cobra.Command { return append(prev(env), reportCmd(env)) }
}

func reportCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "report", Short: "Mission reports, computed as you may read the platform"}
	var out, year string
	annual := &cobra.Command{
		Use:   "annual [--year YYYY] --out report.html|report.pdf",
		Short: "Write the annual progress report (HTML or PDF, by the file's extension) under its classification banner",
		Long: `Writes the annual progress report: challenges and their progress, milestones,
data and compute growth, campaigns run, experiments performed, models
registered, publications and partners. It counts only what you may read;
every number's note names the API path and CLI command that list the
records it counts; the banner is the join of the labels of everything it
shows. The file is written whole or not at all.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &usageError{msg: fmt.Sprintf("unknown command %q for %q: the report is chosen by --year and --out", args[0], cmd.CommandPath())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return &usageError{msg: "give the output file with --out report.html or --out report.pdf"}
			}
			format, err := report.FormatOf(out)
			if err != nil {
				return &usageError{msg: errors.SafeMessage(err)}
			}
			y := 0
			if year != "" {
				if y, err = report.ParseYear(year, time.Now()); err != nil {
					return &usageError{msg: "--year: " + errors.SafeMessage(err)}
				}
			}
			cl, err := env.client()
			if err != nil {
				return err
			}
			b, err := cl.AnnualReport(cmd.Context(), y, format)
			if err != nil {
				return err
			}
			if err := writeFileAtomic(out, b); err != nil {
				return errors.E(errors.Invalid, errors.Msg("cannot write "+out+": "+err.Error()))
			}
			fmt.Fprintf(env.Stderr, "wrote %s (%s, %s)\n", out, format, sizeOf(int64(len(b))))
			return nil
		},
	}
	annual.Flags().StringVarP(&out, "out", "o", "", "the file to write: .html or .pdf")
	annual.Flags().StringVar(&year, "year", "", "the calendar year (default: this year)")
	c.AddCommand(annual)
	return c
}

// writeFileAtomic writes b to path through a temporary file in the same
// directory, synced and renamed: readers see the old file or the whole
// new one, never a part.
func writeFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return nil
}
