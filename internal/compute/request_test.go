package compute

import (
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
)

func TestRequestValidate(t *testing.T) {
	spec := &JobSpec{Executable: "/bin/true", Attributes: Attributes{Duration: Duration(time.Minute)}}
	for _, tc := range []struct {
		name  string
		req   Request
		field string // "" = valid
	}{
		{"ok", Request{ID: "j1", Spec: spec, WorkDir: "/w"}, ""},
		{"bad id", Request{ID: ".j", Spec: spec, WorkDir: "/w"}, "id"},
		{"no spec", Request{ID: "j1", WorkDir: "/w"}, "spec"},
		{"bad spec", Request{ID: "j1", Spec: &JobSpec{Executable: "/bin/true"}, WorkDir: "/w"}, "attributes.duration"},
		{"relative workdir", Request{ID: "j1", Spec: spec, WorkDir: "w"}, "workdir"},
	} {
		err := tc.req.Validate()
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.field != "" && (!errors.Is(errors.Invalid, err) || errors.FieldOf(err) != tc.field):
			t.Errorf("%s: %v (field %q), want Invalid naming %q", tc.name, err, errors.FieldOf(err), tc.field)
		}
	}
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct{ base, p, want string }{
		{"/w", "", "/w"},
		{"/w", "run", "/w/run"},
		{"/w", "/abs/../x", "/x"},
		{"/w", "a/../b", "/w/b"},
	} {
		if got := Resolve(tc.base, tc.p); got != tc.want {
			t.Errorf("Resolve(%q, %q) = %q, want %q", tc.base, tc.p, got, tc.want)
		}
	}
}
