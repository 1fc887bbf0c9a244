package interp

import (
	"errors"
	"fmt"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

// Run executes g on x, a float32 tensor [N, C, H, W] whose C, H, W equal the graph input's
// shape (any N ≥ 1), and returns the output value as a new [N, C, H, W] tensor. A Linear
// output is [N, classes, 1, 1]; Flat2D views it as [N, classes]. Intermediate activations
// are dropped as soon as their last user has run.
func Run(g *ir.Graph, x *tensor.Tensor) (*tensor.Tensor, error) {
	vals, err := execute(g, x, false)
	if err != nil {
		return nil, err
	}
	if g.Output == g.Input() {
		return x.Clone(), nil // a graph that is only its input: still return a new tensor
	}
	return vals[g.Output.ID], nil
}

// RunAll executes g on x like Run and returns every value's tensor, indexed by value ID
// (the index space of g.Values()). The entry of the input value is x itself, not a copy.
func RunAll(g *ir.Graph, x *tensor.Tensor) ([]*tensor.Tensor, error) {
	return execute(g, x, true)
}

// Flat2D returns t, a tensor [N, d1, d2, …], viewed as a matrix [N, d1·d2·…] that shares
// t's data; e.g. logits [N, classes, 1, 1] become [N, classes]. A tensor with fewer than
// two dimensions is returned as [N, 1] (or [1, 1] for a scalar).
func Flat2D(t *tensor.Tensor) *tensor.Tensor {
	n := 1
	if len(t.Shape) > 0 {
		n = t.Shape[0]
	}
	rest := 1
	if n > 0 {
		rest = t.Len() / n
	}
	return &tensor.Tensor{DType: t.DType, Shape: []int{n, rest}, F32: t.F32, I64: t.I64}
}

// execute checks g and x, then evaluates the nodes in order. Unless keepAll is set, a value
// is released after the last node that reads it.
func execute(g *ir.Graph, x *tensor.Tensor, keepAll bool) ([]*tensor.Tensor, error) {
	if g == nil {
		return nil, errors.New("interp: nil graph")
	}
	if err := ir.Verify(g); err != nil {
		return nil, fmt.Errorf("interp: %w", err)
	}
	for _, n := range g.Nodes {
		if err := checkParams(n); err != nil {
			return nil, fmt.Errorf("interp: graph %s: %w", g.Name, err)
		}
	}
	if err := checkInput(g.Input().Shape, x); err != nil {
		return nil, fmt.Errorf("interp: graph %s: %w", g.Name, err)
	}
	batch := x.Shape[0]

	lastUse := make([]int, len(g.Nodes)) // value ID → index of the last node reading it
	for i, n := range g.Nodes {
		for _, in := range n.In {
			lastUse[in.ID] = i
		}
	}

	vals := make([]*tensor.Tensor, len(g.Nodes))
	vals[g.Input().ID] = x
	for i, n := range g.Nodes[1:] {
		i++ // position in g.Nodes
		ins := make([]*tensor.Tensor, len(n.In))
		for j, v := range n.In {
			ins[j] = vals[v.ID]
		}
		o := n.Out.Shape
		out := tensor.New(batch, o.C, o.H, o.W)
		evalNode(n, ins, out, batch)
		vals[n.Out.ID] = out
		if !keepAll {
			for _, v := range n.In {
				if lastUse[v.ID] == i && v != g.Output {
					vals[v.ID] = nil
				}
			}
		}
	}
	return vals, nil
}

// checkInput reports whether x is a float32 [N, C, H, W] tensor of per-image shape s.
func checkInput(s ir.Shape, x *tensor.Tensor) error {
	if x == nil {
		return errors.New("nil input tensor")
	}
	if x.DType != tensor.Float32 {
		return fmt.Errorf("input is %s, want float32", x.DType)
	}
	if len(x.Shape) != 4 || x.Shape[1] != s.C || x.Shape[2] != s.H || x.Shape[3] != s.W {
		return fmt.Errorf("input shape %s, want Nx%dx%dx%d", tensor.ShapeString(x.Shape), s.C, s.H, s.W)
	}
	if x.Shape[0] < 1 {
		return fmt.Errorf("input batch size %d, want at least 1", x.Shape[0])
	}
	if len(x.F32) != x.Len() {
		return fmt.Errorf("input has %d elements for shape %s", len(x.F32), tensor.ShapeString(x.Shape))
	}
	return nil
}

// checkParams reports whether n carries exactly the parameters the interpreter reads: every
// non-optional ParamSpec present as a float32 tensor of the right shape and length, and no
// parameter the spec does not list (a stray conv "bias" with Attrs.Bias false would
// otherwise be silently ignored).
func checkParams(n *ir.Node) error {
	specs := n.ParamSpecs()
	if len(specs) == 0 {
		if len(n.Params) > 0 {
			return fmt.Errorf("%s (%s): has parameters but the op takes none", n.Name, n.Op)
		}
		return nil
	}
	if n.Params == nil {
		return fmt.Errorf("%s (%s): parameters not loaded", n.Name, n.Op)
	}
	known := make(map[string]bool, len(specs))
	for _, s := range specs {
		known[s.Name] = true
		if s.Optional {
			continue // only BatchNorm's num_batches_tracked, which eval mode does not read
		}
		t, ok := n.Params[s.Name]
		switch {
		case !ok || t == nil:
			return fmt.Errorf("%s (%s): missing parameter %s", n.Name, n.Op, s.Name)
		case t.DType != tensor.Float32:
			return fmt.Errorf("%s (%s): parameter %s is %s, want float32", n.Name, n.Op, s.Name, t.DType)
		case !tensor.SameShape(t.Shape, s.Shape):
			return fmt.Errorf("%s (%s): parameter %s has shape %s, want %s", n.Name, n.Op, s.Name,
				tensor.ShapeString(t.Shape), tensor.ShapeString(s.Shape))
		case len(t.F32) != tensor.Numel(s.Shape):
			return fmt.Errorf("%s (%s): parameter %s has %d elements for shape %s", n.Name, n.Op, s.Name,
				len(t.F32), tensor.ShapeString(s.Shape))
		}
	}
	for name := range n.Params {
		if !known[name] {
			return fmt.Errorf("%s (%s): unexpected parameter %s", n.Name, n.Op, name)
		}
	}
	return nil
}

// evalNode computes n on its operand tensors ins into out, all with batch size batch. The
// operands and parameters have been checked.
func evalNode(n *ir.Node, ins []*tensor.Tensor, out *tensor.Tensor, batch int) {
	in := n.In[0].Shape
	o := n.Out.Shape
	a := n.Attrs
	switch n.Op {
	case ir.Conv:
		var bias []float32
		if a.Bias {
			bias = n.Params["bias"].F32
		}
		conv(out.F32, ins[0].F32, n.Params["weight"].F32, bias, convShape{
			N: batch, Cin: in.C, H: in.H, W: in.W, Cout: o.C, Ho: o.H, Wo: o.W,
			KH: a.KH, KW: a.KW, Stride: a.Stride, Pad: a.Pad, Groups: a.Groups,
		})
	case ir.BatchNorm:
		p := n.Params
		batchNorm(out.F32, ins[0].F32, batch, o.C, o.H*o.W, float32(a.Eps),
			p["weight"].F32, p["bias"].F32, p["running_mean"].F32, p["running_var"].F32)
	case ir.ReLU:
		relu(out.F32, ins[0].F32)
	case ir.ReLU6:
		relu6(out.F32, ins[0].F32)
	case ir.Add:
		srcs := make([][]float32, len(ins))
		for i, t := range ins {
			srcs[i] = t.F32
		}
		add(out.F32, srcs)
	case ir.Mul:
		mul(out.F32, ins[0].F32, ins[1].F32, batch, o.C, o.H*o.W, n.In[1].Shape.Elems() == o.C)
	case ir.Sigmoid:
		sigmoid(out.F32, ins[0].F32)
	case ir.MaxPool:
		maxPool(out.F32, ins[0].F32, batch*in.C, in.H, in.W, o.H, o.W, a.KH, a.KW, a.Stride, a.Pad)
	case ir.GlobalAvgPool:
		globalAvgPool(out.F32, ins[0].F32, batch*in.C, in.H*in.W)
	case ir.AdaptiveAvgPool:
		adaptiveAvgPool(out.F32, ins[0].F32, batch*in.C, in.H, in.W, o.H, o.W)
	case ir.Flatten:
		copy(out.F32, ins[0].F32) // NCHW is already C-major per image
	case ir.Linear:
		linear(out.F32, ins[0].F32, n.Params["weight"].F32, n.Params["bias"].F32, batch, in.C, o.C)
	default:
		// Unreachable: ir.Verify rejects unknown ops and Input appears only first.
		panic(fmt.Sprintf("interp: unhandled op %s", n.Op))
	}
}
