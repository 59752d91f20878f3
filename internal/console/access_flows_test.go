package console

import (
	"testing"
	"time"
)

// TestOIDCFlowsFullEvictOldest fills the sign-in attempts to their bound
// and past it: the attempts stay bounded, the oldest gives way, and a
// new attempt (and every other one still held) can be completed — a
// flood of starts cannot shut sign-in out.
func TestOIDCFlowsFullEvictOldest(t *testing.T) {
	clock := time.Unix(1_700_000_000, 0)
	o := &OIDCSignIn{now: func() time.Time { return clock }, flows: map[string]*oidcFlow{}}
	type attempt struct{ state, binding string }
	var first, second attempt
	for i := range maxOIDCFlows {
		clock = clock.Add(time.Millisecond)
		s, _, _, b := o.start()
		switch i {
		case 0:
			first = attempt{s, b}
		case 1:
			second = attempt{s, b}
		}
	}
	clock = clock.Add(time.Millisecond)
	s, _, _, b := o.start()
	if len(o.flows) != maxOIDCFlows {
		t.Fatalf("%d attempts held, want the bound %d", len(o.flows), maxOIDCFlows)
	}
	if o.take(first.state, first.binding) != nil {
		t.Error("the oldest attempt was kept past the bound")
	}
	if o.take(s, b) == nil {
		t.Error("the newest attempt cannot be completed")
	}
	if o.take(second.state, second.binding) == nil {
		t.Error("an attempt other than the oldest was dropped")
	}
}
