// Package sim models a systolic-array accelerator (design.md §4) running a list of layers.
// It has three engines, all behind plain function calls, none of which reads a file:
//
//   - Simulate, the native analytical model (the default): convolutions lowered to per-group
//     GEMMs with padding, stride, groups and batch; folds pipelined (the next fold's fill
//     overlaps the current drain, stationary operands double-buffered); partial sums kept in
//     the accumulator; a small mapspace of loop orders and tile sizes searched for the least
//     DRAM traffic; DRAM stalls as a per-tile roofline with the first load and last drain
//     exposed; layer-to-layer residency; vector layers (pooling, add, ReLU, ...) on a vector
//     unit; energy from the hw.Config's per-access table. Per layer and in total: cycles,
//     stalls, utilization, SRAM and DRAM bytes per operand, energy by component, latency,
//     throughput, achieved TOPS. A whole network costs tens of microseconds.
//   - SimulateScaleSim, the compatibility engine: SCALE-Sim v2.0.2's numbers in CALC mode,
//     identical in every report column (cycles, utilizations, SRAM and DRAM counts with
//     their start and stop cycles, bandwidths), including its DRAM read counts, which come
//     from an exact emulation of SCALE-Sim's set-based read buffers and its write buffer
//     over the demand streams, computed without materializing them. RepVGG-A0 takes a few
//     hundred milliseconds (SCALE-Sim: minutes and gigabytes).
//   - StepGEMM and StepSchedule, a slow, obviously correct cycle-stepped engine that moves
//     tagged operands through a real R×C grid of processing elements, checks the product, and
//     counts cycles and MACs; the tests use it to pin both analytical conventions (FoldGrid)
//     and the cycles of every mapping the native engine can choose.
//
// Invariants the tests hold the native engine to: MACs are exact; cycles ≥ MACs/(R·C);
// utilization ≤ 1; DRAM traffic ≥ the unique bytes of each operand not resident on chip;
// more DRAM bandwidth never makes a layer slower; more SRAM never adds DRAM traffic.
//
// The formulas, the SCALE-Sim conventions and quirks, and where the native model departs
// from SCALE-Sim are in docs/simulator.md.
package sim
