package cli

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/genesis-science/genesis/internal/app"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func auditCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "audit", Short: "Verify and read the tamper-evident audit log"}

	var dataDir, keyFile, cfgFile, saveFile, trustedKey string
	var trustedFiles []string
	verify := &cobra.Command{
		Use:   "verify [--data-dir DIR | --config FILE] [--trusted FILE] [--save FILE]",
		Short: "Re-derive the audit log's Merkle tree from every entry and check its signed checkpoints (exit 0 only if intact)",
		Long: `Checks the audit log of a data dir offline: every entry's encoding, every
stored tile, the checkpoint signatures, and that the root recomputed from all
entries equals the signed checkpoint (and is consistent with the previous
one). The verifier key defaults to DATA_DIR/keys/audit.key.pub; pin your own
copy with --key to detect a replaced key too.

With --config FILE it verifies the log every replica shares (audit.backend
store) in the config's metadata store instead, in one read-only snapshot
while replicas go on appending; the key defaults to the verifier of the
configured signing key (audit.signing_key_file, GENESIS_AUDIT_SIGNING_KEY).

A log rolled back to an earlier state, or replaced by another history signed
with the same key, verifies on its own. To detect that, keep the checkpoint of
each verification somewhere the servers cannot write (--save FILE) and give it
back next time (--trusted FILE): verify then proves the log is an append-only
extension of it (the root recomputed at its size, and a consistency proof to
the latest checkpoint) and fails on a rollback or a fork. A trusted file is a
signed checkpoint as the log serves it (GET /api/v1/audit/tlog/checkpoint);
--save writes one only if the log is intact. After audit import, the imported
log's old checkpoints are trusted checkpoints too, up to the import's size:
give its verifier key with --trusted-key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cfgFile != "" {
				if cmd.Flags().Changed("data-dir") {
					return errors.E(errors.Invalid, errors.Msg("--config and --data-dir are alternatives"))
				}
				cfg, err := config.Load(cfgFile)
				if err != nil {
					return err
				}
				cfg.ApplyEnv(env.Getenv)
				var v note.Verifier
				if keyFile != "" {
					if v, err = audit.LoadVerifier(keyFile); err != nil {
						return err
					}
				} else {
					k, err := app.ConfiguredAuditKeys(cfg, env.Getenv)
					if err != nil {
						return err
					}
					if k.Verifier == nil {
						return errors.E(errors.Invalid, errors.Msg("no verifier key: pass --key FILE.pub, or configure audit.signing_key_file or GENESIS_AUDIT_SIGNING_KEY"))
					}
					v = k.Verifier
				}
				opts, err := trustedOptions(trustedFiles, v, trustedKey)
				if err != nil {
					return err
				}
				rep, err := app.VerifySharedAudit(cmd.Context(), cfg, env.Getenv, v, opts)
				return saveVerified(env, saveFile, rep, printVerify(env, rep, err))
			}
			if !cmd.Flags().Changed("data-dir") {
				if v := env.Getenv("GENESIS_DATA_DIR"); v != "" {
					dataDir = v
				}
			}
			if keyFile == "" {
				keyFile = filepath.Join(dataDir, "keys", "audit.key.pub")
			}
			v, err := audit.LoadVerifier(keyFile)
			if err != nil {
				return err
			}
			opts, err := trustedOptions(trustedFiles, v, trustedKey)
			if err != nil {
				return err
			}
			rep, err := audit.VerifyFS(cmd.Context(), os.DirFS(filepath.Join(dataDir, "audit")), v, opts)
			return saveVerified(env, saveFile, rep, printVerify(env, rep, err))
		},
	}
	verify.Flags().StringVar(&dataDir, "data-dir", "./genesis-data", "the server's data dir (env GENESIS_DATA_DIR)")
	verify.Flags().StringVar(&cfgFile, "config", "", "verify the log shared by every replica in this config's metadata store (audit.backend store)")
	verify.Flags().StringVar(&keyFile, "key", "", "checkpoint verifier key file (default DATA_DIR/keys/audit.key.pub, or with --config the configured signing key's)")
	verify.Flags().StringArrayVar(&trustedFiles, "trusted", nil, "a signed checkpoint saved earlier (--save): fail unless the log extends it (repeatable)")
	verify.Flags().StringVar(&trustedKey, "trusted-key", "", "verifier key of a log this one imported (audit import), for --trusted checkpoints of that log")
	verify.Flags().StringVar(&saveFile, "save", "", "if the log is intact, write its checkpoint to this file for the next --trusted")

	var fromDir, fromKey, fromLabelKey, importCfg string
	importC := &cobra.Command{
		Use:   "import --from DATA_DIR --config FILE",
		Short: "Carry a single server's audit log into the log every replica shares (audit.backend store)",
		Long: `Copies the audit log of a single genesis (DATA_DIR/audit) into the shared
log in the config's metadata store, for a deployment moving to replicas. Stop
that genesis first, and import before any replica starts.

The source is verified first (every entry, tile and checkpoint signature) with
its verifier key (default DATA_DIR/keys/audit.key.pub). Its entries are then
appended byte for byte, in order: records keep their times, principals, label
hashes and indexes, and the shared log's tree at the source's size IS the
source's tree, with the root of its last checkpoint. One more record follows
(action audit.import) that names the source and carries its signed checkpoint;
the configured signing key signs every checkpoint from there on. So old
checkpoints stay checkable: their roots are the shared log's roots at their
sizes.

The shared log's label key must be the source's (default
DATA_DIR/keys/audit-label.key): copy that file to the replicas'
audit.label_key_file. The shared log must be empty, or hold what an interrupted
import of the same source left: running the command again resumes, and after a
finished import it writes nothing. A source that does not verify, wrong keys,
or a shared log with other records are refused before anything is copied.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if fromDir == "" || importCfg == "" {
				return errors.E(errors.Invalid, errors.Msg("--from DATA_DIR and --config FILE are required"))
			}
			if fromKey == "" {
				fromKey = filepath.Join(fromDir, "keys", "audit.key.pub")
			}
			if fromLabelKey == "" {
				fromLabelKey = filepath.Join(fromDir, "keys", "audit-label.key")
			}
			v, err := audit.LoadVerifier(fromKey)
			if err != nil {
				return err
			}
			lk, err := audit.LoadLabelKey(fromLabelKey)
			if err != nil {
				return err
			}
			src := filepath.Join(fromDir, "audit")
			if _, err := os.Stat(filepath.Join(src, "checkpoint")); err != nil {
				return errors.E(errors.Invalid, errors.Msg("no audit log in "+src+" (--from names the data dir of the genesis whose log to import)"))
			}
			cfg, err := config.Load(importCfg)
			if err != nil {
				return err
			}
			cfg.ApplyEnv(env.Getenv)
			rep, err := app.ImportSharedAudit(cmd.Context(), cfg, env.Getenv, src, v, lk)
			if err != nil {
				return err
			}
			if rep.AlreadyDone {
				fmt.Fprintln(env.Stdout, "already imported: nothing written")
			}
			fmt.Fprintf(env.Stdout, "source:       %s, size %d, root %s\ncopied:       %d entries (%d already there from an earlier run)\nimport record: index %d\nshared log:   %s, size %d, root %s\n\nsource checkpoint:\n%s\nshared log checkpoint:\n%s",
				rep.Source.Origin, rep.Source.Size, rep.Source.Hash, rep.Copied, rep.Found, rep.Record,
				rep.Target.Origin, rep.Target.Size, rep.Target.Hash, rep.SourceNote, rep.TargetNote)
			return nil
		},
	}
	importC.Flags().StringVar(&fromDir, "from", "", "data dir of the single genesis whose audit log to import (stopped)")
	importC.Flags().StringVar(&importCfg, "config", "", "the replicas' config (audit.backend store, their keys and metadata store)")
	importC.Flags().StringVar(&fromKey, "from-key", "", "the source's checkpoint verifier key (default FROM/keys/audit.key.pub)")
	importC.Flags().StringVar(&fromLabelKey, "from-label-key", "", "the source's label key (default FROM/keys/audit-label.key)")

	var outDir, origin string
	keygen := &cobra.Command{
		Use:   "keygen --out DIR",
		Short: "Make the audit log's keys for replicas that share one log (audit.backend store)",
		Long: `Writes a new Ed25519 checkpoint signing key (DIR/audit.key, mode 0600), its
verifier key (DIR/audit.key.pub) and a secret label-hash key
(DIR/audit-label.key, mode 0600). Give every replica the same two secret keys:
audit.signing_key_file and audit.label_key_file in the config, or their
contents in GENESIS_AUDIT_SIGNING_KEY and GENESIS_AUDIT_LABEL_KEY. Existing
files are never overwritten. Keep the .pub file (and checkpoints you have
verified) somewhere the servers cannot change, for audit verify --key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if outDir == "" {
				return errors.E(errors.Invalid, errors.Msg("--out DIR is required"))
			}
			if origin == "" {
				var b [8]byte
				rand.Read(b[:])
				origin = audit.Origin(hex.EncodeToString(b[:]))
			}
			if err := os.MkdirAll(outDir, 0o700); err != nil {
				return errors.E(errors.Invalid, errors.Msg("cannot create "+outDir+": "+err.Error()))
			}
			skPath, lkPath := filepath.Join(outDir, "audit.key"), filepath.Join(outDir, "audit-label.key")
			for _, p := range []string{skPath, skPath + ".pub", lkPath} {
				if _, err := os.Lstat(p); err == nil {
					return errors.E(errors.Exist, errors.Msg(p+" already exists; keygen never overwrites a key"))
				}
			}
			vkey, err := audit.WriteKeyFiles(skPath, origin)
			if err != nil {
				return err
			}
			if err := audit.WriteLabelKeyFile(lkPath); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "signing key:   %s (audit.signing_key_file)\nverifier key:  %s.pub\n               %s\nlabel key:     %s (audit.label_key_file)\n", skPath, skPath, vkey, lkPath)
			return nil
		},
	}
	keygen.Flags().StringVar(&outDir, "out", "", "directory for the key files (created 0700 if missing)")
	keygen.Flags().StringVar(&origin, "origin", "", "the log's origin, its checkpoints' first line (default genesis.local/audit/RANDOM)")

	var n int
	var asJSON bool
	var filter struct{ principal, action, objectType, objectID, label string }
	tail := &cobra.Command{
		Use:   "tail",
		Short: "Show the latest audit records you may read",
		Long: `Shows the records among the latest N that you may read: those about objects
you may read at the label the record was made under (your own included), and,
for stewards, classification officers and administrators, others' too. The
filters apply to those records only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			q := url.Values{"tail": {strconv.Itoa(n)}, "limit": {"1000"}}
			for k, v := range map[string]string{"principal": filter.principal, "action": filter.action, "object_type": filter.objectType, "object_id": filter.objectID, "label": filter.label} {
				if v != "" {
					q.Set(k, v)
				}
			}
			var page httpapi.AuditEntries
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/audit/entries?"+q.Encode(), nil, &page); err != nil {
				return err
			}
			return env.output(asJSON, page.Items, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "INDEX\tTIME\tPRINCIPAL\tACTION\tOBJECT\tDECISION\tLABEL")
				for _, e := range page.Items {
					obj := e.ObjectType
					if e.ObjectID != "" {
						obj += " " + e.ObjectID
					}
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Index, e.Time, e.Principal, e.Action, obj, e.Decision, e.Label)
				}
			})
		},
	}
	tail.Flags().IntVarP(&n, "n", "n", 20, "how many of the latest entries to scan")
	tail.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	tail.Flags().StringVar(&filter.principal, "principal", "", "only records of this principal ID")
	tail.Flags().StringVar(&filter.action, "action", "", "only records of this action")
	tail.Flags().StringVar(&filter.objectType, "object-type", "", "only records about objects of this type")
	tail.Flags().StringVar(&filter.objectID, "object-id", "", "only records about this object ID")
	tail.Flags().StringVar(&filter.label, "label", "", "only records made under this label (a marking)")

	var pinned string
	var proofJSON bool
	proof := &cobra.Command{
		Use:   "proof INDEX",
		Short: "Fetch an entry's inclusion proof and check it against the signed checkpoint",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var p httpapi.AuditProof
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/audit/entries/"+pathEscape(args[0])+"/proof", nil, &p); err != nil {
				return err
			}
			vkey := p.Checkpoint.VerifierKey
			if pinned != "" {
				b, err := os.ReadFile(pinned)
				if err != nil {
					return errors.E(errors.Invalid, errors.Msg(err.Error()))
				}
				vkey = strings.TrimSpace(string(b))
			}
			v, err := note.NewVerifier(vkey)
			if err != nil {
				return errors.E(errors.Invalid, errors.Msg("bad verifier key: "+err.Error()))
			}
			cp, err := audit.OpenCheckpoint([]byte(p.Checkpoint.Signed), v)
			if err != nil {
				return errors.E(errors.Internal, errors.Msg("the checkpoint signature does not verify: "+err.Error()))
			}
			raw, err := base64.StdEncoding.DecodeString(p.Raw)
			if err != nil {
				return errors.E(errors.Internal, errors.Msg("malformed entry from the server"))
			}
			hs := make([]tlog.Hash, len(p.Proof))
			for i, s := range p.Proof {
				b, err := base64.StdEncoding.DecodeString(s)
				if err != nil || len(b) != len(hs[i]) {
					return errors.E(errors.Internal, errors.Msg("malformed proof from the server"))
				}
				copy(hs[i][:], b)
			}
			if err := audit.VerifyInclusion(cp, p.Entry.Index, raw, hs); err != nil {
				return errors.E(errors.Internal, errors.Msg("the inclusion proof does NOT verify: "+err.Error()))
			}
			if proofJSON {
				return env.output(true, p, nil)
			}
			fmt.Fprintf(env.Stdout, "entry %d (%s %s by %s, %s) is included in checkpoint size %d root %s signed by %s\n",
				p.Entry.Index, p.Entry.Action, p.Entry.ObjectType, p.Entry.Principal, p.Entry.Decision, cp.Size, cp.Hash, v.Name())
			if pinned == "" {
				fmt.Fprintln(env.Stderr, "note: checked with the server's own key; pin a copy with --key to detect a replaced key")
			}
			fmt.Fprintln(env.Stdout, audit.FormatProof(hs))
			return nil
		},
	}
	proof.Flags().StringVar(&pinned, "key", "", "verifier key file to check the checkpoint with (default: the server's)")
	proof.Flags().BoolVar(&proofJSON, "json", false, "print JSON")
	c.AddCommand(verify, tail, proof, keygen, importC)
	return c
}

// trustedOptions loads the --trusted checkpoints, which must verify with
// v or, if given, the key in the file importedKey (of an imported log).
func trustedOptions(files []string, v note.Verifier, importedKey string) (audit.VerifyOptions, error) {
	var opts audit.VerifyOptions
	var iv note.Verifier
	if importedKey != "" {
		var err error
		if iv, err = audit.LoadVerifier(importedKey); err != nil {
			return opts, err
		}
	}
	for _, f := range files {
		cp, err := audit.LoadCheckpoint(f, v)
		if err != nil && iv != nil {
			cp, err = audit.LoadCheckpoint(f, iv)
		}
		if err != nil {
			return opts, err
		}
		opts.Trusted = append(opts.Trusted, cp)
	}
	return opts, nil
}

// saveVerified writes the verified checkpoint to path (if set) when the
// verification passed (verr nil).
func saveVerified(env *Env, path string, rep audit.Report, verr error) error {
	if verr != nil || path == "" {
		return verr
	}
	if err := audit.SaveCheckpoint(path, rep.CheckpointNote); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "saved:        checkpoint of size %d to %s (give it to --trusted next time)\n", rep.Checkpoint.Size, path)
	return nil
}

// printVerify prints a verification report and fails unless it is intact.
func printVerify(env *Env, rep audit.Report, err error) error {
	fmt.Fprintf(env.Stdout, "log:          %s\nentries:      %d\ncheckpoint:   size %d, root %s\ntiles:        %d checked\n",
		rep.Origin, rep.Entries, rep.Checkpoint.Size, rep.Checkpoint.Hash, rep.Tiles)
	if rep.Pending > 0 || rep.TornBytes > 0 {
		fmt.Fprintf(env.Stdout, "pending:      %d entries after the checkpoint, %d torn bytes (left by a crash; integrated on next start)\n", rep.Pending, rep.TornBytes)
	}
	for _, t := range rep.Trusted {
		fmt.Fprintf(env.Stdout, "trusted:      size %d, root %s: the log extends it (consistency proof verified)\n", t.Size, t.Hash)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(env.Stdout, "PROBLEM:      %s\n", p)
	}
	if len(rep.Problems) == 0 && err != nil {
		// Not a verdict on the log: it could not be read.
		return err
	}
	if err != nil || !rep.Intact() {
		return errors.E(errors.Internal, errors.Msg(fmt.Sprintf("the audit log is NOT intact: %d problem(s)", len(rep.Problems))))
	}
	fmt.Fprintln(env.Stdout, "intact:       yes")
	return nil
}
