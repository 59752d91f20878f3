package cli

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func auditCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "audit", Short: "Verify and read the tamper-evident audit log"}

	var dataDir, keyFile string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Re-derive the audit log's Merkle tree from every entry and check its signed checkpoints (exit 0 only if intact)",
		Long: `Checks the audit log of a data dir offline: every entry's encoding, every
stored tile, the checkpoint signatures, and that the root recomputed from all
entries equals the signed checkpoint (and is consistent with the previous
one). The verifier key defaults to DATA_DIR/keys/audit.key.pub; pin your own
copy with --key to detect a replaced key too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
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
			rep, err := audit.Verify(cmd.Context(), filepath.Join(dataDir, "audit"), v)
			fmt.Fprintf(env.Stdout, "log:          %s\nentries:      %d\ncheckpoint:   size %d, root %s\ntiles:        %d checked\n",
				rep.Origin, rep.Entries, rep.Checkpoint.Size, rep.Checkpoint.Hash, rep.Tiles)
			if rep.Pending > 0 || rep.TornBytes > 0 {
				fmt.Fprintf(env.Stdout, "pending:      %d entries after the checkpoint, %d torn bytes (left by a crash; integrated on next start)\n", rep.Pending, rep.TornBytes)
			}
			for _, p := range rep.Problems {
				fmt.Fprintf(env.Stdout, "PROBLEM:      %s\n", p)
			}
			if err != nil || !rep.Intact() {
				return errors.E(errors.Internal, errors.Msg(fmt.Sprintf("the audit log is NOT intact: %d problem(s)", len(rep.Problems))))
			}
			fmt.Fprintln(env.Stdout, "intact:       yes")
			return nil
		},
	}
	verify.Flags().StringVar(&dataDir, "data-dir", "./genesis-data", "the server's data dir (env GENESIS_DATA_DIR)")
	verify.Flags().StringVar(&keyFile, "key", "", "checkpoint verifier key file (default DATA_DIR/keys/audit.key.pub)")

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
	c.AddCommand(verify, tail, proof)
	return c
}
