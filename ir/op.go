package ir

import "fmt"

// Op is the kind of a Node. The set is closed: Input, Conv, BatchNorm, ReLU, Add, Mul,
// Sigmoid, MaxPool, GlobalAvgPool, AdaptiveAvgPool, Flatten, Linear, ReLU6.
type Op uint8

// The operators of the IR.
const (
	Input           Op = iota // the graph input; no operands
	Conv                      // 2-D convolution, optional bias
	BatchNorm                 // inference batch norm with running statistics
	ReLU                      // max(x, 0)
	Add                       // elementwise sum of two or more same-shaped operands
	Mul                       // elementwise product; the second operand may be C×1×1 (broadcast)
	Sigmoid                   // 1 / (1 + exp(-x))
	MaxPool                   // max over a KH×KW window with stride; padding never wins (-inf)
	GlobalAvgPool             // mean over H and W, giving C×1×1
	AdaptiveAvgPool           // means over PyTorch's adaptive windows (AdaptiveWindow), giving C×OutH×OutW
	Flatten                   // C×H×W to (C·H·W)×1×1
	Linear                    // fully connected layer on a C×1×1 value, with bias
	ReLU6                     // min(max(x, 0), 6), PyTorch's ReLU6 (MobileNetV2)
	numOps
)

// OpInfo is the metadata of an operator: its text name, operand count and parameters.
type OpInfo struct {
	Name   string   // the text-form name
	Arity  int      // operand count; -1 means two or more
	Params []string // parameter names, in state_dict order (optional ones included)
}

var opTable = [numOps]OpInfo{
	Input:           {"input", 0, nil},
	Conv:            {"conv", 1, []string{"weight", "bias"}},
	BatchNorm:       {"batchnorm", 1, []string{"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}},
	ReLU:            {"relu", 1, nil},
	Add:             {"add", -1, nil},
	Mul:             {"mul", 2, nil},
	Sigmoid:         {"sigmoid", 1, nil},
	MaxPool:         {"maxpool", 1, nil},
	GlobalAvgPool:   {"gap", 1, nil},
	AdaptiveAvgPool: {"adaptiveavgpool", 1, nil},
	Flatten:         {"flatten", 1, nil},
	Linear:          {"linear", 1, []string{"weight", "bias"}},
	ReLU6:           {"relu6", 1, nil},
}

// Info returns the metadata of op.
func (op Op) Info() OpInfo {
	if op >= numOps {
		return OpInfo{Name: fmt.Sprintf("op(%d)", uint8(op))}
	}
	return opTable[op]
}

// String returns the text-form name of op.
func (op Op) String() string { return op.Info().Name }

// HasParams reports whether nodes of this op carry learned parameters.
func (op Op) HasParams() bool { return len(op.Info().Params) > 0 }

// opByName maps text names back to ops.
var opByName = func() map[string]Op {
	m := make(map[string]Op, numOps)
	for op := Op(0); op < numOps; op++ {
		m[opTable[op].Name] = op
	}
	return m
}()
