package search

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
)

// visibility is a Visibility normalised for SQL: sorted, unique class lists,
// owner classes that are not already readable.
type visibility struct {
	all   []ClassID
	owned []ClassID
	owner string
}

func normalize(v Visibility) visibility {
	all := uniq(v.ReadableClasses)
	var owned []ClassID
	if v.Owner != "" {
		for _, c := range uniq(v.OwnerReadableClasses) {
			if _, ok := slices.BinarySearch(all, c); !ok {
				owned = append(owned, c)
			}
		}
	}
	return visibility{all: all, owned: owned, owner: v.Owner}
}

func uniq(in []ClassID) []ClassID {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

func intList(ids []ClassID) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(int64(id), 10))
	}
	return b.String()
}

// sql renders the readability predicate. classExpr yields a row's class ID;
// ownerPred is a predicate with one '?' comparing the row's owner. Class IDs
// are integers formatted here, never caller text.
func (v visibility) sql(classExpr, ownerPred string) (string, []any) {
	var parts []string
	var args []any
	if len(v.all) > 0 {
		parts = append(parts, classExpr+" IN ("+intList(v.all)+")")
	}
	if len(v.owned) > 0 {
		parts = append(parts, "("+classExpr+" IN ("+intList(v.owned)+") AND "+ownerPred+")")
		args = append(args, v.owner)
	}
	if len(parts) == 0 {
		return "1 = 0", nil
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}

// VisibilityFor decides every class for principal p with az: a class is
// readable if p may read a resource of its kind, label and project owned by
// someone else; readable to the owner if p may read it as its owner.
// Decisions depend on nothing else in a resource (the policy does not look
// at resource IDs), which is what makes classes exact. A class whose label
// does not parse is unreadable (fail closed); an authorizer error is
// returned and nothing is readable.
func VisibilityFor(ctx context.Context, classes []Class, az *authz.Authorizer, p authz.Principal) (Visibility, error) {
	const op errors.Op = "search.VisibilityFor"
	var rs []authz.Resource
	var ids []ClassID
	for _, c := range classes {
		l, err := label.Parse(c.Label)
		if err != nil {
			continue
		}
		typ := authz.ResourceType(c.Kind)
		if c.Kind == KindPassage {
			// A passage is read exactly when its publication is.
			typ = authz.Publication
		}
		r := authz.Resource{Type: typ, ID: "search-class-" + strconv.FormatInt(int64(c.ID), 10), Label: l, Project: c.Project}
		other := r
		other.Owner = "\x00nobody"
		rs = append(rs, other)
		owned := r
		owned.Owner = p.ID
		rs = append(rs, owned)
		ids = append(ids, c.ID)
	}
	ok, err := az.Readable(ctx, p, rs)
	if err != nil {
		return Visibility{}, errors.E(op, err)
	}
	v := Visibility{Owner: p.ID}
	for i, id := range ids {
		if ok[2*i] {
			v.ReadableClasses = append(v.ReadableClasses, id)
		} else if ok[2*i+1] && p.ID != "" {
			v.OwnerReadableClasses = append(v.OwnerReadableClasses, id)
		}
	}
	return v, nil
}
