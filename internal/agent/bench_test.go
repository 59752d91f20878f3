package agent_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/agent"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// BenchmarkHypothesize times one LBD + gap run on SQLite over a synthetic
// corpus (docs documents of three paragraphs drawn from a 300-word
// vocabulary, a band-gap fact in every third), and reports the passages a
// run reads and the hypotheses it makes.
func BenchmarkHypothesize(b *testing.B) {
	for _, docs := range []int{100, 400} {
		b.Run(fmt.Sprintf("docs=%d", docs), func(b *testing.B) {
			w := newWorld(b, storetest.Migrated(b, storetest.SQLite), nil)
			rng := rand.New(rand.NewPCG(1, 2))
			vocab := make([]string, 300)
			for i := range vocab {
				vocab[i] = fmt.Sprintf("term%03dx", i)
			}
			var corpus []lit.Document
			for i := range docs {
				var paras []string
				for range 3 {
					var ws []string
					for range 12 {
						// Zipf-like: low terms are common.
						ws = append(ws, vocab[int(float64(len(vocab))*rng.Float64()*rng.Float64())])
					}
					paras = append(paras, strings.Join(ws, " ")+".")
				}
				if i%3 == 0 {
					paras = append(paras, fmt.Sprintf("The band gap of %s is %.2f eV at 300 K.", formulas[i%len(formulas)], 1+rng.Float64()))
				}
				corpus = append(corpus, doc(fmt.Sprintf("Synthetic %d", i), paras...))
			}
			w.put(w.bob, "OPEN", corpus...)
			req := agent.HypothesizeRequest{Topic: "term040x", Target: &agent.Target{Property: "band_gap", Value: 1.5, Unit: "eV"}, Methods: []string{"lbd", "gap"}, Limit: 20}
			var read, hyps int
			b.ResetTimer()
			for range b.N {
				run, err := w.ag.Hypothesize(ctx, w.bob, req)
				if err != nil {
					b.Fatal(err)
				}
				read, hyps = len(run.Read), len(run.Hypotheses)
			}
			b.ReportMetric(float64(read), "passages_read")
			b.ReportMetric(float64(hyps), "hypotheses")
		})
	}
}
