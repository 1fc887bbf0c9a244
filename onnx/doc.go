// Package onnx reads ONNX models into ir graphs and writes ir graphs as ONNX models.
//
// Protobuf is handled with google.golang.org/protobuf's wire-format package (protowire)
// over the subset of onnx.proto vggsim needs (proto.go); see docs/rationale.md.
//
// # Import
//
// Read and Load accept models of the default domain at opsets 11 to 21 (MinOpset,
// MaxOpset) with one float input [N, C, H, W] (N may be symbolic) and one output, and
// these operators: Conv (square kernel, equal strides and pads, dilations 1, any group),
// BatchNormalization (inference), Relu, Clip [0, 6] (ReLU6), Add and Sum of activations, Mul (equal shapes or a
// per-channel scale), Sigmoid, MaxPool, GlobalAveragePool, AveragePool when it is global or
// its windows tile the input (PyTorch's adaptive pooling), Flatten and Reshape to 2-D, Gemm,
// MatMul by a constant followed by the Add of a constant, Identity, and Pad by zero; plus the constant
// shape arithmetic PyTorch emits for x.view(x.size(0), -1) (Constant, Shape, Gather,
// Unsqueeze, Squeeze, Concat). Initializers become the nodes' parameters. Any other node is
// an *UnsupportedError naming the node, its op type and the opset.
//
// Add(Add(a, b), c) whose inner sum has no other use becomes one three-operand Add, the
// form of a RepVGG block in the IR, so a train-form RepVGG exported by PyTorch goes through
// reparam like a zoo model. Node names follow the package ir invariant (state_dict
// prefixes): a node with a weight initializer "stage1.0.rbr_dense.conv.weight" is named
// "stage1.0.rbr_dense.conv"; otherwise PyTorch's scope names become module paths
// ("/layer1/layer1.0/conv1/Conv" → "layer1.0.conv1").
//
// The reader is bounded (Limits: file bytes, nodes, elements per tensor and in all) and
// fuzzed. External tensor data is refused unless Options.Dir is set (Load sets it to the
// model's directory); locations must then be relative and stay inside it, symbolic links
// resolved. Options.Structure imports the graph without reading any tensor data.
//
// # Export
//
// Export, Encode and Save write any graph with bound parameters at opset 13 (see Export
// for the operator mapping). Export then import gives back the same graph text and
// bit-identical parameters.
package onnx
