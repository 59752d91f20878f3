package audit

import (
	"context"
	"testing"
)

func BenchmarkVerify1000(b *testing.B) {
	m, v := buildLogFS(b, 1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := VerifyFS(context.Background(), m, v, VerifyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
