package kern

import (
	"fmt"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/enum"
)

// Kernel is a conv kernel of this package as a harness (tests, Measure, Tune) sees it:
// NAME(out, in, w, bias) over the pool, NAME_range(args, lo, hi) for items [lo, hi), its
// weights packed by Pack into PackedWeights floats and a bias padded to whole blocks.
// *Direct and *Winograd implement it.
type Kernel interface {
	Name() string
	// Shape returns the conv the kernel computes.
	Shape() Conv
	// Algorithm names the kernel's algorithm: "direct" or "winograd".
	Algorithm() string
	Items() int
	PackedWeights() int
	Pack(w, b []float32) (pw, pb []float32, err error)
	Define(m *ir.Module, linkage enum.Linkage) *ir.Func
}

// Shape returns d.Conv.
func (d *Direct) Shape() Conv { return d.Conv }

// Algorithm returns "direct".
func (d *Direct) Algorithm() string { return AlgoDirect.String() }

// Shape returns w.Conv.
func (w *Winograd) Shape() Conv { return w.Conv }

// Algorithm returns "winograd".
func (w *Winograd) Algorithm() string { return AlgoWinograd.String() }

// Algo selects the convolution algorithm of the kern family.
type Algo uint8

// The algorithms: AlgoAuto lets the cost model (or a tuning table) choose per layer.
const (
	AlgoAuto Algo = iota
	AlgoDirect
	AlgoWinograd
)

// String returns "auto", "direct" or "winograd".
func (a Algo) String() string {
	switch a {
	case AlgoDirect:
		return "direct"
	case AlgoWinograd:
		return "winograd"
	}
	return "auto"
}

// ParseAlgo parses "auto", "direct" or "winograd".
func ParseAlgo(s string) (Algo, error) {
	for _, a := range []Algo{AlgoAuto, AlgoDirect, AlgoWinograd} {
		if s == a.String() {
			return a, nil
		}
	}
	return AlgoAuto, fmt.Errorf("unknown algorithm %q (want auto, direct or winograd)", s)
}
