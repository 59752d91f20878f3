// Package bo is Genesis's experiment-design engine: Bayesian optimisation with
// exact Gaussian processes, written in Go on gonum.
//
// It supports continuous (optionally log-scaled), integer and categorical
// parameters (categories may carry numeric descriptors), linear constraints,
// pool-based spaces (only rows of a table may be chosen), one to three
// objectives (ParEGO scalarisations for several) and outcome constraints
// (probability of feasibility).
//
// Guarantees:
//   - Pure and seeded: no I/O, no global state, no wall clock. The same Config
//     (including Seed) and the same sequence of Suggest/Observe/Cancel calls give
//     the same suggestions; State/Restore (or MarshalJSON/Resume) reproduce the
//     optimiser exactly, so a campaign resumed after a crash proposes what it
//     would have proposed.
//   - Suggestions lie in the space: inside bounds, integral where required,
//     satisfying linear constraints (within a relative 1e-7), rows of the pool
//     for pool spaces, and never repeating an observed or pending point.
//   - Numerically careful: float64 throughout, a jitter ladder when a Cholesky
//     factorisation fails, the log-space EI of Ament et al. (2023); fitting or
//     prediction failures degrade the model, never produce NaN or a panic.
//
// The surrogate scales inputs to the unit cube and standardises outputs. Its
// kernel is Matérn-5/2 (or RBF) with ARD length-scales on numeric features,
// times exp(−Σ mismatch/ℓ) on categorical ones, with BoTorch-style priors
// (length-scales LogNormal(√2 + ½log d, √3), noise LogNormal(−4, 1) above a
// floor) fitted by MAP with analytic gradients and multi-start L-BFGS, warm
// started from the previous fit. Batches (q > 1) and experiments still running
// are handled by sequential greedy selection with Kriging-believer fantasies.
// Skewed objectives (yields) can be Yeo-Johnson warped (Config.Warp). The
// initial design, n = max(5, min(2d, budget/5)) points, is scrambled Halton or
// digitally shifted Sobol (Config.InitialDesign).
//
// Use: New(Config) → loop { Suggest(ctx, q); run the experiments; Observe(points,
// values) } (Cancel drops experiments that failed). Each values row holds the
// objectives, then the outcome-constraint measurements. Front returns the
// Pareto front; Hypervolume scores it.
package bo
