package sim

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/vggsim/vggsim/hw"
)

// ScaleSimConfig is SCALE-Sim's run configuration: the [general], [architecture_presets] and
// [run_presets] sections of its .cfg file. Sizes are in kB (1024 bytes) as SCALE-Sim reads
// them; a word is one byte.
type ScaleSimConfig struct {
	RunName      string      // [general] run_name
	ArrayHeight  int         // R, rows of the systolic array
	ArrayWidth   int         // C, columns of the systolic array
	IfmapSRAMkB  int         // IfmapSramSzkB
	FilterSRAMkB int         // FilterSramSzkB
	OfmapSRAMkB  int         // OfmapSramSzkB
	IfmapOffset  int64       // IfmapOffset (address offset; does not change any count)
	FilterOffset int64       // FilterOffset
	OfmapOffset  int64       // OfmapOffset
	Dataflow     hw.Dataflow // os, ws or is
	Bandwidth    []int       // Bandwidth, words per cycle per bank (USER mode only)
	MemoryBanks  int         // MemoryBanks (informational)
	// InterfaceBandwidth is "CALC" (DRAM bandwidth is an output, no stalls) or "USER" (each
	// operand's DRAM port moves Bandwidth[0] words per cycle and the array stalls for it).
	InterfaceBandwidth string
}

// ScaleSimLayer is one row of a SCALE-Sim topology file, in its convolution form. A GEMM row
// `M, N, K` is the convolution GEMMLayer returns.
type ScaleSimLayer struct {
	Name       string
	IfmapH     int // IFMAP Height (already padded: SCALE-Sim has no padding)
	IfmapW     int // IFMAP Width
	FilterH    int // Filter Height
	FilterW    int // Filter Width
	Channels   int // Channels
	NumFilters int // Num Filter
	StrideH    int // Strides (rows)
	StrideW    int // column stride; SCALE-Sim copies StrideH when the CSV gives one stride
}

// GEMMLayer returns the convolution SCALE-Sim runs for a GEMM topology row `name, M, N, K`:
// an M×K ifmap with one channel, a 1×K filter and N filters, stride 1. Its ofmap is M×1 per
// filter, its window K, so the operand matrices are exactly M×K and K×N.
func GEMMLayer(name string, m, n, k int) ScaleSimLayer {
	return ScaleSimLayer{Name: name, IfmapH: m, IfmapW: k, FilterH: 1, FilterW: k,
		Channels: 1, NumFilters: n, StrideH: 1, StrideW: 1}
}

// OfmapDims returns SCALE-Sim's output size ceil((H-F+S)/S) × ceil((W-F+S)/S).
func (l ScaleSimLayer) OfmapDims() (eh, ew int) {
	return (l.IfmapH - l.FilterH + 2*l.StrideH - 1) / l.StrideH,
		(l.IfmapW - l.FilterW + 2*l.StrideW - 1) / l.StrideW
}

// GEMM returns the layer's GEMM view: M = output pixels, N = filters, K = window size.
func (l ScaleSimLayer) GEMM() (m, n, k int) {
	eh, ew := l.OfmapDims()
	return eh * ew, l.NumFilters, l.FilterH * l.FilterW * l.Channels
}

// ScaleSimAccess is one operand's access summary in DETAILED_ACCESS_REPORT.csv: the first and
// last cycle with an access and the number of words.
type ScaleSimAccess struct {
	StartCycle int64 `json:"start_cycle"`
	StopCycle  int64 `json:"stop_cycle"`
	Count      int64 `json:"count"`
}

// ScaleSimReport is one layer's row in SCALE-Sim's three reports (COMPUTE_REPORT.csv,
// DETAILED_ACCESS_REPORT.csv, BANDWIDTH_REPORT.csv). Counts are in words (bytes); bandwidths
// in words per cycle; percentages in percent.
type ScaleSimReport struct {
	LayerID int    `json:"layer_id"`
	Name    string `json:"name"`
	M       int64  `json:"m"`
	N       int64  `json:"n"`
	K       int64  `json:"k"`
	MACs    int64  `json:"macs"`
	Folds   int64  `json:"folds"`

	TotalCycles          int64   `json:"total_cycles"`
	StallCycles          int64   `json:"stall_cycles"`
	OverallUtilPct       float64 `json:"overall_util_pct"`
	MappingEfficiencyPct float64 `json:"mapping_efficiency_pct"`
	ComputeUtilPct       float64 `json:"compute_util_pct"`

	IfmapSRAM  ScaleSimAccess `json:"sram_ifmap_reads"`
	FilterSRAM ScaleSimAccess `json:"sram_filter_reads"`
	OfmapSRAM  ScaleSimAccess `json:"sram_ofmap_writes"`
	IfmapDRAM  ScaleSimAccess `json:"dram_ifmap_reads"`
	FilterDRAM ScaleSimAccess `json:"dram_filter_reads"`
	OfmapDRAM  ScaleSimAccess `json:"dram_ofmap_writes"`

	AvgIfmapSRAMBW  float64 `json:"avg_ifmap_sram_bw_words_per_cycle"`
	AvgFilterSRAMBW float64 `json:"avg_filter_sram_bw_words_per_cycle"`
	AvgOfmapSRAMBW  float64 `json:"avg_ofmap_sram_bw_words_per_cycle"`
	AvgIfmapDRAMBW  float64 `json:"avg_ifmap_dram_bw_words_per_cycle"`
	AvgFilterDRAMBW float64 `json:"avg_filter_dram_bw_words_per_cycle"`
	AvgOfmapDRAMBW  float64 `json:"avg_ofmap_dram_bw_words_per_cycle"`
}

// Validate reports every problem with c that would stop the compatibility engine, joined.
func (c *ScaleSimConfig) Validate() error {
	var errs []error
	if c.ArrayHeight < 1 {
		errs = append(errs, fmt.Errorf("ArrayHeight must be at least 1, got %d", c.ArrayHeight))
	}
	if c.ArrayWidth < 1 {
		errs = append(errs, fmt.Errorf("ArrayWidth must be at least 1, got %d", c.ArrayWidth))
	}
	for _, s := range []struct {
		name string
		v    int
	}{{"IfmapSramSzkB", c.IfmapSRAMkB}, {"FilterSramSzkB", c.FilterSRAMkB}, {"OfmapSramSzkB", c.OfmapSRAMkB}} {
		if s.v < 1 {
			errs = append(errs, fmt.Errorf("%s must be at least 1, got %d", s.name, s.v))
		}
	}
	if !c.Dataflow.Valid() {
		errs = append(errs, fmt.Errorf("key Dataflow must be os, ws or is, got %q", string(c.Dataflow)))
	}
	switch strings.ToUpper(c.InterfaceBandwidth) {
	case "", "CALC":
	case "USER":
		if len(c.Bandwidth) == 0 || c.Bandwidth[0] < 1 {
			errs = append(errs, errors.New("InterfaceBandwidth USER needs Bandwidth: a positive number of words per cycle"))
		}
	default:
		errs = append(errs, fmt.Errorf("key InterfaceBandwidth must be CALC or USER, got %q", c.InterfaceBandwidth))
	}
	return errors.Join(errs...)
}

// Validate reports every problem with l, joined.
func (l *ScaleSimLayer) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{{"IFMAP Height", l.IfmapH}, {"IFMAP Width", l.IfmapW}, {"Filter Height", l.FilterH},
		{"Filter Width", l.FilterW}, {"Channels", l.Channels}, {"Num Filter", l.NumFilters},
		{"Strides", l.StrideH}, {"column stride", l.StrideW}} {
		if f.v < 1 {
			errs = append(errs, fmt.Errorf("%s must be at least 1, got %d", f.name, f.v))
		}
	}
	if len(errs) == 0 {
		if l.FilterH > l.IfmapH {
			errs = append(errs, fmt.Errorf("filter height %d is larger than the IFMAP height %d", l.FilterH, l.IfmapH))
		}
		if l.FilterW > l.IfmapW {
			errs = append(errs, fmt.Errorf("filter width %d is larger than the IFMAP width %d", l.FilterW, l.IfmapW))
		}
	}
	if len(errs) == 0 {
		m, n, k := l.GEMM()
		const limit = 1 << 31
		if int64(m)*int64(k) >= limit || int64(k)*int64(n) >= limit || int64(l.IfmapH)*int64(l.IfmapW)*int64(l.Channels) >= limit {
			errs = append(errs, errors.New("layer too large: operand matrices must have fewer than 2^31 elements"))
		}
	}
	return errors.Join(errs...)
}

// SimulateScaleSim runs SCALE-Sim v2's model (CALC bandwidth mode) over layers and returns one
// report per layer whose every field equals what SCALE-Sim v2.0.2 prints: cycles, utilizations,
// SRAM and DRAM access counts with their start and stop cycles, and average bandwidths. The
// DRAM counts come from an exact emulation of SCALE-Sim's read-buffer set tracking and of its
// write buffer, run on the demand streams without materializing them. Layers are simulated
// in parallel; each starts with cold buffers, as in SCALE-Sim.
func SimulateScaleSim(cfg ScaleSimConfig, layers []ScaleSimLayer) ([]ScaleSimReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("scalesim config: %w", err)
	}
	var errs []error
	for i := range layers {
		if err := layers[i].Validate(); err != nil {
			errs = append(errs, fmt.Errorf("layer %d (%s): %w", i, layers[i].Name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make([]ScaleSimReport, len(layers))
	workers := min(runtime.GOMAXPROCS(0), len(layers))
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			var scr ssScratch
			for i := range next {
				out[i] = simulateScaleSimLayer(&cfg, i, &layers[i], &scr)
			}
		})
	}
	for i := range layers {
		next <- i
	}
	close(next)
	wg.Wait()
	return out, nil
}

// SimulateScaleSimLayer runs one layer; see SimulateScaleSim.
func SimulateScaleSimLayer(cfg ScaleSimConfig, id int, layer ScaleSimLayer) (ScaleSimReport, error) {
	if err := cfg.Validate(); err != nil {
		return ScaleSimReport{}, fmt.Errorf("scalesim config: %w", err)
	}
	if err := layer.Validate(); err != nil {
		return ScaleSimReport{}, fmt.Errorf("layer %d (%s): %w", id, layer.Name, err)
	}
	return simulateScaleSimLayer(&cfg, id, &layer, &ssScratch{}), nil
}

// user reports whether c runs SCALE-Sim's USER bandwidth mode.
func (c *ScaleSimConfig) user() bool { return strings.EqualFold(c.InterfaceBandwidth, "USER") }
