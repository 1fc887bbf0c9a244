package sim

import (
	"errors"
	"fmt"
	"sync"

	"github.com/vggsim/vggsim/hw"
)

// Options tunes a native simulation.
type Options struct {
	// Batch is the number of images run together; 0 means 1. Conv and GEMM layers fold the
	// batch into M, so weights are fetched once per batch.
	Batch int
	// ChainResidency applies the plain-chain residency rule: layer i's output is layer i+1's
	// input, and when it fits in both the ofmap and the ifmap SRAM (whole) it stays on chip
	// (no DRAM write, no DRAM read). Without it the layers' InputsOnChip and OutputOnChip
	// flags are used as given.
	ChainResidency bool
	// VectorLanes is the elementwise operations per cycle of non-GEMM layers; 0 means the
	// array width (one lane per column of the output path).
	VectorLanes int
	// Serial disables fold pipelining: folds run one after another with SCALE-Sim's per-fold
	// cycle count (for comparison). Memory traffic is unchanged.
	Serial bool
	// Objective is what the mapper minimizes when it picks a Conv or GEMM layer's mapping
	// from its mapspace; the zero value is ObjectiveLatency.
	Objective Objective
}

// Objective is the mapper's criterion (docs/simulator.md §4.4).
type Objective int

// The objectives. Each breaks ties with the others (model.better).
const (
	ObjectiveLatency Objective = iota // fewest cycles, stalls included
	ObjectiveEnergy                   // least energy
	ObjectiveEDP                      // least energy × cycles
	ObjectiveDRAM                     // fewest DRAM bytes (the mapper of earlier versions)
)

var objectiveNames = [...]string{"latency", "energy", "edp", "dram"}

// String returns the objective's name: latency, energy, edp or dram.
func (o Objective) String() string {
	if o >= 0 && int(o) < len(objectiveNames) {
		return objectiveNames[o]
	}
	return fmt.Sprintf("Objective(%d)", int(o))
}

// ParseObjective returns the objective named s (latency, energy, edp or dram).
func ParseObjective(s string) (Objective, error) {
	for i, n := range objectiveNames {
		if s == n {
			return Objective(i), nil
		}
	}
	return 0, fmt.Errorf("objective %q: want latency, energy, edp or dram", s)
}

// LayerResult is one layer's simulated cost. Bytes are whole bytes (hw.Config.BytesPerWord
// per operand word, AccBytesPerWord per partial sum); energies in joules; utilization and
// mapping efficiency are fractions in [0, 1].
type LayerResult struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Order  string `json:"loop_order,omitempty"` // the loop order chosen for the GEMM
	M      int64  `json:"m"`                    // per-group GEMM rows (batch·output pixels)
	N      int64  `json:"n"`                    // per-group GEMM columns (filters)
	K      int64  `json:"k"`                    // per-group reduction length
	Groups int64  `json:"groups"`
	Folds  int64  `json:"folds"`

	MACs      int64 `json:"macs"`
	VectorOps int64 `json:"vector_ops"`

	Cycles        int64 `json:"cycles"`         // compute + stall
	ComputeCycles int64 `json:"compute_cycles"` // with unlimited DRAM bandwidth
	StallCycles   int64 `json:"stall_cycles"`   // waiting for DRAM

	Utilization       float64 `json:"utilization"`        // MACs / (cycles·R·C)
	MappingEfficiency float64 `json:"mapping_efficiency"` // MACs / (R·C·stream cycles)

	SRAMReadBytes       int64 `json:"sram_read_bytes"`
	SRAMWriteBytes      int64 `json:"sram_write_bytes"`
	SRAMIfmapReadBytes  int64 `json:"sram_ifmap_read_bytes"`
	SRAMFilterReadBytes int64 `json:"sram_filter_read_bytes"`
	SRAMOfmapWriteBytes int64 `json:"sram_ofmap_write_bytes"`
	AccReadBytes        int64 `json:"acc_read_bytes"`  // partial sums read back for accumulation
	AccWriteBytes       int64 `json:"acc_write_bytes"` // partial sums written

	DRAMReadBytes          int64 `json:"dram_read_bytes"`
	DRAMWriteBytes         int64 `json:"dram_write_bytes"`
	DRAMIfmapReadBytes     int64 `json:"dram_ifmap_read_bytes"`
	DRAMFilterReadBytes    int64 `json:"dram_filter_read_bytes"`
	DRAMOfmapWriteBytes    int64 `json:"dram_ofmap_write_bytes"`
	DRAMPsumReadBytes      int64 `json:"dram_psum_read_bytes"`  // partial-sum spills read back
	DRAMPsumWriteBytes     int64 `json:"dram_psum_write_bytes"` // partial-sum spills
	InputOnChip            bool  `json:"input_on_chip"`
	OutputOnChip           bool  `json:"output_on_chip"`
	UniqueIfmapBytes       int64 `json:"unique_ifmap_bytes"` // ifmap words the layer touches
	UniqueFilterBytes      int64 `json:"unique_filter_bytes"`
	UniqueOfmapBytes       int64 `json:"unique_ofmap_bytes"`
	FirstLoadBytes         int64 `json:"first_load_bytes"`         // exposed before the first fold
	LastDrainBytes         int64 `json:"last_drain_bytes"`         // exposed after the last fold
	DRAMTransferCycles     int64 `json:"dram_transfer_cycles"`     // all DRAM bytes at full bandwidth
	StreamCycles           int64 `json:"stream_cycles"`            // Σ folds' stream length
	PipelineOverheadCycles int64 `json:"pipeline_overhead_cycles"` // compute − stream (fill, drain, loads)

	EnergyMACJ     float64 `json:"energy_mac_j"`
	EnergySRAMJ    float64 `json:"energy_sram_j"`
	EnergyDRAMJ    float64 `json:"energy_dram_j"`
	EnergyLeakageJ float64 `json:"energy_leakage_j"`
	EnergyJ        float64 `json:"energy_j"`

	LatencyS float64 `json:"latency_s"`
}

// Result is a whole network's simulation: per-layer results and totals.
type Result struct {
	Hardware string        `json:"hardware"`
	Dataflow hw.Dataflow   `json:"dataflow"`
	Batch    int           `json:"batch"`
	Layers   []LayerResult `json:"layers"`
	Total    LayerResult   `json:"total"` // sums (fractions recomputed over the whole run)

	LatencyS          float64 `json:"latency_s"`
	ThroughputIPS     float64 `json:"throughput_images_per_s"`
	AchievedTOPS      float64 `json:"achieved_tops"` // 2·MACs per second, in 10^12
	PeakTOPS          float64 `json:"peak_tops"`
	EnergyJ           float64 `json:"energy_j"`
	EnergyPerImageJ   float64 `json:"energy_per_image_j"`
	Utilization       float64 `json:"utilization"`
	MappingEfficiency float64 `json:"mapping_efficiency"`
}

// Simulate runs the native analytical model (docs/simulator.md) over layers on cfg.
func Simulate(cfg *hw.Config, layers []Layer, opts Options) (*Result, error) {
	if cfg == nil {
		return nil, errors.New("sim: no hardware configuration")
	}
	if err := checkConfig(cfg); err != nil {
		return nil, err
	}
	if err := checkLayers(layers, opts); err != nil {
		return nil, err
	}
	batch := or1(opts.Batch)
	ls := layers
	if opts.ChainResidency {
		ls = applyChainResidency(cfg, layers, batch)
	}
	res := &Result{Hardware: cfg.Name, Dataflow: cfg.Dataflow, Batch: batch,
		Layers: make([]LayerResult, len(ls))}
	m := newModel(cfg, opts)
	defer m.release()
	// Networks repeat layers (RepVGG's stages, ResNet's blocks) and sweeps repeat networks: a
	// layer equal to one simulated before on the same hardware, but for its name, costs the
	// same, so results are cached (resultCache).
	ck := cacheKey{cfg: *cfg, batch: batch, serial: opts.Serial, objective: opts.Objective,
		lanes: opts.VectorLanes}
	ck.cfg.Name, ck.cfg.Description, ck.cfg.Source = "", "", ""
	for i := range ls {
		k, ok := keyOf(&ls[i])
		if !ok {
			res.Layers[i] = m.layer(&ls[i])
			continue
		}
		ck.layer = k
		if r, hit := results.get(&ck); hit {
			res.Layers[i] = r
			res.Layers[i].Name = ls[i].Name
			continue
		}
		res.Layers[i] = m.layer(&ls[i])
		results.put(&ck, &res.Layers[i])
	}
	if err := checkCycles(cfg, res.Layers, nil); err != nil {
		return nil, err
	}
	res.total(cfg)
	return res, nil
}

// ErrOverflow is wrapped by the error of Simulate (and Engine.Total) when a cycle count
// would not fit an int64: the hardware's DRAM bandwidth is far too low for its clock and the
// traffic (hw.Config's ranges keep files away from it only in part: 1 B/s at 1000 THz is
// valid), or a network's layers add up past OverflowCycles.
var ErrOverflow = errors.New("cycle count overflows")

// checkCycles reports a layer whose cycles or DRAM transfer cycles reached OverflowCycles,
// or a total that does: of layers, or of layers[of[i]] when of is not nil.
func checkCycles(cfg *hw.Config, layers []LayerResult, of []int) error {
	var sum float64
	check := func(i int) error {
		l := &layers[i]
		if l.Cycles >= OverflowCycles || l.DRAMTransferCycles >= OverflowCycles {
			d := l.DRAMReadBytes + l.DRAMWriteBytes
			return fmt.Errorf("sim: layer %d (%s): %w: %s of DRAM traffic at %s and %s take more than 2^62 cycles",
				i, l.Name, ErrOverflow, hw.FormatSize(d), hw.FormatBandwidth(cfg.DRAMBandwidth), hw.FormatFrequency(cfg.ClockHz))
		}
		sum += float64(l.Cycles)
		return nil
	}
	if of == nil {
		for i := range layers {
			if err := check(i); err != nil {
				return err
			}
		}
	} else {
		for _, i := range of {
			if err := check(i); err != nil {
				return err
			}
		}
	}
	if sum >= OverflowCycles {
		return fmt.Errorf("sim: %w: the layers take %.3g cycles in all, more than 2^62", ErrOverflow, sum)
	}
	return nil
}

// cacheKey identifies a layer simulation: the layer without its name, the hardware without
// its names, and the options that change a layer's result.
type cacheKey struct {
	layer     layerKey
	cfg       hw.Config
	batch     int
	serial    bool
	objective Objective
	lanes     int
}

// resultCache remembers layer results across Simulate calls: sweeps and repeated networks
// simulate the same (layer, hardware) pairs again and again, and the mapper's search is the
// expensive part. It is bounded: when full it starts over.
type resultCache struct {
	mu sync.RWMutex
	m  map[cacheKey]LayerResult
}

// maxCachedResults bounds resultCache.
const maxCachedResults = 1 << 15

var results = resultCache{m: map[cacheKey]LayerResult{}}

func (c *resultCache) get(k *cacheKey) (LayerResult, bool) {
	c.mu.RLock()
	r, ok := c.m[*k]
	c.mu.RUnlock()
	return r, ok
}

func (c *resultCache) put(k *cacheKey, r *LayerResult) {
	c.mu.Lock()
	if len(c.m) >= maxCachedResults {
		clear(c.m)
	}
	c.m[*k] = *r
	c.mu.Unlock()
}

// LayerKey is a Layer's shape: every field but its name and on-chip flags. Two layers with
// equal keys and the same operands on chip cost the same, which the engine's result cache
// and package memory's fusion pricing both rely on.
type LayerKey struct {
	kind                                LayerKind
	inH, inW, inC, outC, kh, kw, sh, sw int
	ph, pw, groups, rows, inputs        int
	outH, outW                          int
	bias, relu                          bool
	resident                            int64
}

// Key returns l's shape key.
func (l *Layer) Key() LayerKey {
	return LayerKey{l.Kind, l.InH, l.InW, l.InC, l.OutC, l.KH, l.KW, l.StrideH, l.StrideW,
		l.PadH, l.PadW, l.Groups, l.Rows, l.NumInputs, l.OutH, l.OutW, l.Bias, l.FusedReLU, l.ResidentBytes}
}

// layerKey is a Layer without its name, its on-chip inputs as a bit set.
type layerKey struct {
	LayerKey
	outOn bool
	inOn  uint64
}

// keyOf returns l's key, or false when its on-chip flags do not fit the bit set.
func keyOf(l *Layer) (layerKey, bool) {
	k := layerKey{LayerKey: l.Key(), outOn: l.OutputOnChip}
	if len(l.InputsOnChip) > 64 {
		return k, false
	}
	for i, on := range l.InputsOnChip {
		if on {
			k.inOn |= 1 << i
		}
	}
	return k, true
}

// checkConfig reports the problems that would make the model meaningless. hw.Config.Validate
// does the full check when the configuration is loaded.
func checkConfig(c *hw.Config) error {
	var errs []error
	if c.Rows < 1 || c.Cols < 1 {
		errs = append(errs, fmt.Errorf("sim: array %dx%d", c.Rows, c.Cols))
	}
	if !c.Dataflow.Valid() {
		errs = append(errs, fmt.Errorf("sim: unknown dataflow %q", c.Dataflow))
	}
	if c.ClockHz <= 0 {
		errs = append(errs, fmt.Errorf("sim: clock %g Hz", c.ClockHz))
	}
	if c.IfmapSRAMBytes < 0 || c.FilterSRAMBytes < 0 || c.OfmapSRAMBytes < 0 || c.AccumBytes < 0 || c.DRAMBandwidth < 0 {
		errs = append(errs, errors.New("sim: negative SRAM size or bandwidth"))
	}
	return errors.Join(errs...)
}

// applyChainResidency returns a copy of layers with the plain-chain residency rule applied.
func applyChainResidency(cfg *hw.Config, layers []Layer, batch int) []Layer {
	ls := make([]Layer, len(layers))
	copy(ls, layers)
	wb := int64(cfg.BytesPerWord())
	for i := range ls {
		ls[i].InputsOnChip = append([]bool(nil), ls[i].InputsOnChip...)
	}
	for i := 0; i+1 < len(ls); i++ {
		out := ls[i].OutElems() * int64(batch) * wb
		if out <= cfg.OfmapSRAMBytes && out <= cfg.IfmapSRAMBytes {
			ls[i].OutputOnChip = true
			ls[i].ResidentBytes = out // its output holds that much of the SRAM while it runs
			if len(ls[i+1].InputsOnChip) == 0 {
				ls[i+1].InputsOnChip = []bool{true}
			} else {
				ls[i+1].InputsOnChip[0] = true
			}
		}
	}
	return ls
}

// total sums the layers into r.Total and derives the network-wide figures.
func (r *Result) total(cfg *hw.Config) {
	for i := range r.Layers {
		r.Total.add(&r.Layers[i])
	}
	r.finish(cfg)
}

// add adds layer l's counts to the running total t.
func (t *LayerResult) add(l *LayerResult) {
	t.Folds += l.Folds
	t.MACs += l.MACs
	t.VectorOps += l.VectorOps
	t.Cycles += l.Cycles
	t.ComputeCycles += l.ComputeCycles
	t.StallCycles += l.StallCycles
	t.SRAMReadBytes += l.SRAMReadBytes
	t.SRAMWriteBytes += l.SRAMWriteBytes
	t.SRAMIfmapReadBytes += l.SRAMIfmapReadBytes
	t.SRAMFilterReadBytes += l.SRAMFilterReadBytes
	t.SRAMOfmapWriteBytes += l.SRAMOfmapWriteBytes
	t.AccReadBytes += l.AccReadBytes
	t.AccWriteBytes += l.AccWriteBytes
	t.DRAMReadBytes += l.DRAMReadBytes
	t.DRAMWriteBytes += l.DRAMWriteBytes
	t.DRAMIfmapReadBytes += l.DRAMIfmapReadBytes
	t.DRAMFilterReadBytes += l.DRAMFilterReadBytes
	t.DRAMOfmapWriteBytes += l.DRAMOfmapWriteBytes
	t.DRAMPsumReadBytes += l.DRAMPsumReadBytes
	t.DRAMPsumWriteBytes += l.DRAMPsumWriteBytes
	t.UniqueIfmapBytes += l.UniqueIfmapBytes
	t.UniqueFilterBytes += l.UniqueFilterBytes
	t.UniqueOfmapBytes += l.UniqueOfmapBytes
	t.FirstLoadBytes += l.FirstLoadBytes
	t.LastDrainBytes += l.LastDrainBytes
	t.DRAMTransferCycles += l.DRAMTransferCycles
	t.StreamCycles += l.StreamCycles
	t.PipelineOverheadCycles += l.PipelineOverheadCycles
	t.EnergyMACJ += l.EnergyMACJ
	t.EnergySRAMJ += l.EnergySRAMJ
	t.EnergyDRAMJ += l.EnergyDRAMJ
	t.EnergyLeakageJ += l.EnergyLeakageJ
	t.EnergyJ += l.EnergyJ
	t.LatencyS += l.LatencyS
}

// finish names r.Total and derives the network-wide figures from it.
func (r *Result) finish(cfg *hw.Config) {
	t := &r.Total
	t.Name, t.Kind = "total", "total"
	pes := float64(cfg.Rows * cfg.Cols)
	if t.Cycles > 0 {
		t.Utilization = float64(t.MACs) / (float64(t.Cycles) * pes)
	}
	if t.StreamCycles > 0 {
		t.MappingEfficiency = float64(t.MACs) / (float64(t.StreamCycles) * pes)
	}
	r.LatencyS = t.LatencyS
	r.EnergyJ = t.EnergyJ
	r.EnergyPerImageJ = t.EnergyJ / float64(r.Batch)
	r.Utilization = t.Utilization
	r.MappingEfficiency = t.MappingEfficiency
	r.PeakTOPS = cfg.PeakOPS() / 1e12
	if r.LatencyS > 0 {
		r.ThroughputIPS = float64(r.Batch) / r.LatencyS
		r.AchievedTOPS = 2 * float64(t.MACs) / r.LatencyS / 1e12
	}
}
