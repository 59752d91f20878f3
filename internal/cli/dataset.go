package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/blob/pack"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/client"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// versionPath is the API path of version r (0: latest).
func versionPath(r catalog.VersionRef) string {
	v := "latest"
	if r.Version > 0 {
		v = strconv.FormatInt(r.Version, 10)
	}
	return "/api/v1/assets/" + url.PathEscape(r.Asset) + "/versions/" + v
}

// fetchManifest parses ref (NAME[@VERSION]) and fetches that version's
// manifest.
func fetchManifest(cmd *cobra.Command, c *client.Client, ref string) (catalog.VersionRef, *manifest.Manifest, error) {
	r, err := catalog.ParseRef(ref)
	if err != nil {
		return r, nil, err
	}
	b, _, err := c.Get(cmd.Context(), versionPath(r)+"/manifest")
	if err != nil {
		return r, nil, err
	}
	m, err := manifest.Unmarshal(b)
	return r, m, err
}

// progress returns a byte progress bar on stderr, or nil when stderr is not
// a terminal or the output is JSON.
func (env *Env) progress(quiet bool, total int64, what string) *progressbar.ProgressBar {
	f, ok := env.Stderr.(*os.File)
	if quiet || !ok || !isatty.IsTerminal(f.Fd()) {
		return nil
	}
	return newProgressBar(f, total, what)
}

// newProgressBar counts bytes in binary units (KiB, MiB, GiB), as
// humanBytes does in every summary.
func newProgressBar(w io.Writer, total int64, what string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(total, progressbar.OptionSetWriter(w), progressbar.OptionShowBytes(true), progressbar.OptionUseIECUnits(true),
		progressbar.OptionSetDescription(what), progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
}

func datasetCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "dataset", Short: "Versioned, labelled, deduplicated datasets"}

	var creq httpapi.CreateDatasetRequest
	create := &cobra.Command{
		Use:   "create NAME --label MARKING",
		Short: "Create an empty dataset",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			creq.Name = args[0]
			var a catalog.Asset
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/datasets", creq, &a); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Created dataset %s (%s), label %s.\n", a.Name, a.ID, a.Label)
			return nil
		},
	}
	create.Flags().StringVar(&creq.Label, "label", "", "classification marking, e.g. OPEN or PROPRIETARY//AGR:CRADA-0042 (required)")
	create.Flags().StringVar(&creq.Title, "title", "", "title")
	create.Flags().StringVar(&creq.Description, "description", "", "description")
	create.Flags().StringVar(&creq.Project, "project", "", "project the dataset belongs to")

	list := env.assetList("datasets", "/api/v1/datasets")

	var showJSON bool
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a dataset",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var a catalog.Asset
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/assets/"+url.PathEscape(args[0]), nil, &a); err != nil {
				return err
			}
			return env.output(showJSON, a, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "name:\t%s\nid:\t%s\nlabel:\t%s\ntitle:\t%s\nproject:\t%s\nowner:\t%s\nlatest version:\t%d\ncreated:\t%s\n",
					a.Name, a.ID, a.Label, dash(a.Title), dash(string(a.Project)), a.Owner, a.LatestVersion, a.CreatedAt.Format(time.RFC3339))
			})
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")

	var message string
	var putJSON, noLocal bool
	var parallel int
	var from []string
	var synthetic bool
	var generator string
	put := &cobra.Command{
		Use:         "put NAME PATH…",
		Annotations: map[string]string{refsAnnotation: "1"},
		Short:       "Create a new version from files, directories, or - (stdin); only chunks the dataset lacks are sent",
		Long: `Chunks the inputs locally (content-defined, ~1 MiB), sends only the chunks the
dataset does not hold yet (in parallel, with retries), then commits the
manifest as a new immutable version. An interrupted put is resumed by
running it again: chunks already sent are not sent twice.

On the server's own machine, when this user is the server's OS user, the
files are packed by the server itself through its Unix socket (the same
checks, records and result, without sending every byte over loopback);
--no-local always uses the transfer protocol.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Checked before anything is sent: a synthetic version names its
			// generator, and only a synthetic one does.
			switch {
			case synthetic && generator == "":
				return errors.E(errors.Invalid, errors.Field("generator"), errors.Msg("--synthetic needs --generator job:ID | campaign:NAME | instrument:NAME | model:NAME"))
			case !synthetic && generator != "":
				return errors.E(errors.Invalid, errors.Field("synthetic"), errors.Msg("--generator goes with --synthetic"))
			case synthetic:
				if _, err := catalog.ParseGenerator(generator); err != nil {
					return err
				}
			}
			c, err := env.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var a catalog.Asset
			if err := c.Do(ctx, http.MethodGet, "/api/v1/assets/"+url.PathEscape(args[0]), nil, &a); err != nil {
				return err
			}
			srcs, err := pack.Sources(args[1:], env.Stdin)
			if err != nil {
				return err
			}
			var total int64
			for _, a := range args[1:] {
				total += du(a)
			}
			if !noLocal {
				start := time.Now()
				var bar *progressbar.ProgressBar
				progress := func(p httpapi.LocalPutProgress) {
					if bar == nil {
						bar = env.progress(putJSON, total, "put "+args[0]+" (packed by the server on this machine)")
					}
					if bar != nil {
						bar.Set64(p.Bytes)
					}
				}
				lp, err := localPut(ctx, c, args[0], srcs, httpapi.LocalPutRequest{Message: message, Parent: &a.LatestVersion, Inputs: splitList(from),
					Synthetic: synthetic, Generator: generator}, progress)
				if bar != nil {
					bar.Finish()
				}
				switch {
				case err == nil:
					v := lp.Version
					if putJSON {
						return env.output(true, map[string]any{"version": v, "new_chunks": lp.NewChunks, "new_bytes": lp.NewBytes,
							"chunks": lp.Chunks, "seconds": time.Since(start).Seconds(), "local": true}, nil)
					}
					fmt.Fprintf(env.Stdout, "%s@%d: %s, %s; stored %s (%s) in %s (packed by the server on this machine).\n", args[0], v.Version, count(v.FileCount, "file"),
						humanBytes(v.TotalBytes), count(lp.NewChunks, "new chunk"), humanBytes(lp.NewBytes), time.Since(start).Round(time.Millisecond))
					return nil
				case !errors.Is(errors.NotExist, err):
					return movedOn(err, args[0])
				}
				// Not on the server's machine, or not its user: send the chunks.
			}
			limitMemory()
			bar := env.progress(putJSON, total, "put "+args[0])
			opts := pack.Options{Parallel: parallel}
			if bar != nil {
				opts.Progress = func(p pack.Progress) { bar.Set64(p.Bytes) }
			}
			start := time.Now()
			res, err := pack.Pack(ctx, c.Asset(args[0]), srcs, opts)
			if bar != nil {
				bar.Finish()
			}
			if err != nil {
				return err
			}
			uploaded := time.Since(start)
			parent := a.LatestVersion
			var v catalog.Version
			if err := c.Do(ctx, http.MethodPost, "/api/v1/assets/"+url.PathEscape(args[0])+"/versions",
				httpapi.CommitRequest{Manifest: res.ID.String(), Message: message, Parent: &parent, Inputs: splitList(from), Synthetic: synthetic, Generator: generator}, &v); err != nil {
				return movedOn(err, args[0])
			}
			if putJSON {
				return env.output(true, map[string]any{"version": v, "new_chunks": len(res.New), "new_bytes": res.NewBytes,
					"chunks": res.Chunks, "seconds": time.Since(start).Seconds(), "upload_seconds": uploaded.Seconds()}, nil)
			}
			fmt.Fprintf(env.Stdout, "%s@%d: %s, %s; sent %s (%s) in %s.\n", args[0], v.Version, count(v.FileCount, "file"),
				humanBytes(v.TotalBytes), count(len(res.New), "new chunk"), humanBytes(res.NewBytes), time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	put.Flags().StringVarP(&message, "message", "m", "", "what this version is")
	put.Flags().BoolVar(&putJSON, "json", false, "print JSON (and no progress bar)")
	put.Flags().IntVar(&parallel, "parallel", 8, "concurrent chunk uploads")
	put.Flags().BoolVar(&noLocal, "no-local", false, "send the chunks even when the server is on this machine")
	put.Flags().StringSliceVar(&from, "from", nil, "versions this one was derived from, NAME@VERSION (repeatable; recorded as lineage, and the label must dominate theirs)")
	put.Flags().BoolVar(&synthetic, "synthetic", false, "mark the version as synthetic data (needs --generator)")
	put.Flags().StringVar(&generator, "generator", "", "what made the synthetic data: job:ID, campaign:NAME, instrument:NAME (a simulator) or model:NAME")

	var getParallel, getWriters int
	get := &cobra.Command{
		Use:         "get NAME[@VERSION] DEST",
		Annotations: map[string]string{refsAnnotation: "1"},
		Short:       "Restore a version into DEST, byte for byte (every file verified against its hash)",
		Args:        cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			r, m, err := fetchManifest(cmd, c, args[0])
			if err != nil {
				return err
			}
			limitMemory()
			start := time.Now()
			st := m.Stats()
			opts := pack.RestoreOptions{Parallel: getParallel, Writers: getWriters}
			bar := env.progress(false, st.Bytes, "get "+args[0])
			if bar != nil {
				opts.Progress = func(n int64) { bar.Set64(n) }
			}
			_, err = pack.Restore(cmd.Context(), c.Asset(r.Asset), m, args[1], opts)
			if bar != nil {
				bar.Finish()
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Restored %s (%s) into %s in %s.\n", count(st.Files, "file"), humanBytes(st.Bytes), args[1], time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	get.Flags().IntVar(&getParallel, "parallel", 8, "concurrent chunk downloads")
	get.Flags().IntVar(&getWriters, "writers", 4, "files written at once (more helps on network file systems)")

	var versJSON bool
	versions := &cobra.Command{
		Use:   "versions NAME",
		Short: "List a dataset's versions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var l httpapi.List[catalog.Version]
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/assets/"+url.PathEscape(args[0])+"/versions", nil, &l); err != nil {
				return err
			}
			return env.output(versJSON, l.Items, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "VERSION\tFILES\tSIZE\tLABEL\tBY\tWHEN\tDATA\tMESSAGE")
				for _, v := range l.Items {
					data := "measured"
					if v.Synthetic {
						data = "synthetic"
						if v.Generator != "" {
							data += " (" + v.Generator + ")"
						}
					}
					fmt.Fprintf(w, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Version, v.FileCount, humanBytes(v.TotalBytes), v.Label, v.CreatedBy, v.CreatedAt.Format(time.RFC3339), data, dash(v.Message))
				}
			})
		},
	}
	versions.Flags().BoolVar(&versJSON, "json", false, "print JSON")

	var lsJSON bool
	ls := &cobra.Command{
		Use:   "ls NAME[@VERSION] [PATH]",
		Short: "List the files of a version (under PATH)",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			_, m, err := fetchManifest(cmd, c, args[0])
			if err != nil {
				return err
			}
			prefix := ""
			if len(args) == 2 {
				prefix = strings.Trim(args[1], "/")
			}
			type row struct {
				Path  string `json:"path"`
				Type  string `json:"type"`
				Size  int64  `json:"size"`
				Mode  string `json:"mode"`
				MTime string `json:"mtime"`
				Hash  string `json:"hash,omitempty"`
			}
			var rows []row
			for _, e := range m.Entries {
				if prefix != "" && e.Path != prefix && !strings.HasPrefix(e.Path, prefix+"/") {
					continue
				}
				r := row{Path: e.Path, Type: string(rune(e.Type)), Size: e.Size, Mode: fmt.Sprintf("%04o", e.Mode), MTime: time.Unix(0, e.MTime).UTC().Format(time.RFC3339)}
				if e.Type == manifest.File {
					r.Hash = e.Hash.String()
				}
				rows = append(rows, r)
			}
			if prefix != "" && len(rows) == 0 {
				return errors.E(errors.NotExist, errors.Msg("no such path in this version: "+prefix))
			}
			return env.output(lsJSON, rows, func(w *tabwriter.Writer) {
				for _, r := range rows {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.Type, r.Mode, humanBytes(r.Size), r.MTime, r.Path)
				}
			})
		},
	}
	ls.Flags().BoolVar(&lsJSON, "json", false, "print JSON")

	cat := &cobra.Command{
		Use:   "cat NAME[@VERSION] PATH",
		Short: "Write one file of a version to standard output",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			r, err := catalog.ParseRef(args[0])
			if err != nil {
				return err
			}
			body, err := c.Stream(cmd.Context(), versionPath(r)+"/files/"+escapePath(strings.Trim(args[1], "/")))
			if err != nil {
				return err
			}
			defer body.Close()
			_, err = io.Copy(env.Stdout, body)
			return err
		},
	}

	var diffJSON bool
	diff := &cobra.Command{
		Use:   "diff NAME@A NAME@B",
		Short: "Show what changed between two versions",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var ms [2]*manifest.Manifest
			for i, a := range args {
				if _, ms[i], err = fetchManifest(cmd, c, a); err != nil {
					return err
				}
			}
			changes := manifest.Diff(ms[0], ms[1])
			type row struct {
				Change string `json:"change"`
				Path   string `json:"path"`
			}
			rows := []row{}
			for _, ch := range changes {
				rows = append(rows, row{Change: string(rune(ch.Kind)), Path: ch.Path})
			}
			return env.output(diffJSON, rows, func(w *tabwriter.Writer) {
				for _, r := range rows {
					fmt.Fprintf(w, "%s %s\n", r.Change, r.Path)
				}
			})
		},
	}
	diff.Flags().BoolVar(&diffJSON, "json", false, "print JSON")

	relabel := &cobra.Command{
		Use:   "relabel NAME MARKING",
		Short: "Raise a dataset's label (all versions); lowering needs a declassification",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var a catalog.Asset
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/assets/"+url.PathEscape(args[0])+"/label", httpapi.RelabelRequest{Label: args[1]}, &a); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s is now %s.\n", a.Name, a.Label)
			return nil
		},
	}
	c.AddCommand(create, list, show, put, get, versions, ls, cat, diff, relabel)
	return c
}

// transferMemory is the Go heap a put or get aims to stay under, so that
// the client's footprint does not depend on the data's size: the
// pipelines hold at most ~50 MB of chunks, and without a limit the
// garbage collector would let the heap grow to twice what is live.
const transferMemory = 120 << 20

// limitMemory sets the soft memory limit for a transfer, unless the user
// chose one with GOMEMLIMIT.
func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(transferMemory)
	}
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// du is the bytes under path (for the progress bar's total); 0 for stdin.
func du(path string) int64 {
	if path == "-" {
		return 0
	}
	var n int64
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	if !st.IsDir() {
		return st.Size()
	}
	walkSizes(path, &n)
	return n
}

// humanBytes is how every command prints a byte count: binary units
// (KiB, MiB, …), like the progress bar.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// localPut asks a server on this machine to pack srcs itself; NotExist
// when it will not (another machine, another OS user, stdin, no socket).
func localPut(ctx context.Context, c *client.Client, name string, srcs []pack.Source, req httpapi.LocalPutRequest, progress func(httpapi.LocalPutProgress)) (*httpapi.LocalPutResponse, error) {
	for _, src := range srcs {
		if src.Reader != nil {
			return nil, errors.E(errors.NotExist)
		}
		p, err := filepath.Abs(src.Path)
		if err != nil {
			return nil, errors.E(errors.NotExist)
		}
		req.Sources = append(req.Sources, httpapi.LocalSource{Name: src.Name, Path: p})
	}
	lc, err := c.Local(ctx)
	if err != nil {
		if errors.Is(errors.NotExist, err) || errors.Is(errors.Transient, err) {
			return nil, errors.E(errors.NotExist)
		}
		return nil, err
	}
	// The same server answered on the socket: from here on a failure is
	// the put's (run again, it finds its chunks there already).
	raw, err := lc.PostStream(ctx, "/api/v1/assets/"+url.PathEscape(name)+"/local-put", req, func(m json.RawMessage) {
		var p httpapi.LocalPutProgress
		if progress != nil && json.Unmarshal(m, &p) == nil {
			progress(p)
		}
	})
	if err != nil {
		return nil, err
	}
	var res httpapi.LocalPutResponse
	if err := json.Unmarshal(raw, &res); err != nil || res.Version == nil {
		return nil, errors.E(errors.Op("dataset put"), errors.Internal, errors.Msg("unexpected response from the server"))
	}
	return &res, nil
}

// movedOn explains a commit refused because another version of name was
// committed while the put ran (a put never silently replaces a version it
// did not start from).
func movedOn(err error, name string) error {
	if errors.Is(errors.Conflict, err) && errors.FieldOf(err) == "parent" {
		return errors.E(errors.Conflict, errors.Msg(name+" has a newer version than when this put started, so nothing was committed; "+
			"run the put again to commit on top of it (the chunks already stored are kept and not sent again)"))
	}
	return err
}

// assetList is the list command of datasets or models (what), whose
// paged list is at path.
func (env *Env) assetList(what, path string) *cobra.Command {
	var listJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the " + what + " you may read",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			l, err := allAssets(cmd.Context(), c, path)
			if err != nil {
				return err
			}
			return env.output(listJSON, l.Items, func(w *tabwriter.Writer) {
				// Names are unique only among what one principal may
				// read, so two listed here may share one: the ID tells
				// them apart (and works wherever a name does); the first
				// of a name is the one the name means.
				fmt.Fprintln(w, "NAME\tID\tLABEL\tLATEST\tTITLE\tUPDATED")
				for _, a := range l.Items {
					fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\n", a.Name, a.ID, a.Label, a.LatestVersion, dash(a.Title), a.UpdatedAt.Format(time.RFC3339))
				}
			})
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON")
	return list
}

// allAssets follows a paged asset list (path is /api/v1/datasets or
// /api/v1/models) to its end.
func allAssets(ctx context.Context, c *client.Client, path string) (httpapi.List[catalog.Asset], error) {
	var all httpapi.List[catalog.Asset]
	for cursor := ""; ; {
		var l httpapi.List[catalog.Asset]
		q := ""
		if cursor != "" {
			q = "?cursor=" + url.QueryEscape(cursor)
		}
		if err := c.Do(ctx, http.MethodGet, path+q, nil, &l); err != nil {
			return all, err
		}
		all.Items = append(all.Items, l.Items...)
		if l.Next == "" || l.Next == cursor {
			return all, nil
		}
		cursor = l.Next
	}
}
