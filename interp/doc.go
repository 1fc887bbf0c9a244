// Package interp is vggsim's reference executor: a slow, obviously-correct float32
// interpreter for ir graphs over NCHW batches of any size N ≥ 1.
//
// "Reference" means: every other executor (the LLVM backend, reparameterized graphs, the
// simulator's functional checks) is tested against this one, so this one is written to be
// read, not to be fast. Each operator is a direct transcription of its PyTorch definition
// with loops over n, c, y, x and the window; there is no im2col, no blocking, no SIMD, no
// algebraic rewriting and no fusion across nodes. The only concessions to speed are
// precomputed index ranges, no allocation in inner loops, and output channels of a Conv
// computed in parallel (each output element is still computed by exactly one goroutine in
// exactly the order below, so results do not depend on GOMAXPROCS).
//
// # Contract
//
// Run and RunAll take a graph and a float32 tensor x of shape [N, C, H, W] equal to the
// graph input's per-image shape, and return float32 tensors of shape [N, C, H, W] of the
// corresponding values (vectors are [N, C, 1, 1]; Flat2D views them as [N, C]). The graph
// must pass ir.Verify and every Conv, BatchNorm and Linear must carry all its parameters
// (Node.Params) as float32 tensors of the shapes of Node.ParamSpecs; BatchNorm's optional
// num_batches_tracked is ignored. Bad graphs, parameters or inputs give errors, never panics.
// Inputs and parameters are never modified.
//
// # Arithmetic
//
// Values are float32. Where an operator sums many terms, it sums in float64 and rounds once
// to float32 at the end: float32·float32 products are exact in float64 (so a fused
// multiply-add, which the compiler may use there, gives the same bits), and the only error
// is float64 rounding during the sum (relative ~1e-16 per term) plus the final rounding,
// which makes the result essentially the correctly rounded exact value. PyTorch sums in
// float32 in an unspecified order, so it differs from this reference by a few float32 ulps;
// compare with a tolerance (1e-5 absolute for unit-scale activations). Element-wise
// operators are evaluated in float32 with each operation rounded (explicit float32
// conversions forbid FMA contraction, so results are identical on every GOARCH).
//
//   - Conv: out[n,co,oy,ox] = float32(Σ_ci Σ_ky Σ_kx x·w + bias) with the sum in float64 in the
//     order ci (ascending within co's group), then ky, then kx, then the bias last; padding
//     contributes nothing. Input pixel (iy, ix) = (oy·stride − pad + ky, ox·stride − pad + kx).
//     Group g = co / (Cout/groups) reads input channels g·(Cin/groups) … (g+1)·(Cin/groups)−1.
//   - BatchNorm (eval): with every step rounded to float32, s = sqrt(var + float32(eps)),
//     y = ((x − mean) / s) · gamma + beta, in that order. This is the formula of the RepVGG
//     reference; PyTorch's kernel folds it into x·a + b and may differ by an ulp or two.
//   - ReLU: x < 0 ? 0 : x (NaN propagates).
//   - ReLU6: x < 0 ? 0 : (x > 6 ? 6 : x) (NaN propagates).
//   - Add: ((x0 + x1) + x2) + …, left to right in float32.
//   - Mul: x · s in float32, s broadcast over H and W when it is C×1×1.
//   - Sigmoid: float32(1 / (1 + exp(−x))) computed in float64 and rounded once.
//   - MaxPool: maximum over the window; padding is −inf so it never wins; a NaN in the
//     window gives NaN (as PyTorch).
//   - GlobalAvgPool: float32((Σ x in float64, row-major order) / (H·W)).
//   - AdaptiveAvgPool: out[n,c,oy,ox] = float32((Σ x in float64, row-major order over the
//     window) / (window size)), the window rows and columns from ir.AdaptiveWindow
//     (PyTorch's ⌊i·in/out⌋ … ⌈(i+1)·in/out⌉, exclusive); windows may overlap, and an
//     output larger than the input repeats pixels.
//   - Flatten: a copy in C-major order (torch.flatten(x, 1)).
//   - Linear: y[n,o] = float32(Σ_i x[n,i]·W[o,i] + b[o]), float64 sum in ascending i, bias last.
package interp
