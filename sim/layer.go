package sim

import (
	"errors"
	"fmt"

	"github.com/vggsim/vggsim/internal/geom"
)

// LayerKind is the operator a Layer runs. The set is closed; kinds lists every kind with its
// metadata.
type LayerKind int

// The layer kinds. Conv and GEMM run on the systolic array; the rest are vector operations
// that cost elementwise work and traffic but no array MACs.
const (
	Conv         LayerKind = iota // 2-D convolution (groups, stride, padding), lowered to GEMMs
	GEMM                          // fully connected / Linear: M = batch·Rows, N = OutC, K = InC
	Pool                          // max or average pooling over a KH×KW window
	GlobalPool                    // global average pooling: InH×InW → 1×1
	AdaptivePool                  // adaptive average pooling: InH×InW → OutH×OutW (PyTorch's windows)
	Add                           // elementwise sum of NumInputs tensors (residual or branch add)
	Mul                           // elementwise product of NumInputs tensors (SE scaling)
	ReLU                          // elementwise max(x, 0)
	Sigmoid                       // elementwise logistic
	BatchNorm                     // per-channel scale and shift (train form); 2·C parameters
)

type kindInfo struct {
	name  string
	array bool // runs on the systolic array
}

var kinds = [...]kindInfo{
	Conv:         {"conv", true},
	GEMM:         {"gemm", true},
	Pool:         {"pool", false},
	GlobalPool:   {"global_pool", false},
	AdaptivePool: {"adaptive_pool", false},
	Add:          {"add", false},
	Mul:          {"mul", false},
	ReLU:         {"relu", false},
	Sigmoid:      {"sigmoid", false},
	BatchNorm:    {"batchnorm", false},
}

// String returns the kind's lower-case name ("conv", "gemm", "pool", ...).
func (k LayerKind) String() string {
	if k >= 0 && int(k) < len(kinds) {
		return kinds[k].name
	}
	return fmt.Sprintf("LayerKind(%d)", int(k))
}

// OnArray reports whether layers of kind k run on the systolic array (Conv and GEMM).
func (k LayerKind) OnArray() bool { return k >= 0 && int(k) < len(kinds) && kinds[k].array }

// Layer is one operator to simulate, per image; Options.Batch multiplies it. Tensors are
// NCHW. Fields that do not apply to a kind are ignored (zero is fine).
//
//   - Conv: input InC×InH×InW, OutC filters of KH×KW over InC/Groups channels, strides
//     StrideH/StrideW, PadH/PadW zeros on each side. Lowered per group to a GEMM with
//     M = batch·OutH·OutW, K = KH·KW·InC/Groups, N = OutC/Groups, run Groups times.
//   - GEMM: M = batch·Rows (Rows 0 means 1), K = InC, N = OutC. InH, InW are ignored.
//   - Pool: window KH×KW, strides, padding as Conv; OutC = InC (0 means InC).
//   - GlobalPool: averages each InH×InW plane to one value.
//   - AdaptivePool: averages each InH×InW plane to OutH×OutW values, output (i, j) over
//     PyTorch's adaptive window of rows ⌊i·InH/OutH⌋ … ⌈(i+1)·InH/OutH⌉ (exclusive) and the
//     same for columns; windows may overlap or repeat pixels. OutC = InC (0 means InC).
//   - Add, Mul: NumInputs inputs of shape InC×InH×InW, one output of that shape.
//   - ReLU, Sigmoid, BatchNorm: one input, one output of the same shape.
//
// InputsOnChip[i] says input i is already in the on-chip SRAM (produced there by an earlier
// layer and kept), so it costs no DRAM read; OutputOnChip says the output is kept on chip
// for its consumers, so it costs no DRAM write. The memory model (or Options.ChainResidency
// for a plain chain) sets them.
type Layer struct {
	Name string
	Kind LayerKind

	InH, InW, InC    int // input height, width, channels (GEMM: InC = K)
	OutC             int // output channels (Conv, GEMM: filters/features; others: 0 means InC)
	KH, KW           int // kernel or window size (Conv, Pool); 0 means 1
	StrideH, StrideW int // strides; 0 means 1
	PadH, PadW       int // zero padding on each side (top and bottom; left and right)
	Groups           int // Conv groups; 0 means 1 (InC for depthwise)
	Rows             int // GEMM rows per image; 0 means 1
	OutH, OutW       int // AdaptivePool output size

	NumInputs int  // inputs of Add and Mul; 0 means 2 for them and 1 for everything else
	Bias      bool // Conv, GEMM: OutC bias words are read with the weights
	FusedReLU bool // Conv, GEMM: a ReLU applied in the output path (no cycles, no traffic)

	InputsOnChip []bool // per input: already resident on chip (no DRAM read)
	OutputOnChip bool   // output kept on chip for its consumers (no DRAM write)
	// ResidentBytes is what resident activations hold of the ifmap and ofmap SRAMs while
	// the layer runs (its own resident input and output included): one SRAM, two uses, so
	// the layer stages its operands in the rest (docs/simulator.md §4.5). 0: all of it.
	ResidentBytes int64
}

func or1(v int) int {
	if v <= 0 {
		return 1
	}
	return v
}

// Inputs returns the number of input tensors.
func (l *Layer) Inputs() int {
	if l.NumInputs > 0 {
		return l.NumInputs
	}
	if l.Kind == Add || l.Kind == Mul {
		return 2
	}
	return 1
}

// InputOnChip reports whether input i is resident on chip.
func (l *Layer) InputOnChip(i int) bool { return i < len(l.InputsOnChip) && l.InputsOnChip[i] }

// OutChannels returns the output channel count.
func (l *Layer) OutChannels() int {
	if l.Kind == Conv || l.Kind == GEMM || l.OutC > 0 {
		return l.OutC
	}
	return l.InC
}

// OutDims returns the output height and width per image.
func (l *Layer) OutDims() (h, w int) {
	switch l.Kind {
	case Conv, Pool:
		kh, kw, sh, sw := or1(l.KH), or1(l.KW), or1(l.StrideH), or1(l.StrideW)
		return (l.InH+2*l.PadH-kh)/sh + 1, (l.InW+2*l.PadW-kw)/sw + 1
	case GEMM:
		return or1(l.Rows), 1
	case GlobalPool:
		return 1, 1
	case AdaptivePool:
		return l.OutH, l.OutW
	}
	return l.InH, l.InW
}

// InElems returns the words of one input tensor per image (GEMM: Rows·InC).
func (l *Layer) InElems() int64 {
	if l.Kind == GEMM {
		return int64(or1(l.Rows)) * int64(l.InC)
	}
	return int64(l.InH) * int64(l.InW) * int64(l.InC)
}

// OutElems returns the words of the output tensor per image.
func (l *Layer) OutElems() int64 {
	h, w := l.OutDims()
	return int64(h) * int64(w) * int64(l.OutChannels())
}

// GEMMShape returns the per-group GEMM of a Conv or GEMM layer for a batch: M×K times K×N,
// run groups times.
func (l *Layer) GEMMShape(batch int) (m, n, k, groups int) {
	batch = or1(batch)
	switch l.Kind {
	case Conv:
		g := or1(l.Groups)
		oh, ow := l.OutDims()
		return batch * oh * ow, l.OutC / g, or1(l.KH) * or1(l.KW) * l.InC / g, g
	case GEMM:
		return batch * or1(l.Rows), l.OutC, l.InC, 1
	}
	return 0, 0, 0, 0
}

// MACs returns the multiply-accumulates of the layer for a batch (0 for vector ops).
func (l *Layer) MACs(batch int) int64 {
	m, n, k, g := l.GEMMShape(batch)
	return int64(m) * int64(n) * int64(k) * int64(g)
}

// WeightWords returns the parameter words read with the layer: the filters (and bias) of a
// Conv or GEMM, the 2·C scale and shift of a BatchNorm, nothing otherwise.
func (l *Layer) WeightWords() int64 {
	switch l.Kind {
	case Conv, GEMM:
		_, n, k, g := l.GEMMShape(1)
		w := int64(k) * int64(n) * int64(g)
		if l.Bias {
			w += int64(l.OutC)
		}
		return w
	case BatchNorm:
		return 2 * int64(l.InC)
	}
	return 0
}

// VectorOps returns the elementwise operations of a vector layer per image: a window's
// worth per pooled output (for AdaptivePool the sum of its windows' sizes), InH·InW per
// global-pool output, NumInputs−1 per Add/Mul output, one per ReLU, Sigmoid and BatchNorm
// output (a fused multiply-add).
func (l *Layer) VectorOps() int64 {
	out := l.OutElems()
	switch l.Kind {
	case Pool:
		return out * int64(or1(l.KH)) * int64(or1(l.KW))
	case GlobalPool:
		return out * int64(l.InH) * int64(l.InW)
	case AdaptivePool:
		// Σ_i Σ_j rows_i·cols_j = (Σ_i rows_i)·(Σ_j cols_j) per channel.
		return int64(l.OutChannels()) * windowSum(l.InH, l.OutH) * windowSum(l.InW, l.OutW)
	case Add, Mul:
		return out * int64(l.Inputs()-1)
	case ReLU, Sigmoid, BatchNorm:
		return out
	}
	return 0
}

// windowSum returns the sum of the sizes of the out adaptive windows over in positions.
func windowSum(in, out int) int64 {
	var n int64
	for i := range out {
		s, e := geom.AdaptiveWindow(i, in, out)
		n += int64(e - s)
	}
	return n
}

// maxDim bounds every dimension so that products of a few of them stay far from overflow.
const maxDim = 1 << 24

// Validate reports every problem with l, joined.
func (l *Layer) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if l.Kind < 0 || int(l.Kind) >= len(kinds) {
		bad("unknown layer kind %d", int(l.Kind))
		return errors.Join(errs...)
	}
	pos := func(name string, v int) {
		if v < 1 || v > maxDim {
			bad("%s must be between 1 and %d, got %d", name, maxDim, v)
		}
	}
	nonneg := func(name string, v int) {
		if v < 0 || v > maxDim {
			bad("%s must be between 0 and %d, got %d", name, maxDim, v)
		}
	}
	pos("InC", l.InC)
	if l.Kind != GEMM {
		pos("InH", l.InH)
		pos("InW", l.InW)
	}
	for _, f := range []struct {
		n string
		v int
	}{{"KH", l.KH}, {"KW", l.KW}, {"StrideH", l.StrideH}, {"StrideW", l.StrideW},
		{"PadH", l.PadH}, {"PadW", l.PadW}, {"Groups", l.Groups}, {"Rows", l.Rows},
		{"NumInputs", l.NumInputs}, {"OutC", l.OutC}, {"OutH", l.OutH}, {"OutW", l.OutW}} {
		nonneg(f.n, f.v)
	}
	switch l.Kind {
	case Conv, GEMM:
		pos("OutC", l.OutC)
		g := or1(l.Groups)
		if l.Kind == Conv && (l.InC%g != 0 || l.OutC%g != 0) {
			bad("InC %d and OutC %d must be multiples of Groups %d", l.InC, l.OutC, g)
		}
	case Pool, AdaptivePool:
		if l.OutC != 0 && l.OutC != l.InC {
			bad("pooling keeps the channels: OutC %d != InC %d", l.OutC, l.InC)
		}
		if l.Kind == AdaptivePool {
			pos("OutH", l.OutH)
			pos("OutW", l.OutW)
		}
	}
	if l.Kind == Conv || l.Kind == Pool {
		if or1(l.KH) > l.InH+2*l.PadH || or1(l.KW) > l.InW+2*l.PadW {
			bad("window %dx%d larger than the padded input %dx%d", or1(l.KH), or1(l.KW), l.InH+2*l.PadH, l.InW+2*l.PadW)
		}
	}
	if (l.Kind == Add || l.Kind == Mul) && l.NumInputs == 1 {
		bad("%s needs at least 2 inputs", l.Kind)
	}
	if len(l.InputsOnChip) > l.Inputs() {
		bad("InputsOnChip has %d entries for %d inputs", len(l.InputsOnChip), l.Inputs())
	}
	if l.ResidentBytes < 0 {
		bad("ResidentBytes %d is negative", l.ResidentBytes)
	}
	if len(errs) == 0 {
		const limit = int64(1) << 50
		if l.InElems() > limit>>10 || l.OutElems() > limit>>10 || l.WeightWords() > limit>>10 {
			bad("layer too large")
		}
	}
	return errors.Join(errs...)
}
