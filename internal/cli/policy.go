package cli

import (
	"fmt"
	"net/http"
	"os"
	"text/tabwriter"

	"github.com/genesis-science/genesis/internal/authz/policystore"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/spf13/cobra"
)

func policyCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "policy", Short: "Show, replace and test the authorization policy (Cedar)"}
	var asJSON bool
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the active policy",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var v policystore.Version
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/policy", nil, &v); err != nil {
				return err
			}
			if asJSON {
				return env.output(true, v, nil)
			}
			fmt.Fprintf(env.Stdout, "// version %d, set by %s\n%s", v.Version, v.CreatedBy, v.Source)
			return nil
		},
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	set := &cobra.Command{
		Use:         "set FILE",
		Annotations: map[string]string{refsAnnotation: "0"},
		Short:       "Replace the policy with FILE (validated before it is activated)",
		Args:        cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := os.ReadFile(args[0])
			if err != nil {
				return errors.E(errors.Invalid, errors.Msg(err.Error()))
			}
			c, err := env.client()
			if err != nil {
				return err
			}
			var v policystore.Version
			if err := c.Do(cmd.Context(), http.MethodPut, "/api/v1/policy", httpapi.SetPolicyRequest{Source: string(src)}, &v); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Policy version %d is active.\n", v.Version)
			return nil
		},
	}

	var candidate string
	var testJSON bool
	test := &cobra.Command{
		Use:   "test CASES.yaml",
		Short: "Run policy test cases against the active policy (or --policy FILE); exit 1 on any failure",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cases, err := os.ReadFile(args[0])
			if err != nil {
				return errors.E(errors.Invalid, errors.Msg(err.Error()))
			}
			req := httpapi.TestPolicyRequest{Cases: string(cases)}
			if candidate != "" {
				src, err := os.ReadFile(candidate)
				if err != nil {
					return errors.E(errors.Invalid, errors.Msg(err.Error()))
				}
				req.Source = string(src)
			}
			c, err := env.client()
			if err != nil {
				return err
			}
			var res httpapi.TestPolicyResponse
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/policy/test", req, &res); err != nil {
				return err
			}
			if err := env.output(testJSON, res, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "RESULT\tPRINCIPAL\tACTION\tRESOURCE\tEXPECT\tGOT")
				for _, r := range res.Results {
					ok := "ok"
					if !r.OK {
						ok = "FAIL"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", ok, r.Principal, r.Action, r.Resource, r.Expect, r.Got)
				}
				fmt.Fprintf(w, "%d passed, %d failed\n", res.Passed, res.Failed)
			}); err != nil {
				return err
			}
			if res.Failed > 0 {
				return errors.E(errors.Invalid, errors.Msg(fmt.Sprintf("%d policy case(s) failed", res.Failed)))
			}
			return nil
		},
	}
	test.Flags().StringVar(&candidate, "policy", "", "test this candidate policy instead of the active one")
	test.Flags().BoolVar(&testJSON, "json", false, "print JSON")
	c.AddCommand(show, set, test)
	return c
}
