package kern

import (
	"fmt"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/enum"
	"github.com/llir/llvm/ir/types"
	"github.com/llir/llvm/ir/value"
	"github.com/vggsim/vggsim/codegen/emit"
	vir "github.com/vggsim/vggsim/ir"
)

// DWMaxTile caps a depthwise kernel's column tile: RW accumulators, KH·KW weight vectors
// and the input vectors in flight stay within the 32 zmm registers for 3×3 kernels.
const DWMaxTile = 8

// IsDepthwise reports whether c is a depthwise convolution (one input and one output
// channel per group, more than one group).
func IsDepthwise(c Conv) bool {
	return c.Groups > 1 && c.Groups == c.C && c.Groups == c.K
}

// CheckDepthwise returns why the depthwise family cannot run c, or nil.
func CheckDepthwise(c Conv) error {
	if !IsDepthwise(c) {
		return fmt.Errorf("kern: %s is not depthwise (groups = C = K)", c)
	}
	if c.H <= 0 || c.W <= 0 || c.KH <= 0 || c.KW <= 0 || c.Stride <= 0 || c.Pad < 0 {
		return fmt.Errorf("kern: bad conv shape %s", c)
	}
	if ho, wo := c.Out(); ho <= 0 || wo <= 0 {
		return fmt.Errorf("kern: conv %s has an empty output", c)
	}
	return nil
}

// Depthwise is a depthwise convolution kernel over NCHW16c: 16 channels in the lanes of
// one zmm register, so every tap is one vector load of the input, one of the weights and
// one llvm.fma.v16f32, with no broadcast. A work item is one output row of one channel
// block; the row is covered by column tiles of RW pixels held in RW accumulators, border
// tiles emitted with their out-of-range taps removed. Weights are packed
// [C/16][KH][KW][16], bias [C/16·16]; bias initializes the accumulators and ReLU or ReLU6
// is applied at the store.
type Depthwise struct {
	Conv Conv
	RW   int
}

// NewDepthwise returns the depthwise kernel of c with the column tile ChooseDWTile picks.
func NewDepthwise(c Conv) (*Depthwise, error) {
	if err := CheckDepthwise(c); err != nil {
		return nil, err
	}
	return &Depthwise{Conv: c, RW: ChooseDWTile(c)}, nil
}

// ChooseDWTile returns the column tile of c: the width in [4, DWMaxTile] (or the whole
// row when it is narrower) that wastes the fewest pixels, the widest among equals.
func ChooseDWTile(c Conv) int {
	_, wo := c.Out()
	if wo <= DWMaxTile {
		return wo
	}
	best, bestWaste := DWMaxTile, wo
	for rw := DWMaxTile; rw >= 4; rw-- {
		if waste := (wo+rw-1)/rw*rw - wo; waste < bestWaste {
			best, bestWaste = rw, waste
		}
	}
	return best
}

// Name returns the LLVM function name, unique per shape and tile.
func (d *Depthwise) Name() string { return fmt.Sprintf("dw_%s_t%d", d.Conv, d.RW) }

// Items returns the work items of one image: channel blocks × output rows.
func (d *Depthwise) Items() int {
	ho, _ := d.Conv.Out()
	return d.Conv.blocks() * ho
}

// PackedWeights returns the float count of the packed weight array.
func (d *Depthwise) PackedWeights() int { return d.Conv.blocks() * Lanes * d.Conv.KH * d.Conv.KW }

// Pack arranges PyTorch-ordered weights w [C][1][KH][KW] and bias b [C] (nil: zeros) into
// [C/16][KH][KW][16] and a bias padded to whole blocks.
func (d *Depthwise) Pack(w, b []float32) (pw, pb []float32, err error) {
	c := d.Conv
	if len(w) != c.K*c.KH*c.KW {
		return nil, nil, fmt.Errorf("kern: %s: %d weights, want %d", c, len(w), c.K*c.KH*c.KW)
	}
	if b != nil && len(b) != c.K {
		return nil, nil, fmt.Errorf("kern: %s: %d biases, want %d", c, len(b), c.K)
	}
	pw = make([]float32, d.PackedWeights())
	for k := 0; k < c.K; k++ {
		for t := 0; t < c.KH*c.KW; t++ {
			pw[((k/Lanes)*c.KH*c.KW+t)*Lanes+k%Lanes] = w[k*c.KH*c.KW+t]
		}
	}
	pb = make([]float32, c.blocks()*Lanes)
	copy(pb, b)
	return pw, pb, nil
}

// Define adds NAME, NAME_range and NAME_body to m as Direct.Define does, and returns NAME.
func (d *Depthwise) Define(m *ir.Module, linkage enum.Linkage) *ir.Func {
	return defineParallel(m, d.Name(), d.Items(), linkage, d.defineBody(m))
}

// defineParallel adds the range function (items [lo, hi) of args, the pointers the body
// takes before lo and hi: {out, in, w, bias} unless names says otherwise) and the
// whole-image function that runs body's items over the pool, and returns the latter.
func defineParallel(m *ir.Module, name string, items int, linkage enum.Linkage, body *ir.Func, names ...string) *ir.Func {
	if len(names) == 0 {
		names = []string{"out", "in", "w", "bias"}
	}
	np := len(names)
	args := ir.NewParam("args", f32pp)
	lo, hi := ir.NewParam("lo", i64), ir.NewParam("hi", i64)
	rf := m.NewFunc(name+"_range", voidT, args, lo, hi)
	rf.Linkage = linkage
	rf.FuncAttrs = append(rf.FuncAttrs, enum.FuncAttrNoUnwind)
	b := rf.NewBlock("entry")
	var ps []value.Value
	for i := 0; i < np; i++ {
		ps = append(ps, b.NewLoad(f32p, b.NewGetElementPtr(f32p, args, c64(i))))
	}
	b.NewCall(body, append(ps, lo, hi)...)
	b.NewRet(nil)

	var params []*ir.Param
	for _, n := range names {
		params = append(params, ir.NewParam(n, f32p))
	}
	f := m.NewFunc(name, voidT, params...)
	f.Linkage = linkage
	f.FuncAttrs = append(f.FuncAttrs, enum.FuncAttrNoUnwind)
	e := f.NewBlock("entry")
	at := types.NewArray(uint64(np), f32p)
	arr := e.NewAlloca(at)
	for i, p := range params {
		e.NewStore(p, e.NewGetElementPtr(at, arr, c64(0), c64(i)))
	}
	argv := e.NewGetElementPtr(at, arr, c64(0), c64(0))
	e.NewCall(parallelDecl(m), rf, argv, c64(items))
	e.NewRet(nil)
	return f
}

func (d *Depthwise) defineBody(m *ir.Module) *ir.Func {
	c, rwMax := d.Conv, d.RW
	ho, wo := c.Out()
	g, ps, lo, hi := newBody(m, d.Name(), allNoAlias, "out", "in", "w", "bias")
	out, in, w, bias := ps[0], ps[1], ps[2], ps[3]
	acc := make([]value.Value, rwMax)
	for i := range acc {
		a := g.entry.NewAlloca(v16)
		a.Align = 64
		acc[i] = a
	}
	g.loop("item", lo, hi, func(item value.Value) {
		cb := g.b.NewSDiv(item, c64(ho))
		oh := g.b.NewSRem(item, c64(ho))
		src := g.gep(in, g.mul(cb, c64(c.H*c.W*Lanes)))
		dst := g.gep(out, g.mul(g.add(g.mul(cb, c64(ho)), oh), c64(wo*Lanes)))
		wb := g.gep(w, g.mul(cb, c64(c.KH*c.KW*Lanes)))
		wv := make([]value.Value, c.KH*c.KW)
		for i := range wv {
			wv[i] = g.loadV(wb, c64(i*Lanes), 64)
		}
		bv := g.loadV(bias, g.mul(cb, c64(Lanes)), 64)
		ih0 := g.add(g.mul(oh, c64(c.Stride)), c64(-c.Pad))
		tile := func(ow0 value.Value, owc, rw int) {
			for r := 0; r < rw; r++ {
				g.b.NewStore(bv, acc[r])
			}
			colOff := g.mul(ow0, c64(c.Stride*Lanes))
			for kh := 0; kh < c.KH; kh++ {
				ih := g.add(ih0, c64(kh))
				ok := g.b.NewAnd(g.b.NewICmp(enum.IPredSGE, ih, c64(0)), g.b.NewICmp(enum.IPredSLT, ih, c64(c.H)))
				g.when("kh", ok, func() {
					row := g.gep(src, g.add(g.mul(ih, c64(c.W*Lanes)), colOff))
					vals := make([]value.Value, rw)
					for r := range vals {
						vals[r] = g.b.NewLoad(v16, acc[r])
					}
					for kw := 0; kw < c.KW; kw++ {
						for r := 0; r < rw; r++ {
							rel := r*c.Stride + kw - c.Pad // iw - ow0·stride
							if owc >= 0 {
								if iw := owc*c.Stride + rel; iw < 0 || iw >= c.W {
									continue
								}
							}
							vals[r] = g.fmaV(g.loadV(row, c64(rel*Lanes), 64), wv[kh*c.KW+kw], vals[r])
						}
					}
					for r := range vals {
						g.b.NewStore(vals[r], acc[r])
					}
				})
			}
			for r := 0; r < rw; r++ {
				v := g.activate(g.b.NewLoad(v16, acc[r]), c)
				g.storeV(v, dst, g.add(g.mul(ow0, c64(Lanes)), c64(r*Lanes)), 64)
			}
		}
		interior := func(ow0, rw int) bool {
			return ow0*c.Stride-c.Pad >= 0 && (ow0+rw-1)*c.Stride-c.Pad+c.KW-1 <= c.W-1
		}
		for ow0 := 0; ow0 < wo; {
			rw := min(rwMax, wo-ow0)
			if rw == rwMax && interior(ow0, rw) {
				n := 0
				for ow0+(n+1)*rwMax <= wo && interior(ow0+n*rwMax, rwMax) {
					n++
				}
				start := ow0
				g.loop("col", c64(0), c64(n), func(j value.Value) {
					tile(g.add(g.mul(j, c64(rwMax)), c64(start)), -1, rwMax)
				})
				ow0 += n * rwMax
				continue
			}
			tile(c64(ow0), ow0, rw)
			ow0 += rw
		}
	})
	g.b.NewRet(nil)
	return g.f
}

// chooseDepthwise returns the depthwise kernel of conv node n with shape c, or nil.
func chooseDepthwise(c Conv, n *vir.Node) emit.Kernel {
	d, err := NewDepthwise(c)
	if err != nil {
		return nil
	}
	return &dwKernel{d: d, n: n}
}

type dwKernel struct {
	d *Depthwise
	n *vir.Node
}

func (k *dwKernel) Name() string      { return k.d.Name() }
func (k *dwKernel) Family() string    { return "depthwise" }
func (k *dwKernel) In() []emit.Layout { return []emit.Layout{emit.Blocked(Lanes)} }
func (k *dwKernel) Out() emit.Layout  { return emit.Blocked(Lanes) }

// Weights returns the packed weights and the padded bias (zeros for a conv without one).
func (k *dwKernel) Weights() ([][]float32, error) {
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
func (k *dwKernel) Define(m *emit.Module) *ir.Func {
	declarePool(m, true)
	c := k.d.Conv
	ho, wo := c.Out()
	m.Comment(k.d.Name(), fmt.Sprintf("depthwise conv %s -> %dx%dx%d, NCHW16c, channels in lanes, tile %d pixels, %d work items over the pool", c, c.K, ho, wo, k.d.RW, k.d.Items()))
	return k.d.Define(m.M, enum.LinkageInternal)
}
