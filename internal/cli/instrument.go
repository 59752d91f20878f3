package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/instruments"
	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"
)

func init() {
	prev := extraCommands
	extraCommands = func(env *Env) []*cobra.Command {
		return append(prev(env), instrumentCmd(env), workcellCmd(env))
	}
}

// instrumentPath is the API path of one instrument, with an optional verb.
func instrumentPath(name string, verb ...string) string {
	p := "/api/v1/instruments/" + url.PathEscape(name)
	for _, v := range verb {
		p += "/" + v
	}
	return p
}

// readSpecFile reads an instrument spec in YAML or JSON; unknown fields
// are refused, so a misspelt bound is not silently ignored.
func readSpecFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return errors.E(errors.Invalid, errors.Field("file"), errors.Msg(err.Error()))
	}
	js, err := yaml.YAMLToJSON(b)
	if err != nil {
		return errors.E(errors.Invalid, errors.Field("file"), errors.Msg(path+" is neither YAML nor JSON: "+err.Error()))
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.E(errors.Invalid, errors.Field("file"), errors.Msg(path+": "+err.Error()))
	}
	return nil
}

// parseBound reads --bound ACTION.PARAM.min=N, .max=N or .choices=A|B.
func parseBound(b instruments.Bounds, s string) error {
	bad := errors.E(errors.Invalid, errors.Field("bound"), errors.Msg("--bound takes ACTION.PARAM.min=N, ACTION.PARAM.max=N or ACTION.PARAM.choices=A|B, e.g. heat.temperature.max=120"))
	key, val, ok := strings.Cut(s, "=")
	parts := strings.Split(key, ".")
	if !ok || len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return bad
	}
	if b[parts[0]] == nil {
		b[parts[0]] = map[string]instruments.Bound{}
	}
	bd := b[parts[0]][parts[1]]
	switch parts[2] {
	case "min", "max":
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return bad
		}
		if parts[2] == "min" {
			bd.Min = &v
		} else {
			bd.Max = &v
		}
	case "choices":
		bd.Choices = strings.Split(val, "|")
	default:
		return bad
	}
	b[parts[0]][parts[1]] = bd
	return nil
}

func instrumentCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "instrument", Short: "Lab instruments: actions with safety bounds, accreditation, status, emergency stop, locks and approvals"}

	var spec instruments.Spec
	var file, settings string
	var nats, bounds []string
	add := &cobra.Command{
		Use:   "add [NAME] (-f FILE | --kind KIND --accreditation MARKING …)",
		Short: "Register an instrument (operators); its driver's description is read now",
		Long: `Registers an instrument. Give its spec in a YAML or JSON file (-f), with
the same fields as the API (name, kind, endpoint, settings, lab, location,
owner_org, operator_nationalities, workcell, accreditation, bounds), and/or
as flags, which override the file. Operator bounds may only narrow the
driver's: --bound heat.temperature.max=120.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var s instruments.Spec
			if file != "" {
				if err := readSpecFile(file, &s); err != nil {
					return err
				}
			}
			fl := cmd.Flags()
			if len(args) == 1 {
				s.Name = args[0]
			}
			for flag, set := range map[string]func(){
				"kind": func() { s.Kind = spec.Kind }, "endpoint": func() { s.Endpoint = spec.Endpoint },
				"lab": func() { s.Lab = spec.Lab }, "location": func() { s.Location = spec.Location },
				"owner-org": func() { s.OwnerOrg = spec.OwnerOrg }, "workcell": func() { s.Workcell = spec.Workcell },
				"accreditation":        func() { s.Accreditation = spec.Accreditation },
				"operator-nationality": func() { s.Nationalities = splitList(nats) },
				"settings":             func() { s.Settings = json.RawMessage(settings) },
			} {
				if fl.Changed(flag) {
					set()
				}
			}
			if s.Name == "" {
				return errors.E(errors.Invalid, errors.Field("name"), errors.Msg("name the instrument (an argument, or name: in the file)"))
			}
			if settings != "" && !json.Valid([]byte(settings)) {
				return errors.E(errors.Invalid, errors.Field("settings"), errors.Msg("--settings takes a JSON object"))
			}
			if len(bounds) > 0 && s.Bounds == nil {
				s.Bounds = instruments.Bounds{}
			}
			for _, b := range bounds {
				if err := parseBound(s.Bounds, b); err != nil {
					return err
				}
			}
			c, err := env.client()
			if err != nil {
				return err
			}
			var in instruments.Instrument
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/instruments", s, &in); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Added %s instrument %s (%s, %d actions), accredited for %s, status %s.\n", in.Kind, in.Name, dash(in.Model), len(in.Actions), in.Accreditation, in.Status)
			return nil
		},
	}
	f := add.Flags()
	f.StringVarP(&file, "file", "f", "", "instrument spec, YAML or JSON")
	f.StringVar(&spec.Kind, "kind", "", "driver kind (sim, madsci, table…)")
	f.StringVar(&spec.Endpoint, "endpoint", "", "the node's URL, or what the driver kind expects")
	f.StringVar(&settings, "settings", "", "driver settings, a JSON object (stored, never shown)")
	f.StringVar(&spec.Lab, "lab", "", "the lab it is in")
	f.StringVar(&spec.Location, "location", "", "where in the lab")
	f.StringVar(&spec.OwnerOrg, "owner-org", "", "the organisation that owns it")
	f.StringSliceVar(&nats, "operator-nationality", nil, "nationalities of its operators (for REL TO labels)")
	f.StringVar(&spec.Workcell, "workcell", "", "the workcell it belongs to")
	f.StringVar(&spec.Accreditation, "accreditation", "", "the highest label it may process, e.g. OPEN")
	f.StringArrayVar(&bounds, "bound", nil, "operator safety bound, ACTION.PARAM.min|max=N or ACTION.PARAM.choices=A|B (repeatable)")

	var listJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List instruments",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var l httpapi.List[instruments.Instrument]
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/instruments", nil, &l); err != nil {
				return err
			}
			return env.output(listJSON, l.Items, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "NAME\tKIND\tSTATUS\tACCREDITATION\tWORKCELL\tLAB\tLOCKED BY")
				for _, in := range l.Items {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", in.Name, in.Kind, in.Status, in.Accreditation, dash(in.Workcell), dash(in.Lab), dash(in.LockedBy))
				}
			})
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON")

	var showJSON bool
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show an instrument: its actions with parameters, units and safety bounds, consumables and status",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var in instruments.Instrument
			if err := c.Do(cmd.Context(), http.MethodGet, instrumentPath(args[0]), nil, &in); err != nil {
				return err
			}
			return env.output(showJSON, in, func(w *tabwriter.Writer) { printInstrument(w, &in) })
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")

	remove := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove an instrument (refused while locked or running an action)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			if err := c.Do(cmd.Context(), http.MethodDelete, instrumentPath(args[0]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Removed %s.\n", args[0])
			return nil
		},
	}

	var reason string
	setStatus := &cobra.Command{
		Use:   "set-status NAME idle|offline|maintenance [--reason TEXT]",
		Short: "Hold an instrument offline or for maintenance, or bring it back (idle)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var in instruments.Instrument
			if err := c.Do(cmd.Context(), http.MethodPost, instrumentPath(args[0], "status"), httpapi.InstrumentStatusRequest{Status: args[1], Reason: reason}, &in); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s is %s%s.\n", in.Name, in.Status, reasonSuffix(in.StatusReason))
			return nil
		},
	}
	setStatus.Flags().StringVar(&reason, "reason", "", "why")

	var all bool
	estop := &cobra.Command{
		Use:   "estop NAME | --all",
		Short: "EMERGENCY STOP: halt dispatch to an instrument (or all) at once and pause the campaigns using it",
		Args: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) == 1) || len(args) > 1 {
				return &usageError{msg: "name one instrument, or give --all"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			if all {
				var out httpapi.EStopAllResponse
				if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/instruments/estop", nil, &out); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "E-stopped %d instruments. Clear each with 'genesis instrument reset NAME'.\n", out.Stopped)
				return nil
			}
			var in instruments.Instrument
			if err := c.Do(cmd.Context(), http.MethodPost, instrumentPath(args[0], "estop"), nil, &in); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s is e-stopped. Clear it with 'genesis instrument reset %s'.\n", in.Name, in.Name)
			return nil
		},
	}
	estop.Flags().BoolVar(&all, "all", false, "stop every instrument")

	verb := func(use, short, path, done string) *cobra.Command {
		return &cobra.Command{
			Use:   use + " NAME",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := env.client()
				if err != nil {
					return err
				}
				var in instruments.Instrument
				if err := c.Do(cmd.Context(), http.MethodPost, instrumentPath(args[0], path), nil, &in); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "%s %s; status %s.\n", in.Name, done, in.Status)
				return nil
			},
		}
	}
	reset := verb("reset", "Clear an emergency stop (after the instrument takes its reset command)", "reset", "is reset")
	unlock := verb("unlock", "Release an instrument's campaign lock", "unlock", "is unlocked")
	refresh := verb("refresh", "Read an instrument's description from its driver again", "refresh", "was read again")

	var campaign string
	lock := &cobra.Command{
		Use:   "lock NAME --campaign CAMPAIGN",
		Short: "Reserve an instrument for one campaign; others' actions are refused until unlock",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var in instruments.Instrument
			if err := c.Do(cmd.Context(), http.MethodPost, instrumentPath(args[0], "lock"), httpapi.LockRequest{Campaign: campaign}, &in); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s is locked by campaign %s.\n", in.Name, in.LockedBy)
			return nil
		},
	}
	lock.Flags().StringVar(&campaign, "campaign", "", "the campaign that holds the lock")

	var aprAll, aprJSON bool
	approvals := &cobra.Command{
		Use:   "approvals",
		Short: "Hazardous actions awaiting a named person's approval",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			path := "/api/v1/approvals"
			if aprAll {
				path += "?all=true"
			}
			var l httpapi.List[instruments.Approval]
			if err := c.Do(cmd.Context(), http.MethodGet, path, nil, &l); err != nil {
				return err
			}
			return env.output(aprJSON, l.Items, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "ID\tSTATE\tINSTRUMENT\tACTION\tPARAMS\tCAMPAIGN\tLABEL\tREQUESTED\tDECIDED BY")
				for _, a := range l.Items {
					ps, _ := json.Marshal(a.Params)
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.State, dash(a.Name), a.Action, ps, a.Campaign, a.Label,
						a.RequestedAt.Format(time.RFC3339), dash(a.DecidedBy))
				}
			})
		},
	}
	approvals.Flags().BoolVar(&aprAll, "all", false, "include decided approvals")
	approvals.Flags().BoolVar(&aprJSON, "json", false, "print JSON")

	approve := &cobra.Command{
		Use:   "approve APPROVAL",
		Short: "Approve a hazardous action (a named operator; audited)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var a instruments.Approval
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/approvals/"+url.PathEscape(args[0])+"/approve", nil, &a); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Approved %s: %s on %s for campaign %s.\n", a.ID, a.Action, dash(a.Name), a.Campaign)
			return nil
		},
	}
	var denyReason string
	deny := &cobra.Command{
		Use:   "deny APPROVAL --reason TEXT",
		Short: "Deny a hazardous action; the experiment fails",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var a instruments.Approval
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/approvals/"+url.PathEscape(args[0])+"/deny", httpapi.DenyRequest{Reason: denyReason}, &a); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Denied %s: %s on %s for campaign %s.\n", a.ID, a.Action, dash(a.Name), a.Campaign)
			return nil
		},
	}
	deny.Flags().StringVar(&denyReason, "reason", "", "why (required)")

	c.AddCommand(add, list, show, remove, setStatus, estop, reset, lock, unlock, refresh, approvals, approve, deny)
	return c
}

func reasonSuffix(r string) string {
	if r == "" {
		return ""
	}
	return " (" + r + ")"
}

func bound(p lab.Param) string {
	switch {
	case p.Kind == lab.Choice:
		return strings.Join(p.Choices, " | ")
	case p.Min != nil && p.Max != nil:
		return fmt.Sprintf("[%g, %g]", *p.Min, *p.Max)
	case p.Min != nil:
		return fmt.Sprintf("≥ %g", *p.Min)
	case p.Max != nil:
		return fmt.Sprintf("≤ %g", *p.Max)
	}
	return "-"
}

func printInstrument(w *tabwriter.Writer, in *instruments.Instrument) {
	checked := "-"
	if in.CheckedAt != nil {
		checked = in.CheckedAt.Format(time.RFC3339)
	}
	fmt.Fprintf(w, "name:\t%s\nid:\t%s\nkind:\t%s\nmodel:\t%s\nendpoint:\t%s\nlab:\t%s %s\nowner:\t%s\noperator nationalities:\t%s\nworkcell:\t%s\naccreditation:\t%s\nstatus:\t%s%s\nrunning:\t%d\nlocked by:\t%s\nchecked:\t%s\n",
		in.Name, in.ID, in.Kind, dash(in.Model), dash(in.Endpoint), dash(in.Lab), in.Location, dash(in.OwnerOrg), dash(strings.Join(in.Nationalities, ", ")),
		dash(in.Workcell), in.Accreditation, in.Status, reasonSuffix(in.StatusReason), in.Running, dash(in.LockedBy), checked)
	w.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "ACTION\tPARAM\tKIND\tUNIT\tBOUNDS")
	for _, a := range in.Actions {
		name := a.Name
		if a.Hazardous {
			name += " (hazardous: needs approval)"
		}
		if len(a.Params) == 0 {
			fmt.Fprintf(w, "%s\t-\t\t\t\n", name)
		}
		for i, p := range a.Params {
			if i > 0 {
				name = ""
			}
			kind := string(p.Kind)
			if p.Optional {
				kind += ", optional"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", name, p.Name, kind, dash(p.Unit), bound(p))
		}
		for _, o := range a.Outputs {
			fmt.Fprintf(w, "\t→ %s\toutput\t%s\t\n", o.Name, dash(o.Unit))
		}
	}
	if len(in.Consumables) > 0 {
		w.Flush()
		fmt.Fprintln(w)
		fmt.Fprintln(w, "CONSUMABLE\tLEVEL\tCAPACITY\tUNIT")
		for _, c := range in.Consumables {
			fmt.Fprintf(w, "%s\t%g\t%g\t%s\n", c.Name, c.Level, c.Capacity, dash(c.Unit))
		}
	}
}

func workcellCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "workcell", Short: "Workcells: groups of lab instruments"}
	var spec instruments.WorkcellSpec
	add := &cobra.Command{
		Use:   "add NAME [--lab LAB] [--description TEXT]",
		Short: "Create a workcell (operators); instruments join with 'instrument add --workcell'",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec.Name = args[0]
			c, err := env.client()
			if err != nil {
				return err
			}
			var wc instruments.Workcell
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/workcells", spec, &wc); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Added workcell %s.\n", wc.Name)
			return nil
		},
	}
	add.Flags().StringVar(&spec.Lab, "lab", "", "the lab it is in")
	add.Flags().StringVar(&spec.Description, "description", "", "what it does")

	var listJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List workcells",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var l httpapi.List[instruments.Workcell]
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/workcells", nil, &l); err != nil {
				return err
			}
			return env.output(listJSON, l.Items, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "NAME\tLAB\tINSTRUMENTS")
				for _, wc := range l.Items {
					fmt.Fprintf(w, "%s\t%s\t%s\n", wc.Name, dash(wc.Lab), dash(strings.Join(wc.Instruments, ", ")))
				}
			})
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON")

	var showJSON bool
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a workcell and its instruments",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var wc instruments.Workcell
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/workcells/"+url.PathEscape(args[0]), nil, &wc); err != nil {
				return err
			}
			return env.output(showJSON, wc, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "name:\t%s\nlab:\t%s\ndescription:\t%s\ninstruments:\t%s\n", wc.Name, dash(wc.Lab), dash(wc.Description), dash(strings.Join(wc.Instruments, ", ")))
			})
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")
	c.AddCommand(add, list, show)
	return c
}
