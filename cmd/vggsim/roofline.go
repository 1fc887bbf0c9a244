package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/vggsim/vggsim/chart"
	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/memory"
	"github.com/vggsim/vggsim/sim"
	"github.com/vggsim/vggsim/sweep"
)

func cmdRoofline(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("roofline", "[MODEL] [--hw PRESET|FILE] [--batch N] [--form train|deploy] [--input-size H[xW]] [-o roofline.svg] [--format table|json|csv]",
		"Place MODEL's (default "+defaultModel+") convolution and fully connected layers on the roofline of one\nhardware point (default the "+hw.DefaultPreset+" preset), simulated as `vggsim simulate` does: arithmetic\nintensity (MACs per DRAM byte) against achieved MACs per cycle, under the compute roof R·C\nand the bandwidth roof (DRAM bytes per cycle × intensity). -o draws it (.svg, .png, .pdf),\none dot per layer labelled with its index; the table lists the same points.", stdout, stderr)
	var mf modelFlags
	mf.register(fs, withForm)
	mf.form = "deploy"
	fs.Lookup("form").DefValue = "deploy"
	hwArg := fs.String("hw", hw.DefaultPreset, "hardware: a `preset` name (see vggsim presets) or a YAML file")
	batch := fs.Int("batch", 1, "images per run")
	out := fs.String("o", "", "draw the roofline to `file` (.svg, .png, .pdf)")
	format := fs.String("format", "table", "output `format`: table, json or csv")
	pos, code, ok := parseArgs(fs, args, 0, 1)
	if !ok {
		return code
	}
	if err := checkFormat(*format, "table", "json", "csv"); err != nil {
		return fail(stderr, "roofline", badInput(err))
	}
	if *batch < 1 {
		return fail(stderr, "roofline", badInput(fmt.Errorf("--batch %d: want ≥ 1", *batch)))
	}
	if *out != "" {
		if err := chart.CheckPath(*out); err != nil {
			return fail(stderr, "roofline", badInput(err))
		}
	}
	model := defaultModel
	if len(pos) == 1 {
		model = pos[0]
	}
	cfg, err := hw.Resolve(*hwArg)
	if err != nil {
		return fail(stderr, "roofline", badInput(err))
	}
	g, err := mf.structure(model)
	if err != nil {
		return fail(stderr, "roofline", err)
	}
	s, err := memory.SimulateGraph(g, mf.form, cfg, *batch, sim.ObjectiveLatency)
	if err != nil {
		return fail(stderr, "roofline", err)
	}
	rf := sim.NewRoofline(cfg, s.Result)
	if *out != "" {
		title := fmt.Sprintf("%s (%s, batch %d) on %s: per-layer roofline", s.Model, s.Form, s.Result.Batch, cfg.Name)
		if err := sweep.PlotRoofline(rf, title, *out); err != nil {
			return fail(stderr, "roofline", err)
		}
	}
	switch *format {
	case "json":
		err = writeJSON(stdout, rf)
	case "csv":
		err = writeRooflineCSV(stdout, rf)
	default:
		err = writeRooflineTable(stdout, rf)
	}
	if err != nil {
		return fail(stderr, "roofline", err)
	}
	return exitOK
}

func writeRooflineTable(w io.Writer, rf *sim.Roofline) error {
	fmt.Fprintf(w, "%s: compute roof %g MACs/cycle", rf.Hardware, rf.PeakMACsPerCycle)
	if rf.DRAMBytesPerCycle > 0 {
		fmt.Fprintf(w, ", DRAM %.4g bytes/cycle, ridge at %.4g MACs/byte", rf.DRAMBytesPerCycle, rf.Ridge())
	}
	fmt.Fprint(w, "\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "index\tlayer\tmacs\tdram bytes\tmacs/byte\tmacs/cycle\tattainable\tof roof %\tbound\t\n")
	for _, p := range rf.Points {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%.2f\t%.1f\t%.1f\t%.1f\t%s\t\n", p.Index, p.Name, p.MACs, p.DRAMBytes,
			p.Intensity, p.MACsPerCycle, p.Attainable, 100*p.MACsPerCycle/p.Attainable, p.Bound)
	}
	return tw.Flush()
}

func writeRooflineCSV(w io.Writer, rf *sim.Roofline) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"index", "layer", "macs", "dram_bytes", "cycles", "intensity", "macs_per_cycle", "attainable", "bound"})
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	for _, p := range rf.Points {
		cw.Write([]string{strconv.Itoa(p.Index), p.Name, strconv.FormatInt(p.MACs, 10), strconv.FormatInt(p.DRAMBytes, 10),
			strconv.FormatInt(p.Cycles, 10), f(p.Intensity), f(p.MACsPerCycle), f(p.Attainable), p.Bound})
	}
	cw.Flush()
	return cw.Error()
}
