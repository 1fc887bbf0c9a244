// Package emit is the toolkit kernel families are written with: activation layouts, the
// Kernel and Family interfaces the codegen planner chooses between, a Module that declares
// shared intrinsics once and carries comments into the printed text, and loop and index
// builders over github.com/llir/llvm's ir package.
//
// # Kernel calling convention
//
// Every kernel is one LLVM function
//
//	void @name(float* out, float* in0, …, float* inN, float* w0, …, float* wM)
//
// where out and the operands are one image's activations in the layouts the kernel
// declares (Kernel.Out, Kernel.In) and w0…wM are the arrays Kernel.Weights returned, in
// that order, each 64-byte aligned. Two kernels with the same Name must define the same
// function: the module builder defines each name once and calls it for every node that
// maps to it (identical layers share code; only their weight pointers differ).
// Elementwise kernels may be called in place (out equal to an operand), so they must not
// mark their pointers noalias; window kernels (conv, pooling, linear) never are.
package emit
