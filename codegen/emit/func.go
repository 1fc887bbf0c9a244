package emit

import (
	"fmt"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/constant"
	"github.com/llir/llvm/ir/enum"
	"github.com/llir/llvm/ir/types"
	"github.com/llir/llvm/ir/value"
)

// Common types.
var (
	F32    = types.Float
	F32Ptr = types.NewPointer(types.Float)
	I64    = types.I64
)

// Func builds the body of one function: B is the block instructions go to, and the
// helpers keep it current as loops open new blocks.
type Func struct {
	F      *ir.Func
	B      *ir.Block
	blocks int
}

// NewKernelFunc adds to m a function void name(float* out, float* in…, float* w…) with the
// given parameter names (out first), internal linkage, nounwind and noinline (each kernel
// is optimized once on its own: inlining dozens of kernels into forward triples clang's
// time for no speed), and returns its builder positioned in the entry block. noalias marks every pointer noalias (never for
// kernels that may run in place).
func NewKernelFunc(m *Module, name string, params []string, noalias bool) *Func {
	ps := make([]*ir.Param, len(params))
	for i, p := range params {
		ps[i] = ir.NewParam(p, F32Ptr)
		if noalias {
			ps[i].Attrs = append(ps[i].Attrs, enum.ParamAttrNoAlias)
		}
	}
	f := m.M.NewFunc(name, types.Void, ps...)
	f.Linkage = enum.LinkageInternal
	f.FuncAttrs = append(f.FuncAttrs, enum.FuncAttrNoUnwind, enum.FuncAttrNoInline)
	fb := &Func{F: f}
	fb.B = f.NewBlock("entry")
	return fb
}

// Param returns the i-th parameter.
func (f *Func) Param(i int) value.Value { return f.F.Params[i] }

// NewBlock appends a new block with a unique name built from prefix.
func (f *Func) NewBlock(prefix string) *ir.Block {
	f.blocks++
	return f.F.NewBlock(fmt.Sprintf("%s%d", prefix, f.blocks))
}

// I64 returns the constant v as i64.
func (f *Func) I64(v int) value.Value { return constant.NewInt(types.I64, int64(v)) }

// F32 returns the constant v as float.
func (f *Func) F32(v float64) value.Value { return constant.NewFloat(types.Float, v) }

// Add emits x + y on i64, folding constants.
func (f *Func) Add(x, y value.Value) value.Value {
	if isZero(y) {
		return x
	}
	if isZero(x) {
		return y
	}
	cx, okx := x.(*constant.Int)
	cy, oky := y.(*constant.Int)
	if okx && oky {
		return constant.NewInt(types.I64, cx.X.Int64()+cy.X.Int64())
	}
	a := f.B.NewAdd(x, y)
	a.OverflowFlags = []enum.OverflowFlag{enum.OverflowFlagNSW}
	return a
}

// Mul emits x · y on i64, folding constants.
func (f *Func) Mul(x, y value.Value) value.Value {
	cx, okx := x.(*constant.Int)
	cy, oky := y.(*constant.Int)
	switch {
	case okx && oky:
		return constant.NewInt(types.I64, cx.X.Int64()*cy.X.Int64())
	case oky && cy.X.Int64() == 1:
		return x
	case okx && cx.X.Int64() == 1:
		return y
	case (oky && cy.X.Int64() == 0) || (okx && cx.X.Int64() == 0):
		return constant.NewInt(types.I64, 0)
	}
	m := f.B.NewMul(x, y)
	m.OverflowFlags = []enum.OverflowFlag{enum.OverflowFlagNSW}
	return m
}

func isZero(v value.Value) bool {
	c, ok := v.(*constant.Int)
	return ok && c.X.Sign() == 0
}

// At returns &p[i] for a float* p and an i64 index i.
func (f *Func) At(p, i value.Value) value.Value {
	if isZero(i) {
		return p
	}
	g := f.B.NewGetElementPtr(types.Float, p, i)
	g.InBounds = true
	return g
}

// Load emits a float load of p[i].
func (f *Func) Load(p, i value.Value) value.Value {
	l := f.B.NewLoad(types.Float, f.At(p, i))
	l.Align = 4
	return l
}

// Store emits p[i] = v.
func (f *Func) Store(v, p, i value.Value) {
	s := f.B.NewStore(v, f.At(p, i))
	s.Align = 4
}

// FAdd emits x + y; reassoc allows the vectorizer to reorder a reduction.
func (f *Func) FAdd(x, y value.Value, reassoc bool) value.Value {
	a := f.B.NewFAdd(x, y)
	if reassoc {
		a.FastMathFlags = []enum.FastMathFlag{enum.FastMathFlagReassoc, enum.FastMathFlagContract}
	}
	return a
}

// FMul emits x · y.
func (f *Func) FMul(x, y value.Value) value.Value { return f.B.NewFMul(x, y) }

// ReLU emits max(v, 0) keeping NaN (v < 0 ? 0 : v), as interp does.
func (f *Func) ReLU(v value.Value) value.Value {
	lt := f.B.NewFCmp(enum.FPredOLT, v, f.F32(0))
	return f.B.NewSelect(lt, f.F32(0), v)
}

// ReLU6 emits min(max(v, 0), 6) keeping NaN (v < 0 ? 0 : v > 6 ? 6 : v), as interp does.
func (f *Func) ReLU6(v value.Value) value.Value {
	gt := f.B.NewFCmp(enum.FPredOGT, v, f.F32(6))
	return f.ReLU(f.B.NewSelect(gt, f.F32(6), v))
}

// Activate applies a to v.
func (f *Func) Activate(a Activation, v value.Value) value.Value {
	switch a {
	case ActReLU:
		return f.ReLU(v)
	case ActReLU6:
		return f.ReLU6(v)
	}
	return v
}

// Loop emits for i := lo; i < hi; i += step { body(i) } with i an i64 and constant bounds.
// Nothing is emitted when the range is empty; a single iteration emits the body once with
// i constant. body may open blocks; the loop continues from whatever block is current when
// it returns.
func (f *Func) Loop(name string, lo, hi, step int, body func(i value.Value)) {
	if lo >= hi {
		return
	}
	if lo+step >= hi {
		body(f.I64(lo))
		return
	}
	pre := f.B
	head := f.NewBlock(name + ".body")
	pre.NewBr(head)
	f.B = head
	phi := head.NewPhi(ir.NewIncoming(f.I64(lo), pre))
	phi.SetName(fmt.Sprintf("%s%d", name, f.blocks))
	body(phi)
	latch := f.B
	next := latch.NewAdd(phi, f.I64(step))
	next.OverflowFlags = []enum.OverflowFlag{enum.OverflowFlagNSW, enum.OverflowFlagNUW}
	cond := latch.NewICmp(enum.IPredSLT, next, f.I64(hi))
	exit := f.NewBlock(name + ".exit")
	latch.NewCondBr(cond, head, exit)
	phi.Incs = append(phi.Incs, ir.NewIncoming(next, latch))
	f.B = exit
}

// Ret ends the function with ret void.
func (f *Func) Ret() { f.B.NewRet(nil) }

// Alloca returns a float stack slot allocated at the top of the entry block (where
// mem2reg promotes it to SSA values).
func (f *Func) Alloca() value.Value {
	entry := f.F.Blocks[0]
	a := ir.NewAlloca(types.Float)
	a.Align = 4
	entry.Insts = append([]ir.Instruction{a}, entry.Insts...)
	return a
}

// LoopV emits for i := lo; i < hi; i++ { body(i) } with i64 bounds known only at run time
// (the loop is skipped when lo ≥ hi).
func (f *Func) LoopV(name string, lo, hi value.Value, body func(i value.Value)) {
	pre := f.B
	head := f.NewBlock(name + ".body")
	exit := f.NewBlock(name + ".exit")
	pre.NewCondBr(pre.NewICmp(enum.IPredSLT, lo, hi), head, exit)
	f.B = head
	phi := head.NewPhi(ir.NewIncoming(lo, pre))
	phi.SetName(fmt.Sprintf("%s%d", name, f.blocks))
	body(phi)
	latch := f.B
	next := latch.NewAdd(phi, f.I64(1))
	next.OverflowFlags = []enum.OverflowFlag{enum.OverflowFlagNSW, enum.OverflowFlagNUW}
	latch.NewCondBr(latch.NewICmp(enum.IPredSLT, next, hi), head, exit)
	phi.Incs = append(phi.Incs, ir.NewIncoming(next, latch))
	f.B = exit
}

// Table adds an internal constant i64 array to m and returns a function that loads
// element i (an i64 value) of it in f.
func (m *Module) Table(name string, vals []int64) func(f *Func, i value.Value) value.Value {
	elems := make([]constant.Constant, len(vals))
	for i, v := range vals {
		elems[i] = constant.NewInt(types.I64, v)
	}
	arr := constant.NewArray(types.NewArray(uint64(len(vals)), types.I64), elems...)
	g := m.M.NewGlobalDef(name, arr)
	g.Immutable = true
	g.Linkage = enum.LinkageInternal
	return func(f *Func, i value.Value) value.Value {
		p := f.B.NewGetElementPtr(arr.Typ, g, constant.NewInt(types.I64, 0), i)
		p.InBounds = true
		l := f.B.NewLoad(types.I64, p)
		l.Align = 8
		return l
	}
}
