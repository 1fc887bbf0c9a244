// Package sweep runs what-if studies over the accelerator design space: a study file
// (docs/studies/README.md) names workloads (models × forms × input sizes × batches), a
// base hardware, axes over hardware fields (lists, ranges, zipped groups), constraints and
// Pareto objectives; Points expands the grid in a fixed order, Run simulates the points in
// one process on all cores and streams rows to CSV or JSON Lines in point order, resumes a
// killed run, runs one shard of n, and Merge joins shards into the unsharded file byte for
// byte.
//
// Invariants: a point's index is its position in the full grid before constraints, so it
// does not depend on the shard, the resume or the number of workers; results files are
// always in point order; the pareto column is filled only when a run or merge finishes,
// over the objectives its header names; the study is never mutated after Parse.
package sweep
