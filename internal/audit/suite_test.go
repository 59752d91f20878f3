package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/audit/audittest"
)

func TestLogConformance(t *testing.T) {
	audittest.Run(t, func(t *testing.T) audit.Interface {
		skey, _, err := audit.GenerateKey(audit.Origin("suite"))
		if err != nil {
			t.Fatal(err)
		}
		s, v, err := audit.NewSigner(skey)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		l, err := audit.Open(context.Background(), dir, audit.Options{Signer: s, Verifier: v, FlushInterval: 2 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := l.Close(); err != nil {
				t.Error(err)
			}
			if rep, err := audit.Verify(context.Background(), dir, v); err != nil {
				t.Errorf("log does not verify after the suite: %v %v", err, rep.Problems)
			}
		})
		return l
	})
}

func TestMemoryConformance(t *testing.T) {
	audittest.Run(t, func(t *testing.T) audit.Interface { return audit.NewMemory() })
}
