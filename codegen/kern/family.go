package kern

import (
	"fmt"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/enum"
	"github.com/vggsim/vggsim/codegen/emit"
	vir "github.com/vggsim/vggsim/ir"
)

// Family is the fast kernel family for the codegen planner: it takes every depthwise conv
// (Depthwise) and every other conv CheckDirect accepts, reading and writing NCHW16c, packing
// weights at build time and fusing bias and a following ReLU or ReLU6; per conv it runs the
// direct kernel or, for 3×3 stride-1 convs, Winograd F(4×4,3×3), as Algo, Tuned and the
// cost model decide (see ChooseAlgo). It also takes the classifier (Linear), elementwise
// adds and activations, and max-pools, all over the thread pool. Other ops (and what it
// declines) fall through to the next family.
type Family struct {
	// Algo forces an algorithm where it applies (AlgoWinograd: every conv CheckWinograd
	// accepts; AlgoDirect: none); AlgoAuto leaves the choice to Tuned, then ChooseAlgo.
	Algo Algo
	// Tuned holds choices measured at build time by Tune, by shape (ReLU false).
	Tuned map[Conv]Choice
}

// Name returns "direct".
func (Family) Name() string { return "direct" }

// Choose returns the kernel of a conv node (depthwise, Winograd or direct), a linear node,
// an elementwise add or activation, or a max-pool; or nil.
func (f Family) Choose(req emit.Request) emit.Kernel {
	n := req.Node
	switch n.Op {
	case vir.Add, vir.ReLU, vir.ReLU6:
		return chooseEltwise(req)
	case vir.MaxPool:
		return chooseMaxPool(req)
	case vir.GlobalAvgPool:
		return chooseGAP(req)
	}
	if (n.Op != vir.Conv && n.Op != vir.Linear) || len(n.In) != 1 {
		return nil
	}
	for _, p := range n.ParamSpecs() {
		if t := n.Params[p.Name]; t != nil && t.DType != p.DType {
			return nil // mistyped parameters: the generic family reports them
		}
	}
	if n.Op == vir.Linear {
		return chooseLinear(req)
	}
	if req.OutFixed && req.Out != emit.Blocked(Lanes) {
		return nil
	}
	if req.Act != emit.ActNone && req.Act != emit.ActReLU && req.Act != emit.ActReLU6 {
		return nil // only ReLU and ReLU6 are fused into the store
	}
	c := ConvOf(n, req.Act == emit.ActReLU)
	c.ReLU6 = req.Act == emit.ActReLU6
	if k := choosePointwise(c, n, req); k != nil {
		return k // 1×1 convs, and the residual add fused into one (req.Residual)
	}
	if req.Residual {
		return nil
	}
	if IsDepthwise(c) {
		return chooseDepthwise(c, n)
	}
	d, err := NewDirect(c)
	if err != nil {
		return nil
	}
	if k := f.winograd(c, n); k != nil {
		return k
	}
	// A stem (fewer channels than a block) stored NCHW is read as it is.
	d.InPlain = len(req.Have) > 0 && req.Have[0].Plain() && d.Conv.C < Lanes
	return &convKernel{d: d, n: n}
}

// ConvOf returns the Conv shape of an IR conv node; relu says whether a ReLU is fused.
func ConvOf(n *vir.Node, relu bool) Conv {
	in, a := n.In[0].Shape, n.Attrs
	return Conv{C: in.C, H: in.H, W: in.W, K: n.Out.Shape.C, KH: a.KH, KW: a.KW,
		Stride: a.Stride, Pad: a.Pad, Groups: max(a.Groups, 1), ReLU: relu}
}

type convKernel struct {
	d *Direct
	n *vir.Node
}

func (k *convKernel) Name() string   { return k.d.Name() }
func (k *convKernel) Family() string { return "direct" }
func (k *convKernel) In() []emit.Layout {
	if k.d.InPlain {
		return []emit.Layout{emit.NCHW}
	}
	return []emit.Layout{emit.Blocked(Lanes)}
}
func (k *convKernel) Out() emit.Layout { return emit.Blocked(Lanes) }

// Weights returns the packed weights and the padded bias (zeros for a conv without one).
func (k *convKernel) Weights() ([][]float32, error) {
	w, b, err := convParams(k.n)
	if err != nil {
		return nil, err
	}
	pw, pb, err := k.d.Pack(w, b)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", k.n.Name, err)
	}
	return [][]float32{pw, pb}, nil
}

// Define adds the kernel (and its range and body functions) to m.
func (k *convKernel) Define(m *emit.Module) *ir.Func {
	declarePool(m, true)
	c, t := k.d.Conv, k.d.Tile
	ho, wo := c.Out()
	m.Comment(k.d.Name(), fmt.Sprintf("direct conv %s -> %dx%dx%d, %s in, NCHW16c out, tile %d blocks x %d pixels, %d work items over the pool", c, c.K, ho, wo, k.In()[0], t.RK, t.RW, k.d.Items()))
	return k.d.Define(m.M, enum.LinkageInternal)
}

// convParams returns the weight and bias of a conv or linear node (bias nil when the node
// has none, as its ParamSpecs say), naming the node and parameter when one is missing.
func convParams(n *vir.Node) (w, b []float32, err error) {
	for _, p := range n.ParamSpecs() {
		if p.Name != "weight" && p.Name != "bias" {
			continue
		}
		t := n.Params[p.Name]
		if t == nil {
			return nil, nil, fmt.Errorf("node %s: no %s parameter", n.Name, p.Name)
		}
		if p.Name == "weight" {
			w = t.F32
		} else {
			b = t.F32
		}
	}
	if w == nil {
		return nil, nil, fmt.Errorf("node %s: no weight parameter", n.Name)
	}
	return w, b, nil
}

// declarePool adds what every pooled kernel calls to m: the thread pool's entry point
// vggsim_parallel and its C runtime (pool.c), after llvm.fma.v16f32 when fma is set.
// Declarations are kept once per module, in first-declared order.
func declarePool(m *emit.Module, fma bool) {
	if fma {
		m.Declare("llvm.fma.v16f32", v16, v16, v16, v16)
	}
	m.Declare("vggsim_parallel", voidT, TaskPtr, f32pp, i64)
	m.AddCSource("pool.c", PoolC)
}

// newBody adds NAME_body(ptrs..., lo, hi) to m — float pointers named ptrs, then the i64
// range of work items — internal, nounwind and preferring 512-bit vectors, the form every
// kernel's body takes for the pool; noalias marks the pointers no other one overlaps
// (false: none). It returns the function's builder, its pointer parameters in order, and
// lo and hi.
func newBody(m *ir.Module, name string, noalias func(ptr string) bool, ptrs ...string) (g *fb, ps []*ir.Param, lo, hi *ir.Param) {
	for _, n := range ptrs {
		q := ir.NewParam(n, f32p)
		if noalias != nil && noalias(n) {
			q.Attrs = append(q.Attrs, enum.ParamAttrNoAlias)
		}
		ps = append(ps, q)
	}
	lo, hi = ir.NewParam("lo", i64), ir.NewParam("hi", i64)
	f := m.NewFunc(name+"_body", voidT, append(append([]*ir.Param(nil), ps...), lo, hi)...)
	f.Linkage = enum.LinkageInternal
	f.FuncAttrs = append(f.FuncAttrs, enum.FuncAttrNoUnwind, ir.AttrPair{Key: "prefer-vector-width", Value: "512"})
	return newFB(m, f), ps, lo, hi
}

// allNoAlias is newBody's noalias for kernels whose pointers never overlap.
func allNoAlias(string) bool { return true }
