// Package lower turns an ir graph into the layers package sim simulates.
//
// Lowering has two steps. Groups decides which graph nodes become one accelerator layer:
// a Conv or Linear whose result has exactly one reader, a ReLU (or ReLU6), and is not the graph
// output, takes that ReLU as its fused activation (conv+bias+ReLU is one layer); every
// other operator is a layer of its own, except Input and Flatten, which produce none (a
// flatten is a view). An operator with no accelerator layer is an error, never silently
// skipped. Groups depends on the graph alone, so callers compute it once: code generation
// uses the same grouping to emit one fused kernel per group.
//
// Layers then builds one sim.Layer per group, shapes from the IR and each operand's
// on-chip flag from a Residency. Where activations live is a whole-schedule decision
// (liveness, SRAM size) that package memory makes; lower takes it as an input and does not
// import memory. OffChip streams every operand through DRAM (SCALE-Sim's assumption).
//
// Shapes in the IR are per image; batch is a parameter of sim.Simulate.
package lower
