package kern

import (
	"fmt"
	"math"

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

// Choice is the algorithm Tune measured fastest for one conv shape, with both times.
type Choice struct {
	Algo             Algo
	DirectMs, WinoMs float64
}

// String describes the choice, e.g. "tuned: winograd 0.210 ms, direct 0.598 ms".
func (c Choice) String() string {
	return fmt.Sprintf("tuned: %s, winograd %.3f ms, direct %.3f ms", c.Algo, c.WinoMs, c.DirectMs)
}

// Cost-model constants (cycles on one Zen 5 core; calibrated on RepVGG-A0's layers, see
// docs/codegen.md).
const (
	// MaxWinoErr is the largest relative error (max |Δ| / max |ref| of one layer against
	// the interpreter) the cost model accepts for Winograd.
	MaxWinoErr = 1e-3
	// winoErrPerSqrtC is the fitted error growth of F(4×4,3×3) in float32: measured
	// errors on uniform data are 3–6e-7·√Cg; the estimate doubles it.
	winoErrPerSqrtC = 1e-6
	directEff       = 0.88 // fraction of the FMA peak the direct kernels reach on 3×3 layers
	winoGemmEff     = 0.85 // … and the Winograd GEMMs
	winoInCycles    = 150  // input transform of one tile and 16 channels (≈300 vector ops)
	winoOutCycles   = 140  // output transform, bias, ReLU and store of one tile and 16 channels
	streamBytes     = 16   // bytes per cycle a core streams weights at from L2/L3
)

// WinoErrEstimate returns the cost model's estimate of the Winograd kernel's relative
// error on c: winoErrPerSqrtC·√(C/G).
func WinoErrEstimate(c Conv) float64 {
	return winoErrPerSqrtC * math.Sqrt(float64(c.C/c.groups()))
}

// EstimateCycles returns the cost model's cycles (one core) of c under a (direct or
// winograd). Direct: the FMAs (vector FMAs, 2 per cycle) over directEff. Winograd: the 36
// GEMMs' FMAs over the padded tiles at winoGemmEff, the input transform per tile, input
// block and channel chunk, the output transform per tile and output block, and the
// transformed weights streamed once per tile group.
func EstimateCycles(c Conv, a Algo) float64 {
	ho, wo := c.Out()
	cg := c.C / c.groups()
	if a != AlgoWinograd {
		return float64(ho*wo*cg*c.KH*c.KW*c.blocks()) / 2 / directEff
	}
	w, err := NewWinograd(c)
	if err != nil {
		return math.Inf(1)
	}
	groups := (w.tiles() + w.T - 1) / w.T
	tiles := float64(groups * w.T)
	cgp := float64(w.cgB() * Lanes)
	kb := float64(c.blocks())
	gemm := winoXi * tiles * cgp * kb / 2 / winoGemmEff
	in := tiles * float64(w.cgB()) * float64(c.blocks()/w.KC) * winoInCycles
	if c.groups() > 1 {
		in /= float64(c.groups()) // each chunk transforms its own group's channels
	}
	out := tiles * kb * winoOutCycles
	stream := float64(groups) * winoXi * cgp * kb * Lanes * 4 / streamBytes
	return gemm + in + out + stream
}

// ChooseAlgo is the cost model: Winograd where it applies, its estimated error is within
// MaxWinoErr and EstimateCycles says it is faster; otherwise direct. why explains the
// choice in a few words.
func ChooseAlgo(c Conv) (a Algo, why string) {
	if err := CheckWinograd(c); err != nil {
		return AlgoDirect, "winograd does not apply"
	}
	if e := WinoErrEstimate(c); e > MaxWinoErr {
		return AlgoDirect, fmt.Sprintf("winograd error estimate %.2g > %g", e, MaxWinoErr)
	}
	d, w := EstimateCycles(c, AlgoDirect), EstimateCycles(c, AlgoWinograd)
	if w < d {
		return AlgoWinograd, fmt.Sprintf("winograd %.0f cycles, direct %.0f", w, d)
	}
	return AlgoDirect, fmt.Sprintf("direct %.0f cycles, winograd %.0f", d, w)
}
