package ir

import (
	"errors"
	"fmt"
	"slices"
)

// Verify checks the invariants of doc.go and returns every violation found, joined: value
// IDs dense and unique, one producer per value, operands defined before use (topological
// order), no dangling values (every value reaches the output), operand counts, shapes and
// attributes consistent with each op, groups dividing channels, unique node names, and
// parameter tensors (when present) of the expected shapes.
func Verify(g *Graph) error {
	var errs []error
	bad := func(n *Node, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s (%s): %s", n.Name, n.Op, fmt.Sprintf(format, args...)))
	}
	if len(g.Nodes) == 0 || g.Nodes[0].Op != Input {
		return fmt.Errorf("graph %s: first node must be the input", g.Name)
	}
	defined := make(map[*Value]bool, len(g.Nodes))
	names := make(map[string]bool, len(g.Nodes))
	for i, n := range g.Nodes {
		if n.Out == nil {
			bad(n, "no output value")
			continue
		}
		if n.Out.ID != i {
			bad(n, "value id %%%d at position %d; call Renumber", n.Out.ID, i)
		}
		if n.Out.Producer != n {
			bad(n, "output %%%d has another producer", n.Out.ID)
		}
		if defined[n.Out] {
			bad(n, "value %%%d defined twice", n.Out.ID)
		}
		if names[n.Name] || n.Name == "" {
			bad(n, "node name empty or duplicate")
		}
		names[n.Name] = true
		if n.Op == Input && i != 0 {
			bad(n, "input node not first")
		}
		operandsOK := true
		for _, in := range n.In {
			if in == nil || !defined[in] {
				bad(n, "operand used before definition or not in graph")
				operandsOK = false
			}
		}
		defined[n.Out] = true
		if operandsOK {
			verifyNode(n, bad)
		}
	}
	if g.Output == nil || !defined[g.Output] {
		errs = append(errs, fmt.Errorf("graph %s: output not defined by a node", g.Name))
	} else if len(errs) == 0 {
		// Every value must reach the output.
		live := make([]bool, len(g.Nodes))
		live[g.Output.ID] = true
		for i := len(g.Nodes) - 1; i >= 0; i-- {
			if !live[i] {
				bad(g.Nodes[i], "dangling: result %%%d never reaches the output", i)
				continue
			}
			for _, in := range g.Nodes[i].In {
				live[in.ID] = true
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("verify %s: %w", g.Name, errors.Join(errs...))
	}
	return nil
}

func verifyNode(n *Node, bad func(*Node, string, ...any)) {
	info := n.Op.Info()
	if n.Op >= numOps {
		bad(n, "unknown op")
		return
	}
	if (info.Arity >= 0 && len(n.In) != info.Arity) || (info.Arity < 0 && len(n.In) < 2) {
		bad(n, "%d operands", len(n.In))
		return
	}
	o, a := n.Out.Shape, n.Attrs
	if o.C <= 0 || o.H <= 0 || o.W <= 0 {
		bad(n, "empty shape %v", o)
	}
	same := func() {
		for _, in := range n.In {
			if in.Shape != o {
				bad(n, "operand shape %v != result %v", in.Shape, o)
			}
		}
	}
	switch n.Op {
	case Conv, MaxPool:
		x := n.In[0].Shape
		if a.KH <= 0 || a.KW <= 0 || a.Stride <= 0 || a.Pad < 0 {
			bad(n, "bad window k=%dx%d s=%d p=%d", a.KH, a.KW, a.Stride, a.Pad)
			return
		}
		want := Shape{o.C, ConvOut(x.H, a.KH, a.Stride, a.Pad), ConvOut(x.W, a.KW, a.Stride, a.Pad)}
		if n.Op == MaxPool {
			want.C = x.C
		}
		if want != o {
			bad(n, "result %v, want %v", o, want)
		}
		if n.Op == Conv && (a.Groups <= 0 || x.C%a.Groups != 0 || o.C%a.Groups != 0) {
			bad(n, "groups=%d does not divide in=%d and out=%d channels", a.Groups, x.C, o.C)
		}
	case BatchNorm, ReLU, ReLU6, Sigmoid, Add:
		same()
		if n.Op == BatchNorm && !(a.Eps > 0) {
			bad(n, "eps %g must be positive", a.Eps)
		}
	case Mul:
		if n.In[0].Shape != o || (n.In[1].Shape != o && n.In[1].Shape != (Shape{o.C, 1, 1})) {
			bad(n, "operands %v, %v do not give %v", n.In[0].Shape, n.In[1].Shape, o)
		}
	case GlobalAvgPool:
		if o != (Shape{n.In[0].Shape.C, 1, 1}) {
			bad(n, "result %v", o)
		}
	case AdaptiveAvgPool:
		if a.OutH <= 0 || a.OutW <= 0 {
			bad(n, "bad output size out=%dx%d", a.OutH, a.OutW)
			return
		}
		if want := (Shape{n.In[0].Shape.C, a.OutH, a.OutW}); o != want {
			bad(n, "result %v, want %v", o, want)
		}
	case Flatten:
		if o != (Shape{n.In[0].Shape.Elems(), 1, 1}) {
			bad(n, "result %v", o)
		}
	case Linear:
		if x := n.In[0].Shape; x.H != 1 || x.W != 1 || o.H != 1 || o.W != 1 {
			bad(n, "operand %v / result %v not vectors", x, o)
		}
	}
	if n.Params != nil {
		for _, s := range n.ParamSpecs() {
			t, ok := n.Params[s.Name]
			if !ok {
				if !s.Optional {
					bad(n, "missing parameter %s", s.Name)
				}
				continue
			}
			scalar := len(s.Shape) == 0 && t.Len() == 1 // PyTorch 0-d or NumPy [1]
			if !slices.Equal(t.Shape, s.Shape) && !scalar {
				bad(n, "parameter %s has shape %v, want %v", s.Name, t.Shape, s.Shape)
			}
		}
	}
}
