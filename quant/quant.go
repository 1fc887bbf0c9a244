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
// quantization is exact (above 200 dB: exact but for float64 rounding). A layer is flagged
// when the per-tensor SQNR of its weights, or of its activations when measured, is below the
// threshold: those are the layers a per-tensor int8 deployment loses accuracy in.
//
// Fusion widens ranges: the fused kernel spans (max − min) more than any of its BN-folded
// branches, and its few large taps (the identity's gamma/std at the kernel centre) set the
// per-tensor scale for the many small ones. Per fused layer the report gives the range
// widening, fused span over the widest branch span, and the SQNR loss, the worst branch's
// per-tensor SQNR minus the fused kernel's: the dB that quantizing after fusion costs
// compared with quantizing every branch on its own.
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
	ThresholdDB float64 // flag layers whose per-tensor weight or activation SQNR is below this; 0 means 30 dB
	// Progress, when not nil, is told the stage ("fusing", "running the batch",
	// "measuring layers") and, per layer measured, done of total.
	Progress func(stage string, done, total int)
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
	Branches   []Branch `json:"branches,omitempty"`       // dense, 1x1, identity (fused layers only)
	Widening   float64  `json:"range_widening,omitempty"` // fused (max−min) / widest branch (max−min)
	SQNRLossDB float64  `json:"sqnr_loss_db,omitempty"`   // worst branch per-tensor SQNR − fused per-tensor SQNR
	Activation *Stats   `json:"activation,omitempty"`     // the layer's output after its ReLU, if an input was given
	Flagged    bool     `json:"flagged"`
	FlaggedBy  []string `json:"flagged_by,omitempty"` // "weights", "activation": whose per-tensor SQNR is low
}

// Report is the whole int8-risk report.
type Report struct {
	Model       string  `json:"model"`
	Bits        int     `json:"bits"`
	ThresholdDB float64 `json:"threshold_db"`
	Layers      []Layer `json:"layers"`
	Flagged     int     `json:"flagged_layers"`
}

// Analyze reports on train, a train-form graph with bound parameters (a deploy-form graph
// works too; its layers have no branches). If x is not nil (an [N, C, H, W] batch), the
// activations of the deploy form on x are measured too.
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
	report := func(stage string, done, total int) {
		if opts.Progress != nil {
			opts.Progress(stage, done, total)
		}
	}
	report("fusing", 0, 0)
	deploy, err := reparam.Deploy(train, reparam.Options{})
	if err != nil {
		return nil, err
	}
	folded, err := reparam.Deploy(train, reparam.Options{StopAfter: "fold-bn"})
	if err != nil {
		return nil, err
	}
	for _, n := range deploy.Nodes {
		if (n.Op == ir.Conv || n.Op == ir.Linear) && n.Params == nil {
			return nil, fmt.Errorf("%s has no parameters; quantization needs weights", n.Name)
		}
	}
	var acts []*tensor.Tensor
	if x != nil {
		report("running the batch", 0, 0)
		if acts, err = interp.RunAll(deploy, x); err != nil {
			return nil, err
		}
	}
	users := deploy.Users()
	byBlock := branchConvs(folded)
	r := &Report{Model: train.Name, Bits: opts.Bits, ThresholdDB: opts.ThresholdDB}
	total := 0
	for _, n := range deploy.Nodes {
		if n.Op == ir.Conv || n.Op == ir.Linear {
			total++
		}
	}
	for _, n := range deploy.Nodes {
		if n.Op != ir.Conv && n.Op != ir.Linear {
			continue
		}
		report("measuring layers", len(r.Layers), total)
		l := Layer{Name: n.Name, Weights: MeasureWeights(n.Params["weight"], opts.Bits)}
		if block, ok := blockOf(n.Name); ok && block.branch == "rbr_reparam" {
			widest, worst := 0.0, math.Inf(1)
			for _, c := range byBlock[block.prefix] {
				st := MeasureWeights(c.Params["weight"], opts.Bits)
				l.Branches = append(l.Branches, Branch{Name: blockBranch(c.Name), Stats: st})
				widest = math.Max(widest, st.Max-st.Min)
				worst = math.Min(worst, st.SQNRTensorDB)
			}
			sort.SliceStable(l.Branches, func(i, j int) bool { return branchRank(l.Branches[i].Name) < branchRank(l.Branches[j].Name) })
			if widest > 0 {
				l.Widening = (l.Weights.Max - l.Weights.Min) / widest
			}
			if !math.IsInf(worst, 0) && !math.IsInf(l.Weights.SQNRTensorDB, 0) {
				l.SQNRLossDB = worst - l.Weights.SQNRTensorDB
			}
		}
		if l.Weights.SQNRTensorDB < opts.ThresholdDB {
			l.FlaggedBy = append(l.FlaggedBy, "weights")
		}
		if acts != nil {
			out := n.Out
			if u := users[out.ID]; len(u) == 1 && u[0].Op == ir.ReLU {
				out = u[0].Out
			}
			s := MeasureActivation(acts[out.ID], opts.Bits)
			l.Activation = &s
			if s.SQNRTensorDB < opts.ThresholdDB {
				l.FlaggedBy = append(l.FlaggedBy, "activation")
			}
		}
		l.Flagged = len(l.FlaggedBy) > 0
		if l.Flagged {
			r.Flagged++
		}
		r.Layers = append(r.Layers, l)
	}
	report("measuring layers", total, total)
	return r, nil
}

// blockName is a node name split at its RepVGG branch: the block prefix and the branch.
type blockName struct{ prefix, branch string }

// blockOf splits a node name "stage1.0.rbr_dense.conv" into the block prefix "stage1.0" and
// the branch "rbr_dense"; "rbr_reparam" (a single-block graph) has prefix "". It returns
// false for a name with no "rbr_" part.
func blockOf(name string) (blockName, bool) {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		if strings.HasPrefix(p, "rbr_") {
			return blockName{strings.Join(parts[:i], "."), p}, true
		}
	}
	return blockName{}, false
}

// blockBranch returns the branch part of a node name ("rbr_dense"), or "".
func blockBranch(name string) string {
	b, _ := blockOf(name)
	return b.branch
}

// branchConvs indexes the BN-folded branch convs of the graph after fold-bn by block
// prefix, in one pass over the nodes.
func branchConvs(folded *ir.Graph) map[string][]*ir.Node {
	m := map[string][]*ir.Node{}
	for _, n := range folded.Nodes {
		if n.Op != ir.Conv || n.Params == nil {
			continue
		}
		if b, ok := blockOf(n.Name); ok && b.branch != "rbr_reparam" {
			m[b.prefix] = append(m[b.prefix], n)
		}
	}
	return m
}

// branchRank orders branches as the reference lists them: dense, 1x1, identity.
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
	if noise == 0 || sig > 1e20*noise {
		return math.Inf(1) // exact up to float64 rounding of x/s·s
	}
	return 10 * math.Log10(sig/noise)
}
