package kern

import (
	"fmt"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/enum"
	"github.com/llir/llvm/ir/value"
	"github.com/vggsim/vggsim/codegen/emit"
	vir "github.com/vggsim/vggsim/ir"
)

// Pointwise is a 1×1 convolution (stride 1 or more, no padding, one group) over NCHW16c
// run as a GEMM: output pixels, flattened across rows, × output channels, reduced over
// the input channels. A register tile holds RK output-channel blocks × RP pixels in
// RK·RP zmm accumulators; the inner loop, one input channel per iteration, loads RK
// weight vectors and broadcasts RP input values (one per pixel, each an embedded-broadcast
// FMA operand). Because pixels are flattened, a tile never stops at
// the end of a row: a 14×14 map is 28 tiles of 7 pixels, a 7×7 map 7 of them.
//
// Weights are packed at build time into [K/16/RK][C][RK][16] (the direct kernel's order
// for a 1×1 kernel); bias initializes the accumulators. With Residual the kernel reads one
// more operand, the other input of a residual add, in the output's layout, and adds it
// before the activation at the store: ReLU(conv(x) + r) without a pass over memory.
//
// A work item is one channel tile × one chunk of Chunk pixels (the last chunk may be
// shorter). PixelMajor orders items chunk by chunk (a chunk's input stays in cache while
// every channel tile reads it: for layers whose weights fit L2) instead of tile by tile
// (a tile's weights stay in cache while every chunk streams past: for layers whose input
// fits L2).
type Pointwise struct {
	Conv       Conv
	RK, RP     int
	Chunk      int
	PixelMajor bool
	Residual   bool
}

// CheckPointwise returns why the pointwise kernel cannot run c, or nil.
func CheckPointwise(c Conv) error {
	if err := CheckDirect(c); err != nil {
		return err
	}
	if c.KH != 1 || c.KW != 1 || c.Pad != 0 || c.groups() != 1 {
		return fmt.Errorf("kern: %s is not a dense 1x1 conv without padding", c)
	}
	return nil
}

// NewPointwise returns the pointwise kernel of c with the tile, chunk and item order
// ChoosePointwise picks.
func NewPointwise(c Conv) (*Pointwise, error) {
	if err := CheckPointwise(c); err != nil {
		return nil, err
	}
	p := &Pointwise{Conv: c}
	p.RK, p.RP = ChoosePointwiseTile(c)
	p.Chunk, p.PixelMajor = choosePointwiseSplit(c, p.RK, p.RP)
	return p, nil
}

// ChoosePointwiseTile picks the register tile RK blocks × RP pixels of a 1×1 conv: RK
// divides the output blocks, RK·RP ≤ MaxAccumulators; per input channel a tile issues
// RK·RP FMAs and RK+RP loads (two of each per cycle) and cannot finish in fewer than 4
// cycles (the FMA latency: fewer than 8 accumulators stall); the cost per useful FMA
// counts the last, partial tile of the pixels. Ties go to the larger tile.
func ChoosePointwiseTile(c Conv) (rk, rp int) {
	ho, wo := c.Out()
	px := ho * wo
	kb := c.blocks()
	best := 1e300
	rk, rp = 1, 1
	for k := 1; k <= 6; k++ {
		if kb%k != 0 {
			continue
		}
		for p := 1; p <= px && k*p <= MaxAccumulators && k*p+k+1 <= Registers; p++ {
			tiles := (px + p - 1) / p
			cyc := max(float64(k*p)/2, float64(k+p)/2, 4)
			cost := float64(tiles) * cyc / float64(px*k)
			if cost < best-1e-9 || (cost < best+1e-9 && k*p > rk*rp) {
				best, rk, rp = cost, k, p
			}
		}
	}
	return rk, rp
}

// choosePointwiseSplit picks the pixels per work item and the item order: at least 48
// items where the layer allows (even shares for 1–3 threads under guided scheduling), at
// most 16 pixel tiles per chunk; chunk-major when re-reading the weights per chunk moves
// fewer bytes beyond L2 than re-reading the input per channel tile.
func choosePointwiseSplit(c Conv, rk, rp int) (chunk int, pixelMajor bool) {
	ho, wo := c.Out()
	px := ho * wo
	ptiles := (px + rp - 1) / rp
	ktiles := c.blocks() / rk
	nc := max((48+ktiles-1)/ktiles, (ptiles+15)/16, 1)
	nc = min(nc, ptiles)
	per := max(ptiles/nc, 1)
	nc = (ptiles + per - 1) / per
	inBytes := int64(BlockedElems(c.C, c.H, c.W)) * 4
	wBytes := int64(c.blocks()*Lanes) * int64(c.C) * 4
	beyond := func(b int64) int64 {
		if b <= L2Bytes/2 {
			return 0
		}
		return b
	}
	tileMajor := int64(ktiles) * beyond(inBytes)
	chunkMajor := int64(nc) * beyond(wBytes)
	return per * rp, chunkMajor < tileMajor
}

func (p *Pointwise) pixels() int {
	ho, wo := p.Conv.Out()
	return ho * wo
}

func (p *Pointwise) chunks() int { return (p.pixels() + p.Chunk - 1) / p.Chunk }

// Name returns the LLVM function name, unique per shape, tile, split and variant.
func (p *Pointwise) Name() string {
	order := "k"
	if p.PixelMajor {
		order = "p"
	}
	s := fmt.Sprintf("pw_%s_t%dx%d_%s%d", p.Conv, p.RK, p.RP, order, p.Chunk)
	if p.Residual {
		s += "_addres"
	}
	return s
}

// Shape returns p.Conv.
func (p *Pointwise) Shape() Conv { return p.Conv }

// Algorithm returns "pointwise".
func (p *Pointwise) Algorithm() string { return "pointwise" }

// Items returns the work items: channel tiles × pixel chunks.
func (p *Pointwise) Items() int { return p.Conv.blocks() / p.RK * p.chunks() }

// PackedWeights returns the float count of the packed weight array.
func (p *Pointwise) PackedWeights() int { return p.Conv.blocks() * Lanes * p.Conv.C }

// Pack arranges PyTorch-ordered weights w [K][C][1][1] and bias b [K] (nil: zeros) into
// [K/16/RK][C][RK][16] and a bias padded to whole blocks; padding lanes are zero.
func (p *Pointwise) Pack(w, b []float32) (pw, pb []float32, err error) {
	c := p.Conv
	if len(w) != c.K*c.C {
		return nil, nil, fmt.Errorf("kern: %s: %d weights, want %d", c, len(w), c.K*c.C)
	}
	if b != nil && len(b) != c.K {
		return nil, nil, fmt.Errorf("kern: %s: %d biases, want %d", c, len(b), c.K)
	}
	kb := c.blocks()
	pw = make([]float32, p.PackedWeights())
	i := 0
	for t := 0; t < kb/p.RK; t++ {
		for ci := 0; ci < c.C; ci++ {
			for r := 0; r < p.RK; r++ {
				for l := 0; l < Lanes; l++ {
					if k := (t*p.RK+r)*Lanes + l; k < c.K {
						pw[i] = w[k*c.C+ci]
					}
					i++
				}
			}
		}
	}
	pb = make([]float32, kb*Lanes)
	copy(pb, b)
	return pw, pb, nil
}

// Define adds NAME(out, in, w, bias) — NAME(out, in, res, w, bias) with Residual —,
// NAME_range and NAME_body to m and returns NAME (see Direct.Define).
func (p *Pointwise) Define(m *ir.Module, linkage enum.Linkage) *ir.Func {
	names := []string{"out", "in", "w", "bias"}
	if p.Residual {
		names = []string{"out", "in", "res", "w", "bias"}
	}
	return defineParallel(m, p.Name(), p.Items(), linkage, p.defineBody(m, names), names...)
}

func (p *Pointwise) defineBody(m *ir.Module, names []string) *ir.Func {
	c := p.Conv
	ho, wo := c.Out()
	px := ho * wo
	ktiles := c.blocks() / p.RK
	nc := p.chunks()
	// out may be the residual operand's storage (an add in place): neither is noalias.
	g, params, lo, hi := newBody(m, p.Name(), func(n string) bool { return n != "out" && n != "res" }, names...)
	ps := map[string]*ir.Param{}
	for i, n := range names {
		ps[n] = params[i]
	}
	out, in, w, bias, res := ps["out"], ps["in"], ps["w"], ps["bias"], ps["res"]
	acc := make([]value.Value, p.RK*p.RP)
	for i := range acc {
		a := g.entry.NewAlloca(v16)
		a.Align = 64
		acc[i] = a
	}
	g.loop("item", lo, hi, func(item value.Value) {
		var tt, ch value.Value
		if p.PixelMajor {
			ch, tt = g.b.NewSDiv(item, c64(ktiles)), g.b.NewSRem(item, c64(ktiles))
		} else {
			tt, ch = g.b.NewSDiv(item, c64(nc)), g.b.NewSRem(item, c64(nc))
		}
		kb0 := g.mul(tt, c64(p.RK))
		wt := g.gep(w, g.mul(tt, c64(c.C*p.RK*Lanes)))
		bv := make([]value.Value, p.RK)
		for r := range bv {
			bv[r] = g.loadV(bias, g.mul(g.add(kb0, c64(r)), c64(Lanes)), 64)
		}
		p0 := g.mul(ch, c64(p.Chunk))
		// tile computes pixels [q0, q0+rp) for the item's RK blocks.
		tile := func(q0 value.Value, rp int) {
			for r := 0; r < p.RK; r++ {
				for j := 0; j < rp; j++ {
					g.b.NewStore(bv[r], acc[r*p.RP+j])
				}
			}
			// Each pixel's input offset within a channel block.
			src := make([]value.Value, rp)
			for j := range src {
				q := g.add(q0, c64(j))
				var off value.Value
				if c.Stride == 1 {
					off = g.mul(q, c64(Lanes))
				} else {
					oh, ow := g.b.NewSDiv(q, c64(wo)), g.b.NewSRem(q, c64(wo))
					off = g.mul(g.add(g.mul(oh, c64(c.Stride*c.W)), g.mul(ow, c64(c.Stride))), c64(Lanes))
				}
				src[j] = g.gep(in, off)
			}
			// One input channel per iteration (unrolling the 16 lanes of a block makes
			// clang hoist the broadcasts and spill them).
			g.loop("ci", c64(0), c64(c.C), func(ci value.Value) {
				cb := g.b.NewLShr(ci, c64(4))
				cl := g.b.NewAnd(ci, c64(Lanes-1))
				choff := g.add(g.mul(cb, c64(c.H*c.W*Lanes)), cl)
				wrow := g.gep(wt, g.mul(ci, c64(p.RK*Lanes)))
				wv := make([]value.Value, p.RK)
				for r := range wv {
					wv[r] = g.loadV(wrow, c64(r*Lanes), 64)
				}
				vals := make([]value.Value, p.RK*rp)
				for j := 0; j < rp; j++ {
					x := g.splat(src[j], choff)
					for r := 0; r < p.RK; r++ {
						vals[r*rp+j] = g.fmaV(wv[r], x, g.b.NewLoad(v16, acc[r*p.RP+j]))
					}
				}
				for r := 0; r < p.RK; r++ {
					for j := 0; j < rp; j++ {
						g.b.NewStore(vals[r*rp+j], acc[r*p.RP+j])
					}
				}
			})
			for r := 0; r < p.RK; r++ {
				ob := g.mul(g.add(g.mul(g.add(kb0, c64(r)), c64(px)), q0), c64(Lanes))
				for j := 0; j < rp; j++ {
					v := value.Value(g.b.NewLoad(v16, acc[r*p.RP+j]))
					o := g.add(ob, c64(j*Lanes))
					if res != nil {
						v = g.b.NewFAdd(v, g.loadV(res, o, 64))
					}
					g.storeV(g.activate(v, c), out, o, 64)
				}
			}
		}
		// Full tiles of the chunk, then the image's last partial tile (last chunk only).
		last := px - (nc-1)*p.Chunk
		isLast := g.b.NewICmp(enum.IPredEQ, ch, c64(nc-1))
		n := g.b.NewSelect(isLast, c64(last/p.RP), c64(p.Chunk/p.RP))
		g.loop("pt", c64(0), n, func(j value.Value) {
			tile(g.add(p0, g.mul(j, c64(p.RP))), p.RP)
		})
		if tail := last % p.RP; tail > 0 {
			g.when("tail", isLast, func() {
				tile(c64((nc-1)*p.Chunk+last/p.RP*p.RP), tail)
			})
		}
	})
	g.b.NewRet(nil)
	return g.f
}

// choosePointwise returns the pointwise kernel of a 1×1 conv node (fusing the residual
// add when req.Residual), or nil when the node is not one. A stem stored NCHW with fewer
// channels than a block is left to the direct kernel, which reads it without a reorder.
func choosePointwise(c Conv, n *vir.Node, req emit.Request) emit.Kernel {
	if len(req.Have) > 0 && req.Have[0].Plain() && c.C < Lanes {
		return nil
	}
	p, err := NewPointwise(c)
	if err != nil {
		return nil
	}
	p.Residual = req.Residual
	return &pwKernel{p: p, n: n}
}

// pwKernel is the emit.Kernel of a Pointwise kernel.
type pwKernel struct {
	p *Pointwise
	n *vir.Node
}

func (k *pwKernel) Name() string   { return k.p.Name() }
func (k *pwKernel) Family() string { return "pointwise" }
func (k *pwKernel) In() []emit.Layout {
	if k.p.Residual {
		return []emit.Layout{emit.Blocked(Lanes), emit.Blocked(Lanes)}
	}
	return []emit.Layout{emit.Blocked(Lanes)}
}
func (k *pwKernel) Out() emit.Layout { return emit.Blocked(Lanes) }

// FusesResidual reports whether the kernel adds the residual operand (emit.ResidualKernel).
func (k *pwKernel) FusesResidual() bool { return k.p.Residual }

// Weights returns the packed weights and the padded bias (zeros for a conv without one).
func (k *pwKernel) Weights() ([][]float32, error) {
	w, b, err := convParams(k.n)
	if err != nil {
		return nil, err
	}
	pw, pb, err := k.p.Pack(w, b)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", k.n.Name, err)
	}
	return [][]float32{pw, pb}, nil
}

// Define adds the kernel (and its range and body functions) to m.
func (k *pwKernel) Define(m *emit.Module) *ir.Func {
	declarePool(m, true)
	p := k.p
	c := p.Conv
	ho, wo := c.Out()
	order := "channel tile major"
	if p.PixelMajor {
		order = "pixel chunk major"
	}
	what := "NCHW16c out"
	if p.Residual {
		what = "plus the residual operand (NCHW16c) before the activation, NCHW16c out"
	}
	m.Comment(p.Name(), fmt.Sprintf("pointwise (1x1) conv %s -> %dx%dx%d as a GEMM over %d pixels, NCHW16c in, %s, tile %d blocks x %d pixels, chunks of %d pixels, %d work items (%s) over the pool",
		c, c.K, ho, wo, ho*wo, what, p.RK, p.RP, p.Chunk, p.Items(), order))
	return p.Define(m.M, enum.LinkageInternal)
}
