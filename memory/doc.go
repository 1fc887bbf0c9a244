// Package memory analyzes the activation memory of an ir.Graph: which feature maps are live
// at every step, how much storage they need at a data width and batch, how a planner lays
// them out, how much DRAM traffic they cause when the on-chip SRAM is too small, and how
// depth-first (line-buffer) fusion of conv chains changes that traffic. It is the quantitative
// side of the RepVGG paper's argument that a plain (deploy-form) network needs less memory
// than a multi-branch (train-form) one. docs/memory.md has the formulas and measured numbers.
//
// # Schedule and buffers
//
// The schedule is the graph's node order (topological by ir's invariant); step i runs
// g.Nodes[i], step 0 being the input. Every value is stored for the whole batch in
// ceil(C·H·W·batch·bits/8) bytes. A Buffer is a block of storage shared by a value and the
// values that reuse it:
//
//   - Flatten is a view: its result shares its operand's buffer.
//   - In place: a ReLU, BatchNorm, Sigmoid, Add, or Mul (its first operand only) writes its
//     result into the buffer of an operand x when x has the result's shape and no later
//     step reads anything stored in x's buffer. The first such operand wins. Conv, pooling
//     and Linear never run in place (a window op overwrites inputs it still needs).
//
// A buffer is live from the step defining its first value to the last step reading any of
// its values, both inclusive; the graph output's buffer lives to the last step.
//
// # Two peaks
//
// The working set of step i (Step.LiveBytes) is every buffer live at i: the node's operands
// and its result at once, and everything held for later steps. Its maximum, PeakBytes, is the
// lower bound of any placement under this schedule and reuse, and the arena's target.
//
// The resident bytes of step i (Step.ResidentBytes) are the buffers defined at or before i
// and still needed after i (the output counts to the end): as if each op's result took the
// place of the operands that die at it. Its maximum, ResidentPeakBytes, is what the RepVGG
// paper's Fig. 3 draws: a residual block that keeps the feature size holds 2× its input
// (the input kept for the shortcut beside the branch's map), a plain block 1×. The working
// set of the same blocks is 3× and 2× (a conv's input and output coexist).
//
// # Arena
//
// planArena gives every buffer an offset so that buffers live at the same time never
// overlap, with TFLite's greedy-by-size heuristic (largest first, best-fitting gap among the
// time-overlapping buffers already placed). PeakBytes ≤ ArenaBytes ≤ BufferBytes ≤ TotalBytes.
//
// # Spill model
//
// With an on-chip activation SRAM of S bytes, every buffer either stays on chip for its
// whole life or streams through DRAM. A streamed buffer costs a DRAM write per value
// written into it and a DRAM read per (value, distinct reading node) — a conv reads only
// the rows and columns its windows touch, Flatten reads nothing — except that a compute
// result whose only reader is a ReLU, BatchNorm or Sigmoid is never stored: the accelerator
// applies the elementwise op on its way out (the value is "elided"). A resident buffer costs
// nothing, but the graph input is loaded once and the graph output written once. The
// resident buffers live at any step must fit in S; Traffic picks the residency with the
// least traffic by a dynamic program over the schedule whose state is the set of resident
// live buffers, so the result is optimal for the model and non-increasing in S. It is
// StreamBytes at S = 0 (layer-by-layer execution) and CompulsoryBytes (input once, output
// once) from S = MinSRAMNoSpill on: the peak, over steps, of the live buffers whose
// streaming costs more than keeping them.
//
// # Depth-first fusion
//
// Fusion finds chains of windowed layers (Conv, MaxPool) in which each layer's result —
// after its elementwise followers — is read only by the next layer, and cuts each chain
// into segments run depth-first: a band of BandRows output rows of the last layer at a
// time, each layer j computing R_j rows per band with R_{j−1} = R_j·s_j and holding
// (R_j−1)·s_j + K_j rows of its input in a line buffer (3 for a 3×3 stride-1 consumer of
// one row per band: 2 kept + 1 new). The segment's input is read from DRAM once and its
// intermediate maps never reach DRAM; weights stay on chip as far as the budget allows
// after the line buffers, the others are re-read every band. Depth 1 is layer-by-layer
// execution. The best plan is a shortest path over each chain's positions (segments of
// depth 1..MaxDepth, band heights in powers of two) minimizing traffic, cycles or energy;
// its traffic is non-increasing in the budget.
//
// # Two kinds of DRAM numbers
//
// The spill model and the fusion model move every byte the schedule needs exactly once
// (the "model" numbers). The sim package's native engine, used by Report.Simulate and by
// Fusion when FusionOptions.Hardware is set, adds the re-reads its tiling needs when an
// operand does not fit the array's SRAMs (the "simulator" numbers). Fusion with hardware
// prices every layer outside a fused segment exactly as Report.Simulate(cfg, 0) does, so its
// depth-1 plan is that run bit for bit and its cache plan is Report.Simulate(cfg, budget); a
// fused segment's layers run through the engine band by band with every activation on
// chip, its DRAM traffic (input once, output once, weights) and a per-band roofline added.
// One budget: the segment's line buffers and resident weights hold part of the ifmap and
// ofmap SRAMs, and its layers stage their operands in the rest (sim.Layer.ResidentBytes).
package memory
