package ir

import (
	"errors"
	"fmt"

	"github.com/vggsim/vggsim/internal/geom"
)

// Builder constructs a Graph node by node with shape inference. Methods never panic on bad
// arguments: the first problem is recorded (with the node's name) and returned by Finish,
// and later calls keep returning placeholder values so builder code needs no checks.
type Builder struct {
	g     *Graph
	err   error
	names map[string]bool
	auto  int
}

// NewBuilder starts a graph called name whose input has the given per-image shape.
func NewBuilder(name string, in Shape) *Builder {
	b := &Builder{g: &Graph{Name: name}, names: map[string]bool{}}
	if in.C <= 0 || in.H <= 0 || in.W <= 0 {
		b.fail("input", "input shape %v must be positive", in)
		in = Shape{1, 1, 1}
	}
	b.add(Input, "input", nil, in, Attrs{})
	return b
}

// Input returns the graph input.
func (b *Builder) Input() *Value { return b.g.Nodes[0].Out }

func (b *Builder) fail(name, format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...))
	}
}

func (b *Builder) add(op Op, name string, in []*Value, out Shape, a Attrs) *Value {
	if name == "" {
		b.auto++
		name = fmt.Sprintf("%s%d", op, b.auto)
	}
	if b.names[name] {
		b.fail(name, "duplicate node name")
	}
	b.names[name] = true
	if out.C <= 0 || out.H <= 0 || out.W <= 0 {
		b.fail(name, "%s output shape %v is empty", op, out)
		out = Shape{max(out.C, 1), max(out.H, 1), max(out.W, 1)}
	}
	n := &Node{Op: op, Name: name, In: in, Attrs: a}
	n.Out = &Value{ID: len(b.g.Nodes), Shape: out, Producer: n}
	b.g.Nodes = append(b.g.Nodes, n)
	return n.Out
}

// ConvOut returns the output extent of a window op: floor((in + 2·pad − k)/stride) + 1, or
// 0 when the window does not fit in the padded input (in + 2·pad < k) or stride ≤ 0.
func ConvOut(in, k, stride, pad int) int {
	if stride <= 0 || in+2*pad < k {
		return 0
	}
	return (in+2*pad-k)/stride + 1
}

// Conv adds a convolution of x with cout output channels, a k×k kernel, and the given
// stride, padding and groups; bias says whether it has a bias parameter.
func (b *Builder) Conv(name string, x *Value, cout, k, stride, pad, groups int, bias bool) *Value {
	if groups <= 0 || cout <= 0 || k <= 0 || stride <= 0 || pad < 0 {
		b.fail(name, "conv: bad cout=%d k=%d stride=%d pad=%d groups=%d", cout, k, stride, pad, groups)
		groups = max(groups, 1)
	} else if x.Shape.C%groups != 0 || cout%groups != 0 {
		b.fail(name, "conv: groups=%d does not divide in=%d and out=%d channels", groups, x.Shape.C, cout)
	}
	out := Shape{cout, ConvOut(x.Shape.H, k, stride, pad), ConvOut(x.Shape.W, k, stride, pad)}
	return b.add(Conv, name, []*Value{x}, out, Attrs{KH: k, KW: k, Stride: stride, Pad: pad, Groups: groups, Bias: bias})
}

// BatchNorm adds an inference batch norm over x's channels.
func (b *Builder) BatchNorm(name string, x *Value, eps float64) *Value {
	return b.add(BatchNorm, name, []*Value{x}, x.Shape, Attrs{Eps: eps})
}

// ReLU adds max(x, 0).
func (b *Builder) ReLU(name string, x *Value) *Value {
	return b.add(ReLU, name, []*Value{x}, x.Shape, Attrs{})
}

// ReLU6 adds min(max(x, 0), 6).
func (b *Builder) ReLU6(name string, x *Value) *Value {
	return b.add(ReLU6, name, []*Value{x}, x.Shape, Attrs{})
}

// Sigmoid adds the logistic function of x.
func (b *Builder) Sigmoid(name string, x *Value) *Value {
	return b.add(Sigmoid, name, []*Value{x}, x.Shape, Attrs{})
}

// Add adds the elementwise sum of two or more same-shaped values.
func (b *Builder) Add(name string, xs ...*Value) *Value {
	if len(xs) < 2 {
		b.fail(name, "add needs two or more operands, got %d", len(xs))
		if len(xs) == 0 {
			return b.Input()
		}
	}
	for _, x := range xs[1:] {
		if x.Shape != xs[0].Shape {
			b.fail(name, "add: shape %v does not match %v", x.Shape, xs[0].Shape)
		}
	}
	return b.add(Add, name, append([]*Value(nil), xs...), xs[0].Shape, Attrs{})
}

// Mul adds x·s, where s has x's shape or is C×1×1 and is broadcast over H and W.
func (b *Builder) Mul(name string, x, s *Value) *Value {
	if s.Shape != x.Shape && s.Shape != (Shape{x.Shape.C, 1, 1}) {
		b.fail(name, "mul: shape %v does not broadcast to %v", s.Shape, x.Shape)
	}
	return b.add(Mul, name, []*Value{x, s}, x.Shape, Attrs{})
}

// MaxPool adds a k×k max pooling with stride and padding.
func (b *Builder) MaxPool(name string, x *Value, k, stride, pad int) *Value {
	if k <= 0 || stride <= 0 || pad < 0 || 2*pad > k {
		b.fail(name, "maxpool: bad k=%d stride=%d pad=%d", k, stride, pad)
	}
	out := Shape{x.Shape.C, ConvOut(x.Shape.H, k, stride, pad), ConvOut(x.Shape.W, k, stride, pad)}
	return b.add(MaxPool, name, []*Value{x}, out, Attrs{KH: k, KW: k, Stride: stride, Pad: pad})
}

// GlobalAvgPool adds a mean over H and W.
func (b *Builder) GlobalAvgPool(name string, x *Value) *Value {
	return b.add(GlobalAvgPool, name, []*Value{x}, Shape{x.Shape.C, 1, 1}, Attrs{})
}

// AdaptiveAvgPool adds an average pooling of x to outH×outW, as PyTorch's
// nn.AdaptiveAvgPool2d((outH, outW)): output (i, j) is the mean of the input rows and columns
// of AdaptiveWindow. Windows may overlap and differ in size, and an output larger than the
// input repeats pixels (a 1×1 map pooled to 7×7 is replicated).
func (b *Builder) AdaptiveAvgPool(name string, x *Value, outH, outW int) *Value {
	if outH <= 0 || outW <= 0 {
		b.fail(name, "adaptiveavgpool: bad output size %dx%d", outH, outW)
	}
	return b.add(AdaptiveAvgPool, name, []*Value{x}, Shape{x.Shape.C, outH, outW}, Attrs{OutH: outH, OutW: outW})
}

// AdaptiveWindow returns the half-open input range [start, end) that output index i of an
// adaptive pooling from in to out positions averages, as PyTorch computes it:
// start = ⌊i·in/out⌋, end = ⌈(i+1)·in/out⌉. The windows cover the input, may overlap
// (in = 5, out = 3: [0, 2), [1, 4), [3, 5)), and are never empty (in = 1, out = 7: every
// window is [0, 1)).
func AdaptiveWindow(i, in, out int) (start, end int) {
	return geom.AdaptiveWindow(i, in, out)
}

// Flatten reshapes x to (C·H·W)×1×1 in C-major order, as torch.flatten(x, 1).
func (b *Builder) Flatten(name string, x *Value) *Value {
	return b.add(Flatten, name, []*Value{x}, Shape{x.Shape.Elems(), 1, 1}, Attrs{})
}

// Linear adds a fully connected layer with out features and a bias. x must be C×1×1.
func (b *Builder) Linear(name string, x *Value, out int) *Value {
	if x.Shape.H != 1 || x.Shape.W != 1 {
		b.fail(name, "linear: operand %v is not a vector; flatten it first", x.Shape)
	}
	return b.add(Linear, name, []*Value{x}, Shape{out, 1, 1}, Attrs{})
}

// Err returns the first problem recorded so far, or nil.
func (b *Builder) Err() error { return b.err }

// Finish marks out as the graph output, verifies the graph and returns it.
func (b *Builder) Finish(out *Value) (*Graph, error) {
	if b.err != nil {
		return nil, fmt.Errorf("graph %s: %w", b.g.Name, b.err)
	}
	if out == nil {
		return nil, errors.New("ir: Finish with nil output")
	}
	b.g.Output = out
	if err := Verify(b.g); err != nil {
		return nil, err
	}
	return b.g, nil
}
