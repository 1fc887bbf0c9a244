package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/vggsim/vggsim/scalesim"
	"github.com/vggsim/vggsim/sim"
)

// runScaleSim runs the SCALE-Sim compatibility engine for
//
//	vggsim simulate --scalesim-config CFG --topology CSV [--format scalesim|table|json|csv] [-o DIR [--traces]]
//
// It reads a SCALE-Sim .cfg and topology CSV (conv or GEMM layout), simulates every layer
// exactly as SCALE-Sim v2 does (CALC or USER bandwidth mode), and prints the result: --format
// scalesim writes COMPUTE_REPORT.csv, DETAILED_ACCESS_REPORT.csv and BANDWIDTH_REPORT.csv into
// outDir/<run_name>/ (outDir is then required), byte for byte as SCALE-Sim would; table, json
// and csv print to stdout (and also write the three reports when outDir is given). With
// traces, the per-layer SRAM and DRAM traces go to outDir/<run_name>/layer<i>/. An empty format means
// table. Exit status: 0 ok, 1 the reports could not be written, 2 bad usage or bad input.
func runScaleSim(cfgPath, topoPath, outDir, format string, traces bool, stdout, stderr io.Writer) int {
	if format == "" {
		format = "table"
	}
	if err := checkFormat(format, "scalesim", "table", "json", "csv"); err != nil {
		return fail(stderr, "simulate", badInput(fmt.Errorf("%w with --scalesim-config", err)))
	}
	if cfgPath == "" || topoPath == "" {
		return fail(stderr, "simulate", badInput(errors.New("--scalesim-config and --topology go together")))
	}
	if format == "scalesim" && outDir == "" {
		return fail(stderr, "simulate", badInput(errors.New("--format scalesim writes three report files: give the directory with -o DIR")))
	}
	if traces && outDir == "" {
		return fail(stderr, "simulate", badInput(errors.New("--traces writes trace files: give the directory with -o DIR")))
	}
	cfg, err := scalesim.ReadConfig(cfgPath)
	if err != nil {
		return fail(stderr, "simulate", badInput(err))
	}
	layers, err := scalesim.ReadTopology(topoPath)
	if err != nil {
		return fail(stderr, "simulate", badInput(err))
	}
	reps, err := sim.SimulateScaleSim(*cfg, layers)
	if err != nil {
		return fail(stderr, "simulate", badInput(fmt.Errorf("%s: %w", cfgPath, err)))
	}
	runDir := scalesim.RunDir(outDir, cfg)
	switch {
	case traces: // reports and traces appear together, or none changes
		if err := scalesim.WriteRun(runDir, cfg, layers, reps); err != nil {
			return fail(stderr, "simulate", err)
		}
	case outDir != "":
		if err := scalesim.WriteReports(runDir, reps); err != nil {
			return fail(stderr, "simulate", err)
		}
	}
	var total int64
	for _, r := range reps {
		total += r.TotalCycles
	}
	switch format {
	case "scalesim":
		fmt.Fprintf(stdout, "%s: %d layers, %d cycles in all; wrote %s, %s, %s to %s\n", cfg.RunName,
			len(reps), total, scalesim.ComputeReportFile, scalesim.DetailedReportFile,
			scalesim.BandwidthReportFile, runDir)
	case "table":
		err = scaleSimTable(stdout, cfg, reps, total)
	case "json":
		err = writeJSON(stdout, struct {
			RunName     string               `json:"run_name"`
			Array       string               `json:"array"`
			Dataflow    string               `json:"dataflow"`
			TotalCycles int64                `json:"total_cycles"`
			Layers      []sim.ScaleSimReport `json:"layers"`
		}{cfg.RunName, fmt.Sprintf("%dx%d", cfg.ArrayHeight, cfg.ArrayWidth), string(cfg.Dataflow), total, reps})
	case "csv":
		err = scaleSimCSV(stdout, reps)
	}
	if err != nil {
		return fail(stderr, "simulate", err)
	}
	return exitOK
}

func scaleSimTable(w io.Writer, cfg *sim.ScaleSimConfig, reps []sim.ScaleSimReport, total int64) error {
	fmt.Fprintf(w, "SCALE-Sim v2 compatible (%s): %s, %dx%d %s, SRAM %d/%d/%d kB (counts in words)\n\n",
		strings.ToUpper(cfg.InterfaceBandwidth), cfg.RunName, cfg.ArrayHeight, cfg.ArrayWidth, cfg.Dataflow, cfg.IfmapSRAMkB, cfg.FilterSRAMkB, cfg.OfmapSRAMkB)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ID\tLAYER\tCYCLES\tSTALL\tUTIL %\tMAP EFF %\tSRAM IF RD\tSRAM FL RD\tSRAM OF WR\tDRAM IF RD\tDRAM FL RD\tDRAM OF WR\t")
	var t sim.ScaleSimReport
	for _, r := range reps {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%.2f\t%.2f\t%d\t%d\t%d\t%d\t%d\t%d\t\n", r.LayerID, r.Name,
			r.TotalCycles, r.StallCycles, r.OverallUtilPct, r.MappingEfficiencyPct,
			r.IfmapSRAM.Count, r.FilterSRAM.Count, r.OfmapSRAM.Count,
			r.IfmapDRAM.Count, r.FilterDRAM.Count, r.OfmapDRAM.Count)
		t.StallCycles += r.StallCycles
		t.MACs += r.MACs
		t.IfmapSRAM.Count += r.IfmapSRAM.Count
		t.FilterSRAM.Count += r.FilterSRAM.Count
		t.OfmapSRAM.Count += r.OfmapSRAM.Count
		t.IfmapDRAM.Count += r.IfmapDRAM.Count
		t.FilterDRAM.Count += r.FilterDRAM.Count
		t.OfmapDRAM.Count += r.OfmapDRAM.Count
	}
	util := 0.0
	if total > 0 {
		util = 100 * float64(t.MACs) / (float64(total) * float64(cfg.ArrayHeight*cfg.ArrayWidth))
	}
	fmt.Fprintf(tw, "\ttotal\t%d\t%d\t%.2f\t\t%d\t%d\t%d\t%d\t%d\t%d\t\n", total, t.StallCycles, util,
		t.IfmapSRAM.Count, t.FilterSRAM.Count, t.OfmapSRAM.Count,
		t.IfmapDRAM.Count, t.FilterDRAM.Count, t.OfmapDRAM.Count)
	return tw.Flush()
}

// scaleSimCSV prints one row per layer with every report column, named with units.
func scaleSimCSV(w io.Writer, reps []sim.ScaleSimReport) error {
	cw := csv.NewWriter(w)
	head := []string{"layer_id", "name", "m", "n", "k", "macs", "folds", "total_cycles", "stall_cycles",
		"overall_util_pct", "mapping_efficiency_pct", "compute_util_pct"}
	for _, op := range []string{"sram_ifmap_reads", "sram_filter_reads", "sram_ofmap_writes",
		"dram_ifmap_reads", "dram_filter_reads", "dram_ofmap_writes"} {
		head = append(head, op+"_start_cycle", op+"_stop_cycle", op+"_words")
	}
	head = append(head, "avg_ifmap_sram_bw_words_per_cycle", "avg_filter_sram_bw_words_per_cycle",
		"avg_ofmap_sram_bw_words_per_cycle", "avg_ifmap_dram_bw_words_per_cycle",
		"avg_filter_dram_bw_words_per_cycle", "avg_ofmap_dram_bw_words_per_cycle")
	if err := cw.Write(head); err != nil {
		return err
	}
	i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
	for _, r := range reps {
		row := []string{strconv.Itoa(r.LayerID), r.Name, i64(r.M), i64(r.N), i64(r.K), i64(r.MACs),
			i64(r.Folds), i64(r.TotalCycles), i64(r.StallCycles), scalesim.FormatFloat(r.OverallUtilPct),
			scalesim.FormatFloat(r.MappingEfficiencyPct), scalesim.FormatFloat(r.ComputeUtilPct)}
		for _, a := range []sim.ScaleSimAccess{r.IfmapSRAM, r.FilterSRAM, r.OfmapSRAM, r.IfmapDRAM, r.FilterDRAM, r.OfmapDRAM} {
			row = append(row, i64(a.StartCycle), i64(a.StopCycle), i64(a.Count))
		}
		for _, f := range []float64{r.AvgIfmapSRAMBW, r.AvgFilterSRAMBW, r.AvgOfmapSRAMBW,
			r.AvgIfmapDRAMBW, r.AvgFilterDRAMBW, r.AvgOfmapDRAMBW} {
			row = append(row, scalesim.FormatFloat(f))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
