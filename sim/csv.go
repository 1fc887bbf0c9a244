package sim

import (
	"io"
	"strconv"

	"github.com/vggsim/vggsim/internal/csvrow"
)

// layerColumns are the per-layer CSV columns of `vggsim simulate --format csv`
// (docs/simulator.md), units in the names. The total row's empty name prints as "total".
var layerColumns = []csvrow.Column[LayerResult]{
	csvrow.Col("layer", func(l *LayerResult) string {
		if l.Name == "" {
			return "total"
		}
		return l.Name
	}),
	csvrow.Col("kind", func(l *LayerResult) string { return l.Kind }),
	csvrow.Col("m", func(l *LayerResult) string { return csvrow.Int(l.M) }),
	csvrow.Col("n", func(l *LayerResult) string { return csvrow.Int(l.N) }),
	csvrow.Col("k", func(l *LayerResult) string { return csvrow.Int(l.K) }),
	csvrow.Col("groups", func(l *LayerResult) string { return csvrow.Int(l.Groups) }),
	csvrow.Col("folds", func(l *LayerResult) string { return csvrow.Int(l.Folds) }),
	csvrow.Col("macs", func(l *LayerResult) string { return csvrow.Int(l.MACs) }),
	csvrow.Col("cycles", func(l *LayerResult) string { return csvrow.Int(l.Cycles) }),
	csvrow.Col("compute_cycles", func(l *LayerResult) string { return csvrow.Int(l.ComputeCycles) }),
	csvrow.Col("stall_cycles", func(l *LayerResult) string { return csvrow.Int(l.StallCycles) }),
	csvrow.Col("utilization", func(l *LayerResult) string { return csvrow.Float(l.Utilization, 'g') }),
	csvrow.Col("mapping_efficiency", func(l *LayerResult) string { return csvrow.Float(l.MappingEfficiency, 'g') }),
	csvrow.Col("sram_read_bytes", func(l *LayerResult) string { return csvrow.Int(l.SRAMReadBytes) }),
	csvrow.Col("sram_write_bytes", func(l *LayerResult) string { return csvrow.Int(l.SRAMWriteBytes) }),
	csvrow.Col("dram_ifmap_read_bytes", func(l *LayerResult) string { return csvrow.Int(l.DRAMIfmapReadBytes) }),
	csvrow.Col("dram_filter_read_bytes", func(l *LayerResult) string { return csvrow.Int(l.DRAMFilterReadBytes) }),
	csvrow.Col("dram_ofmap_write_bytes", func(l *LayerResult) string { return csvrow.Int(l.DRAMOfmapWriteBytes) }),
	csvrow.Col("dram_psum_read_bytes", func(l *LayerResult) string { return csvrow.Int(l.DRAMPsumReadBytes) }),
	csvrow.Col("dram_psum_write_bytes", func(l *LayerResult) string { return csvrow.Int(l.DRAMPsumWriteBytes) }),
	csvrow.Col("input_on_chip", func(l *LayerResult) string { return strconv.FormatBool(l.InputOnChip) }),
	csvrow.Col("output_on_chip", func(l *LayerResult) string { return strconv.FormatBool(l.OutputOnChip) }),
	csvrow.Col("energy_j", func(l *LayerResult) string { return csvrow.Float(l.EnergyJ, 'g') }),
	csvrow.Col("latency_s", func(l *LayerResult) string { return csvrow.Float(l.LatencyS, 'g') }),
}

// CSVHeader returns the per-layer CSV columns of Result.WriteCSV (`vggsim simulate
// --format csv`), units in the names: one name per LayerResult.CSVRecord cell.
func CSVHeader() []string { return csvrow.Header(layerColumns) }

// CSVRecord returns the layer's cells in CSVHeader's order; a layer without a name (the
// total) is called "total".
func (l *LayerResult) CSVRecord() []string { return csvrow.Record(layerColumns, l) }

// WriteCSV writes the result as CSV: CSVHeader, one row per layer and a final "total" row.
func (r *Result) WriteCSV(w io.Writer) error {
	return csvrow.Write(w, layerColumns, append(r.Layers[:len(r.Layers):len(r.Layers)], r.Total))
}
