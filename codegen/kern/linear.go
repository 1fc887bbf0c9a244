package kern

import (
	"fmt"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/constant"
	"github.com/llir/llvm/ir/enum"
	"github.com/llir/llvm/ir/types"
	"github.com/llir/llvm/ir/value"
	"github.com/vggsim/vggsim/codegen/emit"
	vir "github.com/vggsim/vggsim/ir"
)

// LinearChains is the number of independent accumulators a Linear work item sums into, so
// its FMAs are not serialized on their latency.
const LinearChains = 4

// Linear is a fully connected layer (y = W·x + b over one image's In features, Out outputs,
// optionally ReLU) split over the pool by blocks of 16 outputs: a work item broadcasts each
// input feature against the 16 weights of its block, in LinearChains interleaved
// accumulators. Weights are packed [ceil(Out/16)][In][16], bias padded to whole blocks;
// the result is stored plain (Out floats, no padding lanes). It is a matrix-vector product,
// bound by reading the weights once per image, which the threads share.
type Linear struct {
	In, Out int
	ReLU    bool
}

// Name returns the LLVM function name.
func (l *Linear) Name() string {
	s := fmt.Sprintf("fc_%d_to_%d", l.In, l.Out)
	if l.ReLU {
		s += "_relu"
	}
	return s
}

// Items returns the work items: blocks of 16 outputs.
func (l *Linear) Items() int { return (l.Out + Lanes - 1) / Lanes }

// Pack arranges PyTorch-ordered weights w [Out][In] and bias b [Out] (nil: zeros).
func (l *Linear) Pack(w, b []float32) (pw, pb []float32, err error) {
	if len(w) != l.In*l.Out {
		return nil, nil, fmt.Errorf("kern: linear %d->%d: %d weights, want %d", l.In, l.Out, len(w), l.In*l.Out)
	}
	if b != nil && len(b) != l.Out {
		return nil, nil, fmt.Errorf("kern: linear %d->%d: %d biases, want %d", l.In, l.Out, len(b), l.Out)
	}
	pw = make([]float32, l.Items()*Lanes*l.In)
	for o := 0; o < l.Out; o++ {
		for i := 0; i < l.In; i++ {
			pw[((o/Lanes)*l.In+i)*Lanes+o%Lanes] = w[o*l.In+i]
		}
	}
	pb = make([]float32, l.Items()*Lanes)
	copy(pb, b)
	return pw, pb, nil
}

// Define adds NAME, NAME_range and NAME_body to m as Direct.Define does, and returns NAME.
func (l *Linear) Define(m *ir.Module, linkage enum.Linkage) *ir.Func {
	return defineParallel(m, l.Name(), l.Items(), linkage, l.defineBody(m))
}

func (l *Linear) defineBody(m *ir.Module) *ir.Func {
	g, ps, lo, hi := newBody(m, l.Name(), allNoAlias, "out", "in", "w", "bias")
	out, in, w, bias := ps[0], ps[1], ps[2], ps[3]
	acc := make([]value.Value, LinearChains)
	for i := range acc {
		a := g.entry.NewAlloca(v16)
		a.Align = 64
		acc[i] = a
	}
	g.loop("blk", lo, hi, func(blk value.Value) {
		wb := g.gep(w, g.mul(blk, c64(l.In*Lanes)))
		for i := range acc {
			g.b.NewStore(g.zero16, acc[i])
		}
		step := func(i value.Value, chains int) {
			for j := 0; j < chains; j++ {
				ij := g.add(i, c64(j))
				x := g.splat(in, ij)
				wv := g.loadV(wb, g.mul(ij, c64(Lanes)), 64)
				g.b.NewStore(g.fmaV(wv, x, g.b.NewLoad(v16, acc[j])), acc[j])
			}
		}
		full := l.In / LinearChains
		g.loop("i", c64(0), c64(full), func(i value.Value) { step(g.mul(i, c64(LinearChains)), LinearChains) })
		if rest := l.In % LinearChains; rest > 0 {
			step(c64(full*LinearChains), rest)
		}
		var sum value.Value = g.loadV(bias, g.mul(blk, c64(Lanes)), 64)
		for _, a := range acc {
			sum = g.b.NewFAdd(sum, g.b.NewLoad(v16, a))
		}
		if l.ReLU {
			sum = g.relu(sum)
		}
		// Whole blocks are stored as vectors; the last, partial one lane by lane.
		base := g.mul(blk, c64(Lanes))
		if l.Out%Lanes == 0 {
			g.storeV(sum, out, base, 4)
			return
		}
		last := g.b.NewICmp(enum.IPredEQ, blk, c64(l.Items()-1))
		whole, part, done := g.block("fc.whole"), g.block("fc.part"), g.block("fc.done")
		g.b.NewCondBr(last, part, whole)
		g.b = whole
		g.storeV(sum, out, base, 4)
		g.b.NewBr(done)
		g.b = part
		for j := 0; j < l.Out%Lanes; j++ {
			e := g.b.NewExtractElement(sum, constant.NewInt(types.I32, int64(j)))
			g.b.NewStore(e, g.gep(out, g.add(base, c64(j))))
		}
		g.b.NewBr(done)
		g.b = done
	})
	g.b.NewRet(nil)
	return g.f
}

// chooseLinear returns the Linear kernel of a linear node reading a C×1×1 value, or nil.
func chooseLinear(req emit.Request) emit.Kernel {
	n := req.Node
	in := n.In[0].Shape
	if len(n.In) != 1 || in.H != 1 || in.W != 1 || (req.Act != emit.ActNone && req.Act != emit.ActReLU) {
		return nil
	}
	if req.OutFixed && !req.Out.Same(emit.NCHW, n.Out.Shape) {
		return nil
	}
	return &fcKernel{l: &Linear{In: in.C, Out: n.Out.Shape.C, ReLU: req.Act == emit.ActReLU}, n: n}
}

type fcKernel struct {
	l *Linear
	n *vir.Node
}

func (k *fcKernel) Name() string      { return k.l.Name() }
func (k *fcKernel) Family() string    { return "fc" }
func (k *fcKernel) In() []emit.Layout { return []emit.Layout{emit.NCHW} }
func (k *fcKernel) Out() emit.Layout  { return emit.NCHW }

// Weights returns the packed weights and the padded bias.
func (k *fcKernel) Weights() ([][]float32, error) {
	w, b, err := convParams(k.n)
	if err != nil {
		return nil, err
	}
	pw, pb, err := k.l.Pack(w, b)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", k.n.Name, err)
	}
	return [][]float32{pw, pb}, nil
}

// Define adds the kernel (and its range and body functions) to m.
func (k *fcKernel) Define(m *emit.Module) *ir.Func {
	declarePool(m, true)
	m.Comment(k.l.Name(), fmt.Sprintf("fully connected %d -> %d, weights in blocks of 16 outputs, %d work items over the pool", k.l.In, k.l.Out, k.l.Items()))
	return k.l.Define(m.M, enum.LinkageInternal)
}
