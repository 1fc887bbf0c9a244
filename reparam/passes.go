package reparam

import (
	"cmp"
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
	Name string             // used by Options.DumpAfter and `vggsim show --dump-after`
	Doc  string             // one line: the pattern it rewrites
	Run  func(*State) error // rewrites the state's graph in place
}

// State is a graph being rewritten by the passes of one Deploy, and the set of tensors the
// passes allocated. A pass may overwrite a tensor of that set in place (a later pass
// consuming an earlier pass's result); every other tensor belongs to the caller and is
// never written. This keeps fusion at a small constant times the parameter bytes.
type State struct {
	G     *ir.Graph
	owned map[*tensor.Tensor]bool
}

// NewState returns the state of a rewrite of g: g itself is rewritten, its tensors are
// read, never written.
func NewState(g *ir.Graph) *State {
	return &State{G: g, owned: map[*tensor.Tensor]bool{}}
}

// alloc returns a new zero float32 tensor the passes own.
func (s *State) alloc(shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	s.owned[t] = true
	return t
}

// writable returns t if the passes own it, else an owned copy of it.
func (s *State) writable(t *tensor.Tensor) *tensor.Tensor {
	if s.owned[t] {
		return t
	}
	c := t.Clone()
	s.owned[c] = true
	return c
}

// release drops n's parameters (n is dead), so that the collector may reclaim the ones
// the passes allocated before the pipeline ends.
func (s *State) release(n *ir.Node) {
	for _, t := range n.Params {
		delete(s.owned, t)
	}
	n.Params = nil
}

// Passes is the ordered pipeline that produces the deploy form. Order matters, see After.
// Every pass is linear in the number of nodes and in the parameter bytes.
var Passes = []Pass{
	{"identity-to-conv", "(Add ... (BN x)) => (Add ... (BN (Conv3x3[k=identity] x)))", identityToConv},
	{"fold-bn", "(BN (Conv x)) => (Conv+b x)", foldBN},
	{"pad-1x1", "(Add (Conv3x3 p=1 x) (Conv1x1 p=0 x) ...) => (Add (Conv3x3 p=1 x) (Conv3x3 p=1 x) ...)", pad1x1},
	{"merge-branches", "(Add (Conv3x3+b x) (Conv3x3+b x) ...) => (Conv3x3+b x)", mergeBranches},
	{"dead-code", "drop the nodes whose values do not reach the output", deadCode},
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

// Deploy returns the deploy form of g, which is left unchanged (the result shares the
// tensors no pass had to change). Parameters must be bound on every node that takes them
// or on none (then only the structure is rewritten, useful for counting and simulation).
//
// Deploy allocates about 2.5 times the parameter bytes of g in all, and after it returns
// only the deploy tensors stay reachable from the result.
func Deploy(g *ir.Graph, opts Options) (*ir.Graph, error) {
	for _, name := range []string{opts.DumpAfter, opts.StopAfter} {
		if name != "" && !known(name) {
			return nil, fmt.Errorf("unknown pass %q (passes: %s)", name, strings.Join(PassNames(), ", "))
		}
	}
	if err := checkBound(g); err != nil {
		return nil, err
	}
	s := NewState(g.Clone())
	d := s.G
	for _, p := range Passes {
		if err := p.Run(s); err != nil {
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

// known reports whether name is the name of a pass.
func known(name string) bool {
	for _, p := range Passes {
		if p.Name == name {
			return true
		}
	}
	return false
}

// checkBound reports a graph whose parameters are bound on some nodes but not on others:
// folding a BN into a conv needs both, and a half-fused graph would compute garbage.
func checkBound(g *ir.Graph) error {
	var with, without *ir.Node
	for _, n := range g.Nodes {
		if !n.Op.HasParams() {
			continue
		}
		if n.Params == nil {
			without = cmp.Or(without, n) // the first one
		} else {
			with = cmp.Or(with, n)
		}
	}
	if with != nil && without != nil {
		return fmt.Errorf("%s has parameters but %s has none; bind all parameters or none", with.Name, without.Name)
	}
	return nil
}

// useCounts renumbers g and returns how many times each value is read (the graph output
// counts as a read), indexed by value ID.
func useCounts(g *ir.Graph) []int {
	g.Renumber()
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

// convOf returns the conv of branch v = (BN (Conv x)) or (Conv x), or nil.
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

// identityToConv rewrites the identity branch of a multi-branch block:
//
//	(Add (BN (Conv x)) ... (BN x)) => (Add (BN (Conv x)) ... (BN (Conv3x3[k=identity, g] x)))
//
// when every operand of the Add is a branch of the same x. The kernel is [C, C/g, k, k],
// zero except k[i, i%(C/g), k/2, k/2] = 1, with k and g those of the widest sibling conv,
// so that BN folding treats the identity like any conv.
func identityToConv(s *State) error {
	g := s.G
	before := map[*ir.Node]*ir.Node{} // identity BN -> the conv to insert right before it
	for _, add := range g.Nodes {
		if add.Op != ir.Add {
			continue
		}
		x := branchInput(add.In[0])
		var sib *ir.Node
		for _, v := range add.In {
			if branchInput(v) != x {
				sib = nil
				break
			}
			if c := convOf(v); c != nil && (sib == nil || c.Attrs.KH > sib.Attrs.KH) {
				sib = c
			}
		}
		if x == nil || sib == nil {
			continue // not the branches of one input, or no conv among them
		}
		for _, v := range add.In {
			bn := v.Producer
			if bn.Op != ir.BatchNorm || bn.In[0] != x {
				continue
			}
			k, pad, groups := sib.Attrs.KH, sib.Attrs.Pad, max(sib.Attrs.Groups, 1)
			c := x.Shape.C
			if k != sib.Attrs.KW || k%2 == 0 || pad != k/2 || sib.Attrs.Stride != 1 || sib.Out.Shape != x.Shape || c%groups != 0 {
				return fmt.Errorf("%s: identity branch beside %s (k=%dx%d p=%d s=%d g=%d, %s -> %s) has no equivalent kernel",
					bn.Name, sib.Name, sib.Attrs.KH, sib.Attrs.KW, pad, sib.Attrs.Stride, groups, x.Shape, sib.Out.Shape)
			}
			conv := &ir.Node{Op: ir.Conv, Name: bn.Name + ".id_conv", In: []*ir.Value{x},
				Attrs: ir.Attrs{KH: k, KW: k, Stride: 1, Pad: pad, Groups: groups}}
			conv.Out = &ir.Value{ID: -1, Shape: x.Shape, Producer: conv}
			if bn.Params != nil {
				cg := c / groups
				w := s.alloc(c, cg, k, k)
				for i := range c {
					w.F32[((i*cg+i%cg)*k+k/2)*k+k/2] = 1
				}
				conv.Params = map[string]*tensor.Tensor{"weight": w}
			}
			bn.In = []*ir.Value{conv.Out}
			before[bn] = conv
		}
	}
	if len(before) == 0 {
		return nil
	}
	out := make([]*ir.Node, 0, len(g.Nodes)+len(before))
	for _, n := range g.Nodes {
		if conv := before[n]; conv != nil {
			out = append(out, conv)
		}
		out = append(out, n)
	}
	g.Nodes = out
	return nil
}

// foldBN folds an inference BatchNorm into the conv before it:
//
//	(BN (Conv x)) => (Conv+b x)   when the BN is the conv's only reader
//
// K' = K * (gamma/std) per output channel, b' = beta - ((mean*gamma)/std) (the reference's
// _fuse_bn_tensor); a conv that already has a bias b gets b' = beta + (((b-mean)*gamma)/std).
// A variance that is negative or not finite is an error naming the BN and the channel.
//
// The readers of each BN are redirected to its conv in the same single sweep (operands are
// defined before use), so the pass is linear in the number of nodes.
func foldBN(s *State) error {
	g := s.G
	uses := useCounts(g)
	subst := map[*ir.Value]*ir.Value{} // BN value -> conv value that replaces it
	var errs []error
	for _, n := range g.Nodes {
		for i, in := range n.In {
			if r, ok := subst[in]; ok {
				n.In[i] = r
			}
		}
		if n.Op != ir.BatchNorm {
			continue
		}
		conv := n.In[0].Producer
		if conv.Op != ir.Conv || uses[conv.Out.ID] != 1 {
			continue
		}
		if n.Params != nil && conv.Params != nil {
			w, b, err := s.foldTensors(conv, n)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			conv.Params = map[string]*tensor.Tensor{"weight": w, "bias": b}
			s.release(n)
		}
		conv.Attrs.Bias = true
		subst[n.Out] = conv.Out
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if r, ok := subst[g.Output]; ok {
		g.Output = r
	}
	return deadCode(s) // the folded BNs
}

// foldTensors computes the folded kernel and bias of conv followed by bn in the reference
// order. A kernel the passes own (an identity kernel) is scaled in place.
func (s *State) foldTensors(conv, bn *ir.Node) (w, b *tensor.Tensor, err error) {
	if err := checkBN(bn); err != nil {
		return nil, nil, err
	}
	gamma, beta := bn.Params["weight"].F32, bn.Params["bias"].F32
	mean, vr := bn.Params["running_mean"].F32, bn.Params["running_var"].F32
	eps := float32(bn.Attrs.Eps)
	k := conv.Params["weight"]
	cout := k.Shape[0]
	per := k.Len() / cout
	if s.owned[k] {
		w = k
	} else {
		w = s.alloc(k.Shape...)
	}
	b = s.alloc(cout)
	var convBias []float32
	if cb := conv.Params["bias"]; cb != nil {
		convBias = cb.F32
	}
	for o := range cout {
		std := float32(math.Sqrt(float64(float32(vr[o] + eps))))
		t := float32(gamma[o] / std)
		src, dst := k.F32[o*per:(o+1)*per], w.F32[o*per:(o+1)*per]
		for i, x := range src {
			dst[i] = float32(x * t)
		}
		if convBias == nil {
			b.F32[o] = float32(beta[o] - float32(float32(mean[o]*gamma[o])/std))
		} else {
			b.F32[o] = float32(beta[o] + float32(float32(float32(convBias[o]-mean[o])*gamma[o])/std))
		}
	}
	return w, b, nil
}

// CheckBatchNorm reports, joined, every BatchNorm of g whose parameters cannot be folded or
// evaluated: a running_var that is negative or not finite, or a gamma, beta or running_mean
// that is not finite. Deploy fails on the same; callers that run the train form directly
// call it after binding a checkpoint, so that such a file is an error rather than NaNs.
func CheckBatchNorm(g *ir.Graph) error {
	var errs []error
	for _, n := range g.Nodes {
		if n.Op == ir.BatchNorm && n.Params != nil {
			if err := checkBN(n); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// checkBN reports the first bad channel of one BatchNorm (see CheckBatchNorm).
func checkBN(bn *ir.Node) error {
	for o, v := range bn.Params["running_var"].F32 {
		if !(v >= 0) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%s: running_var[%d] = %g; a variance must be finite and non-negative", bn.Name, o, v)
		}
	}
	for _, p := range []string{"weight", "bias", "running_mean"} {
		for o, v := range bn.Params[p].F32 {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%s: %s[%d] = %g; BatchNorm parameters must be finite", bn.Name, p, o, v)
			}
		}
	}
	return nil
}

// pad1x1 zero-pads a 1x1 branch to the kernel size of its widest sibling:
//
//	(Add (Conv3x3 p=1 x) (Conv1x1 p=0 x) ...) => (Add (Conv3x3 p=1 x) (Conv3x3 p=1 x) ...)
//
// when every operand of the Add is a conv of the same x. The kernel goes to the centre of a
// zero k×k kernel; padding k/2 keeps the output aligned for any stride. A ResNet shortcut
// add (a conv of another value, or no conv) is left alone.
func pad1x1(s *State) error {
	for _, add := range s.G.Nodes {
		if add.Op != ir.Add {
			continue
		}
		var widest *ir.Node
		x := add.In[0].Producer.In
		for _, v := range add.In {
			c := v.Producer
			if c.Op != ir.Conv || len(x) == 0 || c.In[0] != x[0] || c.Attrs.KH != c.Attrs.KW {
				widest = nil // not parallel conv branches of one input
				break
			}
			if widest == nil || c.Attrs.KH > widest.Attrs.KH {
				widest = c
			}
		}
		if widest == nil || widest.Attrs.KH <= 1 || widest.Attrs.Pad != widest.Attrs.KH/2 {
			continue
		}
		k := widest.Attrs.KH
		for _, v := range add.In {
			c := v.Producer
			if c.Attrs.KH != 1 || c.Attrs.Pad != 0 {
				continue
			}
			c.Attrs.KH, c.Attrs.KW, c.Attrs.Pad = k, k, k/2
			if w := c.Params["weight"]; w != nil {
				p := s.alloc(w.Shape[0], w.Shape[1], k, k)
				for i, x := range w.F32 {
					p.F32[(i*k+k/2)*k+k/2] = x
				}
				delete(s.owned, w)
				c.Params["weight"] = p
			}
		}
	}
	return nil
}

// mergeBranches merges the parallel convs of one input that an Add sums:
//
//	(Add (Conv+b x) (Conv+b x) ...) => (Conv+b x)   same kernel, stride, padding and groups
//
// K = (K1 + K2) + K3 ..., b = (b1 + b2) + b3 ..., summed left to right in float32 (the
// reference's get_equivalent_kernel_bias), into the first branch's tensors when the passes
// own them. The merged conv is named after the branches' common prefix, as the reference
// names it: "stage1.0.rbr_dense.conv" and "stage1.0.rbr_1x1.conv" give
// "stage1.0.rbr_reparam".
func mergeBranches(s *State) error {
	g := s.G
	uses := useCounts(g)
	names := make(map[string]bool, len(g.Nodes))
	for _, n := range g.Nodes {
		names[n.Name] = true
	}
	for _, add := range g.Nodes {
		if add.Op != ir.Add || !mergeable(add, uses) {
			continue
		}
		first := add.In[0].Producer
		var params map[string]*tensor.Tensor
		if first.Params != nil {
			w := s.writable(first.Params["weight"])
			b := s.writable(first.Params["bias"])
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
		name := mergedName(add)
		if names[name] {
			name = add.Name + ".rbr_reparam"
		}
		names[name] = true
		in := first.In[0]
		for _, v := range add.In {
			s.release(v.Producer) // dead now; deadCode drops the nodes
		}
		add.Name = name
		add.Op, add.Attrs, add.Params = ir.Conv, first.Attrs, params
		add.In = []*ir.Value{in}
	}
	return deadCode(s) // the merged branches
}

// mergeable reports whether add sums two or more same-shaped biased convs of one input,
// each read only by add.
func mergeable(add *ir.Node, uses []int) bool {
	first := add.In[0].Producer
	if len(add.In) < 2 || first.Op != ir.Conv || !first.Attrs.Bias {
		return false
	}
	for i, v := range add.In {
		c := v.Producer
		if c.Op != ir.Conv || c.In[0] != first.In[0] || c.Attrs != first.Attrs || uses[v.ID] != 1 {
			return false
		}
		for _, u := range add.In[:i] {
			if u == v {
				return false // the same conv twice: (Add c c) is 2c, not a merge of branches
			}
		}
		if (c.Params == nil) != (first.Params == nil) {
			return false
		}
	}
	return true
}

// mergedName returns the name of the conv merged from add's branches: their common dotted
// prefix followed by "rbr_reparam".
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

// deadCode drops every node whose value does not reach the output (the input node stays)
// and releases the parameters of the dropped ones:
//
//	(n ...) => ()   when no path leads from n's value to the graph output
//
// It is the dead-code pass, and fold-bn and merge-branches end with it.
func deadCode(s *State) error {
	g := s.G
	pos := make(map[*ir.Value]int, len(g.Nodes))
	for i, n := range g.Nodes {
		pos[n.Out] = i
	}
	live := make([]bool, len(g.Nodes))
	if i, ok := pos[g.Output]; ok {
		live[i] = true
	}
	live[0] = true
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		if live[i] {
			for _, in := range g.Nodes[i].In {
				if j, ok := pos[in]; ok {
					live[j] = true
				}
			}
		}
	}
	out := g.Nodes[:0]
	for i, n := range g.Nodes {
		if live[i] {
			out = append(out, n)
		} else {
			s.release(n)
		}
	}
	clear(g.Nodes[len(out):])
	g.Nodes = out
	return nil
}
