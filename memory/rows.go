package memory

import (
	"fmt"
	"io"
	"strconv"

	"github.com/vggsim/vggsim/internal/csvrow"
)

// This file holds the documented rows `vggsim memory` and `vggsim fusion` print as JSON and
// CSV (docs/memory.md): Row, SweepRow, FusionRow and FusionSummary. Each row type has one
// column table from which its CSV header and its CSV record both come, so the two cannot
// drift; the JSON keys are the struct tags. Byte counts are for the whole batch unless
// named per image.

// Row is one model and form of `vggsim memory --format json|csv`: the liveness summary of a
// Report and, with hardware, the simulated run with the hardware's activation SRAM (the
// pointer fields, nil without hardware and then left out of the JSON).
type Row struct {
	Model             string `json:"model"`
	Form              string `json:"form"`
	Input             [2]int `json:"input"` // H, W
	Bits              int    `json:"bits"`
	Batch             int    `json:"batch"`
	PeakBytes         int64  `json:"peak_activation_bytes"`
	ResidentPeakBytes int64  `json:"resident_peak_bytes"`
	ArenaBytes        int64  `json:"arena_bytes"`
	TotalBytes        int64  `json:"total_activation_bytes"`
	WeightsBytes      int64  `json:"weights_bytes"`
	MinSRAMNoSpill    int64  `json:"min_sram_bytes_no_spill"`
	StreamBytes       int64  `json:"stream_dram_bytes"`
	CompulsoryBytes   int64  `json:"compulsory_dram_bytes"`
	PeakNode          string `json:"peak_node"`
	Steps             int    `json:"steps"`
	Buffers           int    `json:"buffers"`

	Hardware            string   `json:"hardware,omitempty"`
	ActivationSRAMBytes *int64   `json:"activation_sram_bytes,omitempty"`
	SpilledBuffers      *int     `json:"spilled_buffers,omitempty"`
	DRAMBytesPerImage   *float64 `json:"dram_bytes_per_image,omitempty"`
	// LayerByLayerDRAMPerImage is the engine's DRAM per image with no activation SRAM: the
	// layer-by-layer run, which `vggsim fusion` reports as depth 1.
	LayerByLayerDRAMPerImage *float64 `json:"layer_by_layer_dram_bytes_per_image,omitempty"`
	ActivationDRAMBytes      *int64   `json:"activation_dram_bytes,omitempty"`
	WeightDRAMBytes          *int64   `json:"weight_dram_bytes,omitempty"`
	Cycles                   *int64   `json:"cycles,omitempty"`
	StallCycles              *int64   `json:"stall_cycles,omitempty"`
	LatencyS                 *float64 `json:"latency_s,omitempty"`
	EnergyJ                  *float64 `json:"energy_j,omitempty"`
	EnergyPerImageJ          *float64 `json:"energy_per_image_j,omitempty"`
}

// Row returns the report's row. With hardware, h is the run with the activation SRAM
// (Simulate(cfg, -1) or an explicit size) and layerByLayer the run with none
// (Simulate(cfg, 0)); both nil without hardware. Row takes the addresses of h's fields, so
// the row shares them.
func (r *Report) Row(h, layerByLayer *HWResult) Row {
	in := r.lv.g.Input().Shape
	row := Row{Model: r.Model, Form: r.Form, Input: [2]int{in.H, in.W}, Bits: r.Bits, Batch: r.Batch,
		PeakBytes: r.PeakBytes, ResidentPeakBytes: r.ResidentPeakBytes, ArenaBytes: r.ArenaBytes,
		TotalBytes: r.TotalBytes, WeightsBytes: r.WeightsBytes, MinSRAMNoSpill: r.MinSRAMNoSpill,
		StreamBytes: r.StreamBytes, CompulsoryBytes: r.CompulsoryBytes, PeakNode: r.PeakNode,
		Steps: len(r.Steps), Buffers: len(r.Buffers)}
	if h != nil {
		row.Hardware = h.Hardware
		row.ActivationSRAMBytes = &h.ActivationSRAMBytes
		row.SpilledBuffers = &h.Residency.SpilledBuffers
		row.DRAMBytesPerImage = &h.DRAMBytesPerImage
		if layerByLayer != nil {
			row.LayerByLayerDRAMPerImage = &layerByLayer.DRAMBytesPerImage
		}
		row.ActivationDRAMBytes = &h.ActivationDRAMBytes
		row.WeightDRAMBytes = &h.WeightDRAMBytes
		row.Cycles = &h.Cycles
		row.StallCycles = &h.StallCycles
		row.LatencyS = &h.LatencyS
		row.EnergyJ = &h.EnergyJ
		row.EnergyPerImageJ = &h.EnergyPerImageJ
	}
	return row
}

// rowColumns are the CSV columns of Row: the headline numbers; the hardware columns are
// empty without hardware.
var rowColumns = []csvrow.Column[Row]{
	csvrow.Col("model", func(r *Row) string { return r.Model }),
	csvrow.Col("form", func(r *Row) string { return r.Form }),
	csvrow.Col("input", func(r *Row) string { return fmt.Sprintf("%dx%d", r.Input[0], r.Input[1]) }),
	csvrow.Col("bits", func(r *Row) string { return csvrow.Int(r.Bits) }),
	csvrow.Col("batch", func(r *Row) string { return csvrow.Int(r.Batch) }),
	csvrow.Col("peak_activation_bytes", func(r *Row) string { return csvrow.Int(r.PeakBytes) }),
	csvrow.Col("resident_peak_bytes", func(r *Row) string { return csvrow.Int(r.ResidentPeakBytes) }),
	csvrow.Col("arena_bytes", func(r *Row) string { return csvrow.Int(r.ArenaBytes) }),
	csvrow.Col("total_activation_bytes", func(r *Row) string { return csvrow.Int(r.TotalBytes) }),
	csvrow.Col("weights_bytes", func(r *Row) string { return csvrow.Int(r.WeightsBytes) }),
	csvrow.Col("min_sram_bytes_no_spill", func(r *Row) string { return csvrow.Int(r.MinSRAMNoSpill) }),
	csvrow.Col("stream_dram_bytes", func(r *Row) string { return csvrow.Int(r.StreamBytes) }),
	csvrow.Col("compulsory_dram_bytes", func(r *Row) string { return csvrow.Int(r.CompulsoryBytes) }),
	csvrow.Col("hardware", func(r *Row) string { return r.Hardware }),
	csvrow.Col("activation_sram_bytes", func(r *Row) string { return csvrow.OptInt(r.ActivationSRAMBytes) }),
	csvrow.Col("dram_bytes_per_image", func(r *Row) string { return csvrow.OptFloat(r.DRAMBytesPerImage, 'f') }),
	csvrow.Col("cycles", func(r *Row) string { return csvrow.OptInt(r.Cycles) }),
	csvrow.Col("energy_j", func(r *Row) string { return csvrow.OptFloat(r.EnergyJ, 'g') }),
	csvrow.Col("layer_by_layer_dram_bytes_per_image", func(r *Row) string { return csvrow.OptFloat(r.LayerByLayerDRAMPerImage, 'f') }),
}

// RowCSVHeader returns the CSV header of `vggsim memory --format csv`, one name per
// Row.CSVRecord cell.
func RowCSVHeader() []string { return csvrow.Header(rowColumns) }

// CSVRecord returns the row's CSV cells in RowCSVHeader's order.
func (r *Row) CSVRecord() []string { return csvrow.Record(rowColumns, r) }

// WriteRowsCSV writes rows as CSV with RowCSVHeader's header: `vggsim memory --format csv`.
func WriteRowsCSV(w io.Writer, rows []Row) error { return csvrow.Write(w, rowColumns, rows) }

// SweepRow is one point of `vggsim memory --sweep --format json|csv`: a form's activation
// DRAM traffic in the spill model at one on-chip activation SRAM size and, with hardware,
// the simulator's whole DRAM traffic per image at that size.
type SweepRow struct {
	Model             string   `json:"model"`
	Form              string   `json:"form"`
	SRAMBytes         int64    `json:"sram_bytes"`
	DRAMBytes         int64    `json:"dram_bytes"`
	DRAMBytesPerImage float64  `json:"dram_bytes_per_image"`
	SpilledBuffers    int      `json:"spilled_buffers"`
	SimDRAMPerImage   *float64 `json:"sim_dram_bytes_per_image,omitempty"`
}

// SweepRows returns the rows of series[k], the sweep of reps[k] (Report.Sweep), report by
// report and size by size.
func SweepRows(reps []*Report, series []TrafficSeries) []SweepRow {
	var rows []SweepRow
	for k, r := range reps {
		s := series[k]
		for i, t := range s.Points {
			row := SweepRow{Model: r.Model, Form: r.Form, SRAMBytes: t.SRAMBytes, DRAMBytes: t.Bytes(),
				DRAMBytesPerImage: float64(t.Bytes()) / float64(r.Batch), SpilledBuffers: t.SpilledBuffers}
			if s.Engine != nil {
				perImage := float64(s.Engine[i]) / float64(r.Batch)
				row.SimDRAMPerImage = &perImage
			}
			rows = append(rows, row)
		}
	}
	return rows
}

var sweepColumns = []csvrow.Column[SweepRow]{
	csvrow.Col("model", func(r *SweepRow) string { return r.Model }),
	csvrow.Col("form", func(r *SweepRow) string { return r.Form }),
	csvrow.Col("sram_bytes", func(r *SweepRow) string { return csvrow.Int(r.SRAMBytes) }),
	csvrow.Col("dram_bytes", func(r *SweepRow) string { return csvrow.Int(r.DRAMBytes) }),
	csvrow.Col("dram_bytes_per_image", func(r *SweepRow) string { return csvrow.Float(r.DRAMBytesPerImage, 'f') }),
	csvrow.Col("spilled_buffers", func(r *SweepRow) string { return csvrow.Int(r.SpilledBuffers) }),
	csvrow.Col("sim_dram_bytes_per_image", func(r *SweepRow) string { return csvrow.OptFloat(r.SimDRAMPerImage, 'f') }),
}

// SweepCSVHeader returns the CSV header of `vggsim memory --sweep --format csv`.
func SweepCSVHeader() []string { return csvrow.Header(sweepColumns) }

// CSVRecord returns the row's CSV cells in SweepCSVHeader's order.
func (r *SweepRow) CSVRecord() []string { return csvrow.Record(sweepColumns, r) }

// WriteSweepCSV writes rows as CSV with SweepCSVHeader's header.
func WriteSweepCSV(w io.Writer, rows []SweepRow) error { return csvrow.Write(w, sweepColumns, rows) }

// FusionRow is one plan of `vggsim fusion --format json|csv` (FusionSummary.Plans).
type FusionRow struct {
	Model                  string  `json:"model"`
	Form                   string  `json:"form"`
	Plan                   string  `json:"plan"` // "depth-K", "layer-by-layer", "best" or "cache"
	Depth                  int     `json:"depth"`
	DRAMBytesPerImage      float64 `json:"dram_bytes_per_image"` // the simulator's
	DRAMBytes              int64   `json:"dram_bytes"`
	SavedBytes             int64   `json:"saved_bytes"` // against layer by layer, the simulator's
	ModelDRAMBytesPerImage float64 `json:"model_dram_bytes_per_image"`
	ModelDRAMBytes         int64   `json:"model_dram_bytes"`
	LineBufferBytes        int64   `json:"line_buffer_bytes"`
	SRAMBytes              int64   `json:"sram_bytes"`
	MinSRAMBytes           int64   `json:"min_sram_bytes"`
	Fits                   bool    `json:"fits"`
	Segments               int     `json:"segments"`
	Cycles                 int64   `json:"cycles"`
	EnergyJ                float64 `json:"energy_j"`
}

// fusionColumns are FusionRow's CSV columns: all but the whole-batch dram_bytes and
// model_dram_bytes.
var fusionColumns = []csvrow.Column[FusionRow]{
	csvrow.Col("model", func(r *FusionRow) string { return r.Model }),
	csvrow.Col("form", func(r *FusionRow) string { return r.Form }),
	csvrow.Col("plan", func(r *FusionRow) string { return r.Plan }),
	csvrow.Col("depth", func(r *FusionRow) string { return csvrow.Int(r.Depth) }),
	csvrow.Col("dram_bytes_per_image", func(r *FusionRow) string { return csvrow.Float(r.DRAMBytesPerImage, 'f') }),
	csvrow.Col("saved_bytes", func(r *FusionRow) string { return csvrow.Int(r.SavedBytes) }),
	csvrow.Col("model_dram_bytes_per_image", func(r *FusionRow) string { return csvrow.Float(r.ModelDRAMBytesPerImage, 'f') }),
	csvrow.Col("line_buffer_bytes", func(r *FusionRow) string { return csvrow.Int(r.LineBufferBytes) }),
	csvrow.Col("sram_bytes", func(r *FusionRow) string { return csvrow.Int(r.SRAMBytes) }),
	csvrow.Col("min_sram_bytes", func(r *FusionRow) string { return csvrow.Int(r.MinSRAMBytes) }),
	csvrow.Col("fits", func(r *FusionRow) string { return strconv.FormatBool(r.Fits) }),
	csvrow.Col("segments", func(r *FusionRow) string { return csvrow.Int(r.Segments) }),
	csvrow.Col("cycles", func(r *FusionRow) string { return csvrow.Int(r.Cycles) }),
	csvrow.Col("energy_j", func(r *FusionRow) string { return csvrow.Float(r.EnergyJ, 'g') }),
}

// FusionCSVHeader returns the CSV header of `vggsim fusion --format csv`.
func FusionCSVHeader() []string { return csvrow.Header(fusionColumns) }

// CSVRecord returns the row's CSV cells in FusionCSVHeader's order.
func (r *FusionRow) CSVRecord() []string { return csvrow.Record(fusionColumns, r) }

// WriteFusionCSV writes the plans of every summary, in order, as CSV with FusionCSVHeader's
// header: `vggsim fusion --format csv`.
func WriteFusionCSV(w io.Writer, sums []*FusionSummary) error {
	var rows []FusionRow
	for _, s := range sums {
		rows = append(rows, s.Plans...)
	}
	return csvrow.Write(w, fusionColumns, rows)
}

// FusionSummary is one model of `vggsim fusion --format json`: the fusion report's setting,
// one FusionRow per plan, the best plan's segments and the chains.
type FusionSummary struct {
	Model      string        `json:"model"`
	Form       string        `json:"form"`
	Input      [2]int        `json:"input"` // H, W
	Hardware   string        `json:"hardware"`
	Bits       int           `json:"bits"`
	Batch      int           `json:"batch"`
	SRAMBytes  int64         `json:"sram_bytes"`
	FloorBytes int64         `json:"floor_dram_bytes"`
	Plans      []FusionRow   `json:"plans"`
	Best       []Segment     `json:"best_segments"`
	Chains     []FusionChain `json:"chains"`
}

// Summary returns the report's summary, its rows labelled with form ("deploy" or "train").
// The plans are, in order: layer by layer when fromDepth > 1, the uniform depths fromDepth
// and up (Depths[fromDepth-1:]), the best mix, and the activation cache at SRAMBytes.
// SavedBytes is against layer by layer.
func (fr *FusionReport) Summary(form string, fromDepth int) *FusionSummary {
	in := fr.report.lv.g.Input().Shape
	s := &FusionSummary{Model: fr.Model, Form: form, Input: [2]int{in.H, in.W}, Hardware: fr.Hardware,
		Bits: fr.Bits, Batch: fr.Batch, SRAMBytes: fr.SRAMBytes, Chains: fr.Chains, Best: fr.Best.Segments,
		FloorBytes: fr.FloorBytes}
	lbl := fr.LayerByLayer.DRAMBytes
	perImage := func(b int64) float64 { return float64(b) / float64(fr.Batch) }
	row := func(name string, p FusionPlan) FusionRow {
		var lb int64
		for _, s := range p.Segments {
			lb = max(lb, s.LineBufferBytes)
		}
		return FusionRow{Model: fr.Model, Form: form, Plan: name, Depth: p.Depth,
			DRAMBytesPerImage: perImage(p.DRAMBytes), DRAMBytes: p.DRAMBytes, SavedBytes: lbl - p.DRAMBytes,
			ModelDRAMBytesPerImage: perImage(p.ModelDRAMBytes), ModelDRAMBytes: p.ModelDRAMBytes,
			LineBufferBytes: lb, SRAMBytes: p.SRAMBytes, MinSRAMBytes: p.MinSRAMBytes,
			Fits: p.Fits, Segments: len(p.Segments), Cycles: p.Cost.Cycles, EnergyJ: p.Cost.EnergyJ}
	}
	if fromDepth > 1 {
		s.Plans = append(s.Plans, row("layer-by-layer", fr.LayerByLayer))
	}
	for _, p := range fr.Depths[max(fromDepth, 1)-1:] {
		s.Plans = append(s.Plans, row(fmt.Sprintf("depth-%d", p.Depth), p))
	}
	s.Plans = append(s.Plans, row("best", fr.Best))
	c := fr.Cache
	s.Plans = append(s.Plans, FusionRow{Model: fr.Model, Form: form, Plan: "cache",
		DRAMBytesPerImage: perImage(c.DRAMBytes), DRAMBytes: c.DRAMBytes, SavedBytes: lbl - c.DRAMBytes,
		ModelDRAMBytesPerImage: perImage(c.ModelDRAMBytes), ModelDRAMBytes: c.ModelDRAMBytes,
		SRAMBytes: fr.SRAMBytes, Fits: true, Cycles: c.Cost.Cycles, EnergyJ: c.Cost.EnergyJ})
	return s
}
