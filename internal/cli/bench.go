package cli

import (
	stderrors "errors"
	"flag"

	"github.com/genesis-science/genesis/internal/bench"
	"github.com/genesis-science/genesis/internal/bench/campaignbench"
	"github.com/genesis-science/genesis/internal/bench/litbench"
	"github.com/spf13/cobra"
)

func benchCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "bench", Short: "Run Genesis's benchmarks"}
	c.AddCommand(&cobra.Command{
		Use:   "optimizer [flags]",
		Short: "Benchmark the Bayesian optimiser against random search and published anchors",
		Long: `Runs the optimiser benchmark suite (synthetic functions and real experiment
tables) or any experiment table you bring (--table PATH), and prints per
problem our median and mean best-so-far next to random search and the
published anchor. Run 'genesis bench optimizer -h' for its flags.`,
		DisableFlagParsing: true, // the bench package parses its own flags
		RunE: func(cmd *cobra.Command, args []string) error {
			err := bench.RunOptimizer(cmd.Context(), args, env.Stdout, env.Stderr)
			if stderrors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		},
	})
	c.AddCommand(&cobra.Command{
		Use:   "campaign --table PATH [flags]",
		Short: "Replay an experiment table through the whole platform and compare with the optimizer alone",
		Long: `Runs, per seed, a campaign over table instruments that answer from the
table (a metadata store, the instrument registry, the campaign runner:
dispatch, observe, next suggestion), and prints its best-so-far curve next
to 'genesis bench optimizer' on the same table and seeds and to random
search, whether the platform proposed exactly the optimizer's experiments,
and the platform's overhead per experiment. Run 'genesis bench campaign -h'
for its flags.`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			err := campaignbench.Run(cmd.Context(), args, env.Stdout, env.Stderr)
			if stderrors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		},
	})
	c.AddCommand(&cobra.Command{
		Use:   "lit [flags]",
		Short: "Benchmark the literature: import speed, retrieval quality (BM25 and hybrid), extraction quality",
		Long: `Imports the literature test corpus (306 open-access JATS articles,
internal/lit/testdata/corpus) into a fresh store through the library
service and reports documents, passages and megabytes per second; fits an
LSA embedding on the passages in process and embeds them; scores BM25 and
hybrid search on the judged query set (internal/lit/testdata/queries.jsonl)
with recall@10, graded nDCG@10 and MRR; and reports the fact extractor's
precision and recall on its gold set. Run it from a source checkout, or
give --corpus and --queries. Run 'genesis bench lit -h' for its flags.`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			err := litbench.Run(cmd.Context(), args, env.Stdout, env.Stderr)
			if stderrors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		},
	})
	return c
}
