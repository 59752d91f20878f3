package audit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/genesis-science/genesis/internal/audit"
)

// The lifecycle the platform follows: a key in the data directory, the log
// opened at start-up, AU-5 appends for NATIONAL-SECURITY actions, fast ones
// otherwise, Close at shutdown, and offline verification and proofs.
func Example() {
	ctx := context.Background()
	data, _ := os.MkdirTemp("", "genesis-data")
	defer os.RemoveAll(data)

	keyFile := filepath.Join(data, "audit.key")
	if _, err := audit.WriteKeyFiles(keyFile, audit.Origin("deployment-1")); err != nil {
		panic(err)
	}
	signer, verifier, err := audit.LoadSigner(keyFile)
	if err != nil {
		panic(err)
	}
	logDir := filepath.Join(data, "audit")
	l, err := audit.Open(ctx, logDir, audit.Options{Signer: signer, Verifier: verifier})
	if err != nil {
		panic(err)
	}
	rec := audit.Record{
		Principal: "alice", Action: "read", ObjectType: "dataset", ObjectID: "ds-42",
		Decision: audit.Allow, LabelHash: []byte{1, 2, 3}, RequestID: "req-1",
	}
	// NATIONAL-SECURITY: durable and checkpointed before the action proceeds.
	if _, err := l.AppendSync(ctx, rec); err != nil {
		panic("fail the action: " + err.Error())
	}
	// Others: fast path.
	rec.ObjectID = "ds-43"
	if _, err := l.Append(ctx, rec); err != nil {
		panic(err)
	}
	if err := l.Close(); err != nil {
		panic(err)
	}

	// genesis audit verify
	rep, err := audit.Verify(ctx, logDir, verifier)
	fmt.Println("intact:", err == nil && rep.Intact(), "entries:", rep.Entries)

	// genesis audit proof 0, checked with only the public key
	pub, _ := audit.LoadVerifier(keyFile + ".pub")
	snap, _ := audit.OpenSnapshot(ctx, logDir, pub)
	defer snap.Close()
	p, _ := snap.Proof(ctx, 0)
	cp, r, err := audit.VerifyProof(p, pub)
	fmt.Println("proof ok:", err == nil, "object:", r.ObjectID, "tree size:", cp.Size)
	// Output:
	// intact: true entries: 2
	// proof ok: true object: ds-42 tree size: 2
}
