package lease_test

import (
	"context"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/lease"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// BenchmarkLease measures one Acquire+Release round and one Renew on each
// backend (the store round trips a lease costs a replica: a Renew every
// TTL/3 per held lease, an Acquire every Retry per lease held elsewhere).
func BenchmarkLease(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		open := storetest.Backends()[name]
		b.Run(name, func(b *testing.B) {
			db := storetest.Migrated(b, open)
			ls := lease.New(db)
			ctx := context.Background()
			b.Run("acquire+release", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					l, ok, err := ls.Acquire(ctx, "bench-acquire", "replica-a", time.Minute)
					if err != nil || !ok {
						b.Fatal(ok, err)
					}
					if err := ls.Release(ctx, l.Name, l.Holder, l.Token); err != nil {
						b.Fatal(err)
					}
				}
			})
			if _, ok, err := ls.Acquire(ctx, "bench-held", "replica-a", time.Hour); err != nil || !ok {
				b.Fatal(ok, err)
			}
			b.Run("acquire-refused", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if _, ok, err := ls.Acquire(ctx, "bench-held", "replica-b", time.Minute); err != nil || ok {
						b.Fatal(ok, err)
					}
				}
			})
			l, ok, err := ls.Acquire(ctx, "bench-renew", "replica-a", time.Hour)
			if err != nil || !ok {
				b.Fatal(ok, err)
			}
			b.Run("renew", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if _, err := ls.Renew(ctx, l.Name, l.Holder, l.Token, time.Minute); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
