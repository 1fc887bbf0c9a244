package kern

import (
	"fmt"
	"math"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/constant"
	"github.com/llir/llvm/ir/enum"
	"github.com/llir/llvm/ir/types"
	"github.com/llir/llvm/ir/value"
	"github.com/vggsim/vggsim/codegen/emit"
	vir "github.com/vggsim/vggsim/ir"
)

// EltChunk is the vectors of 16 floats one elementwise work item covers (16 KiB).
const EltChunk = 256

// Eltwise is an elementwise op over one image stored in any layout (every operand and the
// result in the same one, padding lanes included: they stay zero): the sum of Inputs
// operands (added left to right, as the interpreter does) or, with Inputs = 1, a ReLU or
// ReLU6. Vecs is the image's size in vectors of 16 floats; a work item is EltChunk of them,
// so a residual add and its ReLU are spread over the pool rather than run by one thread.
// The result may be written in place of an operand.
type Eltwise struct {
	Inputs int
	Vecs   int
	Act    emit.Activation
	Label  string // shape and layout for the name, e.g. "256x56x56_nchw16c"
}

// Name returns the LLVM function name.
func (e *Eltwise) Name() string {
	op := fmt.Sprintf("add%d", e.Inputs)
	if e.Inputs == 1 {
		op = "act"
	}
	if a := e.Act.String(); a != "" {
		op += "_" + a
	}
	return fmt.Sprintf("elt_%s_%s", op, e.Label)
}

// Items returns the work items.
func (e *Eltwise) Items() int { return (e.Vecs + EltChunk - 1) / EltChunk }

// Define adds NAME(out, in0, …), NAME_range and NAME_body to m and returns NAME.
func (e *Eltwise) Define(m *ir.Module, linkage enum.Linkage) *ir.Func {
	names := []string{"out"}
	for i := 0; i < e.Inputs; i++ {
		names = append(names, fmt.Sprintf("in%d", i))
	}
	g, params, lo, hi := newBody(m, e.Name(), nil, names...) // no noalias: out may be an operand
	g.loop("item", lo, hi, func(item value.Value) {
		from := g.mul(item, c64(EltChunk))
		to := g.b.NewSelect(g.b.NewICmp(enum.IPredSLT, g.add(from, c64(EltChunk)), c64(e.Vecs)), g.add(from, c64(EltChunk)), c64(e.Vecs))
		g.loop("v", from, to, func(v value.Value) {
			off := g.mul(v, c64(Lanes))
			x := g.loadV(params[1], off, 64)
			for _, p := range params[2:] {
				x = g.b.NewFAdd(x, g.loadV(p, off, 64))
			}
			g.storeV(g.activate(x, Conv{ReLU: e.Act == emit.ActReLU, ReLU6: e.Act == emit.ActReLU6}), params[0], off, 64)
		})
	})
	g.b.NewRet(nil)
	return defineParallel(m, e.Name(), e.Items(), linkage, g.f, names...)
}

// MaxPool is a max-pool over NCHW16c (C channels, H×W input, KH×KW window, stride,
// padding that never wins, as in the interpreter): one vector max per tap, a work item is
// one output row of one channel block.
type MaxPool struct {
	C, H, W, KH, KW, Stride, Pad int
}

// Out returns the output height and width.
func (p *MaxPool) Out() (ho, wo int) {
	return (p.H+2*p.Pad-p.KH)/p.Stride + 1, (p.W+2*p.Pad-p.KW)/p.Stride + 1
}

// Name returns the LLVM function name.
func (p *MaxPool) Name() string {
	return fmt.Sprintf("maxpool_c%dx%dx%d_%dx%ds%dp%d_nchw16c", p.C, p.H, p.W, p.KH, p.KW, p.Stride, p.Pad)
}

// Items returns the work items: channel blocks × output rows.
func (p *MaxPool) Items() int {
	ho, _ := p.Out()
	return (p.C + Lanes - 1) / Lanes * ho
}

// Define adds NAME(out, in), NAME_range and NAME_body to m and returns NAME.
func (p *MaxPool) Define(m *ir.Module, linkage enum.Linkage) *ir.Func {
	ho, wo := p.Out()
	g, ps, lo, hi := newBody(m, p.Name(), allNoAlias, "out", "in")
	out, in := ps[0], ps[1]
	ninf := splatConst(math.Inf(-1))
	acc := g.entry.NewAlloca(v16)
	acc.Align = 64
	g.loop("item", lo, hi, func(item value.Value) {
		cb := g.b.NewSDiv(item, c64(ho))
		oh := g.b.NewSRem(item, c64(ho))
		src := g.gep(in, g.mul(cb, c64(p.H*p.W*Lanes)))
		dst := g.gep(out, g.mul(item, c64(wo*Lanes)))
		ih0 := g.add(g.mul(oh, c64(p.Stride)), c64(-p.Pad))
		g.loop("ow", c64(0), c64(wo), func(ow value.Value) {
			g.b.NewStore(ninf, acc)
			iw0 := g.add(g.mul(ow, c64(p.Stride)), c64(-p.Pad))
			for kh := 0; kh < p.KH; kh++ {
				ih := g.add(ih0, c64(kh))
				for kw := 0; kw < p.KW; kw++ {
					iw := g.add(iw0, c64(kw))
					ok := g.b.NewAnd(
						g.b.NewAnd(g.b.NewICmp(enum.IPredSGE, ih, c64(0)), g.b.NewICmp(enum.IPredSLT, ih, c64(p.H))),
						g.b.NewAnd(g.b.NewICmp(enum.IPredSGE, iw, c64(0)), g.b.NewICmp(enum.IPredSLT, iw, c64(p.W))))
					g.when("tap", ok, func() {
						v := g.loadV(src, g.mul(g.add(g.mul(ih, c64(p.W)), iw), c64(Lanes)), 64)
						a := g.b.NewLoad(v16, acc)
						// v > a || v != v: the interpreter's max, NaN wins.
						take := g.b.NewOr(g.b.NewFCmp(enum.FPredOGT, v, a), g.b.NewFCmp(enum.FPredUNO, v, v))
						g.b.NewStore(g.b.NewSelect(take, v, a), acc)
					})
				}
			}
			g.storeV(g.b.NewLoad(v16, acc), dst, g.mul(ow, c64(Lanes)), 64)
		})
	})
	g.b.NewRet(nil)
	return defineParallel(m, p.Name(), p.Items(), linkage, g.f, "out", "in")
}

// chooseEltwise returns the pooled kernel of an Add, ReLU or ReLU6 node whose operands are
// all stored in one layout (the result then stored in it too), or nil.
func chooseEltwise(req emit.Request) emit.Kernel {
	n := req.Node
	if len(req.Have) != len(n.In) || len(n.In) == 0 {
		return nil
	}
	l := req.Have[0]
	for i, h := range req.Have {
		if h != l || n.In[i].Shape != n.Out.Shape {
			return nil
		}
	}
	if req.OutFixed && req.Out != l {
		return nil
	}
	e := &Eltwise{Inputs: len(n.In), Vecs: (l.Elems(n.Out.Shape) + Lanes - 1) / Lanes}
	if l.Elems(n.Out.Shape)%Lanes != 0 {
		return nil // whole vectors only (always so in NCHW16c)
	}
	switch n.Op {
	case vir.Add:
		e.Act = req.Act
		if e.Act != emit.ActNone && e.Act != emit.ActReLU && e.Act != emit.ActReLU6 {
			return nil
		}
	case vir.ReLU:
		e.Inputs, e.Act = 1, emit.ActReLU
	case vir.ReLU6:
		e.Inputs, e.Act = 1, emit.ActReLU6
	default:
		return nil
	}
	s := n.Out.Shape
	e.Label = fmt.Sprintf("%dx%dx%d_%s", s.C, s.H, s.W, l)
	return &poolKernel{k: e, name: e.Name(), fam: "eltwise", in: slicesRepeat(l, len(n.In)), out: l,
		comment: fmt.Sprintf("elementwise %s over %d vectors, %d work items over the pool", n.Op, e.Vecs, e.Items())}
}

// chooseMaxPool returns the pooled NCHW16c max-pool kernel of a MaxPool node, or nil.
func chooseMaxPool(req emit.Request) emit.Kernel {
	n := req.Node
	b := emit.Blocked(Lanes)
	if len(n.In) != 1 || req.Act != emit.ActNone || (req.OutFixed && req.Out != b) {
		return nil
	}
	s, a := n.In[0].Shape, n.Attrs
	p := &MaxPool{C: s.C, H: s.H, W: s.W, KH: a.KH, KW: a.KW, Stride: a.Stride, Pad: a.Pad}
	if ho, wo := p.Out(); ho != n.Out.Shape.H || wo != n.Out.Shape.W || p.Stride <= 0 {
		return nil
	}
	return &poolKernel{k: p, name: p.Name(), fam: "maxpool", in: []emit.Layout{b}, out: b,
		comment: fmt.Sprintf("max-pool over NCHW16c, %d work items over the pool", p.Items())}
}

func slicesRepeat(l emit.Layout, n int) []emit.Layout {
	s := make([]emit.Layout, n)
	for i := range s {
		s[i] = l
	}
	return s
}

// poolKernel is an emit.Kernel without weights whose function runs over the pool.
type poolKernel struct {
	k interface {
		Define(*ir.Module, enum.Linkage) *ir.Func
	}
	name, fam, comment string
	in                 []emit.Layout
	out                emit.Layout
}

func (k *poolKernel) Name() string                  { return k.name }
func (k *poolKernel) Family() string                { return k.fam }
func (k *poolKernel) In() []emit.Layout             { return k.in }
func (k *poolKernel) Out() emit.Layout              { return k.out }
func (k *poolKernel) Weights() ([][]float32, error) { return nil, nil }

// Define adds the kernel (and its range and body functions) to m.
func (k *poolKernel) Define(m *emit.Module) *ir.Func {
	declarePool(m, false)
	m.Comment(k.name, k.comment)
	return k.k.Define(m.M, enum.LinkageInternal)
}

// GAP is a global average pool over NCHW16c (C channels, H×W map): a work item is one
// channel block, summed pixel by pixel in one vector (the interpreter's order per
// channel) and divided by H·W. It writes C values, or whole blocks with zero padding
// lanes when Blocked.
type GAP struct {
	C, H, W int
	Blocked bool
}

// Name returns the LLVM function name.
func (p *GAP) Name() string {
	out := "nchw"
	if p.Blocked {
		out = "nchw16c"
	}
	return fmt.Sprintf("gap_c%dx%dx%d_nchw16c_%s", p.C, p.H, p.W, out)
}

// Items returns the work items: channel blocks.
func (p *GAP) Items() int { return (p.C + Lanes - 1) / Lanes }

// Define adds NAME(out, in), NAME_range and NAME_body to m and returns NAME.
func (p *GAP) Define(m *ir.Module, linkage enum.Linkage) *ir.Func {
	g, ps, lo, hi := newBody(m, p.Name(), allNoAlias, "out", "in")
	out, in := ps[0], ps[1]
	acc := g.entry.NewAlloca(v16)
	acc.Align = 64
	hw := p.H * p.W
	g.loop("item", lo, hi, func(cb value.Value) {
		src := g.gep(in, g.mul(cb, c64(hw*Lanes)))
		g.b.NewStore(g.loadV(src, c64(0), 64), acc)
		g.loop("px", c64(1), c64(hw), func(q value.Value) {
			g.b.NewStore(g.b.NewFAdd(g.b.NewLoad(v16, acc), g.loadV(src, g.mul(q, c64(Lanes)), 64)), acc)
		})
		v := g.b.NewFDiv(g.b.NewLoad(v16, acc), splatConst(float64(hw)))
		off := g.mul(cb, c64(Lanes))
		if p.Blocked || p.C%Lanes == 0 {
			g.storeV(v, out, off, 64)
			return
		}
		// NCHW with a partial last block: store lane by lane below C.
		for l := 0; l < Lanes; l++ {
			ch := g.add(off, c64(l))
			g.when("lane", g.b.NewICmp(enum.IPredSLT, ch, c64(p.C)), func() {
				e := g.b.NewExtractElement(v, constant.NewInt(types.I32, int64(l)))
				s := g.b.NewStore(e, g.gep(out, ch))
				s.Align = 4
			})
		}
	})
	g.b.NewRet(nil)
	return defineParallel(m, p.Name(), p.Items(), linkage, g.f, "out", "in")
}

// chooseGAP returns the pooled global average pool of a GlobalAvgPool node over NCHW16c,
// writing NCHW16c, or NCHW when the plan needs it; or nil.
func chooseGAP(req emit.Request) emit.Kernel {
	n := req.Node
	b := emit.Blocked(Lanes)
	if len(n.In) != 1 || req.Act != emit.ActNone || len(req.Have) != 1 {
		return nil
	}
	s := n.In[0].Shape
	if n.Out.Shape.C != s.C || n.Out.Shape.H != 1 || n.Out.Shape.W != 1 || s.H*s.W < 1 {
		return nil
	}
	p := &GAP{C: s.C, H: s.H, W: s.W, Blocked: true}
	out := b
	if req.OutFixed {
		switch {
		case req.Out == b:
		case req.Out.Plain():
			p.Blocked, out = false, req.Out
		default:
			return nil
		}
	}
	return &poolKernel{k: p, name: p.Name(), fam: "gap", in: []emit.Layout{b}, out: out,
		comment: fmt.Sprintf("global average pool over NCHW16c, %d work items (channel blocks) over the pool", p.Items())}
}
