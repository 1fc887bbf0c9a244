package kern

import (
	"fmt"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/enum"
	"github.com/llir/llvm/ir/value"
)

// Lanes is the channel block of the NCHW16c layout: one zmm register of float32.
const Lanes = 16

// Cache and register facts the tile chooser plans with (Zen 5: 32 zmm registers, L1d 48 KiB
// and L2 1 MiB per core).
const (
	Registers = 32
	// MaxAccumulators caps RK·RW: measured on Zen 5 with clang-19, tiles of 24 or more
	// accumulators spill in the inner loop and run at half speed; 21 do not.
	MaxAccumulators = 21
	L1Bytes         = 48 << 10
	L2Bytes         = 1 << 20
	// KWLoop is the kernel width from which a direct kernel's interior column tiles loop
	// over the taps of a row instead of unrolling them (see defineBody).
	KWLoop = 5
)

// Conv is the shape of one convolution: a C×H×W input, K output channels, a KH×KW kernel,
// stride, symmetric zero padding and groups; ReLU and ReLU6 say which activation the store
// fuses (ReLU6 clamps to [0, 6]; at most one is set).
type Conv struct {
	C, H, W     int
	K, KH, KW   int
	Stride, Pad int
	Groups      int
	ReLU        bool
	ReLU6       bool
}

// Out returns the output height and width.
func (c Conv) Out() (ho, wo int) {
	return (c.H+2*c.Pad-c.KH)/c.Stride + 1, (c.W+2*c.Pad-c.KW)/c.Stride + 1
}

// MACs returns the multiply-accumulates of one image.
func (c Conv) MACs() int64 {
	ho, wo := c.Out()
	return int64(ho) * int64(wo) * int64(c.K) * int64(c.C/c.groups()) * int64(c.KH) * int64(c.KW)
}

func (c Conv) groups() int { return max(c.Groups, 1) }

// blocks returns the output-channel blocks of 16: per group when grouped.
func (c Conv) blocks() int { return (c.K + Lanes - 1) / Lanes }

// String names the shape, e.g. "c48x56x56_k96_3x3s2p1g1_relu".
func (c Conv) String() string {
	s := fmt.Sprintf("c%dx%dx%d_k%d_%dx%ds%dp%dg%d", c.C, c.H, c.W, c.K, c.KH, c.KW, c.Stride, c.Pad, c.groups())
	if c.ReLU {
		s += "_relu"
	}
	if c.ReLU6 {
		s += "_relu6"
	}
	return s
}

// CheckDirect returns why the direct family cannot run c, or nil. It handles any kernel
// size, stride and padding, and groups whose output channels are whole blocks of 16
// (dense convs with any K, grouped convs with K/G a multiple of 16).
func CheckDirect(c Conv) error {
	g := c.groups()
	switch {
	case c.C <= 0 || c.H <= 0 || c.W <= 0 || c.K <= 0 || c.KH <= 0 || c.KW <= 0 || c.Stride <= 0 || c.Pad < 0:
		return fmt.Errorf("kern: bad conv shape %s", c)
	case c.C%g != 0 || c.K%g != 0:
		return fmt.Errorf("kern: %d groups do not divide C=%d, K=%d", g, c.C, c.K)
	case g > 1 && (c.K/g)%Lanes != 0:
		return fmt.Errorf("kern: grouped conv with %d output channels per group (direct wants a multiple of %d)", c.K/g, Lanes)
	}
	ho, wo := c.Out()
	if ho <= 0 || wo <= 0 {
		return fmt.Errorf("kern: conv %s has an empty output", c)
	}
	return nil
}

// Tile is a direct kernel's register tile: RK output-channel blocks of 16 by RW output
// pixels of one row, RK·RW zmm accumulators.
type Tile struct{ RK, RW int }

// ChooseTile picks the register tile for c: among tiles that fit the register file (RK·RW
// accumulators, at most MaxAccumulators, RK weight vectors and one broadcast in 32 zmm
// registers) and whose RK
// divides the channel blocks of a group, the one with the fewest issue slots per useful
// FMA: column tiles rounded up to RW waste slots, fewer than 8 independent accumulators
// stall on the FMA latency (4 cycles × 2 pipes), and a tile whose weights for one kernel
// row (RK·16·Cg·KW floats) overflow L1 pays a weight stream from L2 (the input row is
// reused from L1 across the tile's channels either way).
func ChooseTile(c Conv) Tile {
	_, wo := c.Out()
	kb := c.blocks() / c.groups()
	if c.groups() == 1 {
		kb = c.blocks()
	}
	cg := c.C / c.groups()
	best, bestCost := Tile{1, 1}, 1e300
	for rk := 1; rk <= 4; rk++ {
		if kb%rk != 0 {
			continue
		}
		for rw := 1; rw <= wo && rk*rw <= MaxAccumulators && rk*rw+rk+1 <= Registers; rw++ {
			tiles := (wo + rw - 1) / rw
			slots := float64(tiles * max(rk*rw, 8))
			loads := float64(tiles*(rk+rw)) / 2 // vector loads per FMA pair issued alongside
			cost := max(slots, loads) / float64(wo*rk)
			if wbytes := rk * Lanes * cg * c.KW * 4; wbytes > L1Bytes {
				cost *= 1.05
			}
			tie := cost < bestCost+1e-9 && (rk*rw > best.RK*best.RW ||
				// Wide kernels (the 7×7 stem): among equal tiles, more channel blocks per
				// broadcast (1×16 needs 17 loads per 16 FMAs, 4×4 needs 8).
				(rk*rw == best.RK*best.RW && c.KW >= KWLoop && rk > best.RK))
			if cost < bestCost-1e-9 || tie {
				best, bestCost = Tile{rk, rw}, cost
			}
		}
	}
	return best
}

// Direct is a register-tiled direct convolution kernel for one conv shape and tile.
type Direct struct {
	Conv Conv
	Tile Tile
	// InPlain makes the kernel read its input in NCHW instead of NCHW16c: for a network's
	// stem (3 channels), whose input would otherwise be reordered into 16-lane blocks that
	// are 13/16 padding.
	InPlain bool
}

// NewDirect returns the direct kernel of c with the tile ChooseTile picks.
func NewDirect(c Conv) (*Direct, error) {
	if err := CheckDirect(c); err != nil {
		return nil, err
	}
	return &Direct{Conv: c, Tile: ChooseTile(c)}, nil
}

// Name returns the LLVM function name, unique per shape and tile.
func (d *Direct) Name() string {
	s := fmt.Sprintf("direct_%s_t%dx%d", d.Conv, d.Tile.RK, d.Tile.RW)
	if d.InPlain {
		s += "_in_nchw"
	}
	return s
}

// InElems returns the floats of the kernel's input image in the layout it reads.
func (d *Direct) InElems() int {
	c := d.Conv
	if d.InPlain {
		return c.C * c.H * c.W
	}
	return BlockedElems(c.C, c.H, c.W)
}

// Items returns the work items of one image: output-channel tiles × output rows.
func (d *Direct) Items() int {
	ho, _ := d.Conv.Out()
	return d.Conv.blocks() / d.Tile.RK * ho
}

// PackedWeights returns the float count of the packed weight array.
func (d *Direct) PackedWeights() int {
	c := d.Conv
	return c.blocks() * Lanes * c.KH * (c.C / c.groups()) * c.KW
}

// Pack arranges PyTorch-ordered weights w [K][C/G][KH][KW] and bias b [K] (nil: zeros)
// into the kernel's order (see the package doc). It is done once, at build time.
func (d *Direct) Pack(w, b []float32) (pw, pb []float32, err error) {
	c, t := d.Conv, d.Tile
	cg := c.C / c.groups()
	if len(w) != c.K*cg*c.KH*c.KW {
		return nil, nil, fmt.Errorf("kern: %s: %d weights, want %d", c, len(w), c.K*cg*c.KH*c.KW)
	}
	if b != nil && len(b) != c.K {
		return nil, nil, fmt.Errorf("kern: %s: %d biases, want %d", c, len(b), c.K)
	}
	kb := c.blocks()
	pw = make([]float32, d.PackedWeights())
	i := 0
	for tt := 0; tt < kb/t.RK; tt++ {
		for kh := 0; kh < c.KH; kh++ {
			for ci := 0; ci < cg; ci++ {
				for kw := 0; kw < c.KW; kw++ {
					for rk := 0; rk < t.RK; rk++ {
						for l := 0; l < Lanes; l++ {
							if k := (tt*t.RK+rk)*Lanes + l; k < c.K {
								pw[i] = w[((k*cg+ci)*c.KH+kh)*c.KW+kw]
							}
							i++
						}
					}
				}
			}
		}
	}
	pb = make([]float32, kb*Lanes)
	copy(pb, b)
	return pw, pb, nil
}

// Define adds the kernel to m as three functions and returns the first:
//
//	void NAME(float* out, float* in, float* w, float* bias)          whole image, over the pool
//	void NAME_range(float** args, i64 lo, i64 hi)                     items [lo, hi) of args {out, in, w, bias}
//	void NAME_body(float* noalias out, … , i64 lo, i64 hi)            internal, the loop nest
//
// The first two have the given linkage (internal for a module of one model, external for a
// test harness). NAME runs the items through vggsim_parallel (runtime/pool.c, PoolC), which
// the module must be linked with.
func (d *Direct) Define(m *ir.Module, linkage enum.Linkage) *ir.Func {
	return defineParallel(m, d.Name(), d.Items(), linkage, d.defineBody(m))
}

func (d *Direct) defineBody(m *ir.Module) *ir.Func {
	c, t := d.Conv, d.Tile
	ho, wo := c.Out()
	cg, kg := c.C/c.groups(), c.K/c.groups()
	g, ps, lo, hi := newBody(m, d.Name(), allNoAlias, "out", "in", "w", "bias")
	out, in, w, bias := ps[0], ps[1], ps[2], ps[3]
	acc := make([]value.Value, t.RK*t.RW)
	for i := range acc {
		a := g.entry.NewAlloca(v16)
		a.Align = 64
		acc[i] = a
	}
	wtile := int64(c.KH * cg * c.KW * t.RK * Lanes)
	px := Lanes // floats between neighbouring input pixels
	if d.InPlain {
		px = 1
	}
	g.loop("item", lo, hi, func(item value.Value) {
		tt := g.b.NewSDiv(item, c64(ho))
		oh := g.b.NewSRem(item, c64(ho))
		kb0 := g.mul(tt, c64(t.RK))
		var cbase value.Value = c64(0)
		if c.groups() > 1 {
			cbase = g.mul(g.b.NewSDiv(g.mul(kb0, c64(Lanes)), c64(kg)), c64(cg))
		}
		wt := g.gep(w, g.mul(tt, c64(int(wtile))))
		bv := make([]value.Value, t.RK)
		for rk := range bv {
			bv[rk] = g.loadV(bias, g.mul(g.add(kb0, c64(rk)), c64(Lanes)), 64)
		}
		ih0 := g.add(g.mul(oh, c64(c.Stride)), c64(-c.Pad))
		tile := func(ow0 value.Value, owc, rw int) {
			for rk := 0; rk < t.RK; rk++ {
				for r := 0; r < rw; r++ {
					g.b.NewStore(bv[rk], acc[rk*t.RW+r])
				}
			}
			for kh := 0; kh < c.KH; kh++ {
				ih := g.add(ih0, c64(kh))
				ok := g.b.NewAnd(g.b.NewICmp(enum.IPredSGE, ih, c64(0)), g.b.NewICmp(enum.IPredSLT, ih, c64(c.H)))
				g.when("kh", ok, func() {
					rowOff := g.mul(ih, c64(c.W*px))
					colOff := g.mul(ow0, c64(c.Stride*px))
					g.loop("ci", c64(0), c64(cg), func(ci value.Value) {
						ch := g.add(cbase, ci)
						var chOff value.Value
						if d.InPlain {
							chOff = g.mul(ch, c64(c.H*c.W))
						} else {
							cb := g.b.NewLShr(ch, c64(4))
							cl := g.b.NewAnd(ch, c64(Lanes-1))
							chOff = g.add(g.mul(cb, c64(c.H*c.W*Lanes)), cl)
						}
						base := g.add(g.add(chOff, rowOff), colOff)
						src := g.gep(in, base)
						wrow := g.gep(wt, g.mul(g.add(c64(kh*cg), ci), c64(c.KW*t.RK*Lanes)))
						if owc < 0 && c.KW >= KWLoop {
							// Interior tiles of wide kernels run the taps as a loop: unrolled, the
							// same input value serves several (tap, pixel) pairs at stride > 1
							// or KW > 1, and clang keeps each one live across taps and spills
							// (the 7×7 stem ran at 42 % of peak).
							g.loop("kw", c64(0), c64(c.KW), func(kw value.Value) {
								wk := g.gep(wrow, g.mul(kw, c64(t.RK*Lanes)))
								wv := make([]value.Value, t.RK)
								for rk := range wv {
									wv[rk] = g.loadV(wk, c64(rk*Lanes), 64)
								}
								sk := g.gep(src, g.mul(kw, c64(px)))
								for r := 0; r < rw; r++ {
									x := g.splat(sk, c64((r*c.Stride-c.Pad)*px))
									for rk := 0; rk < t.RK; rk++ {
										a := acc[rk*t.RW+r]
										g.b.NewStore(g.fmaV(wv[rk], x, g.b.NewLoad(v16, a)), a)
									}
								}
							})
							return
						}
						vals := make([]value.Value, t.RK*rw)
						for kw := 0; kw < c.KW; kw++ {
							wv := make([]value.Value, t.RK)
							for rk := range wv {
								wv[rk] = g.loadV(wrow, c64((kw*t.RK+rk)*Lanes), 64)
							}
							for r := 0; r < rw; r++ {
								rel := r*c.Stride + kw - c.Pad // iw - ow0·stride
								if owc >= 0 {
									if iw := owc*c.Stride + rel; iw < 0 || iw >= c.W {
										continue
									}
								}
								x := g.splat(src, c64(rel*px))
								for rk := 0; rk < t.RK; rk++ {
									i := rk*t.RW + r
									if vals[rk*rw+r] == nil {
										vals[rk*rw+r] = g.b.NewLoad(v16, acc[i])
									}
									vals[rk*rw+r] = g.fmaV(wv[rk], x, vals[rk*rw+r])
								}
							}
						}
						for rk := 0; rk < t.RK; rk++ {
							for r := 0; r < rw; r++ {
								if v := vals[rk*rw+r]; v != nil {
									g.b.NewStore(v, acc[rk*t.RW+r])
								}
							}
						}
					})
				})
			}
			for rk := 0; rk < t.RK; rk++ {
				ob := g.mul(g.add(g.mul(g.add(kb0, c64(rk)), c64(ho)), oh), c64(wo*Lanes))
				for r := 0; r < rw; r++ {
					v := g.activate(g.b.NewLoad(v16, acc[rk*t.RW+r]), c)
					g.storeV(v, out, g.add(ob, g.add(g.mul(ow0, c64(Lanes)), c64(r*Lanes))), 64)
				}
			}
		}
		// Column tiles: border tiles are emitted with their out-of-range taps removed;
		// runs of interior tiles become a loop.
		interior := func(ow0, rw int) bool {
			return ow0*c.Stride-c.Pad >= 0 && (ow0+rw-1)*c.Stride-c.Pad+c.KW-1 <= c.W-1
		}
		for ow0 := 0; ow0 < wo; {
			rw := min(t.RW, wo-ow0)
			if rw == t.RW && interior(ow0, rw) {
				n := 0
				for ow0+(n+1)*t.RW <= wo && interior(ow0+n*t.RW, t.RW) {
					n++
				}
				start := ow0
				g.loop("col", c64(0), c64(n), func(j value.Value) {
					tile(g.add(g.mul(j, c64(t.RW)), c64(start)), -1, t.RW)
				})
				ow0 += n * t.RW
				continue
			}
			tile(c64(ow0), ow0, rw)
			ow0 += rw
		}
	})
	g.b.NewRet(nil)
	return g.f
}
