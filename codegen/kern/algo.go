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
	winoGemmEff     = 0.85 // … and the Winograd GEMMs, beyond their register tile's own bound
	loadsPerCycle   = 3    // vector loads and broadcasts a core issues per cycle
	fmaLatency      = 4    // cycles before an FMA's result feeds the next on its accumulator
	// The input transform of one tile and 16 channels: inside the map (36 loads, ≈300
	// vector ops, 36 stores to V in L2), and on the border (clamped loads and selects);
	// fitted to A0's 28×28 and 14×14 layers (half and ¾ border tiles), timed with the
	// transform repeated per channel chunk.
	winoInCycles       = 450
	winoInBorderCycles = 900
	winoOutCycles      = 140 // output transform, bias, activation and store of one tile and 16 channels
	winoRegTileCycles  = 20  // loop overhead of one register tile (plus zeroing and storing its accumulators)
	// Weights feed a core's L1 at streamBytes per cycle from L3 (and from L2 the first
	// time), at l2BytesPerCycle from L2 when re-read; one ξ's weight slice stays in L1
	// (with V's broadcasts beside it) up to winoL1Slice bytes.
	streamBytes     = 16
	l2BytesPerCycle = 32
	winoL1Slice     = 32 << 10
	memOverlapLoss  = 0.4
	// dramBytesPerCycle is the rate weights stream from memory: ≈20 GB/s measured on
	// this host with 1 and with 2 threads reading (it does not grow with threads), at ≈4
	// GHz. A whole forward reads every layer's weights once from memory (A0's Winograd
	// blob is 84 MiB, its direct one 32 MiB: beyond a shared L3).
	dramBytesPerCycle = 5
	// winoL3Bytes is the weights a layer reads again from L3, not memory, when several
	// tile groups each stream them.
	winoL3Bytes = 8 << 20
)

// WinoErrEstimate returns the cost model's estimate of the Winograd kernel's relative
// error on c: winoErrPerSqrtC·√(C/G).
func WinoErrEstimate(c Conv) float64 {
	return winoErrPerSqrtC * math.Sqrt(float64(c.C/c.groups()))
}

// overlap is the time of two activities that mostly overlap (computing while weights
// stream in): the longer one plus memOverlapLoss of the shorter, which the hardware
// prefetchers and the kernels' software prefetches do not hide (fitted to the 14×14×192
// Winograd layer timed with warm and with cold weights).
func overlap(a, b float64) float64 { return max(a, b) + memOverlapLoss*min(a, b) }

// EstimateCycles returns the cost model's time of c under a (direct or winograd) on
// threads cores, in core cycles: the slower of the computation and the weights read from
// memory (dramBytesPerCycle, shared by the threads). Direct: the vector FMAs (2 per cycle)
// over directEff, split evenly (its items are rows, dozens per layer). Winograd: the
// chosen blocking's Winograd.Cycles.
func EstimateCycles(c Conv, a Algo, threads int) float64 {
	threads = max(threads, 1)
	if a != AlgoWinograd {
		ho, wo := c.Out()
		cg := c.C / c.groups()
		compute := float64(ho*wo*cg*c.KH*c.KW*c.blocks()) / 2 / directEff / float64(threads)
		bytes := float64(c.blocks()*Lanes*cg*c.KH*c.KW) * 4
		return overlap(compute, bytes/dramBytesPerCycle)
	}
	w, err := NewWinograd(c)
	if err != nil {
		return math.Inf(1)
	}
	return w.Cycles(threads)
}

// ChooseAlgo is the cost model: Winograd where it applies, its estimated error is within
// MaxWinoErr and EstimateCycles says it is faster at 1 and 2 threads together (the module
// runs on any number of threads; 1 and 2 are what it is measured at); otherwise direct. why explains the
// choice in a few words.
func ChooseAlgo(c Conv) (a Algo, why string) {
	if err := CheckWinograd(c); err != nil {
		return AlgoDirect, "winograd does not apply"
	}
	if e := WinoErrEstimate(c); e > MaxWinoErr {
		return AlgoDirect, fmt.Sprintf("winograd error estimate %.2g > %g", e, MaxWinoErr)
	}
	d1, d2 := EstimateCycles(c, AlgoDirect, 1), EstimateCycles(c, AlgoDirect, 2)
	w1, w2 := EstimateCycles(c, AlgoWinograd, 1), EstimateCycles(c, AlgoWinograd, 2)
	if w1+w2 < d1+d2 {
		return AlgoWinograd, fmt.Sprintf("winograd %.0f+%.0f cycles at 1+2 threads, direct %.0f+%.0f", w1, w2, d1, d2)
	}
	return AlgoDirect, fmt.Sprintf("direct %.0f+%.0f cycles at 1+2 threads, winograd %.0f+%.0f", d1, d2, w1, w2)
}
