package authz

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/genesis-science/genesis/internal/label"
)

// This file is the reference model: the decision written out plainly, with
// maps and switches, from POLICY.md — no Cedar, no label package lattice.
// The differential and exhaustive tests check the engine against it.

// diffCase is one request with all the state it depends on, in plain
// fields so that failing cases can be saved as JSON regression files.
type diffCase struct {
	Seed uint64 `json:"seed"`

	PID          string              `json:"pid"`
	PKind        string              `json:"pkind"`
	POrg         string              `json:"porg"`
	PRoles       []string            `json:"proles"`
	PProjRoles   map[string][]string `json:"pprojroles"`
	PLevel       int                 `json:"plevel"`
	PComps       []string            `json:"pcomps"`
	PNationality string              `json:"pnationality"`

	Action string `json:"action"`

	RType     string   `json:"rtype"`
	RID       string   `json:"rid"`
	RProject  string   `json:"rproject"`
	ROwner    string   `json:"rowner"`
	RLevel    int      `json:"rlevel"`
	RComps    []string `json:"rcomps"`
	RAgrs     []string `json:"ragrs"`
	RRel      []string `json:"rrel"`
	RRelIsSet bool     `json:"rrelisset"`

	Agreements []Agreement `json:"agreements"`
	Now        time.Time   `json:"now"`
}

func (c diffCase) String() string {
	return fmt.Sprintf("seed %d: %s(%s,%s,roles=%v,proj=%v,L%d,%v,%q) %s %s(%q,proj=%q,owner=%q,L%d,%v,agr=%v,rel=%v/%v) agreements=%+v now=%v",
		c.Seed, c.PID, c.PKind, c.POrg, c.PRoles, c.PProjRoles, c.PLevel, c.PComps, c.PNationality, c.Action,
		c.RType, c.RID, c.RProject, c.ROwner, c.RLevel, c.RComps, c.RAgrs, c.RRel, c.RRelIsSet, c.Agreements, c.Now)
}

// engineInputs converts the case into the engine's types.
func (c diffCase) engineInputs() (Principal, Resource, error) {
	cl, err := label.NewClearance(label.Level(c.PLevel), c.PComps, c.PNationality)
	if err != nil {
		return Principal{}, Resource{}, err
	}
	p := Principal{ID: c.PID, Kind: PrincipalKind(c.PKind), Org: c.POrg, Clearance: cl}
	for _, r := range c.PRoles {
		p.Roles = append(p.Roles, Role(r))
	}
	for proj, rs := range c.PProjRoles {
		if p.ProjectRoles == nil {
			p.ProjectRoles = map[string][]Role{}
		}
		for _, r := range rs {
			p.ProjectRoles[proj] = append(p.ProjectRoles[proj], Role(r))
		}
	}
	l, err := label.New(label.Level(c.RLevel), c.RComps, c.RAgrs)
	if err != nil {
		return Principal{}, Resource{}, err
	}
	if c.RRelIsSet {
		if l, err = l.WithReleasableTo(c.RRel...); err != nil {
			return Principal{}, Resource{}, err
		}
	}
	return p, Resource{Type: ResourceType(c.RType), ID: c.RID, Label: l, Project: c.RProject, Owner: c.ROwner}, nil
}

func set(ss ...string) map[string]bool {
	m := make(map[string]bool, len(ss))
	for _, s := range ss {
		m[s] = true
	}
	return m
}

var (
	refRoles   = set("viewer", "contributor", "steward", "operator", "classification-officer", "admin")
	refActions = set("read", "write", "delete", "submit", "operate", "declassify", "administer")
	refTypes   = set("dataset", "model", "publication", "job", "site", "instrument", "campaign", "challenge", "agreement", "principal", "project", "policy", "audit")
)

// reference returns allow, not-exist or permission.
func reference(c diffCase) string {
	if !refActions[c.Action] || !refTypes[c.RType] || c.RID == "" || c.PID == "" {
		return "not-exist"
	}
	if c.PKind != "user" && c.PKind != "service" {
		return "not-exist"
	}
	roles := map[string]bool{}
	for _, r := range c.PRoles {
		if !refRoles[r] {
			return "not-exist"
		}
		roles[r] = true
	}
	for proj, rs := range c.PProjRoles {
		for _, r := range rs {
			if !refRoles[r] {
				return "not-exist"
			}
			if proj == c.RProject && c.RProject != "" {
				roles[r] = true
			}
		}
	}

	// Agreements held now, and what they grant.
	held, comps := map[string]bool{}, map[string]bool{}
	for _, x := range c.PComps {
		comps[strings.ToUpper(x)] = true
	}
	for _, a := range c.Agreements {
		inForce := !a.Ended && !a.NotBefore.IsZero() && !a.NotAfter.IsZero() &&
			(c.Now.Equal(a.NotBefore) || c.Now.After(a.NotBefore)) && c.Now.Before(a.NotAfter)
		if !inForce || c.POrg == "" || !slices.Contains(a.Parties, c.POrg) {
			continue
		}
		held[strings.ToUpper(a.ID)] = true
		for _, x := range a.Compartments {
			comps[strings.ToUpper(x)] = true
		}
	}

	// No read up.
	lattice := c.PLevel >= c.RLevel
	for _, x := range c.RComps {
		lattice = lattice && comps[strings.ToUpper(x)]
	}
	for _, x := range c.RAgrs {
		lattice = lattice && held[strings.ToUpper(x)]
	}
	if c.RRelIsSet {
		ok := false
		for _, n := range c.RRel {
			if c.PNationality != "" && strings.EqualFold(n, c.PNationality) {
				ok = true
			}
		}
		lattice = lattice && ok
	}

	policy := func(act string) bool {
		any := func(rs ...string) bool {
			for _, r := range rs {
				if roles[r] {
					return true
				}
			}
			return false
		}
		typ := c.RType
		in := func(ts ...string) bool { return slices.Contains(ts, typ) }
		owner := c.ROwner == c.PID
		nat := strings.ToUpper(c.PNationality)

		// Forbids win.
		for _, x := range c.RComps {
			switch strings.ToUpper(x) {
			case "ITAR", "EXPORT-CONTROLLED", "EAR":
				if nat != "USA" {
					return false
				}
			}
		}
		if c.PKind == "service" && (act == "declassify" || act == "administer") {
			return false
		}
		if act == "declassify" && owner {
			return false
		}
		if typ == "audit" && (act == "write" || act == "delete") {
			return false
		}

		science := in("dataset", "model", "publication", "job", "campaign", "challenge")
		switch {
		case roles["admin"] && act != "declassify":
			return true
		case act == "read":
			return any("viewer", "contributor", "steward", "operator", "classification-officer", "admin") && !in("agreement", "principal", "policy", "audit") ||
				c.RLevel == int(label.Open) && !in("job", "agreement", "principal", "policy", "audit") ||
				owner && !in("policy", "audit") ||
				in("agreement", "policy", "audit") && any("steward", "classification-officer") ||
				typ == "principal" && any("classification-officer")
		case act == "write":
			return science && any("contributor", "steward") ||
				owner && in("dataset", "model", "publication", "job", "campaign") ||
				typ == "project" && any("steward") ||
				in("site", "instrument") && any("operator") ||
				typ == "principal" && any("classification-officer")
		case act == "delete":
			return science && any("steward") ||
				owner && in("dataset", "model", "publication", "job", "campaign") ||
				in("site", "instrument") && any("operator")
		case act == "submit":
			return in("job", "campaign") && any("contributor", "steward") ||
				owner && in("dataset", "model", "publication", "job", "campaign") ||
				in("site", "instrument") && any("contributor", "steward", "operator")
		case act == "operate":
			return in("site", "instrument", "job", "campaign") && any("operator")
		case act == "declassify":
			return in("dataset", "model", "publication") && any("classification-officer")
		case act == "administer":
			return typ == "project" && any("steward") ||
				typ == "principal" && any("classification-officer")
		}
		return false
	}

	if !lattice || !policy("read") {
		return "not-exist"
	}
	if c.Action == "read" || policy(c.Action) {
		return "allow"
	}
	return "permission"
}

// Universes for random cases: small, so that matches are frequent.
var (
	genComps   = []string{"FUSION", "ITAR", "BIO", "EXPORT-CONTROLLED", "EAR"}
	genAgrs    = []string{"CRADA-0042", "DUA-7", "NDA-1"}
	genNations = []string{"USA", "GBR", "CAN"}
	genOrgs    = []string{"doe-lab", "acme", "oxford"}
	genIDs     = []string{"u1", "u2", "u3"}
	genProj    = []string{"p1", "p2"}
	genRoles   = []string{"viewer", "contributor", "steward", "operator", "classification-officer", "admin"}
	genBase    = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
)

func subsetOf(r *rand.Rand, from []string, p int) []string {
	var out []string
	for _, s := range from {
		if r.IntN(p) == 0 {
			out = append(out, s)
		}
	}
	return out
}

// genCase derives a case from its seed alone.
func genCase(seed uint64) diffCase {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	c := diffCase{Seed: seed}
	c.PID = genIDs[r.IntN(len(genIDs))]
	if r.IntN(200) == 0 {
		c.PID = ""
	}
	c.PKind = []string{"user", "service"}[r.IntN(2)]
	if r.IntN(200) == 0 {
		c.PKind = "robot"
	}
	if r.IntN(5) > 0 {
		c.POrg = genOrgs[r.IntN(len(genOrgs))]
	}
	c.PRoles = subsetOf(r, genRoles, 6)
	if r.IntN(200) == 0 {
		c.PRoles = append(c.PRoles, "superuser")
	}
	for _, p := range genProj {
		if rs := subsetOf(r, genRoles, 4); len(rs) > 0 {
			if c.PProjRoles == nil {
				c.PProjRoles = map[string][]string{}
			}
			c.PProjRoles[p] = rs
		}
	}
	c.PLevel = max(r.IntN(3), r.IntN(3))
	c.PComps = subsetOf(r, genComps, 1+r.IntN(2))
	if r.IntN(6) > 0 {
		c.PNationality = genNations[r.IntN(len(genNations))]
	}
	c.Action = string(Actions[r.IntN(len(Actions))])
	if r.IntN(200) == 0 {
		c.Action = "fly"
	}
	types := ResourceTypes()
	c.RType = string(types[r.IntN(len(types))])
	if r.IntN(200) == 0 {
		c.RType = "spaceship"
	}
	c.RID = fmt.Sprintf("r%d", r.IntN(3))
	if r.IntN(200) == 0 {
		c.RID = ""
	}
	if r.IntN(3) > 0 {
		c.RProject = genProj[r.IntN(len(genProj))]
	}
	if r.IntN(2) == 0 {
		c.ROwner = genIDs[r.IntN(len(genIDs))]
	}
	c.RLevel = min(r.IntN(3), r.IntN(3))
	c.RComps = subsetOf(r, genComps, 8)
	c.RAgrs = subsetOf(r, genAgrs, 6)
	if r.IntN(3) == 0 {
		c.RRelIsSet = true
		c.RRel = subsetOf(r, genNations, 2)
	}
	c.Now = genBase.Add(time.Duration(r.IntN(48)-24) * time.Hour)
	for _, id := range genAgrs {
		if r.IntN(4) == 0 {
			continue
		}
		a := Agreement{ID: id, Type: CRADA, Parties: subsetOf(r, genOrgs, 2)}
		if r.IntN(10) > 0 {
			a.NotBefore = genBase.Add(time.Duration(r.IntN(48)-40) * time.Hour)
			a.NotAfter = a.NotBefore.Add(time.Duration(r.IntN(48)) * time.Hour)
		}
		a.Ended = r.IntN(8) == 0
		a.Compartments = subsetOf(r, genComps, 5)
		if r.IntN(3) == 0 {
			a.ID = strings.ToLower(a.ID) // IDs match case-insensitively
		}
		c.Agreements = append(c.Agreements, a)
	}
	return c
}
