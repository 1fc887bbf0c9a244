package memory

import (
	"errors"
	"fmt"
	"github.com/vggsim/vggsim/sim"
	"math"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/reparam"
)

// Report is the memory analysis of one graph at one data width and batch. Every byte count
// is for the whole batch.
type Report struct {
	objective sim.Objective // the mapper's objective in Simulate (Options.Objective)

	Model string `json:"model"`
	Form  string `json:"form,omitempty"` // "train" or "deploy" when known (Compare sets it)
	Bits  int    `json:"bits"`
	Batch int    `json:"batch"`

	// PeakBytes is the largest working set over the schedule (Step.LiveBytes): the bytes
	// that must exist at once when each node's operands and result are all held. It is
	// the lower bound of any buffer placement under this schedule and reuse.
	PeakBytes int64  `json:"peak_activation_bytes"`
	PeakStep  int    `json:"peak_step"`
	PeakNode  string `json:"peak_node"`
	// ResidentPeakBytes is the paper-style peak (Step.ResidentBytes): the feature maps held
	// between ops, each op's result taking the place of the operands that die at it. It is
	// the quantity of the RepVGG paper's Fig. 3.
	ResidentPeakBytes int64 `json:"resident_peak_bytes"`
	// ArenaBytes is the size of the offset plan (Buffer.Offset) made by the greedy-by-size
	// planner: PeakBytes ≤ ArenaBytes ≤ BufferBytes.
	ArenaBytes int64 `json:"arena_bytes"`
	// BufferBytes is the sum of all buffer sizes (each buffer in its own memory).
	BufferBytes int64 `json:"buffer_bytes"`
	// TotalBytes is the sum of every node's result but Flatten's (a view): the memory with
	// no reuse at all, not even in place.
	TotalBytes int64 `json:"total_activation_bytes"`
	// WeightsBytes is every float parameter and BatchNorm statistic at Bits per element
	// (not multiplied by the batch).
	WeightsBytes int64 `json:"weights_bytes"`

	// MinSRAMNoSpill is the smallest on-chip activation SRAM with which no activation
	// spills: the activation traffic is then the compulsory CompulsoryBytes. It is the peak,
	// over steps, of the live buffers whose streaming through DRAM would cost traffic (a
	// graph input read by one node and the graph output are streamed for free), so it is
	// at most PeakBytes.
	MinSRAMNoSpill int64 `json:"min_sram_bytes_no_spill"`
	// CompulsoryBytes is the activation traffic with unlimited SRAM: the input read once and
	// the output written once.
	CompulsoryBytes int64 `json:"compulsory_dram_bytes"`
	// StreamBytes is the activation traffic with no activation SRAM: every op reads its
	// operands from DRAM and writes its result back (layer-by-layer execution).
	StreamBytes int64 `json:"stream_dram_bytes"`

	Steps   []Step   `json:"-"`
	Buffers []Buffer `json:"-"`

	lv    *liveness
	costs []bufCost
}

// Analyze runs the liveness analysis of g under the schedule g.Nodes (see doc.go): buffers
// with in-place reuse, working set and paper-style resident bytes per step, the arena plan,
// weights bytes, and the spill model's extremes. g needs no parameters.
func Analyze(g *ir.Graph, opts Options) (*Report, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	lv, err := analyzeLiveness(g, opts)
	if err != nil {
		return nil, err
	}
	r := &Report{Model: g.Name, Bits: opts.Bits, Batch: opts.Batch, Steps: lv.steps, Buffers: lv.buffers, lv: lv,
		objective: opts.Objective}
	for i, s := range lv.steps {
		if s.LiveBytes > r.PeakBytes {
			r.PeakBytes, r.PeakStep, r.PeakNode = s.LiveBytes, i, s.Node
		}
		r.ResidentPeakBytes = max(r.ResidentPeakBytes, s.ResidentBytes)
		if g.Nodes[i].Op != ir.Flatten {
			r.TotalBytes += s.OutBytes
		}
	}
	for _, b := range lv.buffers {
		r.BufferBytes += b.Bytes
	}
	r.ArenaBytes = planArena(lv.buffers, opts.Align)
	r.WeightsBytes = weightsBytes(g, opts.Bits)
	r.costs = lv.costs()
	r.MinSRAMNoSpill = lv.minSRAMNoSpill(r.costs)
	r.CompulsoryBytes = lv.traffic(r.costs, math.MaxInt64).Bytes()
	r.StreamBytes = lv.traffic(r.costs, 0).Bytes()
	return r, nil
}

// Traffic returns the activation DRAM traffic of one run with an on-chip activation SRAM
// of sramBytes (see doc.go, "Spill model"). It is non-increasing in sramBytes, equals
// StreamBytes at 0 and CompulsoryBytes from MinSRAMNoSpill on.
func (r *Report) Traffic(sramBytes int64) Traffic {
	return r.lv.traffic(r.costs, max(sramBytes, 0))
}

// TrafficSweep returns Traffic at each size.
func (r *Report) TrafficSweep(sizes []int64) []Traffic {
	out := make([]Traffic, len(sizes))
	for i, s := range sizes {
		out[i] = r.Traffic(s)
	}
	return out
}

// SweepSizes returns a geometric grid of SRAM sizes from lo to hi inclusive with perOctave
// points per doubling, preceded by 0 (no activation SRAM). lo is raised to 1 KiB if smaller.
func SweepSizes(lo, hi int64, perOctave int) []int64 {
	lo = max(lo, 1024)
	perOctave = max(perOctave, 1)
	sizes := []int64{0}
	if hi < lo {
		return append(sizes, lo)
	}
	step := math.Pow(2, 1/float64(perOctave))
	for x := float64(lo); ; x *= step {
		v := int64(math.Round(x))
		if v >= hi {
			break
		}
		if v > sizes[len(sizes)-1] {
			sizes = append(sizes, v)
		}
	}
	return append(sizes, hi)
}

// Comparison is the analysis of the train form and the deploy form of one network.
type Comparison struct {
	Train  *Report `json:"train"`
	Deploy *Report `json:"deploy"`
}

// Ratios is train over deploy for the headline numbers (0 where deploy is 0).
type Ratios struct {
	Peak           float64 `json:"peak_activation_bytes"`
	ResidentPeak   float64 `json:"resident_peak_bytes"`
	Arena          float64 `json:"arena_bytes"`
	Weights        float64 `json:"weights_bytes"`
	MinSRAMNoSpill float64 `json:"min_sram_bytes_no_spill"`
	Stream         float64 `json:"stream_dram_bytes"`
}

// Compare analyzes the train form and the deploy form of a network and labels the reports.
// When deploy is nil it is derived from train by reparam.Deploy (structure only).
func Compare(train, deploy *ir.Graph, opts Options) (*Comparison, error) {
	if train == nil {
		return nil, errors.New("memory: compare: no train-form graph")
	}
	if deploy == nil {
		d, err := reparam.Deploy(train, reparam.Options{})
		if err != nil {
			return nil, fmt.Errorf("memory: compare: %w", err)
		}
		deploy = d
	}
	t, err := Analyze(train, opts)
	if err != nil {
		return nil, err
	}
	d, err := Analyze(deploy, opts)
	if err != nil {
		return nil, err
	}
	t.Form, d.Form = "train", "deploy"
	return &Comparison{Train: t, Deploy: d}, nil
}

// Ratios returns train over deploy for the headline numbers.
func (c *Comparison) Ratios() Ratios {
	return Ratios{
		Peak:           ratio(c.Train.PeakBytes, c.Deploy.PeakBytes),
		ResidentPeak:   ratio(c.Train.ResidentPeakBytes, c.Deploy.ResidentPeakBytes),
		Arena:          ratio(c.Train.ArenaBytes, c.Deploy.ArenaBytes),
		Weights:        ratio(c.Train.WeightsBytes, c.Deploy.WeightsBytes),
		MinSRAMNoSpill: ratio(c.Train.MinSRAMNoSpill, c.Deploy.MinSRAMNoSpill),
		Stream:         ratio(c.Train.StreamBytes, c.Deploy.StreamBytes),
	}
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
