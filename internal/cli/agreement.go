package cli

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/client"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/spf13/cobra"
)

func agreementCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "agreement", Short: "Partnership agreements (CRADA, user-facility, data-use, NDA)"}

	var req httpapi.CreateAgreementRequest
	var typ, from, until string
	var parties, comps []string
	create := &cobra.Command{
		Use:   "create ID --type T --party ORG… --until DATE",
		Short: "Record an agreement; its ID is the token used in markings (AGR:ID)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			req.ID, req.Type, req.Parties, req.Compartments = args[0], authz.AgreementType(typ), splitList(parties), splitList(comps)
			now := time.Now()
			if req.NotBefore, err = parseWhen(from, now, now); err != nil {
				return errors.E(errors.Invalid, errors.Field("from"), errors.Msg("--from: "+err.Error()))
			}
			if until == "" {
				return errors.E(errors.Invalid, errors.Field("until"), errors.Msg("--until is required: "+whenForms))
			}
			if req.NotAfter, err = parseWhen(until, time.Time{}, now); err != nil {
				return errors.E(errors.Invalid, errors.Field("until"), errors.Msg("--until: "+err.Error()))
			}
			var a identity.Agreement
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/agreements", req, &a); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Recorded %s %s between %s, in force %s to %s.\n", a.Type, a.ID, fetchOrgNames(cmd.Context(), c).join(a.Parties), a.NotBefore.Format("2006-01-02"), a.NotAfter.Format("2006-01-02"))
			return nil
		},
	}
	f := create.Flags()
	f.StringVar(&typ, "type", "", "CRADA, user-facility, data-use, NDA or other")
	f.StringVar(&req.Title, "title", "", "title")
	f.StringSliceVar(&parties, "party", nil, "party organisation (repeatable)")
	f.StringVar(&from, "from", "", "start of validity (default: now): "+whenForms)
	f.StringVar(&until, "until", "", "end of validity (exclusive): "+whenForms)
	f.StringSliceVar(&comps, "compartment", nil, "compartment the agreement grants its parties (repeatable)")
	f.StringVar(&req.IPTerms, "ip-terms", "", "intellectual-property terms (free text)")

	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the agreements you may see",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var l httpapi.List[identity.Agreement]
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/agreements", nil, &l); err != nil {
				return err
			}
			return env.output(asJSON, l.Items, func(w *tabwriter.Writer) {
				orgs := fetchOrgNames(cmd.Context(), c)
				fmt.Fprintln(w, "ID\tTYPE\tIN FORCE\tFROM\tUNTIL\tPARTIES\tCOMPARTMENTS")
				for _, a := range l.Items {
					fmt.Fprintf(w, "%s\t%s\t%v\t%s\t%s\t%s\t%s\n", a.ID, a.Type, a.InForce, a.NotBefore.Format("2006-01-02"), a.NotAfter.Format("2006-01-02"), orgs.join(a.Parties), dash(strings.Join(a.Compartments, ",")))
				}
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var showJSON bool
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one agreement",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var a identity.Agreement
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/agreements/"+pathEscape(args[0]), nil, &a); err != nil {
				return err
			}
			return env.output(showJSON, a, func(w *tabwriter.Writer) {
				ended := "-"
				if a.EndedAt != nil {
					ended = a.EndedAt.Format(time.RFC3339)
				}
				fmt.Fprintf(w, "id:\t%s\ntype:\t%s\ntitle:\t%s\nparties:\t%s\nin force:\t%v\nvalid:\t%s to %s\nended:\t%s\ncompartments:\t%s\nIP terms:\t%s\n",
					a.ID, a.Type, dash(a.Title), fetchOrgNames(cmd.Context(), c).join(a.Parties), a.InForce, a.NotBefore.Format(time.RFC3339), a.NotAfter.Format(time.RFC3339), ended, dash(strings.Join(a.Compartments, ", ")), dash(a.IPTerms))
			})
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")

	end := &cobra.Command{
		Use:   "end ID",
		Short: "End an agreement now: it grants nothing from the next decision on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var a identity.Agreement
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/agreements/"+pathEscape(args[0])+"/end", nil, &a); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Ended %s; it no longer grants access.\n", a.ID)
			return nil
		},
	}
	c.AddCommand(create, list, show, end, agreementExpiringCmd(env))
	return c
}

func clearanceCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "set-clearance NAME MARKING",
		Short: "Set a principal's clearance, e.g. PROPRIETARY//FUSION (level and compartments)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var p genesis.Principal
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/principals/"+pathEscape(args[0])+"/clearance", httpapi.SetClearanceRequest{Clearance: args[1]}, &p); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s is now cleared for %s.\n", p.Name, p.Clearance)
			return nil
		},
	}
}

func splitList(in []string) []string {
	var out []string
	for _, s := range in {
		for _, x := range strings.Split(s, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
	}
	return out
}

// orgNames names organisations for tables (--json keeps their IDs).
type orgNames map[genesis.OrgID]string

// fetchOrgNames asks the server for the organisations' names; without
// them, tables show IDs.
func fetchOrgNames(ctx context.Context, c *client.Client) orgNames {
	var l httpapi.List[genesis.Organization]
	n := orgNames{}
	if c.Do(ctx, http.MethodGet, "/api/v1/organizations", nil, &l) == nil {
		for _, o := range l.Items {
			n[o.ID] = o.Name
		}
	}
	return n
}

// name is the organisation's name, or its ID if it has none here; "-" for
// no organisation.
func (n orgNames) name(id genesis.OrgID) string {
	if id == "" {
		return "-"
	}
	if s, ok := n[id]; ok && s != "" {
		return s
	}
	return string(id)
}

func (n orgNames) join(ids []genesis.OrgID) string {
	ss := make([]string, len(ids))
	for i, o := range ids {
		ss[i] = n.name(o)
	}
	slices.Sort(ss) // IDs are random; names read in a stable order
	return dash(strings.Join(ss, ", "))
}

// whenForms says what parseWhen accepts, for error messages and help.
const whenForms = "YYYY-MM-DD (UTC midnight), RFC 3339 (2026-06-01T12:00:00Z), now, today, tomorrow, or a time from now such as 12h, 30d or 2w"

var relativeWhen = regexp.MustCompile(`^\+?([0-9]{1,7})([hdw])$`)

// parseWhen accepts whenForms; "" gives def. Relative forms count from
// now; today and tomorrow are UTC midnights.
func parseWhen(s string, def, now time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if now.Location() != time.UTC {
		u := now.UTC()
		today = time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
	}
	switch s {
	case "now":
		return now, nil
	case "today":
		return today, nil
	case "tomorrow":
		return today.AddDate(0, 0, 1), nil
	}
	if m := relativeWhen.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		var t time.Time
		switch m[2] {
		case "h":
			t = now.Add(time.Duration(n) * time.Hour)
		case "d":
			t = now.AddDate(0, 0, n)
		case "w":
			t = now.AddDate(0, 0, 7*n)
		}
		if t.Year() > 9999 {
			return time.Time{}, fmt.Errorf("%q is after the year 9999", s)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date or time; use %s", s, whenForms)
}
