package codegen

import (
	"fmt"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/value"
	"github.com/vggsim/vggsim/codegen/emit"
	vir "github.com/vggsim/vggsim/ir"
)

// reorderKernel copies one image from one layout to another (a plain copy when the layouts
// are equal), zeroing the destination's padding lanes.
type reorderKernel struct {
	shape    vir.Shape
	from, to emit.Layout
}

func (k *reorderKernel) Family() string                { return "reorder" }
func (k *reorderKernel) In() []emit.Layout             { return []emit.Layout{k.from} }
func (k *reorderKernel) Out() emit.Layout              { return k.to }
func (k *reorderKernel) Weights() ([][]float32, error) { return nil, nil }

func (k *reorderKernel) Name() string {
	if k.from.Same(k.to, k.shape) && k.from.Elems(k.shape) == k.to.Elems(k.shape) {
		return fmt.Sprintf("copy_%d", k.from.Elems(k.shape))
	}
	return fmt.Sprintf("reorder_%s_%s_to_%s", k.shape, k.from, k.to)
}

func (k *reorderKernel) Define(m *emit.Module) *ir.Func {
	f := emit.NewKernelFunc(m, k.Name(), []string{"out", "in"}, true)
	out, in := f.Param(0), f.Param(1)
	s := k.shape
	if k.from.Same(k.to, s) && k.from.Elems(s) == k.to.Elems(s) {
		f.Loop("i", 0, k.from.Elems(s), 1, func(i value.Value) { f.Store(f.Load(in, i), out, i) })
	} else {
		f.Loop("c", 0, s.C, 1, func(c value.Value) {
			f.Loop("y", 0, s.H, 1, func(y value.Value) {
				f.Loop("x", 0, s.W, 1, func(x value.Value) {
					f.Store(f.Load(in, k.from.Offset(f, s, c, y, x)), out, k.to.Offset(f, s, c, y, x))
				})
			})
		})
		zeroPadding(f, out, k.to, s)
	}
	f.Ret()
	return f.F
}
