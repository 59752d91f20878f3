package httpapi

import (
	"net/http"

	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/authz/policystore"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
)

var policyResource = authz.Resource{Type: authz.PolicyResource, ID: "active", Label: label.MustParse("OPEN")}

// can decides whether the caller may do act on r, through the one
// authorizer. A resource whose existence is public turns NotExist into
// Permission with msg.
func (s *Server) can(r *http.Request, act authz.Action, res authz.Resource, public bool, msg string) error {
	ap, err := s.id.AuthzPrincipal(r.Context(), me(r))
	if err != nil {
		return err
	}
	err = s.authz.Can(r.Context(), ap, act, res)
	if err != nil && public && (errors.Is(errors.NotExist, err) || errors.Is(errors.Permission, err)) {
		return errors.E(errors.Op("httpapi.can"), errors.Permission, errors.Msg(msg))
	}
	return err
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) error {
	if err := s.can(r, authz.Read, policyResource, true, "only stewards, classification officers and administrators read the policy"); err != nil {
		return err
	}
	v, err := policystore.Active(r.Context(), s.db)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// SetPolicyRequest is the body of PUT /api/v1/policy.
type SetPolicyRequest struct {
	Source string `json:"source"`
}

func (s *Server) setPolicy(w http.ResponseWriter, r *http.Request) error {
	if err := s.can(r, authz.Administer, policyResource, true, "only administrators replace the policy"); err != nil {
		return err
	}
	var req SetPolicyRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if len(req.Source) > authz.MaxPolicySize {
		return errors.E(errors.Op("httpapi.setPolicy"), errors.TooLarge, errors.Msg("the policy exceeds its size limit"))
	}
	// Validated (parsed against the schema, lock-out checked) before it is
	// stored, and stored before it is activated.
	v, pol, err := policystore.Save(r.Context(), s.db, string(me(r).ID), []byte(req.Source), s.now())
	if err != nil {
		return err
	}
	if err := s.authz.SetPolicy(pol); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// TestPolicyRequest is the body of POST /api/v1/policy/test.
type TestPolicyRequest struct {
	// Cases is a policy test document (YAML; see internal/authz/testdata).
	Cases string `json:"cases"`
	// Source, if set, is a candidate policy to test instead of the active one.
	Source string `json:"source,omitempty"`
}

// PolicyTestResult is one case's outcome.
type PolicyTestResult struct {
	Name      string `json:"name,omitempty"`
	Principal string `json:"principal"`
	Action    string `json:"action"`
	Resource  string `json:"resource"`
	Expect    string `json:"expect"`
	Got       string `json:"got"`
	OK        bool   `json:"ok"`
}

// TestPolicyResponse sums up a policy test.
type TestPolicyResponse struct {
	Passed  int                `json:"passed"`
	Failed  int                `json:"failed"`
	Results []PolicyTestResult `json:"results"`
}

func (s *Server) testPolicy(w http.ResponseWriter, r *http.Request) error {
	const op errors.Op = "httpapi.testPolicy"
	if err := s.can(r, authz.Read, policyResource, true, "only stewards, classification officers and administrators test the policy"); err != nil {
		return err
	}
	var req TestPolicyRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	cases, err := authz.ParseCases([]byte(req.Cases))
	if err != nil {
		return errors.E(op, errors.Invalid, errors.Field("cases"), errors.Msg(userMsg(err)))
	}
	pol := s.authz.Policy()
	if req.Source != "" {
		if pol, err = authz.ParsePolicy([]byte(req.Source)); err != nil {
			return errors.E(op, errors.Invalid, errors.Field("source"), errors.Msg(userMsg(err)))
		}
	}
	results, err := cases.Run(r.Context(), pol)
	if err != nil {
		return errors.E(op, errors.Invalid, errors.Field("cases"), errors.Msg(userMsg(err)))
	}
	out := TestPolicyResponse{Results: []PolicyTestResult{}}
	for _, cr := range results {
		out.Results = append(out.Results, PolicyTestResult{Name: cr.Case.Name, Principal: cr.Case.Principal, Action: cr.Case.Action,
			Resource: cr.Case.Resource, Expect: cr.Case.Expect, Got: cr.Got, OK: cr.OK})
		if cr.OK {
			out.Passed++
		} else {
			out.Failed++
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// userMsg is err's user-safe message, or its text when it carries none
// (a parser's own error): never the operation names of internal layers.
func userMsg(err error) string {
	if m := errors.SafeMessage(err); m != "" {
		return m
	}
	return err.Error()
}
