package models

import "github.com/vggsim/vggsim/ir"

// Counts summarizes the size and cost of a graph for one image.
type Counts struct {
	// Params counts learnable scalars as PyTorch counts nn.Parameters (what
	// sum(p.numel() for p in model.parameters()) and torchvision's published numbers give):
	// conv and linear weights and biases, BatchNorm weight (gamma) and bias (beta). BatchNorm
	// running_mean, running_var and num_batches_tracked are buffers and do not count.
	Params int64
	// Buffers counts the BatchNorm running statistics (running_mean and running_var; the
	// num_batches_tracked scalars are left out). Params + Buffers floats is the size of the
	// state_dict.
	Buffers int64
	// MACs counts multiply-accumulates: Hout·Wout·Cout·(Cin/groups)·kh·kw per conv and
	// in·out per linear layer. BatchNorm, additions, pooling, ReLU, sigmoid and the SE
	// multiply are not counted (the RepVGG paper's and torchvision's FLOPs are these MACs).
	MACs int64
	// ConvLayers is the number of Conv nodes: every 3x3 and 1x1 branch conv of a train-form
	// RepVGG block, ResNet downsample projections, the two 1x1 convs of every SE block.
	ConvLayers int
	// LinearLayers is the number of Linear nodes.
	LinearLayers int
	// ActivationElems is the sum, over every node except the graph input and Flatten (a
	// view, no new tensor), of its output's elements for one image: the total activation
	// volume a framework would materialize without reusing any buffer.
	ActivationElems int64
}

// Count returns the counts of g (see Counts for the rules). It needs only g's structure,
// not its parameters.
func Count(g *ir.Graph) Counts {
	var c Counts
	for _, n := range g.Nodes {
		switch n.Op {
		case ir.Input:
			continue
		case ir.Conv:
			c.ConvLayers++
			a := n.Attrs
			cin := int64(n.In[0].Shape.C / max(a.Groups, 1))
			c.Params += int64(n.Out.Shape.C) * cin * int64(a.KH) * int64(a.KW)
			if a.Bias {
				c.Params += int64(n.Out.Shape.C)
			}
		case ir.BatchNorm:
			c.Params += 2 * int64(n.Out.Shape.C)
			c.Buffers += 2 * int64(n.Out.Shape.C)
		case ir.Linear:
			c.LinearLayers++
			c.Params += int64(n.In[0].Shape.C)*int64(n.Out.Shape.C) + int64(n.Out.Shape.C)
		}
		c.MACs += n.MACs()
		if n.Op != ir.Flatten {
			c.ActivationElems += int64(n.Out.Shape.Elems())
		}
	}
	return c
}
