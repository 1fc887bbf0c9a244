package ir

import (
	"fmt"

	"github.com/vggsim/vggsim/tensor"
)

// Shape is the per-image shape of an activation: channels, height, width. Vectors (the
// outputs of GlobalAvgPool, Flatten and Linear) have H = W = 1.
type Shape struct{ C, H, W int }

// Elems returns C·H·W, the number of elements of one image's activation.
func (s Shape) Elems() int { return s.C * s.H * s.W }

// String formats s as "CxHxW".
func (s Shape) String() string { return fmt.Sprintf("%dx%dx%d", s.C, s.H, s.W) }

// Value is an activation: the single output of one Node.
type Value struct {
	ID       int   // dense index, unique in the graph; Graph.Values()[ID] == v
	Shape    Shape // per-image shape
	Producer *Node // the node that defines this value
}

// Attrs holds the attributes of a node; each op uses a subset and leaves the rest zero.
type Attrs struct {
	KH, KW int  // Conv, MaxPool: window size
	Stride int  // Conv, MaxPool
	Pad    int  // Conv, MaxPool: symmetric zero padding (MaxPool pads with -inf)
	Groups int  // Conv: channel groups (1 = dense)
	Bias   bool // Conv: whether a bias parameter exists

	Eps float64 // BatchNorm: variance epsilon

	OutH, OutW int // AdaptiveAvgPool: output size
}

// Node is one operator application.
type Node struct {
	Op     Op                        // the operator
	Name   string                    // unique within the graph; parameter key prefix
	In     []*Value                  // operands
	Out    *Value                    // result
	Attrs  Attrs                     // the op's attributes (kernel, stride, …); others zero
	Params map[string]*tensor.Tensor // learned parameters by name; nil if not loaded
}

// ParamSpec describes one parameter a node expects.
type ParamSpec struct {
	Name     string       // e.g. "weight"
	Shape    []int        // the PyTorch tensor shape ([] for a 0-d scalar)
	DType    tensor.DType // element type: Float32, or Int64 for num_batches_tracked
	Optional bool         // may be absent from a checkpoint (BatchNorm's num_batches_tracked)
	Buffer   bool         // a PyTorch buffer (running statistics), not a learnable nn.Parameter
}

// Key returns the state_dict key of parameter p of n: n.Name + "." + p.
func (n *Node) Key(p string) string { return n.Name + "." + p }

// ParamSpecs returns the parameters n expects, in state_dict order.
func (n *Node) ParamSpecs() []ParamSpec {
	switch n.Op {
	case Conv:
		cin := n.In[0].Shape.C
		g := max(n.Attrs.Groups, 1)
		specs := []ParamSpec{{Name: "weight", Shape: []int{n.Out.Shape.C, cin / g, n.Attrs.KH, n.Attrs.KW}}}
		if n.Attrs.Bias {
			specs = append(specs, ParamSpec{Name: "bias", Shape: []int{n.Out.Shape.C}})
		}
		return specs
	case BatchNorm:
		c := []int{n.Out.Shape.C}
		return []ParamSpec{
			{Name: "weight", Shape: c}, {Name: "bias", Shape: c},
			{Name: "running_mean", Shape: c, Buffer: true}, {Name: "running_var", Shape: c, Buffer: true},
			{Name: "num_batches_tracked", Shape: []int{}, DType: tensor.Int64, Optional: true, Buffer: true},
		}
	case Linear:
		return []ParamSpec{
			{Name: "weight", Shape: []int{n.Out.Shape.C, n.In[0].Shape.C}},
			{Name: "bias", Shape: []int{n.Out.Shape.C}},
		}
	}
	return nil
}

// NumParams returns the number of learnable scalars of n, counted as PyTorch counts
// nn.Parameters: conv and linear weights and biases, BatchNorm gamma and beta. Buffers
// (running statistics, num_batches_tracked) do not count.
func (n *Node) NumParams() int64 {
	var total int64
	for _, s := range n.ParamSpecs() {
		if !s.Buffer {
			total += int64(tensor.Numel(s.Shape))
		}
	}
	return total
}

// MACs returns the multiply-accumulates of n for one image: Hout·Wout·Cout·(Cin/g)·kh·kw
// for Conv and in·out for Linear; zero for every other op.
func (n *Node) MACs() int64 {
	switch n.Op {
	case Conv:
		o := n.Out.Shape
		g := max(n.Attrs.Groups, 1)
		return int64(o.H) * int64(o.W) * int64(o.C) * int64(n.In[0].Shape.C/g) * int64(n.Attrs.KH) * int64(n.Attrs.KW)
	case Linear:
		return int64(n.In[0].Shape.C) * int64(n.Out.Shape.C)
	}
	return 0
}

// Graph is a single-input, single-output operator graph. Nodes are in topological order and
// Nodes[0] is the Input node.
type Graph struct {
	Name   string  // the model's name, e.g. "RepVGG-A0"
	Nodes  []*Node // every node, in topological order, the Input node first
	Output *Value  // the graph's result
}

// Input returns the graph's input value.
func (g *Graph) Input() *Value { return g.Nodes[0].Out }

// Values returns every value, indexed by Value.ID.
func (g *Graph) Values() []*Value {
	vs := make([]*Value, len(g.Nodes))
	for _, n := range g.Nodes {
		if n.Out.ID >= 0 && n.Out.ID < len(vs) {
			vs[n.Out.ID] = n.Out
		}
	}
	return vs
}

// Users returns, for every value ID, the nodes that read it, in graph order. A node that
// reads a value twice appears twice.
func (g *Graph) Users() [][]*Node {
	users := make([][]*Node, len(g.Nodes))
	for _, n := range g.Nodes {
		for _, in := range n.In {
			users[in.ID] = append(users[in.ID], n)
		}
	}
	return users
}

// Node returns the node with the given name, or nil.
func (g *Graph) Node(name string) *Node {
	for _, n := range g.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Renumber reassigns dense value IDs in node order. Passes that add or drop nodes call it.
func (g *Graph) Renumber() {
	for i, n := range g.Nodes {
		n.Out.ID = i
	}
}

// Params returns the learnable parameter count of g (see Node.NumParams).
func (g *Graph) Params() int64 {
	var total int64
	for _, n := range g.Nodes {
		total += n.NumParams()
	}
	return total
}

// MACs returns the multiply-accumulates of g for one image.
func (g *Graph) MACs() int64 {
	var total int64
	for _, n := range g.Nodes {
		total += n.MACs()
	}
	return total
}

// Clone returns a deep copy of g's structure. Parameter maps are copied; the tensors in them
// are shared (passes replace tensors, they never write into them).
func (g *Graph) Clone() *Graph {
	c := &Graph{Name: g.Name, Nodes: make([]*Node, len(g.Nodes))}
	vmap := make(map[*Value]*Value, len(g.Nodes))
	for i, n := range g.Nodes {
		nn := &Node{Op: n.Op, Name: n.Name, Attrs: n.Attrs}
		nn.In = make([]*Value, len(n.In))
		for j, in := range n.In {
			nn.In[j] = vmap[in]
		}
		nn.Out = &Value{ID: n.Out.ID, Shape: n.Out.Shape, Producer: nn}
		vmap[n.Out] = nn.Out
		if n.Params != nil {
			nn.Params = make(map[string]*tensor.Tensor, len(n.Params))
			for k, t := range n.Params {
				nn.Params[k] = t
			}
		}
		c.Nodes[i] = nn
	}
	c.Output = vmap[g.Output]
	return c
}
