// Package kern holds vggsim's fast convolution kernel families, emitted as LLVM IR with
// github.com/llir/llvm: register-tiled direct convolution over NCHW16c activations with
// explicit <16 x float> llvm.fma.v16f32 accumulators (dense, strided and grouped),
// Winograd F(4×4,3×3) for 3×3 stride-1 convs (winograd.go: weights transformed at build
// time, transforms fused into tile packing and the store, 36 register-tiled GEMMs), the
// per-layer choice between them (a cost model, ChooseAlgo, or build-time timing, Tune), an
// FMA-peak loop that measures what the CPU can do, and a tiny pthread pool runtime.
//
// # Layouts
//
// Activations are NCHW16c (emit.Blocked(16) in the codegen package): channel blocks of 16
// lanes, element (c, y, x) of a C×H×W image at ((c/16·H + y)·W + x)·16 + c%16, C rounded up
// to a multiple of 16 with zero padding lanes. There is no spatial halo: kernels handle the
// zero padding themselves (border tiles are emitted with their out-of-range taps removed).
//
// Weights are packed once, at build time, by PackDirect into the exact order the kernel
// reads them: for output-channel tile t (RK blocks of 16 channels), kernel row kh, input
// channel ci and kernel column kw, RK vectors of 16 output channels, contiguous:
// [K/16/RK][KH][C/G][KW][RK][16]. Bias is padded to whole blocks. Padding lanes get zero
// weights and zero bias, so a kernel writes zeros (ReLU(0) = 0) in its output padding lanes.
//
// # Kernels
//
// A direct kernel computes one output row for RK output-channel blocks per work item
// (Direct.Items items; item = tile·Hout + row), so a thread pool splits a layer by items.
// Each row is covered by column tiles of RW pixels held in RK·RW zmm accumulators; the
// inner loop broadcasts one input value (an embedded-broadcast FMA operand) against RK
// weight vectors. Bias initializes the accumulators and ReLU is applied at the store.
// ChooseTile picks RK and RW per layer from the register file and the L1/L2 sizes.
//
// Every kernel is checked against the reference interpreter by the tests (clang-19 -O3
// -march=native, a tiny C harness) over a seeded grid of shapes, degenerate ones included.
package kern
