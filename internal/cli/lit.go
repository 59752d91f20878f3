package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/lit/formats"
	"github.com/genesis-science/genesis/internal/lit/library"
	"github.com/spf13/cobra"
)

func init() {
	prev := extraCommands
	extraCommands = func(env *Env) []*cobra.Command { return append(prev(env), litCmd(env)) }
}

func litCmd(env *Env) *cobra.Command {
	c := &cobra.Command{
		Use:   "lit",
		Short: "The literature: import publications, search their passages, list extracted facts",
	}
	c.AddCommand(litImportCmd(env), litSearchCmd(env), litFactsCmd(env), litShowCmd(env), litPassageCmd(env))
	return c
}

// litImportSummary is what `lit import --json` prints.
type litImportSummary struct {
	Files []litFileResult `json:"files"`
	Total map[string]int  `json:"total"`
}

type litFileResult struct {
	File         string             `json:"file"`
	Error        string             `json:"error,omitempty"`
	Publications []library.Imported `json:"publications,omitempty"`
}

func litImportCmd(env *Env) *cobra.Command {
	var lbl, project, format string
	var asJSON bool
	c := &cobra.Command{
		Use:   "import PATH...",
		Short: "Import publications from files, directories or archives (.zip, .tar, .tar.gz): JATS, arXiv, OAI-PMH, Crossref, DataCite, BibTeX, RIS, Markdown, text, PDF",
		Long: `Import publications. Each PATH is a file, a directory (walked in order) or an
archive; files of no known format are skipped. Each file is sent to the server,
which parses it fully, then stores each document in one transaction:
created, updated (a new version when the document changed) or unchanged.
Re-importing the same files changes nothing.`,
		Args:        cobra.MinimumNArgs(1),
		Annotations: map[string]string{refsAnnotation: "0"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if lbl == "" {
				return &usageError{msg: "give the publications' label with --label, e.g. --label OPEN"}
			}
			c, err := env.client()
			if err != nil {
				return err
			}
			sum := litImportSummary{Files: []litFileResult{}, Total: map[string]int{}}
			failed := 0
			for _, path := range args {
				err := formats.Walk(cmd.Context(), path, func(name string, r io.Reader) error {
					b, err := io.ReadAll(io.LimitReader(r, library.MaxImportBytes+1))
					fr := litFileResult{File: name}
					if err == nil && len(b) > library.MaxImportBytes {
						err = errors.E(errors.TooLarge, errors.Msg("larger than 64 MiB"))
					}
					var res *library.ImportResult
					if err == nil {
						res, err = c.LitImport(cmd.Context(), name, lit.Format(format), lbl, project, b)
					}
					if err != nil {
						if errors.Is(errors.Canceled, err) || errors.Is(errors.Unauthenticated, err) || errors.Is(errors.Permission, err) {
							return err
						}
						failed++
						fr.Error = Message(err)
						sum.Total["failed files"]++
						if !asJSON {
							fmt.Fprintf(env.Stderr, "%s: %s\n", name, fr.Error)
						}
					} else {
						fr.Publications = res.Publications
						per := map[string]int{}
						for _, p := range res.Publications {
							per[p.Status]++
							sum.Total[p.Status]++
							if p.Status == library.StatusRejected && !asJSON {
								fmt.Fprintf(env.Stderr, "%s: %q rejected: %s\n", name, oneLine(p.Title, 60), p.Error)
							}
						}
						if !asJSON {
							fmt.Fprintf(env.Stdout, "%s: %s\n", name, statusLine(per))
						}
					}
					sum.Files = append(sum.Files, fr)
					return nil
				})
				if err != nil {
					return err
				}
			}
			if asJSON {
				if err := env.output(true, sum, nil); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(env.Stdout, "%s: %s\n", count(len(sum.Files), "file"), statusLine(sum.Total))
			}
			if failed > 0 {
				return errors.E(errors.Invalid, errors.Msg(fmt.Sprintf("%d of %d files could not be imported", failed, len(sum.Files))))
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&lbl, "label", "", "label of the publications it creates, e.g. OPEN or PROPRIETARY//AGR:CRADA-0042 (required)")
	f.StringVar(&project, "project", "", "project of the publications it creates")
	f.StringVar(&format, "format", "", "the files' format (default: detected): jats, arxiv, oai-pmh, crossref, datacite, bibtex, ris, markdown, text, pdf")
	f.BoolVar(&asJSON, "json", false, "print the per-file results as JSON")
	return c
}

// statusLine says how many documents came to each status.
func statusLine(m map[string]int) string {
	var parts []string
	for _, s := range []string{"created", "updated", "unchanged", "rejected", "failed files"} {
		if m[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[s], s))
		}
	}
	if len(parts) == 0 {
		return "no publications"
	}
	return strings.Join(parts, ", ")
}

func litSearchCmd(env *Env) *cobra.Command {
	var mode, publication string
	var limit int
	var asJSON bool
	c := &cobra.Command{
		Use:   "search QUERY",
		Short: "Search the passages you may read (BM25, or hybrid with vectors when the server has an embedding endpoint)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			hits, err := c.LitSearch(cmd.Context(), lit.Query{Text: args[0], Mode: mode, Limit: limit, Publication: publication})
			if err != nil {
				return err
			}
			if hits == nil {
				hits = []lit.Hit{}
			}
			return env.output(asJSON, hits, func(w *tabwriter.Writer) {
				if len(hits) == 0 {
					fmt.Fprintln(w, "no passages found")
				}
				for i, h := range hits {
					ranks := ""
					if h.BM25 > 0 {
						ranks += fmt.Sprintf(" bm25 #%d", h.BM25)
					}
					if h.Vector > 0 {
						ranks += fmt.Sprintf(" vector #%d", h.Vector)
					}
					fmt.Fprintf(w, "%d.\t%s\t%s\t(%s,%s)\n", i+1, h.ID, h.Label, strings.TrimSpace(h.Kind+" "+h.Section), ranks)
					fmt.Fprintf(w, "\t%s\n", oneLine(h.Citation, 140))
					fmt.Fprintf(w, "\t%s\n", oneLine(h.Snippet, 140))
				}
			})
		},
	}
	f := c.Flags()
	f.StringVar(&mode, "mode", "", "bm25 or hybrid (default: hybrid when the server has an embedder)")
	f.IntVar(&limit, "limit", 10, "passages to show (at most 100)")
	f.StringVar(&publication, "publication", "", "only this publication (ID or name)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func litFactsCmd(env *Env) *cobra.Command {
	var q lit.FactQuery
	var asJSON bool
	c := &cobra.Command{
		Use:   "facts",
		Short: "List the facts extracted from passages you may read: property, material, value, conditions, with citations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			facts, next, err := c.LitFacts(cmd.Context(), q)
			if err != nil {
				return err
			}
			if facts == nil {
				facts = []lit.Fact{}
			}
			out := struct {
				Facts []lit.Fact `json:"facts"`
				Next  string     `json:"next,omitempty"`
			}{facts, next}
			return env.output(asJSON, out, func(w *tabwriter.Writer) {
				if len(facts) == 0 {
					fmt.Fprintln(w, "no facts found")
				}
				for _, f := range facts {
					mat := f.Material
					if f.Formula != "" && f.Formula != mat {
						mat = strings.TrimSpace(mat + " (" + f.Formula + ")")
					}
					val := fmt.Sprintf("%g %s", f.Value.Value, f.Value.Unit)
					var conds []string
					for _, c := range f.Conditions {
						conds = append(conds, fmt.Sprintf("%s %g %s", c.Name, c.Value.Value, c.Value.Unit))
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", dash(mat), f.Property, strings.TrimSpace(val), dash(strings.Join(conds, "; ")), f.Passage)
					fmt.Fprintf(w, "\t%s\n", oneLine(f.Citation, 140))
				}
				if next != "" {
					fmt.Fprintf(w, "more: --cursor %s\n", next)
				}
			})
		},
	}
	f := c.Flags()
	f.StringVar(&q.Property, "property", "", "only this property, e.g. band_gap")
	f.StringVar(&q.Material, "material", "", "only this material (name or formula, any case), e.g. CsPbI3")
	f.StringVar(&q.Publication, "publication", "", "only this publication (ID or name)")
	f.IntVar(&q.Limit, "limit", 50, "facts per page (at most 500)")
	f.StringVar(&q.Cursor, "cursor", "", "the next page's cursor")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func litShowCmd(env *Env) *cobra.Command {
	var passages, asJSON bool
	c := &cobra.Command{
		Use:   "show PUBLICATION",
		Short: "Show a publication you may read: citation, label, counts, citation edges (and --passages)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			p, err := c.LitPublication(cmd.Context(), args[0], passages)
			if err != nil {
				return err
			}
			// Citation edges by name too (the first 20 each way).
			named := func(ids []string) string {
				var out []string
				for i, id := range ids {
					if i == 20 {
						out = append(out, fmt.Sprintf("… %d more", len(ids)-20))
						break
					}
					if q, err := c.LitPublication(cmd.Context(), id, false); err == nil {
						out = append(out, q.Name+" ("+id+")")
					} else {
						out = append(out, id)
					}
				}
				return dash(strings.Join(out, ", "))
			}
			return env.output(asJSON, p, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "%s\t%s\n", "ID:", p.ID)
				fmt.Fprintf(w, "%s\t%s (version %d)\n", "Name:", p.Name, p.Version)
				fmt.Fprintf(w, "%s\t%s\n", "Label:", p.Label)
				fmt.Fprintf(w, "%s\t%s\n", "Title:", p.Citation.Title)
				if len(p.Citation.Authors) > 0 {
					fmt.Fprintf(w, "%s\t%s\n", "Authors:", strings.Join(p.Citation.Authors, ", "))
				}
				if p.Citation.Year > 0 {
					fmt.Fprintf(w, "%s\t%d\n", "Year:", p.Citation.Year)
				}
				for _, kv := range [][2]string{{"Venue:", p.Citation.Venue}, {"DOI:", p.Citation.DOI}, {"arXiv:", p.Citation.ArXiv}, {"Format:", string(p.Format)}} {
					if kv[1] != "" {
						fmt.Fprintf(w, "%s\t%s\n", kv[0], kv[1])
					}
				}
				fmt.Fprintf(w, "%s\t%d passages, %d facts\n", "Contents:", p.Passages, p.Facts)
				fmt.Fprintf(w, "%s\t%s\n", "Cites:", named(p.Cites))
				fmt.Fprintf(w, "%s\t%s\n", "Cited by:", named(p.CitedBy))
				if p.Abstract != "" {
					fmt.Fprintf(w, "%s\t%s\n", "Abstract:", oneLine(p.Abstract, 300))
				}
				for _, ps := range p.PassageList {
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", ps.Ordinal, ps.ID, strings.TrimSpace(ps.Kind+" "+ps.Section), oneLine(ps.Text, 100))
				}
			})
		},
	}
	c.Flags().BoolVar(&passages, "passages", false, "list the passages too")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func litPassageCmd(env *Env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "passage ID",
		Short: "Show a passage you may read, with its citation",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			p, err := c.LitPassage(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return env.output(asJSON, p, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", p.ID, p.Name, p.Label, strings.TrimSpace(p.Kind+" "+p.Section))
				fmt.Fprintf(w, "%s\n\n%s\n", p.Citation, p.Text)
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
