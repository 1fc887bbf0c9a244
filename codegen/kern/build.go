package kern

import (
	"fmt"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/constant"
	"github.com/llir/llvm/ir/enum"
	"github.com/llir/llvm/ir/types"
	"github.com/llir/llvm/ir/value"
)

// Types used by the emitted code.
var (
	f32    = types.Float
	f32p   = types.NewPointer(types.Float)
	f32pp  = types.NewPointer(f32p)
	i64    = types.I64
	v16    = types.NewVector(16, types.Float)
	v16p   = types.NewPointer(v16)
	v16i32 = types.NewVector(16, types.I32)
)

// intrinsics returns the llvm.fma.v16f32 declaration of m, adding it once.
func fmaDecl(m *ir.Module) *ir.Func {
	for _, f := range m.Funcs {
		if f.Name() == "llvm.fma.v16f32" {
			return f
		}
	}
	return m.NewFunc("llvm.fma.v16f32", v16, ir.NewParam("a", v16), ir.NewParam("b", v16), ir.NewParam("c", v16))
}

// fb builds one function body: b is the current block.
type fb struct {
	m      *ir.Module
	f      *ir.Func
	entry  *ir.Block
	b      *ir.Block
	n      int
	fma    *ir.Func
	zero16 value.Value
}

func newFB(m *ir.Module, f *ir.Func) *fb {
	e := f.NewBlock("entry")
	return &fb{m: m, f: f, entry: e, b: e, fma: fmaDecl(m), zero16: constant.NewZeroInitializer(v16)}
}

func (g *fb) block(prefix string) *ir.Block {
	g.n++
	return g.f.NewBlock(fmt.Sprintf("%s%d", prefix, g.n))
}

func c64(v int) *constant.Int { return constant.NewInt(i64, int64(v)) }

func isConst(v value.Value) (int64, bool) {
	c, ok := v.(*constant.Int)
	if !ok {
		return 0, false
	}
	return c.X.Int64(), true
}

// add, mul emit i64 arithmetic, folding constants.
func (g *fb) add(x, y value.Value) value.Value {
	cx, okx := isConst(x)
	cy, oky := isConst(y)
	switch {
	case okx && oky:
		return c64(int(cx + cy))
	case oky && cy == 0:
		return x
	case okx && cx == 0:
		return y
	}
	a := g.b.NewAdd(x, y)
	a.OverflowFlags = []enum.OverflowFlag{enum.OverflowFlagNSW}
	return a
}

func (g *fb) mul(x, y value.Value) value.Value {
	cx, okx := isConst(x)
	cy, oky := isConst(y)
	switch {
	case okx && oky:
		return c64(int(cx * cy))
	case oky && cy == 1:
		return x
	case okx && cx == 1:
		return y
	case (oky && cy == 0) || (okx && cx == 0):
		return c64(0)
	}
	a := g.b.NewMul(x, y)
	a.OverflowFlags = []enum.OverflowFlag{enum.OverflowFlagNSW}
	return a
}

// gep returns p + off floats.
func (g *fb) gep(p, off value.Value) value.Value {
	if c, ok := isConst(off); ok && c == 0 {
		return p
	}
	e := g.b.NewGetElementPtr(f32, p, off)
	e.InBounds = true
	return e
}

// loadV loads 16 floats at p + off (align: bytes known to hold).
func (g *fb) loadV(p, off value.Value, align int) value.Value {
	q := g.b.NewBitCast(g.gep(p, off), v16p)
	l := g.b.NewLoad(v16, q)
	l.Align = ir.Align(align)
	return l
}

func (g *fb) storeV(v, p, off value.Value, align int) {
	q := g.b.NewBitCast(g.gep(p, off), v16p)
	s := g.b.NewStore(v, q)
	s.Align = ir.Align(align)
}

// splat broadcasts the float at p + off to 16 lanes.
func (g *fb) splat(p, off value.Value) value.Value {
	l := g.b.NewLoad(f32, g.gep(p, off))
	l.Align = 4
	ins := g.b.NewInsertElement(constant.NewUndef(v16), l, constant.NewInt(types.I32, 0))
	return g.b.NewShuffleVector(ins, constant.NewUndef(v16), constant.NewZeroInitializer(v16i32))
}

func (g *fb) fmaV(a, b, c value.Value) value.Value { return g.b.NewCall(g.fma, a, b, c) }

func (g *fb) relu(v value.Value) value.Value {
	gt := g.b.NewFCmp(enum.FPredOGT, v, g.zero16)
	return g.b.NewSelect(gt, v, g.zero16)
}

// activate applies c's fused activation (ReLU, ReLU6 or none) to v.
func (g *fb) activate(v value.Value, c Conv) value.Value {
	switch {
	case c.ReLU:
		return g.relu(v)
	case c.ReLU6:
		six := splatConst(6)
		v = g.relu(v)
		return g.b.NewSelect(g.b.NewFCmp(enum.FPredOLT, v, six), v, six)
	}
	return v
}

// loop emits for i := from; i < to; i++ { body(i) } and leaves g.b after the loop.
func (g *fb) loop(name string, from, to value.Value, body func(i value.Value)) {
	pre := g.b
	hdr, bodyB, exit := g.block(name+".hdr"), g.block(name+".body"), g.block(name+".exit")
	pre.NewBr(hdr)
	phi := hdr.NewPhi(ir.NewIncoming(from, pre))
	hdr.NewCondBr(hdr.NewICmp(enum.IPredSLT, phi, to), bodyB, exit)
	g.b = bodyB
	body(phi)
	next := g.b.NewAdd(phi, c64(1))
	phi.Incs = append(phi.Incs, ir.NewIncoming(next, g.b))
	g.b.NewBr(hdr)
	g.b = exit
}

// when emits if cond { body() } and leaves g.b after it.
func (g *fb) when(name string, cond value.Value, body func()) {
	then, done := g.block(name+".then"), g.block(name+".done")
	g.b.NewCondBr(cond, then, done)
	g.b = then
	body()
	g.b.NewBr(done)
	g.b = done
}

var voidT = types.Void

// TaskType is the type of a kernel's range function: void (float** args, i64 lo, i64 hi).
var TaskType = types.NewFunc(types.Void, f32pp, i64, i64)

// TaskPtr is a pointer to TaskType.
var TaskPtr = types.NewPointer(TaskType)

// parallelDecl returns the declaration of the pool's vggsim_parallel in m, adding it once.
func parallelDecl(m *ir.Module) *ir.Func {
	for _, f := range m.Funcs {
		if f.Name() == "vggsim_parallel" {
			return f
		}
	}
	return m.NewFunc("vggsim_parallel", types.Void, ir.NewParam("fn", TaskPtr), ir.NewParam("args", f32pp), ir.NewParam("n", i64))
}
