package lower

import (
	"fmt"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/sim"
)

// Group is the graph nodes that run as one accelerator layer: the node at Step and, when
// ReLU ≥ 0, the ReLU node at that step fused into it.
type Group struct {
	Step int       // index in Graph.Nodes of the layer's node
	ReLU int       // index of the fused ReLU (or ReLU6), or -1
	Out  *ir.Value // the group's result: the ReLU's when fused, else the node's
}

// Node returns the group's main node in g.
func (gr Group) Node(g *ir.Graph) *ir.Node { return g.Nodes[gr.Step] }

// Readers returns, for each value ID of g, the distinct steps that read it, ascending.
func Readers(g *ir.Graph) [][]int {
	nv := 0
	for _, n := range g.Nodes {
		if n.Out != nil {
			nv = max(nv, n.Out.ID+1)
		}
	}
	readers := make([][]int, nv)
	for i, n := range g.Nodes {
		for _, in := range n.In {
			if in == nil || in.ID < 0 || in.ID >= nv {
				continue
			}
			if r := readers[in.ID]; len(r) == 0 || r[len(r)-1] != i {
				readers[in.ID] = append(r, i)
			}
		}
	}
	return readers
}

// Groups returns g's layers in schedule order (see the package documentation for the
// grouping rule). A node whose operator has no accelerator layer is an error naming it.
func Groups(g *ir.Graph) ([]Group, error) {
	if g == nil || len(g.Nodes) == 0 {
		return nil, fmt.Errorf("lower: empty graph")
	}
	if g.Output == nil {
		return nil, fmt.Errorf("lower: graph %q has no output", g.Name)
	}
	readers := Readers(g)
	var groups []Group
	skip := make([]bool, len(g.Nodes))
	for i, n := range g.Nodes {
		if skip[i] {
			continue
		}
		switch n.Op {
		case ir.Input, ir.Flatten:
			continue
		case ir.Conv, ir.Linear:
			gr := Group{Step: i, ReLU: -1, Out: n.Out}
			if n.Out.ID < len(readers) {
				if rs := readers[n.Out.ID]; len(rs) == 1 && isReLU(g.Nodes[rs[0]].Op) && n.Out.ID != g.Output.ID {
					gr.ReLU, gr.Out = rs[0], g.Nodes[rs[0]].Out
					skip[rs[0]] = true
				}
			}
			groups = append(groups, gr)
		case ir.MaxPool, ir.GlobalAvgPool, ir.AdaptiveAvgPool, ir.Add, ir.Mul, ir.ReLU, ir.ReLU6, ir.Sigmoid, ir.BatchNorm:
			groups = append(groups, Group{Step: i, ReLU: -1, Out: n.Out})
		default:
			return nil, fmt.Errorf("lower: graph %q: node %s: operator %s has no accelerator layer", g.Name, n.Name, n.Op)
		}
	}
	return groups, nil
}

// isReLU reports whether op is an activation a Conv or Linear layer applies on its way out:
// ReLU, or ReLU6 (a clip costs what a max does).
func isReLU(op ir.Op) bool { return op == ir.ReLU || op == ir.ReLU6 }

// Layer returns the sim layer of group gr of g: its kind and shapes, with every operand off
// chip (Layers sets the on-chip flags).
func Layer(g *ir.Graph, gr Group) sim.Layer {
	n := g.Nodes[gr.Step]
	in := n.In[0].Shape
	l := sim.Layer{Name: n.Name, InH: in.H, InW: in.W, InC: in.C, FusedReLU: gr.ReLU >= 0}
	a := n.Attrs
	switch n.Op {
	case ir.Conv:
		l.Kind, l.OutC, l.KH, l.KW = sim.Conv, n.Out.Shape.C, a.KH, a.KW
		l.StrideH, l.StrideW, l.PadH, l.PadW, l.Groups, l.Bias = a.Stride, a.Stride, a.Pad, a.Pad, a.Groups, a.Bias
	case ir.Linear:
		l.Kind, l.InC, l.OutC, l.Bias = sim.GEMM, in.Elems(), n.Out.Shape.C, true
		l.InH, l.InW = 1, 1
	case ir.MaxPool:
		l.Kind, l.KH, l.KW, l.StrideH, l.StrideW, l.PadH, l.PadW = sim.Pool, a.KH, a.KW, a.Stride, a.Stride, a.Pad, a.Pad
	case ir.GlobalAvgPool:
		l.Kind = sim.GlobalPool
	case ir.AdaptiveAvgPool:
		l.Kind, l.OutH, l.OutW = sim.AdaptivePool, a.OutH, a.OutW
	case ir.Add:
		l.Kind, l.NumInputs = sim.Add, len(n.In)
	case ir.Mul:
		l.Kind, l.NumInputs = sim.Mul, 2
	case ir.ReLU, ir.ReLU6:
		l.Kind = sim.ReLU // a clip costs what a max does
	case ir.Sigmoid:
		l.Kind = sim.Sigmoid
	case ir.BatchNorm:
		l.Kind = sim.BatchNorm
	default:
		panic(fmt.Sprintf("lower: operator %s is not in a group (Groups rejects it)", n.Op))
	}
	return l
}

// Residency tells Layers which activations are on chip when a layer runs.
type Residency interface {
	// InputOnChip reports whether the node at step reads value v from on-chip SRAM.
	InputOnChip(v *ir.Value, step int) bool
	// OutputOnChip reports whether a group's result v stays on chip (is not written to DRAM).
	OutputOnChip(v *ir.Value) bool
}

// offChip streams everything.
type offChip struct{}

func (offChip) InputOnChip(*ir.Value, int) bool { return false }
func (offChip) OutputOnChip(*ir.Value) bool     { return false }

// OffChip is the Residency with every operand read from and every result written to DRAM.
var OffChip Residency = offChip{}

// Layers returns one sim layer per group of g (from Groups), in order, with the on-chip
// flags of res. The broadcast scale of a Mul is always on chip: it is C values, which the
// engine would otherwise charge as a whole map.
func Layers(g *ir.Graph, groups []Group, res Residency) []sim.Layer {
	layers := make([]sim.Layer, len(groups))
	for k, gr := range groups {
		l := Layer(g, gr)
		n := g.Nodes[gr.Step]
		l.InputsOnChip = make([]bool, l.Inputs())
		for j, v := range n.In {
			l.InputsOnChip[j] = res.InputOnChip(v, gr.Step)
		}
		if n.Op == ir.Mul {
			l.InputsOnChip[1] = true
		}
		l.OutputOnChip = res.OutputOnChip(gr.Out)
		layers[k] = l
	}
	return layers
}

// Graph lowers g with every operand off chip: Groups, then Layers with OffChip.
func Graph(g *ir.Graph) ([]sim.Layer, error) {
	groups, err := Groups(g)
	if err != nil {
		return nil, err
	}
	return Layers(g, groups, OffChip), nil
}
