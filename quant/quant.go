// Package quant measures how well a network's weights and activations survive symmetric
// uniform quantization, layer by layer: the int8-risk report of `vggsim quant`.
//
// Fused RepVGG kernels are sums of three BN-scaled branches, so their value ranges widen and
// per-tensor int8 post-training quantization loses accuracy (QARepVGG: RepVGG-A0 drops to
// ~52% top-1). The report shows, for every conv and linear layer of the deploy form, the
// weight range and spread, max|w|/std (an outlier measure), and the signal-to-quantization-
// noise ratio (SQNR) of per-tensor and per-output-channel quantization; beside it the same
// for each BN-folded train-form branch, so the widening is visible; and, given an input
// batch, the SQNR of each layer's output activations.
//
// Quantization is symmetric with round-half-to-even and clamping at ±(2^(bits−1)−1):
// q(x) = clamp(round(x/s)) · s with s = max|x| / (2^(bits−1)−1), per tensor or per output
// channel. SQNR (dB) = 10·log10(Σx² / Σ(x−q(x))²), computed in float64; +Inf when the
// quantization is exact.
package quant

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/vggsim/vggsim/interp"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/reparam"
	"github.com/vggsim/vggsim/tensor"
)

// Options controls Analyze.
type Options struct {
	Bits        int     // quantization width, 2..16; 0 means 8
	ThresholdDB float64 // flag layers whose per-tensor weight SQNR is below this; 0 means 30 dB
}

// Stats describes one tensor and its quantization error.
type Stats struct {
	Min          float64 `json:"min"`
	Max          float64 `json:"max"`
	Std          float64 `json:"std"`
	MaxAbsOverSD float64 `json:"max_abs_over_std"`
	SQNRTensorDB float64 `json:"sqnr_per_tensor_db"`
	SQNRChanDB   float64 `json:"sqnr_per_channel_db"`
}

// Branch is the BN-folded kernel of one train-form branch of a fused layer.
type Branch struct {
	Name  string `json:"name"`
	Stats Stats  `json:"weights"`
}

// Layer is the report of one deploy-form conv or linear layer.
type Layer struct {
	Name       string   `json:"layer"`
	Weights    Stats    `json:"weights"`
	Branches   []Branch `json:"branches,omitempty"`
	Activation *Stats   `json:"activation,omitempty"` // the layer's output after its ReLU, if an input was given
	Flagged    bool     `json:"flagged"`
}

// Report is the whole int8-risk report.
type Report struct {
	Model       string  `json:"model"`
	Bits        int     `json:"bits"`
	ThresholdDB float64 `json:"threshold_db"`
	Layers      []Layer `json:"layers"`
	Flagged     int     `json:"flagged_layers"`
}

// Analyze reports on train, a train-form graph with bound parameters. If x is not nil
// (an [N, C, H, W] batch), activations of the deploy form on x are measured too.
func Analyze(train *ir.Graph, x *tensor.Tensor, opts Options) (*Report, error) {
	if opts.Bits == 0 {
		opts.Bits = 8
	}
	if opts.Bits < 2 || opts.Bits > 16 {
		return nil, fmt.Errorf("bits = %d, want 2..16", opts.Bits)
	}
	if opts.ThresholdDB == 0 {
		opts.ThresholdDB = 30
	}
	deploy, err := reparam.Deploy(train, reparam.Options{})
	if err != nil {
		return nil, err
	}
	folded, err := reparam.Deploy(train, reparam.Options{StopAfter: "fold-bn"})
	if err != nil {
		return nil, err
	}
	var acts []*tensor.Tensor
	if x != nil {
		if acts, err = interp.RunAll(deploy, x); err != nil {
			return nil, err
		}
	}
	users := deploy.Users()
	r := &Report{Model: train.Name, Bits: opts.Bits, ThresholdDB: opts.ThresholdDB}
	for _, n := range deploy.Nodes {
		if n.Op != ir.Conv && n.Op != ir.Linear {
			continue
		}
		l := Layer{Name: n.Name, Weights: MeasureWeights(n.Params["weight"], opts.Bits)}
		if prefix, ok := strings.CutSuffix(n.Name, ".rbr_reparam"); ok || n.Name == "rbr_reparam" {
			if !ok {
				prefix = ""
			}
			l.Branches = branches(folded, prefix, opts.Bits)
		}
		if acts != nil {
			out := n.Out
			if u := users[out.ID]; len(u) == 1 && u[0].Op == ir.ReLU {
				out = u[0].Out
			}
			s := MeasureActivation(acts[out.ID], opts.Bits)
			l.Activation = &s
		}
		l.Flagged = l.Weights.SQNRTensorDB < opts.ThresholdDB
		if l.Flagged {
			r.Flagged++
		}
		r.Layers = append(r.Layers, l)
	}
	return r, nil
}

// branches returns the folded train-form convs of the block with the given name prefix.
func branches(folded *ir.Graph, prefix string, bits int) []Branch {
	var bs []Branch
	for _, n := range folded.Nodes {
		if n.Op != ir.Conv || n.Params == nil {
			continue
		}
		rest, ok := strings.CutPrefix(n.Name, prefix)
		if prefix != "" {
			rest, ok = strings.CutPrefix(rest, ".")
		}
		if !ok || !strings.HasPrefix(rest, "rbr_") {
			continue
		}
		name, _, _ := strings.Cut(rest, ".")
		bs = append(bs, Branch{Name: name, Stats: MeasureWeights(n.Params["weight"], bits)})
	}
	sort.SliceStable(bs, func(i, j int) bool { return branchRank(bs[i].Name) < branchRank(bs[j].Name) })
	return bs
}

func branchRank(name string) int {
	switch name {
	case "rbr_dense":
		return 0
	case "rbr_1x1":
		return 1
	}
	return 2
}

// MeasureWeights returns the statistics of a weight tensor [Cout, ...] and its quantization
// error at bits, per tensor and per output channel (dimension 0).
func MeasureWeights(t *tensor.Tensor, bits int) Stats {
	if len(t.Shape) == 0 || t.Shape[0] == 0 {
		return measure(t.F32, bits, 1, t.Len())
	}
	return measure(t.F32, bits, t.Shape[0], t.Len()/t.Shape[0])
}

// MeasureActivation returns the statistics of an activation batch [N, C, H, W] and its
// quantization error at bits, per tensor and per channel (dimension 1).
func MeasureActivation(t *tensor.Tensor, bits int) Stats {
	if len(t.Shape) != 4 {
		return measure(t.F32, bits, 1, t.Len())
	}
	return measure(t.F32, bits, t.Shape[1], t.Shape[2]*t.Shape[3])
}

// measure treats x as consecutive blocks of length block, block b belonging to channel
// b % channels.
func measure(x []float32, bits, channels, block int) Stats {
	var s Stats
	if len(x) == 0 {
		return s
	}
	s.Min, s.Max = math.Inf(1), math.Inf(-1)
	var sum, maxAbs float64
	for _, v := range x {
		f := float64(v)
		s.Min, s.Max = math.Min(s.Min, f), math.Max(s.Max, f)
		sum += f
		maxAbs = math.Max(maxAbs, math.Abs(f))
	}
	mean := sum / float64(len(x))
	var ss float64
	for _, v := range x {
		d := float64(v) - mean
		ss += d * d
	}
	s.Std = math.Sqrt(ss / float64(len(x)))
	if s.Std > 0 {
		s.MaxAbsOverSD = maxAbs / s.Std
	}
	s.SQNRTensorDB = sqnr(x, bits, 1, len(x))
	s.SQNRChanDB = sqnr(x, bits, channels, block)
	return s
}

// sqnr quantizes x in blocks of length block; block b uses the scale of channel
// b % channels.
func sqnr(x []float32, bits, channels, block int) float64 {
	qmax := float64(int(1)<<(bits-1) - 1)
	if channels < 1 || block < 1 {
		channels, block = 1, len(x)
	}
	scale := make([]float64, channels)
	for b := 0; b*block < len(x); b++ {
		c := b % channels
		for _, v := range x[b*block : (b+1)*block] {
			scale[c] = math.Max(scale[c], math.Abs(float64(v)))
		}
	}
	var sig, noise float64
	for b := 0; b*block < len(x); b++ {
		s := scale[b%channels] / qmax
		for _, v := range x[b*block : (b+1)*block] {
			f := float64(v)
			sig += f * f
			if s == 0 {
				continue
			}
			q := math.Max(-qmax, math.Min(qmax, math.RoundToEven(f/s))) * s
			noise += (f - q) * (f - q)
		}
	}
	if noise == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(sig/noise)
}
