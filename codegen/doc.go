// Package codegen compiles an ir.Graph to native code through LLVM IR: one module per
// graph, emitted with github.com/llir/llvm (v0.3.6, typed pointers) and compiled by clang.
//
// # Pipeline
//
//	ir.Graph ──NewPlan──► Plan ──Emit──► Module (.ll text, C header, weights blob)
//	                                        │
//	                       Toolchain.Compile (clang, cached by content hash)
//	                                        ▼
//	                       Artifacts: object, shared library, runner executable
//
// NewPlan decides everything before any IR is written. It groups nodes as lower.Groups
// does for the simulator (a conv or linear with the ReLU or ReLU6 that is its only reader
// is one step); asks the kernel families (emit.Family, Options.Families then the
// Generic family) for a kernel per step — a kernel names its function, the layouts it
// reads and writes (emit.Layout: NCHW or NCHW{b}c) and its weights as it wants them
// arranged; inserts a reorder step wherever a kernel wants an operand in another layout;
// takes buffer lifetimes and in-place reuse from memory.Analyze and plans the scratch arena
// with memory.PlanArena over layout-sized buffers (reorder temporaries included); and lays
// out the weights blob.
//
// Emit writes one internal function per distinct kernel name (identical layers share code,
// only their weight pointers differ), each preceded by a comment naming the IR nodes that
// call it, and the exported C ABI:
//
//	int    vggsim_<sym>_forward(const float *in, float *out, int batch, const float *weights, float *scratch);
//	size_t vggsim_<sym>_weights_bytes(void), vggsim_<sym>_scratch_bytes(void);
//	size_t vggsim_<sym>_input_elems(void), vggsim_<sym>_output_elems(void);
//	uint64_t vggsim_<sym>_weights_signature(void);
//
// forward runs the steps image by image, reusing one scratch arena (its size does not
// depend on the batch). Input and output are NCHW float32; the weights pointer is the
// payload of the blob Module.WriteWeights writes (docs/codegen.md has the byte layout).
//
// # Invariants
//
// Every step's kernel reads its operands in the layouts it declared and writes its result
// in its declared layout; blocked layouts keep their padding lanes zero. A kernel name
// determines its function text. The result of an op that memory.Analyze runs in place
// keeps the layout of the operand whose storage it takes. The generated code agrees with
// interp within 1e-4 relative (max-abs error over max-abs value) on every zoo model.
//
// # Running
//
// Toolchain finds clang (FindClang: --cc, $VGGSIM_CLANG, the newest clang-N, clang),
// compiles with DefaultFlags (-O3 -march=native) and caches by a hash of the compiler, its
// flags and the sources under DefaultCacheDir. The runner (runtime/main.c) reads the blob
// and a .npy batch and writes the output .npy; Go runs it as a subprocess (Artifacts.Run,
// Compiled.Run), which keeps vggsim free of cgo (docs/rationale.md).
package codegen
