package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/app"
	"github.com/genesis-science/genesis/internal/client"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/spf13/cobra"
)

func loginCmd(env *Env) *cobra.Command {
	var token string
	c := &cobra.Command{
		Use:   "login URL",
		Short: "Check a token against a server and remember both",
		Long: `Check the token against the server at URL and store URL and token in the
user config dir (~/.config/genesis/credentials.json, mode 0600). The token is
read from --token, else GENESIS_TOKEN, else the first line of standard input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			from := "--token"
			if token == "" {
				token, from = env.Getenv("GENESIS_TOKEN"), "GENESIS_TOKEN"
			}
			if token == "" {
				line, _ := bufio.NewReader(env.Stdin).ReadString('\n')
				token, from = strings.TrimSpace(line), "standard input"
			}
			if token == "" {
				return errors.E(errors.Invalid, errors.Msg("no token: pass --token, set GENESIS_TOKEN or pipe it on stdin"))
			}
			c := client.New(args[0], token)
			c.TokenFrom = from
			var me genesis.Principal
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/whoami", nil, &me); err != nil {
				return err
			}
			p := env.credentialsPath()
			if p == "" {
				return errors.E(errors.Invalid, errors.Msg("cannot find a config dir: set HOME or XDG_CONFIG_HOME"))
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
				return err
			}
			b, _ := json.MarshalIndent(credentials{URL: c.BaseURL, Token: token}, "", "  ")
			if err := app.WriteSecretFile(p, append(b, '\n')); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Logged in to %s as %s. Credentials saved in %s.\n", c.BaseURL, me.Name, p)
			return nil
		},
	}
	c.Flags().StringVar(&token, "token", "", "API token (prefer GENESIS_TOKEN or stdin: flags show up in ps)")
	return c
}

func whoamiCmd(env *Env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "whoami",
		Short: "Show the principal the CLI acts as",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var me genesis.Principal
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/whoami", nil, &me); err != nil {
				return err
			}
			return env.output(asJSON, me, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "name:\t%s\nid:\t%s\nkind:\t%s\norg:\t%s\nnationality:\t%s\nroles:\t%s\nclearance:\t%s\nserver:\t%s\n",
					me.Name, me.ID, me.Kind, fetchOrgNames(cmd.Context(), c).name(me.Org), me.Nationality, roles(me.Roles), me.Clearance, c.BaseURL)
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func roles(rs []genesis.Role) string {
	if len(rs) == 0 {
		return "-"
	}
	ss := make([]string, len(rs))
	for i, r := range rs {
		ss[i] = string(r)
	}
	return strings.Join(ss, ",")
}

func adminCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "admin", Short: "Administer principals and organisations"}
	principal := &cobra.Command{Use: "principal", Short: "Manage users and service accounts"}
	principal.AddCommand(principalCreateCmd(env), principalUpdateCmd(env), principalListCmd(env), principalRevokeCmd(env), clearanceCmd(env))
	org := &cobra.Command{Use: "org", Short: "Manage organisations"}
	org.AddCommand(orgCreateCmd(env), orgListCmd(env))
	c.AddCommand(principal, org, compartmentCmd(env), policyCmd(env))
	return c
}

func principalCreateCmd(env *Env) *cobra.Command {
	var req httpapi.CreatePrincipalRequest
	var roleList []string
	var kind, clearance string
	var withToken bool
	var ttl time.Duration
	c := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a principal (and, with --token, an API token for it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			req.Name = args[0]
			req.Kind = genesis.PrincipalKind(kind)
			req.Clearance = &clearance // sent even when empty: the server refuses an empty one
			for _, r := range roleList {
				for _, x := range strings.Split(r, ",") {
					if x = strings.TrimSpace(x); x != "" {
						req.Roles = append(req.Roles, genesis.Role(x))
					}
				}
			}
			var p genesis.Principal
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/principals", req, &p); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Created %s %s (%s).\n", p.Kind, p.Name, p.ID)
			if withToken {
				var nt httpapi.CreateTokenResponse
				body := httpapi.CreateTokenRequest{Name: "cli", ExpiresInSeconds: int64(ttl / time.Second)}
				if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/principals/"+string(p.ID)+"/tokens", body, &nt); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "Token (shown once): %s\n", nt.Secret)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&kind, "kind", "user", "user or service")
	f.StringVar(&req.DisplayName, "display-name", "", "full name")
	f.StringVar(&req.Email, "email", "", "email address")
	f.StringVar(&req.Org, "org", "", "organisation (name or ID)")
	f.StringVar(&req.Nationality, "nationality", "USA", "ISO 3166-1 alpha-3 nationality")
	f.StringSliceVar(&roleList, "role", nil, "global role (repeatable): viewer, contributor, steward, operator, classification-officer, admin")
	f.StringVar(&clearance, "clearance", "OPEN", "clearance marking, e.g. PROPRIETARY//FUSION (compartments must be known)")
	f.StringVar(&req.OIDCIssuer, "oidc-issuer", "", "OIDC issuer whose subject maps to this principal")
	f.StringVar(&req.OIDCSubject, "oidc-subject", "", "OIDC subject")
	f.BoolVar(&withToken, "token", false, "also issue an API token and print it once")
	f.DurationVar(&ttl, "token-ttl", 0, "lifetime of the --token (0: no expiry)")
	return c
}

func principalUpdateCmd(env *Env) *cobra.Command {
	var org string
	var roleList []string
	c := &cobra.Command{
		Use:   "update NAME [--org ORG] [--role ROLE]…",
		Short: "Change a principal's organisation or global roles (--role replaces them all)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var req httpapi.UpdatePrincipalRequest
			if cmd.Flags().Changed("org") {
				req.Org = &org
			}
			if cmd.Flags().Changed("role") {
				rs := []genesis.Role{}
				for _, r := range roleList {
					for _, x := range strings.Split(r, ",") {
						if x = strings.TrimSpace(x); x != "" {
							rs = append(rs, genesis.Role(x))
						}
					}
				}
				req.Roles = &rs
			}
			if req.Org == nil && req.Roles == nil {
				return errors.E(errors.Invalid, errors.Msg("nothing to change: give --org or --role"))
			}
			c, err := env.client()
			if err != nil {
				return err
			}
			var p genesis.Principal
			if err := c.Do(cmd.Context(), http.MethodPatch, "/api/v1/principals/"+pathEscape(args[0]), req, &p); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s: organisation %s, roles %s.\n", p.Name, dash(string(p.Org)), roles(p.Roles))
			return nil
		},
	}
	c.Flags().StringVar(&org, "org", "", "organisation (name or ID; \"\" for none)")
	c.Flags().StringSliceVar(&roleList, "role", nil, "global role (repeatable; replaces all): viewer, contributor, steward, operator, classification-officer, admin")
	return c
}

func principalListCmd(env *Env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List principals",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var l httpapi.List[genesis.Principal]
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/principals", nil, &l); err != nil {
				return err
			}
			return env.output(asJSON, l.Items, func(w *tabwriter.Writer) {
				orgs := fetchOrgNames(cmd.Context(), c)
				fmt.Fprintln(w, "NAME\tKIND\tORG\tNATIONALITY\tROLES\tCLEARANCE\tSTATUS\tID")
				for _, p := range l.Items {
					status := "active"
					if p.Disabled {
						status = "disabled"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Kind, orgs.name(p.Org), p.Nationality, roles(p.Roles), p.Clearance, status, p.ID)
				}
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func principalRevokeCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke NAME",
		Short: "Disable a principal and revoke all its tokens, effective immediately",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var p genesis.Principal
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/principals/"+pathEscape(args[0])+"/disable", nil, &p); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Disabled %s; its tokens no longer work.\n", p.Name)
			return nil
		},
	}
}

func orgCreateCmd(env *Env) *cobra.Command {
	var req httpapi.CreateOrgRequest
	c := &cobra.Command{
		Use:   "create NAME",
		Short: "Register an organisation",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			req.Name = args[0]
			var o genesis.Organization
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/organizations", req, &o); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Created organisation %s (%s).\n", o.Name, o.ID)
			return nil
		},
	}
	c.Flags().StringVar(&req.Country, "country", "USA", "ISO 3166-1 alpha-3 country")
	c.Flags().StringVar(&req.Kind, "kind", "other", "laboratory (or national-lab), university, company, agency, allied-government or other")
	c.Flags().StringVar(&req.DisplayName, "display-name", "", "full name")
	return c
}

func orgListCmd(env *Env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List organisations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var l httpapi.List[genesis.Organization]
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/organizations", nil, &l); err != nil {
				return err
			}
			return env.output(asJSON, l.Items, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "NAME\tKIND\tCOUNTRY\tDISPLAY NAME\tID")
				for _, o := range l.Items {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", o.Name, o.Kind, o.Country, dash(o.DisplayName), o.ID)
				}
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func projectCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "project", Short: "Manage projects and their members"}
	var req httpapi.CreateProjectRequest
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a project (you become its admin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			req.Name = args[0]
			var p genesis.Project
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/projects", req, &p); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Created project %s (%s).\n", p.Name, p.ID)
			return nil
		},
	}
	create.Flags().StringVar(&req.Title, "title", "", "title")
	create.Flags().StringVar(&req.Description, "description", "", "description")
	create.Flags().StringVar(&req.Org, "org", "", "organisation (default: yours)")

	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List your projects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var l httpapi.List[genesis.Project]
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/projects", nil, &l); err != nil {
				return err
			}
			return env.output(asJSON, l.Items, func(w *tabwriter.Writer) {
				orgs := fetchOrgNames(cmd.Context(), c)
				fmt.Fprintln(w, "NAME\tTITLE\tORG\tCREATED\tID")
				for _, p := range l.Items {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", p.Name, dash(p.Title), orgs.name(p.Org), p.CreatedAt.Format("2006-01-02"), p.ID)
				}
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var role string
	add := &cobra.Command{
		Use:   "add-member PROJECT PRINCIPAL",
		Short: "Add a member to a project, or change its role",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var m genesis.Member
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/projects/"+pathEscape(args[0])+"/members",
				httpapi.AddMemberRequest{Principal: args[1], Role: genesis.Role(role)}, &m); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s is now %s in %s.\n", args[1], m.Role, args[0])
			return nil
		},
	}
	add.Flags().StringVar(&role, "role", "viewer", "viewer, contributor, steward, operator, classification-officer or admin")

	var membersJSON bool
	members := &cobra.Command{
		Use:   "members PROJECT",
		Short: "List a project's members",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var l httpapi.List[genesis.Member]
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/projects/"+pathEscape(args[0])+"/members", nil, &l); err != nil {
				return err
			}
			return env.output(membersJSON, l.Items, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "PRINCIPAL\tROLE\tADDED")
				for _, m := range l.Items {
					fmt.Fprintf(w, "%s\t%s\t%s\n", m.Principal, m.Role, m.AddedAt.Format(time.RFC3339))
				}
			})
		},
	}
	members.Flags().BoolVar(&membersJSON, "json", false, "print JSON")
	c.AddCommand(create, list, add, members)
	return c
}

func tokenCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "token", Short: "Manage your API tokens"}
	var name string
	var ttl time.Duration
	create := &cobra.Command{
		Use:   "create",
		Short: "Issue a new token for yourself (shown once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var nt httpapi.CreateTokenResponse
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/tokens", httpapi.CreateTokenRequest{Name: name, ExpiresInSeconds: int64(ttl / time.Second)}, &nt); err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, nt.Secret)
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "cli", "a name to recognise it by")
	create.Flags().DurationVar(&ttl, "ttl", 0, "lifetime (0: no expiry)")
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List your tokens",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var l httpapi.List[genesis.Token]
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/tokens", nil, &l); err != nil {
				return err
			}
			now := time.Now()
			return env.output(asJSON, l.Items, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "ID\tNAME\tCREATED\tEXPIRES\tSTATUS")
				for _, t := range l.Items {
					exp, status := "never", "active"
					if t.ExpiresAt != nil {
						exp = t.ExpiresAt.Format(time.RFC3339)
					}
					if !t.Active(now) {
						status = "inactive"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.CreatedAt.Format(time.RFC3339), exp, status)
				}
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke one of your tokens",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			if err := c.Do(cmd.Context(), http.MethodDelete, "/api/v1/tokens/"+pathEscape(args[0]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Revoked %s.\n", args[0])
			return nil
		},
	}
	c.AddCommand(create, list, revoke)
	return c
}

// compartmentCmd is `genesis admin compartment add|list`: markings may name
// only compartments an administrator registered or an agreement grants.
func compartmentCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "compartment", Short: "Register and list the compartments markings may name"}
	add := &cobra.Command{
		Use:   "add NAME...",
		Short: "Register compartments (e.g. FUSION) so labels and clearances may name them",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := env.client()
			if err != nil {
				return err
			}
			for _, name := range args {
				var out httpapi.Compartment
				if err := cl.Do(cmd.Context(), http.MethodPost, "/api/v1/compartments", httpapi.RegisterCompartmentRequest{Name: name}, &out); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "Compartment %s is known.\n", out.Name)
			}
			return nil
		},
	}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List known compartments (registered, or granted by an agreement)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := env.client()
			if err != nil {
				return err
			}
			var l httpapi.List[httpapi.Compartment]
			if err := cl.Do(cmd.Context(), http.MethodGet, "/api/v1/compartments", nil, &l); err != nil {
				return err
			}
			return env.output(asJSON, l.Items, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "COMPARTMENT")
				for _, c := range l.Items {
					fmt.Fprintln(w, c.Name)
				}
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.AddCommand(add, list)
	return c
}
