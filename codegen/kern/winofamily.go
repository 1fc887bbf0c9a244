package kern

import (
	"fmt"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/enum"
	"github.com/vggsim/vggsim/codegen/emit"
	vir "github.com/vggsim/vggsim/ir"
)

// winograd returns the Winograd kernel of conv node n (shape c) when f picks it, or nil.
func (f Family) winograd(c Conv, n *vir.Node) emit.Kernel {
	if f.Algo == AlgoDirect || CheckWinograd(c) != nil {
		return nil
	}
	note := ""
	switch {
	case f.Algo == AlgoWinograd:
		note = "forced"
	default:
		key := c
		key.ReLU = false
		if ch, ok := f.Tuned[key]; ok {
			if ch.Algo != AlgoWinograd {
				return nil
			}
			note = ch.String()
		} else {
			a, why := ChooseAlgo(c)
			if a != AlgoWinograd {
				return nil
			}
			note = "cost model: " + why
		}
	}
	w, err := NewWinograd(c)
	if err != nil {
		return nil
	}
	return &winoKernel{w: w, n: n, note: note}
}

type winoKernel struct {
	w    *Winograd
	n    *vir.Node
	note string // why it was chosen, for the module comment
}

func (k *winoKernel) Name() string      { return k.w.Name() }
func (k *winoKernel) Family() string    { return AlgoWinograd.String() }
func (k *winoKernel) In() []emit.Layout { return []emit.Layout{emit.Blocked(Lanes)} }
func (k *winoKernel) Out() emit.Layout  { return emit.Blocked(Lanes) }

// Weights returns the transformed weights G g Gᵀ and the padded bias.
func (k *winoKernel) Weights() ([][]float32, error) {
	w, b, err := convParams(k.n)
	if err != nil {
		return nil, err
	}
	pw, pb, err := k.w.Pack(w, b)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", k.n.Name, err)
	}
	return [][]float32{pw, pb}, nil
}

// Define adds the kernel (and its range and body functions) to m.
func (k *winoKernel) Define(m *emit.Module) *ir.Func {
	declarePool(m, true)
	w, c := k.w, k.w.Conv
	m.Comment(w.Name(), fmt.Sprintf("winograd F(4x4,3x3) conv %s -> %dx%dx%d, NCHW16c, %d tiles, register tile %d blocks x %d tiles, %d work items of %d tiles x %d blocks over the pool (%s)",
		c, c.K, c.H, c.W, w.tiles(), w.RK, w.RT, w.Items(), w.T, w.KC, k.note))
	return w.Define(m.M, enum.LinkageInternal)
}
