package reparam

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

// Pass is one named graph rewrite.
type Pass struct {
	Name string                  // used by Options.DumpAfter and `vggsim show --dump-after`
	Doc  string                  // one line: the pattern it rewrites
	Run  func(g *ir.Graph) error // rewrites g in place
}

// Passes is the ordered pipeline that produces the deploy form. Order matters, see After.
var Passes = []Pass{
	{"identity-to-conv", "(BN x) in an add with convs of x => (BN (Conv3x3[identity] x))", identityToConv},
	{"fold-bn", "(BN (Conv x)) => (Conv+b x)", foldBN},
	{"pad-1x1", "(Conv1x1 p=0 x) beside a Conv3x3 p=1 of x in an add => (Conv3x3 p=1 x)", pad1x1},
	{"merge-branches", "(Add (Conv3x3+b x) (Conv3x3+b x) ...) => (Conv3x3+b x)", mergeBranches},
	{"dead-code", "drop values that do not reach the output", deadCode},
}

// After lists ordering constraints as data: the first pass must run before the second.
var After = [][2]string{
	{"identity-to-conv", "fold-bn"}, // the identity conv's BN is folded like any other
	{"fold-bn", "pad-1x1"},          // padding is exact, folding first matches the reference order
	{"pad-1x1", "merge-branches"},   // only same-shaped kernels merge
	{"merge-branches", "dead-code"}, // merging leaves the branch convs dead
}

// PassNames returns the names of Passes in order.
func PassNames() []string {
	names := make([]string, len(Passes))
	for i, p := range Passes {
		names[i] = p.Name
	}
	return names
}

// Options controls Deploy.
type Options struct {
	NoCheck   bool      // skip ir.Verify between passes
	DumpAfter string    // pass name whose output is printed to Dump
	Dump      io.Writer // where DumpAfter goes
	StopAfter string    // pass name after which to stop (a partial deploy form); "" runs all
}

// Deploy returns the deploy form of g, which is left unchanged. Parameters must be bound
// (or all absent: then only the structure is rewritten, useful for counting and simulation).
func Deploy(g *ir.Graph, opts Options) (*ir.Graph, error) {
	for _, name := range []string{opts.DumpAfter, opts.StopAfter} {
		if name != "" && !known(name) {
			return nil, fmt.Errorf("unknown pass %q (passes: %s)", name, strings.Join(PassNames(), ", "))
		}
	}
	d := g.Clone()
	for _, p := range Passes {
		if err := p.Run(d); err != nil {
			return nil, fmt.Errorf("reparam %s: %w", p.Name, err)
		}
		d.Renumber()
		if !opts.NoCheck {
			if err := ir.Verify(d); err != nil {
				return nil, fmt.Errorf("after pass %s: %w", p.Name, err)
			}
		}
		if p.Name == opts.DumpAfter && opts.Dump != nil {
			fmt.Fprintf(opts.Dump, "# after %s\n", p.Name)
			if err := ir.Print(opts.Dump, d); err != nil {
				return nil, err
			}
		}
		if p.Name == opts.StopAfter {
			break
		}
	}
	return d, nil
}

func known(name string) bool {
	for _, p := range Passes {
		if p.Name == name {
			return true
		}
	}
	return false
}

// useCounts returns how many times each value is read (the graph output counts as a read).
func useCounts(g *ir.Graph) []int {
	n := make([]int, len(g.Nodes))
	for _, nd := range g.Nodes {
		for _, in := range nd.In {
			n[in.ID]++
		}
	}
	if g.Output != nil {
		n[g.Output.ID]++
	}
	return n
}

// replaceUses makes every reader of old read new instead.
func replaceUses(g *ir.Graph, old, new *ir.Value) {
	for _, n := range g.Nodes {
		for i, in := range n.In {
			if in == old {
				n.In[i] = new
			}
		}
	}
	if g.Output == old {
		g.Output = new
	}
}

// branchInput returns the input x of a block branch v = (BN (Conv x)), (Conv x) or (BN x),
// or nil when v is none of these.
func branchInput(v *ir.Value) *ir.Value {
	n := v.Producer
	if n.Op == ir.BatchNorm {
		if p := n.In[0].Producer; p.Op == ir.Conv {
			return p.In[0]
		}
		return n.In[0] // identity branch
	}
	if n.Op == ir.Conv {
		return n.In[0]
	}
	return nil
}

// isBranchAdd reports whether add sums two or more branches of one input x, at least one of
// them a conv: the RepVGG block pattern.
func isBranchAdd(add *ir.Node) bool {
	if add.Op != ir.Add {
		return false
	}
	x := branchInput(add.In[0])
	if x == nil {
		return false
	}
	convs := 0
	for _, v := range add.In {
		if branchInput(v) != x {
			return false
		}
		if v.Producer.Op == ir.Conv || v.Producer.In[0].Producer.Op == ir.Conv {
			convs++
		}
	}
	return convs > 0
}

// identityToConv rewrites the identity branch of a multi-branch block:
//
//	(Add ... (BN x) ...) => (Add ... (BN (Conv3x3[k=identity, g] x)) ...)
//
// The kernel is [C, C/g, 3, 3], zero except k[i, i%(C/g), 1, 1] = 1, with g the groups of
// the sibling conv, so BN folding treats it like any conv.
func identityToConv(g *ir.Graph) error {
	idConv := map[*ir.Node]*ir.Node{} // identity BN -> the conv to insert before it
	for _, add := range g.Nodes {
		if !isBranchAdd(add) {
			continue
		}
		var sib *ir.Node
		for _, v := range add.In {
			if c := convOf(v); c != nil && (sib == nil || c.Attrs.KH > sib.Attrs.KH) {
				sib = c
			}
		}
		for _, v := range add.In {
			bn := v.Producer
			if bn.Op != ir.BatchNorm || bn.In[0].Producer.Op == ir.Conv {
				continue
			}
			k, pad, groups := sib.Attrs.KH, sib.Attrs.Pad, sib.Attrs.Groups
			if k != sib.Attrs.KW || k%2 == 0 || pad != k/2 || sib.Attrs.Stride != 1 {
				return fmt.Errorf("%s: identity branch beside %s (k=%dx%d p=%d s=%d) has no equivalent kernel",
					bn.Name, sib.Name, sib.Attrs.KH, sib.Attrs.KW, pad, sib.Attrs.Stride)
			}
			x := bn.In[0]
			c := x.Shape.C
			conv := &ir.Node{Op: ir.Conv, Name: bn.Name + ".id_conv", In: []*ir.Value{x},
				Attrs: ir.Attrs{KH: k, KW: k, Stride: 1, Pad: pad, Groups: groups}}
			conv.Out = &ir.Value{Shape: x.Shape, Producer: conv}
			if bn.Params != nil {
				w := tensor.New(c, c/groups, k, k)
				for i := range c {
					w.F32[((i*(c/groups)+i%(c/groups))*k+k/2)*k+k/2] = 1
				}
				conv.Params = map[string]*tensor.Tensor{"weight": w}
			}
			bn.In = []*ir.Value{conv.Out}
			idConv[bn] = conv
		}
	}
	if len(idConv) == 0 {
		return nil
	}
	out := make([]*ir.Node, 0, len(g.Nodes)+len(idConv))
	for _, n := range g.Nodes {
		if conv := idConv[n]; conv != nil {
			out = append(out, conv)
		}
		out = append(out, n)
	}
	g.Nodes = out
	return nil
}

func convOf(v *ir.Value) *ir.Node {
	n := v.Producer
	if n.Op == ir.BatchNorm {
		n = n.In[0].Producer
	}
	if n.Op == ir.Conv {
		return n
	}
	return nil
}

// foldBN folds an inference BatchNorm into the conv before it:
//
//	(BN (Conv x)) => (Conv+b x)   when the conv's only reader is the BN
//
// K' = K * (gamma/std) per output channel; b' = beta - ((mean*gamma)/std), plus the conv's
// own bias scaled when it has one: b' = beta + ((b - mean)*gamma)/std.
func foldBN(g *ir.Graph) error {
	uses := useCounts(g)
	var errs []error
	for _, bn := range g.Nodes {
		if bn.Op != ir.BatchNorm {
			continue
		}
		conv := bn.In[0].Producer
		if conv.Op != ir.Conv || uses[conv.Out.ID] != 1 {
			continue
		}
		if bn.Params != nil && conv.Params != nil {
			w, b, err := foldTensors(conv, bn)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			conv.Params = map[string]*tensor.Tensor{"weight": w, "bias": b}
		}
		conv.Attrs.Bias = true
		replaceUses(g, bn.Out, conv.Out)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return deadCode(g) // the folded BNs

}

// foldTensors computes the folded kernel and bias of conv followed by bn in the reference
// order; it fails on negative or non-finite variances.
func foldTensors(conv, bn *ir.Node) (w, b *tensor.Tensor, err error) {
	gamma, beta := bn.Params["weight"].F32, bn.Params["bias"].F32
	mean, vr := bn.Params["running_mean"].F32, bn.Params["running_var"].F32
	eps := float32(bn.Attrs.Eps)
	k := conv.Params["weight"]
	cout := k.Shape[0]
	per := k.Len() / cout
	w = tensor.New(k.Shape...)
	b = tensor.New(cout)
	var convBias []float32
	if cb := conv.Params["bias"]; cb != nil {
		convBias = cb.F32
	}
	for o := range cout {
		if !(vr[o] >= 0) || math.IsInf(float64(vr[o]), 0) {
			return nil, nil, fmt.Errorf("%s: running_var[%d] = %g; a variance must be finite and non-negative", bn.Name, o, vr[o])
		}
		std := float32(math.Sqrt(float64(float32(vr[o] + eps))))
		t := float32(gamma[o] / std)
		for i := range per {
			w.F32[o*per+i] = float32(k.F32[o*per+i] * t)
		}
		if convBias == nil {
			b.F32[o] = float32(beta[o] - float32(float32(mean[o]*gamma[o])/std))
		} else {
			b.F32[o] = float32(beta[o] + float32(float32(float32(convBias[o]-mean[o])*gamma[o])/std))
		}
	}
	return w, b, nil
}

// pad1x1 zero-pads a 1x1 branch to the kernel size of its sibling:
//
//	(Add (Conv3x3 p=1 x) (Conv1x1 p=0 x) ...) => (Add (Conv3x3 p=1 x) (Conv3x3 p=1 x) ...)
//
// The kernel goes to the centre of a zero k×k kernel; padding (k-1)/2 keeps the output
// aligned.
func pad1x1(g *ir.Graph) error {
	for _, add := range g.Nodes {
		if add.Op != ir.Add {
			continue
		}
		k := 0
		x := branchInput(add.In[0])
		for _, v := range add.In {
			if c := v.Producer; c.Op != ir.Conv || x == nil || c.In[0] != x || c.Attrs.KH != c.Attrs.KW {
				k = -1 // not parallel branches of one input (a ResNet shortcut, say)
				break
			}
			k = max(k, v.Producer.Attrs.KH)
		}
		if k <= 1 {
			continue
		}
		for _, v := range add.In {
			c := v.Producer
			if c.Attrs.KH != 1 || c.Attrs.KW != 1 || c.Attrs.Pad != 0 {
				continue
			}
			c.Attrs.KH, c.Attrs.KW, c.Attrs.Pad = k, k, k/2
			if w := c.Params["weight"]; w != nil {
				p := tensor.New(w.Shape[0], w.Shape[1], k, k)
				for i, x := range w.F32 {
					p.F32[(i*k+k/2)*k+k/2] = x
				}
				c.Params["weight"] = p
			}
		}
	}
	return nil
}

// mergeBranches merges the parallel convs of one input that an Add sums:
//
//	(Add (Conv+b x) (Conv+b x) ...) => (Conv+b x)   same kernel, stride, padding, groups
//
// K = (K1 + K2) + K3 ..., b = (b1 + b2) + b3 ..., summed left to right in float32. The
// merged conv is named after the branches' common prefix, as the reference names it:
// "stage1.0.rbr_dense.conv" and "stage1.0.rbr_1x1.conv" give "stage1.0.rbr_reparam".
func mergeBranches(g *ir.Graph) error {
	for _, add := range g.Nodes {
		if add.Op != ir.Add || !mergeable(add) {
			continue
		}
		first := add.In[0].Producer
		var params map[string]*tensor.Tensor
		if first.Params != nil {
			w := first.Params["weight"].Clone()
			b := first.Params["bias"].Clone()
			for _, v := range add.In[1:] {
				p := v.Producer.Params
				for i, x := range p["weight"].F32 {
					w.F32[i] = float32(w.F32[i] + x)
				}
				for i, x := range p["bias"].F32 {
					b.F32[i] = float32(b.F32[i] + x)
				}
			}
			params = map[string]*tensor.Tensor{"weight": w, "bias": b}
		}
		// The Add node itself becomes the merged conv, so its value keeps its readers.
		add.Name = mergedName(add)
		add.Op, add.Attrs, add.Params = ir.Conv, first.Attrs, params
		add.In = []*ir.Value{first.In[0]}
	}
	return deadCode(g) // the merged branches
}

func mergeable(add *ir.Node) bool {
	first := add.In[0].Producer
	if first.Op != ir.Conv || !first.Attrs.Bias {
		return false
	}
	for _, v := range add.In {
		c := v.Producer
		if c.Op != ir.Conv || c.In[0] != first.In[0] || c.Attrs != first.Attrs {
			return false
		}
		if (c.Params == nil) != (first.Params == nil) {
			return false
		}
	}
	return true
}

func mergedName(add *ir.Node) string {
	prefix := strings.Split(add.In[0].Producer.Name, ".")
	for _, v := range add.In[1:] {
		parts := strings.Split(v.Producer.Name, ".")
		n := 0
		for n < len(prefix) && n < len(parts) && prefix[n] == parts[n] {
			n++
		}
		prefix = prefix[:n]
	}
	return strings.Join(append(prefix, "rbr_reparam"), ".")
}

// deadCode drops every node whose value does not reach the output (the input stays).
func deadCode(g *ir.Graph) error {
	live := make(map[*ir.Value]bool, len(g.Nodes))
	live[g.Output] = true
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		if n := g.Nodes[i]; live[n.Out] {
			for _, in := range n.In {
				live[in] = true
			}
		}
	}
	out := g.Nodes[:0]
	for i, n := range g.Nodes {
		if i == 0 || live[n.Out] {
			out = append(out, n)
		}
	}
	clear(g.Nodes[len(out):])
	g.Nodes = out
	return nil
}
