package kern

import (
	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/constant"
	"github.com/llir/llvm/ir/enum"
	"github.com/llir/llvm/ir/types"
	"github.com/llir/llvm/ir/value"
)

// PeakChains is the number of independent FMA chains of the peak loop: more than the FMA
// latency (4 cycles) times the pipes (2), so the loop is throughput-bound.
const PeakChains = 16

// PeakFlops returns the floating-point operations of one call of the peak loop with n
// iterations: n · PeakChains · 16 lanes · 2.
func PeakFlops(n int64) float64 { return float64(n) * PeakChains * Lanes * 2 }

// DefinePeak adds `float NAME(i64 n)` to m: n iterations of PeakChains independent
// llvm.fma.v16f32 chains, returning a lane of their sum so nothing is dead. Timing it on
// each thread gives the machine's measured FMA peak (see PeakFlops).
func DefinePeak(m *ir.Module, name string, linkage enum.Linkage) *ir.Func {
	n := ir.NewParam("n", i64)
	f := m.NewFunc(name, f32, n)
	f.Linkage = linkage
	f.FuncAttrs = append(f.FuncAttrs, enum.FuncAttrNoUnwind, enum.FuncAttrNoInline)
	g := newFB(m, f)
	acc := make([]value.Value, PeakChains)
	for i := range acc {
		a := g.entry.NewAlloca(v16)
		acc[i] = a
		g.b.NewStore(splatConst(float64(i)*0.001), a)
	}
	mul, add := splatConst(0.999999), splatConst(1e-7)
	g.loop("it", c64(0), n, func(value.Value) {
		for _, a := range acc {
			g.b.NewStore(g.fmaV(g.b.NewLoad(v16, a), mul, add), a)
		}
	})
	var sum value.Value = g.b.NewLoad(v16, acc[0])
	for _, a := range acc[1:] {
		sum = g.b.NewFAdd(sum, g.b.NewLoad(v16, a))
	}
	g.b.NewRet(g.b.NewExtractElement(sum, constant.NewInt(types.I32, 0)))
	return f
}

func splatConst(v float64) value.Value {
	es := make([]constant.Constant, Lanes)
	for i := range es {
		es[i] = constant.NewFloat(f32, v)
	}
	return constant.NewVector(v16, es...)
}
