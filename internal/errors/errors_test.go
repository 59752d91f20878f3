package errors_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
)

func TestKinds(t *testing.T) {
	base := errors.E(errors.Op("store.Get"), errors.NotExist, errors.Msg("not found"))
	wrapped := errors.E(errors.Op("catalog.Get"), base)
	if !errors.Is(errors.NotExist, wrapped) {
		t.Errorf("kind not inherited: %v", errors.KindOf(wrapped))
	}
	if errors.SafeMessage(wrapped) != "not found" {
		t.Errorf("message = %q", errors.SafeMessage(wrapped))
	}
	std := fmt.Errorf("context: %w", wrapped)
	if !errors.Is(errors.NotExist, std) {
		t.Error("kind lost through fmt.Errorf %w")
	}
	outer := errors.E(errors.Op("api"), errors.Internal, wrapped)
	if errors.KindOf(outer) != errors.Internal {
		t.Error("explicit outer kind must win")
	}
	for _, e := range []error{context.Canceled, context.DeadlineExceeded} {
		if k := errors.KindOf(errors.E(errors.Op("x"), e)); k != errors.Canceled {
			t.Errorf("%v → %v, want Canceled", e, k)
		}
		if k := errors.KindOf(fmt.Errorf("w: %w", e)); k != errors.Canceled {
			t.Errorf("wrapped %v → %v", e, k)
		}
	}
	f := errors.E(errors.Op("decode"), errors.Invalid, errors.Field("name"), errors.Msg("bad name"))
	if errors.FieldOf(errors.E(errors.Op("outer"), f)) != "name" {
		t.Error("field lost")
	}
	if errors.Is(errors.Invalid, nil) {
		t.Error("nil has a kind")
	}
	if got := f.Error(); got != `decode: invalid field "name": bad name` {
		t.Errorf("Error() = %q", got)
	}
	// Kind names are stable (they cross the API).
	for k, want := range map[errors.Kind]string{errors.NotExist: "not-exist", errors.Invalid: "invalid", errors.Canceled: "canceled"} {
		if k.String() != want {
			t.Errorf("%d.String() = %q", k, k.String())
		}
	}
}
