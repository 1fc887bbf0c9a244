// Package ir is vggsim's graph intermediate representation: a single-input, single-output
// dataflow graph of tensor operators over per-image activations.
//
// # Invariants
//
// A Graph is in SSA form: every Value has exactly one producer (the graph input has the
// Input node), every Node produces exactly one Value, and Graph.Nodes lists nodes in a
// topological order (every operand is produced by an earlier node). Shapes are per image
// (C, H, W); the batch size is a run-time parameter of executors and simulators, never part
// of the graph. Node names are unique within a graph and double as parameter prefixes: the
// state_dict key of a parameter is Node.Name + "." + param name, e.g.
// "stage1.0.rbr_dense.conv.weight". Parameters (Node.Params) may be nil when a graph is
// used only for its structure (counting, simulation).
//
// # Operators
//
// The operator set is closed; see Op and the table returned by Op.Info. Conv carries
// kernel, stride, padding, groups and an optional bias; BatchNorm its eps; MaxPool its
// window; AdaptiveAvgPool its output size (PyTorch's AdaptiveAvgPool2d, windows from
// AdaptiveWindow); Linear maps a C×1×1 value (see Flatten) to Out×1×1. Add is n-ary and
// elementwise; Mul broadcasts a C×1×1 operand over a C×H×W one (squeeze-and-excitation).
// The full set: Input, Conv, BatchNorm, ReLU, ReLU6, Add, Mul, Sigmoid, MaxPool,
// GlobalAvgPool, AdaptiveAvgPool, Flatten, Linear.
//
// # Text form
//
// Print writes a stable text form and Parse reads it back (Parse(Print(g)) == g); pass tests
// and golden files are written in it:
//
//	graph "RepVGG-A0"
//	%0 = input : 3x224x224
//	%1 = conv[k=3x3 s=2 p=1 g=1] %0 @stage0.rbr_dense.conv : 48x112x112
//	%2 = batchnorm[eps=1e-05] %1 @stage0.rbr_dense.bn : 48x112x112
//	...
//	return %57
//
// Attributes print as key=value in brackets; an AdaptiveAvgPool prints its output size, as
// in VGG-16 at 32×32, whose 512×1×1 last feature map is replicated to 7×7:
//
//	%32 = adaptiveavgpool[out=7x7] %31 @avgpool : 512x7x7
//
// The verifier (Verify) checks all of the above; IsPlain reports whether a graph is a
// deploy-form VGG-style stack.
package ir
