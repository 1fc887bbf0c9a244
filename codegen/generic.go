package codegen

import (
	"fmt"
	"math"
	"strings"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/enum"
	"github.com/llir/llvm/ir/value"
	"github.com/vggsim/vggsim/codegen/emit"
	vir "github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

// Generic is the family every op has a kernel in: straightforward loop nests with every
// size a constant, written for any layout of every operand (each operand is indexed in its
// own layout, so the generic family never asks for a reorder). It is the fallback after
// the fast families and the reference the fast kernels are tested against besides interp.
type Generic struct{}

// Name returns "generic".
func (Generic) Name() string { return "generic" }

// Choose returns the generic kernel of req's node; nil for an op it does not know.
func (Generic) Choose(req emit.Request) emit.Kernel {
	n := req.Node
	k := &genericKernel{n: n, act: req.Act, in: append([]emit.Layout(nil), req.Have...)}
	switch n.Op {
	case vir.Conv, vir.BatchNorm, vir.ReLU, vir.Add, vir.Mul, vir.Sigmoid, vir.MaxPool,
		vir.GlobalAvgPool, vir.AdaptiveAvgPool, vir.Linear:
	default:
		if activationOf(n.Op) == emit.ActNone {
			return nil
		}
	}
	switch {
	case req.OutFixed:
		k.out = req.Out
	case elementwise(n.Op) && len(req.Have) > 0:
		k.out = req.Have[0]
	default:
		k.out = emit.NCHW
	}
	return k
}

// elementwise reports whether op computes each output element from the same element of
// its operands (and may run in place).
func elementwise(op vir.Op) bool {
	switch op {
	case vir.BatchNorm, vir.ReLU, vir.Add, vir.Mul, vir.Sigmoid:
		return true
	}
	return activationOf(op) != emit.ActNone
}

// activationOf returns the activation an op computes (ReLU, ReLU6), or ActNone.
func activationOf(op vir.Op) emit.Activation {
	switch op {
	case vir.ReLU:
		return emit.ActReLU
	case vir.ReLU6:
		return emit.ActReLU6
	}
	return emit.ActNone
}

type genericKernel struct {
	n   *vir.Node
	act emit.Activation
	in  []emit.Layout
	out emit.Layout
}

func (k *genericKernel) Family() string     { return "generic" }
func (k *genericKernel) In() []emit.Layout  { return k.in }
func (k *genericKernel) Out() emit.Layout   { return k.out }
func (k *genericKernel) Node() *vir.Node    { return k.n }
func (k *genericKernel) String() string     { return k.Name() }
func (k *genericKernel) inShape() vir.Shape { return k.n.In[0].Shape }

// Name spells the op, its attributes, shapes and non-plain layouts, e.g.
// conv3x3_s2_p1_g1_b_3x32x32_to_48x16x16_relu.
func (k *genericKernel) Name() string {
	n := k.n
	a := n.Attrs
	var b strings.Builder
	b.WriteString(n.Op.String())
	switch n.Op {
	case vir.Conv:
		fmt.Fprintf(&b, "%dx%d_s%d_p%d_g%d", a.KH, a.KW, a.Stride, a.Pad, a.Groups)
		if a.Bias {
			b.WriteString("_b")
		}
	case vir.MaxPool:
		fmt.Fprintf(&b, "%dx%d_s%d_p%d", a.KH, a.KW, a.Stride, a.Pad)
	case vir.Add:
		fmt.Fprintf(&b, "%d", len(n.In))
	case vir.Mul:
		if n.In[1].Shape != n.Out.Shape {
			b.WriteString("_bcast")
		}
	}
	fmt.Fprintf(&b, "_%s_to_%s", n.In[0].Shape, n.Out.Shape)
	if k.act != emit.ActNone {
		b.WriteString("_" + k.act.String())
	}
	lay := false
	for _, l := range k.in {
		lay = lay || !l.Plain()
	}
	if lay || !k.out.Plain() {
		for _, l := range k.in {
			b.WriteString("_" + l.String())
		}
		b.WriteString("_" + k.out.String())
	}
	return b.String()
}

// Weights returns conv weight [and bias] as stored, BatchNorm as scale = γ/√(var+ε) and
// shift = β − mean·scale (computed in float64, rounded once), Linear weight and bias.
func (k *genericKernel) Weights() ([][]float32, error) {
	n := k.n
	switch n.Op {
	case vir.Conv:
		w, err := param(n, "weight")
		if err != nil {
			return nil, err
		}
		if !n.Attrs.Bias {
			return [][]float32{w}, nil
		}
		b, err := param(n, "bias")
		return [][]float32{w, b}, err
	case vir.Linear:
		w, err := param(n, "weight")
		if err != nil {
			return nil, err
		}
		b, err := param(n, "bias")
		return [][]float32{w, b}, err
	case vir.BatchNorm:
		var ps [4][]float32
		for i, name := range []string{"weight", "bias", "running_mean", "running_var"} {
			p, err := param(n, name)
			if err != nil {
				return nil, err
			}
			ps[i] = p
		}
		c := n.Out.Shape.C
		scale, shift := make([]float32, c), make([]float32, c)
		for i := range c {
			s := float64(ps[0][i]) / math.Sqrt(float64(ps[3][i])+n.Attrs.Eps)
			scale[i] = float32(s)
			shift[i] = float32(float64(ps[1][i]) - float64(ps[2][i])*s)
		}
		return [][]float32{scale, shift}, nil
	}
	return nil, nil
}

// Define emits the kernel.
func (k *genericKernel) Define(m *emit.Module) *ir.Func {
	n := k.n
	params := []string{"out"}
	for i := range n.In {
		params = append(params, fmt.Sprintf("in%d", i))
	}
	ws := map[vir.Op][]string{vir.Conv: {"weight"}, vir.Linear: {"weight", "bias"}, vir.BatchNorm: {"scale", "shift"}}[n.Op]
	if n.Op == vir.Conv && n.Attrs.Bias {
		ws = append(ws, "bias")
	}
	params = append(params, ws...)
	f := emit.NewKernelFunc(m, k.Name(), params, !elementwise(n.Op))
	switch n.Op {
	case vir.Conv:
		k.conv(m, f)
	case vir.MaxPool:
		k.maxPool(f)
	case vir.GlobalAvgPool:
		k.gap(f)
	case vir.AdaptiveAvgPool:
		k.adaptive(f)
	case vir.Linear:
		k.linear(f)
	default:
		k.elementwise(m, f)
	}
	f.Ret()
	return f.F
}

// validRange returns the first and last output index o in [0, out) with o·stride − pad + k
// in [0, in): the outputs that window tap k reads without padding (lo > hi: none).
func validRange(out, in, k, stride, pad int) (lo, hi int) {
	lo, hi = 0, -1
	for o := range out {
		i := o*stride - pad + k
		if i < 0 {
			lo = o + 1
			continue
		}
		if i < in {
			hi = o
		}
	}
	return lo, hi
}

// conv: for every output channel, the plane is set to the bias, then every (input channel,
// tap) adds weight·input over the output pixels the tap reaches without padding; the
// activation is applied in a last sweep.
func (k *genericKernel) conv(m *emit.Module, f *emit.Func) {
	n, a := k.n, k.n.Attrs
	is, os := k.inShape(), n.Out.Shape
	g := max(a.Groups, 1)
	cinG, coutG := is.C/g, os.C/g
	out, in, w := f.Param(0), f.Param(1), f.Param(2)
	var bias value.Value
	if a.Bias {
		bias = f.Param(3)
	}
	lin, lout := k.in[0], k.out
	// Per window tap, the half-open range of outputs it reaches without padding, as
	// constant tables: one loop nest serves every tap (compact code, quick to compile).
	rows := tapTable(m, k.Name()+".rows", os.H, is.H, a.KH, a.Stride, a.Pad)
	cols := tapTable(m, k.Name()+".cols", os.W, is.W, a.KW, a.Stride, a.Pad)
	f.Loop("co", 0, os.C, 1, func(co value.Value) {
		init := f.F32(0)
		if bias != nil {
			init = f.Load(bias, co)
		}
		f.Loop("oy", 0, os.H, 1, func(oy value.Value) {
			f.Loop("ox", 0, os.W, 1, func(ox value.Value) {
				f.Store(init, out, lout.Offset(f, os, co, oy, ox))
			})
		})
		grp := value.Value(f.I64(0))
		if g > 1 {
			grp = f.B.NewUDiv(co, f.I64(coutG))
		}
		f.Loop("ci", 0, cinG, 1, func(ci value.Value) {
			c := f.Add(f.Mul(grp, f.I64(cinG)), ci)
			wbase := f.Mul(f.Add(f.Mul(co, f.I64(cinG)), ci), f.I64(a.KH*a.KW))
			f.Loop("ky", 0, a.KH, 1, func(ky value.Value) {
				f.Loop("kx", 0, a.KW, 1, func(kx value.Value) {
					wv := f.Load(w, f.Add(wbase, f.Add(f.Mul(ky, f.I64(a.KW)), kx)))
					f.LoopV("oy", rows.lo(f, ky), rows.hi(f, ky), func(oy value.Value) {
						iy := f.Add(f.Mul(oy, f.I64(a.Stride)), f.B.NewSub(ky, f.I64(a.Pad)))
						f.LoopV("ox", cols.lo(f, kx), cols.hi(f, kx), func(ox value.Value) {
							ix := f.Add(f.Mul(ox, f.I64(a.Stride)), f.B.NewSub(kx, f.I64(a.Pad)))
							x := f.Load(in, lin.Offset(f, is, c, iy, ix))
							o := lout.Offset(f, os, co, oy, ox)
							f.Store(f.FAdd(f.Load(out, o), f.FMul(wv, x), false), out, o)
						})
					})
				})
			})
		})
		if k.act != emit.ActNone {
			f.Loop("oy", 0, os.H, 1, func(oy value.Value) {
				f.Loop("ox", 0, os.W, 1, func(ox value.Value) {
					o := lout.Offset(f, os, co, oy, ox)
					f.Store(f.Activate(k.act, f.Load(out, o)), out, o)
				})
			})
		}
	})
	zeroPadding(f, out, lout, os)
}

// taps holds, per window tap, the outputs [lo, hi) it reaches without padding.
type taps struct {
	lo, hi func(f *emit.Func, i value.Value) value.Value
}

func tapTable(m *emit.Module, name string, out, in, k, stride, pad int) taps {
	lo, hi := make([]int64, k), make([]int64, k)
	for t := range k {
		l, h := validRange(out, in, t, stride, pad)
		lo[t], hi[t] = int64(l), int64(max(h+1, l))
	}
	return taps{m.Table(name+".lo", lo), m.Table(name+".hi", hi)}
}

// zeroPadding stores zeros into the padding lanes of a blocked layout.
func zeroPadding(f *emit.Func, out value.Value, l emit.Layout, s vir.Shape) {
	if l.Channels(s) == s.C {
		return
	}
	f.Loop("cp", s.C, l.Channels(s), 1, func(c value.Value) {
		f.Loop("y", 0, s.H, 1, func(y value.Value) {
			f.Loop("x", 0, s.W, 1, func(x value.Value) {
				f.Store(f.F32(0), out, l.Offset(f, s, c, y, x))
			})
		})
	})
}

// maxPool: the maximum over each window; taps in the padding are skipped (−inf) and a NaN
// in the window wins, as in interp.
func (k *genericKernel) maxPool(f *emit.Func) {
	n, a := k.n, k.n.Attrs
	is, os := k.inShape(), n.Out.Shape
	out, in := f.Param(0), f.Param(1)
	f.Loop("c", 0, os.C, 1, func(c value.Value) {
		f.Loop("oy", 0, os.H, 1, func(oy value.Value) {
			f.Loop("ox", 0, os.W, 1, func(ox value.Value) {
				m := f.F32(math.Inf(-1))
				for ky := range a.KH {
					iy := f.Add(f.Mul(oy, f.I64(a.Stride)), f.I64(ky-a.Pad))
					ylo, yhi := validRange(os.H, is.H, ky, a.Stride, a.Pad)
					for kx := range a.KW {
						ix := f.Add(f.Mul(ox, f.I64(a.Stride)), f.I64(kx-a.Pad))
						xlo, xhi := validRange(os.W, is.W, kx, a.Stride, a.Pad)
						if ylo > yhi || xlo > xhi {
							continue
						}
						var ok value.Value
						if ylo > 0 || yhi < os.H-1 {
							ok = f.B.NewICmp(enum.IPredULT, iy, f.I64(is.H))
						}
						if xlo > 0 || xhi < os.W-1 {
							okx := f.B.NewICmp(enum.IPredULT, ix, f.I64(is.W))
							if ok == nil {
								ok = okx
							} else {
								ok = f.B.NewAnd(ok, okx)
							}
						}
						off := lin(k).Offset(f, is, c, iy, ix)
						if ok != nil {
							off = f.B.NewSelect(ok, off, f.I64(0))
						}
						v := f.Load(in, off)
						if ok != nil {
							v = f.B.NewSelect(ok, v, f.F32(math.Inf(-1)))
						}
						gt := f.B.NewFCmp(enum.FPredOGT, v, m)
						nan := f.B.NewFCmp(enum.FPredUNO, v, v)
						m = f.B.NewSelect(f.B.NewOr(gt, nan), v, m)
					}
				}
				f.Store(f.Activate(k.act, m), out, k.out.Offset(f, os, c, oy, ox))
			})
		})
	})
	zeroPadding(f, out, k.out, os)
}

func lin(k *genericKernel) emit.Layout { return k.in[0] }

// sumWindow returns the float sum of input channel c over rows [y0, y1) and columns
// [x0, x1), with the additions free to reassociate.
func (k *genericKernel) sumWindow(f *emit.Func, in, c value.Value, y0, y1, x0, x1 int) value.Value {
	is := k.inShape()
	acc := f.F32(0)
	if y1-y0 == 1 && x1-x0 == 1 {
		return f.Load(in, lin(k).Offset(f, is, c, f.I64(y0), f.I64(x0)))
	}
	// The sum lives in an entry-block alloca that mem2reg (every -O level) turns into
	// loop-carried phis.
	slot := f.Alloca()
	f.B.NewStore(acc, slot)
	f.Loop("y", y0, y1, 1, func(y value.Value) {
		f.Loop("x", x0, x1, 1, func(x value.Value) {
			v := f.Load(in, lin(k).Offset(f, is, c, y, x))
			cur := f.B.NewLoad(emit.F32, slot)
			f.B.NewStore(f.FAdd(cur, v, true), slot)
		})
	})
	return f.B.NewLoad(emit.F32, slot)
}

// gap: the mean of each channel.
func (k *genericKernel) gap(f *emit.Func) {
	is, os := k.inShape(), k.n.Out.Shape
	out, in := f.Param(0), f.Param(1)
	f.Loop("c", 0, os.C, 1, func(c value.Value) {
		s := k.sumWindow(f, in, c, 0, is.H, 0, is.W)
		v := f.B.NewFDiv(s, f.F32(float64(is.H*is.W)))
		f.Store(f.Activate(k.act, v), out, k.out.Offset(f, os, c, f.I64(0), f.I64(0)))
	})
	zeroPadding(f, out, k.out, os)
}

// adaptive: PyTorch's adaptive average pooling; every output pixel's window is a constant.
func (k *genericKernel) adaptive(f *emit.Func) {
	is, os := k.inShape(), k.n.Out.Shape
	out, in := f.Param(0), f.Param(1)
	f.Loop("c", 0, os.C, 1, func(c value.Value) {
		for oy := range os.H {
			y0, y1 := vir.AdaptiveWindow(oy, is.H, os.H)
			for ox := range os.W {
				x0, x1 := vir.AdaptiveWindow(ox, is.W, os.W)
				s := k.sumWindow(f, in, c, y0, y1, x0, x1)
				v := value.Value(s)
				if cnt := (y1 - y0) * (x1 - x0); cnt > 1 {
					v = f.B.NewFDiv(s, f.F32(float64(cnt)))
				}
				f.Store(f.Activate(k.act, v), out, k.out.Offset(f, os, c, f.I64(oy), f.I64(ox)))
			}
		}
	})
	zeroPadding(f, out, k.out, os)
}

// linear: y[o] = Σ_i x[i]·W[o, i] + b[o].
func (k *genericKernel) linear(f *emit.Func) {
	is, os := k.inShape(), k.n.Out.Shape
	out, in, w, b := f.Param(0), f.Param(1), f.Param(2), f.Param(3)
	f.Loop("o", 0, os.C, 1, func(o value.Value) {
		slot := f.Alloca()
		f.B.NewStore(f.F32(0), slot)
		row := f.Mul(o, f.I64(is.C))
		f.Loop("i", 0, is.C, 1, func(i value.Value) {
			x := f.Load(in, lin(k).Offset(f, is, i, f.I64(0), f.I64(0)))
			p := f.FMul(x, f.Load(w, f.Add(row, i)))
			cur := f.B.NewLoad(emit.F32, slot)
			f.B.NewStore(f.FAdd(cur, p, true), slot)
		})
		v := f.FAdd(f.B.NewLoad(emit.F32, slot), f.Load(b, o), false)
		f.Store(f.Activate(k.act, v), out, k.out.Offset(f, os, o, f.I64(0), f.I64(0)))
	})
	zeroPadding(f, out, k.out, os)
}

// elementwise: ReLU, BatchNorm (scale, shift), Add, Mul (broadcast or not), Sigmoid; each
// operand read in its own layout.
func (k *genericKernel) elementwise(m *emit.Module, f *emit.Func) {
	n := k.n
	s := n.Out.Shape
	out := f.Param(0)
	nin := len(n.In)
	plain := k.out.Plain()
	for _, l := range k.in {
		plain = plain && l.Plain()
	}
	body := func(c, y, x value.Value) {
		at := func(i int) value.Value {
			sh := n.In[i].Shape
			if sh == (vir.Shape{C: s.C, H: 1, W: 1}) && s != sh {
				return k.in[i].Offset(f, sh, c, f.I64(0), f.I64(0))
			}
			return k.in[i].Offset(f, sh, c, y, x)
		}
		v := f.Load(f.Param(1), at(0))
		switch n.Op {
		case vir.BatchNorm:
			v = f.FAdd(f.FMul(v, f.Load(f.Param(2), c)), f.Load(f.Param(3), c), false)
		case vir.Add:
			for i := 1; i < nin; i++ {
				v = f.FAdd(v, f.Load(f.Param(1+i), at(i)), false)
			}
		case vir.Mul:
			v = f.FMul(v, f.Load(f.Param(2), at(1)))
		case vir.Sigmoid:
			exp := m.Declare("llvm.exp.f32", emit.F32, emit.F32)
			e := f.B.NewCall(exp, f.B.NewFNeg(v))
			v = f.B.NewFDiv(f.F32(1), f.FAdd(f.F32(1), e, false))
		default:
			v = f.Activate(activationOf(n.Op), v)
		}
		f.Store(f.Activate(k.act, v), out, k.out.Offset(f, s, c, y, x))
	}
	f.Loop("c", 0, s.C, 1, func(c value.Value) {
		if plain {
			// One flat loop over the plane: y = 0, x = p.
			// One flat loop over the plane: (y, x) = (0, p) addresses element p of
			// channel c when every operand is NCHW.
			f.Loop("p", 0, s.H*s.W, 1, func(p value.Value) { body(c, f.I64(0), p) })
			return
		}
		f.Loop("y", 0, s.H, 1, func(y value.Value) {
			f.Loop("x", 0, s.W, 1, func(x value.Value) { body(c, y, x) })
		})
	})
	zeroPadding(f, out, k.out, s)
}

// param returns the float32 data of parameter name of n, checked against its ParamSpec.
func param(n *vir.Node, name string) ([]float32, error) {
	t := n.Params[name]
	if t == nil {
		return nil, fmt.Errorf("%s (%s): missing parameter %s", n.Name, n.Op, name)
	}
	if t.DType != tensor.Float32 {
		return nil, fmt.Errorf("%s (%s): parameter %s is %s; code generation supports float32 only", n.Name, n.Op, name, t.DType)
	}
	for _, s := range n.ParamSpecs() {
		if s.Name == name && (!tensor.SameShape(t.Shape, s.Shape) || len(t.F32) != tensor.Numel(s.Shape)) {
			return nil, fmt.Errorf("%s (%s): parameter %s has shape %s, want %s", n.Name, n.Op, name,
				tensor.ShapeString(t.Shape), tensor.ShapeString(s.Shape))
		}
	}
	return t.F32, nil
}
