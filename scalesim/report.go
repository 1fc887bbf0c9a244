package scalesim

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vggsim/vggsim/internal/atomicfile"
	"github.com/vggsim/vggsim/sim"
)

// Report file names SCALE-Sim writes into its run directory.
const (
	ComputeReportFile   = "COMPUTE_REPORT.csv"
	DetailedReportFile  = "DETAILED_ACCESS_REPORT.csv"
	BandwidthReportFile = "BANDWIDTH_REPORT.csv"
)

// The report headers, byte for byte as SCALE-Sim v2.0.2 writes them.
const (
	computeHeader   = "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,"
	bandwidthHeader = "LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, " +
		"Avg IFMAP DRAM BW, Avg FILTER DRAM BW, Avg OFMAP DRAM BW,"
	detailedHeader = "LayerID, " +
		"SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, " +
		"SRAM Filter Start Cycle, SRAM Filter Stop Cycle, SRAM Filter Reads, " +
		"SRAM OFMAP Start Cycle, SRAM OFMAP Stop Cycle, SRAM OFMAP Writes, " +
		"DRAM IFMAP Start Cycle, DRAM IFMAP Stop Cycle, DRAM IFMAP Reads, " +
		"DRAM Filter Start Cycle, DRAM Filter Stop Cycle, DRAM Filter Reads, " +
		"DRAM OFMAP Start Cycle, DRAM OFMAP Stop Cycle, DRAM OFMAP Writes,"
)

// WriteReports writes COMPUTE_REPORT.csv, DETAILED_ACCESS_REPORT.csv and BANDWIDTH_REPORT.csv
// for reports into dir (created if missing), in SCALE-Sim's exact format. The three files
// are replaced together (see internal/atomicfile): after an error the directory holds the
// previous run's reports, untouched.
func WriteReports(dir string, reports []sim.ScaleSimReport) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	names := make([]string, len(reportWriters))
	for i, w := range reportWriters {
		names[i] = filepath.Join(dir, w.file)
	}
	return atomicfile.WriteFiles(names, func(name string, w io.Writer) error {
		for i := range names {
			if names[i] == name {
				return reportWriters[i].write(w, reports)
			}
		}
		return nil
	})
}

// reportWriters pairs each report file with the function that writes it.
var reportWriters = []struct {
	file  string
	write func(io.Writer, []sim.ScaleSimReport) error
}{
	{ComputeReportFile, WriteComputeReport},
	{DetailedReportFile, WriteDetailedReport},
	{BandwidthReportFile, WriteBandwidthReport},
}

// row writes one report line: "id, v1, v2, ...,".
func row(w io.Writer, id int, vals ...string) error {
	var b strings.Builder
	b.WriteString(strconv.Itoa(id))
	for _, v := range vals {
		b.WriteString(", ")
		b.WriteString(v)
	}
	b.WriteString(",\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// itoa formats a count.
func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// cyc formats a start or stop cycle, which SCALE-Sim holds in a NumPy float array.
func cyc(v int64) string { return FormatFloat(float64(v)) }

// WriteComputeReport writes COMPUTE_REPORT.csv.
func WriteComputeReport(w io.Writer, reports []sim.ScaleSimReport) error {
	if _, err := io.WriteString(w, computeHeader+"\n"); err != nil {
		return err
	}
	for i := range reports {
		r := &reports[i]
		if err := row(w, r.LayerID, itoa(r.TotalCycles), itoa(r.StallCycles),
			FormatFloat(r.OverallUtilPct), FormatFloat(r.MappingEfficiencyPct),
			FormatFloat(r.ComputeUtilPct)); err != nil {
			return err
		}
	}
	return nil
}

// WriteDetailedReport writes DETAILED_ACCESS_REPORT.csv.
func WriteDetailedReport(w io.Writer, reports []sim.ScaleSimReport) error {
	if _, err := io.WriteString(w, detailedHeader+"\n"); err != nil {
		return err
	}
	for i := range reports {
		r := &reports[i]
		var vals []string
		for _, a := range []sim.ScaleSimAccess{r.IfmapSRAM, r.FilterSRAM, r.OfmapSRAM,
			r.IfmapDRAM, r.FilterDRAM, r.OfmapDRAM} {
			vals = append(vals, cyc(a.StartCycle), cyc(a.StopCycle), itoa(a.Count))
		}
		if err := row(w, r.LayerID, vals...); err != nil {
			return err
		}
	}
	return nil
}

// WriteBandwidthReport writes BANDWIDTH_REPORT.csv.
func WriteBandwidthReport(w io.Writer, reports []sim.ScaleSimReport) error {
	if _, err := io.WriteString(w, bandwidthHeader+"\n"); err != nil {
		return err
	}
	for i := range reports {
		r := &reports[i]
		if err := row(w, r.LayerID, FormatFloat(r.AvgIfmapSRAMBW), FormatFloat(r.AvgFilterSRAMBW),
			FormatFloat(r.AvgOfmapSRAMBW), FormatFloat(r.AvgIfmapDRAMBW),
			FormatFloat(r.AvgFilterDRAMBW), FormatFloat(r.AvgOfmapDRAMBW)); err != nil {
			return err
		}
	}
	return nil
}
