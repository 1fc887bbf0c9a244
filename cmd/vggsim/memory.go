package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/vggsim/vggsim/chart"
	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/memory"
	"github.com/vggsim/vggsim/memory/memplot"
	"github.com/vggsim/vggsim/models"
)

const memoryDesc = `Activation memory of MODEL's train form (multi-branch) and deploy form (fused), side
by side: the live activation bytes over the schedule (the graph's node order) with
in-place ReLU/BN/Add where legal, an offset-allocated arena, the smallest on-chip SRAM
with which no activation spills to DRAM, the weights, and the activation DRAM traffic
with no on-chip SRAM (layer by layer) and with unlimited SRAM, in the spill model (every
byte moved once). With --hw, each form also runs on the accelerator (sim package, native
engine) with the activations the spill model keeps in the ifmap+ofmap SRAMs (or --sram):
DRAM bytes per image, cycles and energy; the engine also re-reads operands that do not fit
its SRAMs. Its DRAM with no activation SRAM is what ` + "`vggsim fusion`" + ` calls depth 1.

--sweep prints the activation DRAM traffic against the on-chip activation SRAM size
instead. Definitions and formulas: docs/memory.md.`

// memFlags are the flags `memory` and `fusion` share.
type memFlags struct {
	hwArg  string
	batch  int
	bits   int
	input  string
	format string
	plot   string
	sram   string
}

func (m *memFlags) register(fs *flag.FlagSet, hwDefault string) {
	hwUsage := "hardware: a `preset` name (see vggsim presets) or a YAML file"
	if hwDefault == "" {
		hwUsage += "; without it, no simulation"
	}
	fs.StringVar(&m.hwArg, "hw", hwDefault, hwUsage)
	fs.IntVar(&m.batch, "batch", 1, "images per run")
	fs.IntVar(&m.bits, "bits", 0, "data width in bits (default: the hardware's, or 8)")
	fs.StringVar(&m.input, "input-size", "", "input image size `H[xW]` (default 224, or a model file's input)")
	deprecatedInput(fs)
	fs.StringVar(&m.format, "format", "table", "output `format`: table, json or csv")
}

// resolve checks the shared flags, reporting every problem at once, and returns the model
// options, the hardware (nil when none was asked for) and the data width.
func (m *memFlags) resolve() (models.Options, *hw.Config, int, error) {
	var o models.Options
	var errs []error
	if err := checkFormat(m.format, "table", "json", "csv"); err != nil {
		errs = append(errs, err)
	}
	if m.batch < 1 || m.batch > 1<<16 {
		errs = append(errs, fmt.Errorf("--batch %d: want 1..65536", m.batch))
	}
	if m.bits < 0 || m.bits > 32 {
		errs = append(errs, fmt.Errorf("--bits %d: want 1..32", m.bits))
	}
	if m.input != "" {
		h, w, err := parseSize(m.input)
		if err != nil {
			errs = append(errs, err)
		}
		o.InputH, o.InputW = h, w
	}
	var cfg *hw.Config
	if m.hwArg != "" {
		c, err := hw.Resolve(m.hwArg)
		if err != nil {
			errs = append(errs, err)
		}
		cfg = c
	}
	if m.plot != "" {
		if err := chart.CheckPath(m.plot); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return o, nil, 0, badInput(err)
	}
	bits := m.bits
	if bits == 0 {
		bits = memory.DefaultBits
		if cfg != nil {
			bits = cfg.DataBits
		}
	}
	return o, cfg, bits, nil
}

// parseSRAM parses a --sram value: a size such as 256KiB or a byte count.
func parseSRAM(s string) (int64, error) {
	v, err := hw.ParseSize(s)
	if err != nil {
		return 0, badInput(fmt.Errorf("--sram %q: %w", s, err))
	}
	if v < 0 {
		return 0, badInput(fmt.Errorf("--sram %q must not be negative", s))
	}
	return v, nil
}

// memBuildForms builds MODEL's train and deploy forms.
func memBuildForms(arg string, o models.Options) (train, deploy *ir.Graph, err error) {
	train, err = models.Resolve(arg, o)
	if err != nil {
		return nil, nil, badInput(err)
	}
	o.Deploy = true
	deploy, err = models.Resolve(arg, o)
	if err != nil {
		return nil, nil, badInput(err)
	}
	return train, deploy, nil
}

func cmdMemory(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("memory", "MODEL [MODEL...] [--hw PRESET|FILE] [--batch N] [--bits N] [--input-size H[xW]] [--format table|json|csv] [--plot live.svg] [--plot-traffic traffic.svg] [--sweep] [--sram SIZE] [--no-in-place]", memoryDesc, stdout, stderr)
	var mf memFlags
	mf.register(fs, "")
	fs.StringVar(&mf.plot, "plot", "", "write the live-bytes chart (both forms) to `file` (.svg, .png, .pdf)")
	plotTraffic := fs.String("plot-traffic", "", "write the traffic-vs-SRAM chart to `file` (.svg, .png, .pdf)")
	sweep := fs.Bool("sweep", false, "print activation DRAM traffic against on-chip SRAM size instead of the summary")
	fs.StringVar(&mf.sram, "sram", "", "on-chip activation SRAM `size` for the --hw run (default: the ifmap+ofmap SRAMs)")
	noInPlace := fs.Bool("no-in-place", false, "give every result its own buffer (no in-place ReLU/BN/Add)")
	pos, code, ok := parseArgs(fs, args, 1, -1)
	if !ok {
		return code
	}
	o, cfg, bits, err := mf.resolve()
	if err != nil {
		return fail(stderr, "memory", err)
	}
	if *plotTraffic != "" {
		if err := chart.CheckPath(*plotTraffic); err != nil {
			return fail(stderr, "memory", badInput(err))
		}
	}
	actSRAM := int64(-1)
	if mf.sram != "" {
		if cfg == nil {
			return fail(stderr, "memory", badInput(errors.New("--sram needs --hw")))
		}
		if actSRAM, err = parseSRAM(mf.sram); err != nil {
			return fail(stderr, "memory", err)
		}
	}
	mo := memory.Options{Bits: bits, Batch: mf.batch, NoInPlace: *noInPlace}
	var comps []*memory.Comparison
	var reps []*memory.Report // the train and deploy forms of each model, in order
	var dims [][2]int
	for _, arg := range pos {
		train, deploy, err := memBuildForms(arg, o)
		if err != nil {
			return fail(stderr, "memory", err)
		}
		c, err := memory.Compare(train, deploy, mo)
		if err != nil {
			return fail(stderr, "memory", err)
		}
		comps, reps = append(comps, c), append(reps, c.Train, c.Deploy)
		in := train.Input().Shape
		dims = append(dims, [2]int{in.H, in.W})
	}
	// The summary's runs on the hardware: with the activation SRAM, and with none (layer by
	// layer). --sweep prints its own runs instead.
	var hws, lbls [][2]*memory.HWResult
	if cfg != nil && !*sweep {
		for _, c := range comps {
			var pair, lbl [2]*memory.HWResult
			for k, r := range []*memory.Report{c.Train, c.Deploy} {
				if pair[k], err = r.Simulate(cfg, actSRAM); err != nil {
					return fail(stderr, "memory", err)
				}
				if lbl[k], err = r.Simulate(cfg, 0); err != nil {
					return fail(stderr, "memory", err)
				}
			}
			hws, lbls = append(hws, pair), append(lbls, lbl)
		}
	}
	if mf.plot != "" {
		p, err := memplot.Live(reps)
		if err == nil {
			err = chart.Save(p, mf.plot)
		}
		if err != nil {
			return fail(stderr, "memory", err)
		}
	}
	// One traffic sweep per form serves both the --plot-traffic chart and --sweep.
	var series []memory.TrafficSeries
	if *sweep || *plotTraffic != "" {
		var peak int64
		for _, c := range comps {
			peak = max(peak, c.Train.PeakBytes)
		}
		sizes := memory.SweepSizes(16<<10, peak, 2)
		for _, r := range reps {
			s, err := r.Sweep(sizes, cfg)
			if err != nil {
				return fail(stderr, "memory", err)
			}
			series = append(series, s)
		}
	}
	if *plotTraffic != "" {
		hwName := ""
		if cfg != nil {
			hwName = cfg.Name
		}
		p, err := memplot.Traffic(series, hwName)
		if err == nil {
			err = chart.Save(p, *plotTraffic)
		}
		if err != nil {
			return fail(stderr, "memory", err)
		}
	}
	if *sweep {
		if err := writeMemorySweep(stdout, mf.format, reps, series, cfg); err != nil {
			return fail(stderr, "memory", err)
		}
		return exitOK
	}
	var rows []memory.Row
	for i, c := range comps {
		for k, r := range []*memory.Report{c.Train, c.Deploy} {
			var h, lbl *memory.HWResult
			if hws != nil {
				h, lbl = hws[i][k], lbls[i][k]
			}
			rows = append(rows, r.Row(h, lbl))
		}
	}
	switch mf.format {
	case "json":
		if err := writeJSON(stdout, rows); err != nil {
			return fail(stderr, "memory", err)
		}
	case "csv":
		if err := memory.WriteRowsCSV(stdout, rows); err != nil {
			return fail(stderr, "memory", err)
		}
	default:
		for i, c := range comps {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			var pair, lbl *[2]*memory.HWResult
			if hws != nil {
				pair, lbl = &hws[i], &lbls[i]
			}
			writeMemoryTable(stdout, c, dims[i], pair, lbl)
		}
	}
	return exitOK
}

// writeMemoryTable prints one model's train and deploy forms side by side.
func writeMemoryTable(w io.Writer, c *memory.Comparison, input [2]int, h, lbl *[2]*memory.HWResult) {
	t, d := c.Train, c.Deploy
	fmt.Fprintf(w, "%s, %dx%d, %d-bit, batch %d\n", t.Model, input[0], input[1], t.Bits, t.Batch)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	// Labels are padded to one width so that the right-aligned first column reads left-aligned.
	const labelW = 38
	lab := func(s string) string { return fmt.Sprintf("%-*s", labelW, s) }
	fmt.Fprintf(tw, "%s\ttrain\tdeploy\ttrain/deploy\t\n", lab(""))
	line := func(name string, a, b int64, format func(int64) string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", lab(name), format(a), format(b), ratioString(float64(a), float64(b)))
	}
	line("peak activations (working set)", t.PeakBytes, d.PeakBytes, bytesString)
	line("resident peak (paper Fig. 3)", t.ResidentPeakBytes, d.ResidentPeakBytes, bytesString)
	line("arena (greedy by size)", t.ArenaBytes, d.ArenaBytes, bytesString)
	line("all activations, no reuse", t.TotalBytes, d.TotalBytes, bytesString)
	line("min SRAM, no activation spill", t.MinSRAMNoSpill, d.MinSRAMNoSpill, bytesString)
	line("weights", t.WeightsBytes, d.WeightsBytes, bytesString)
	line("act. DRAM, no SRAM (model)", t.StreamBytes, d.StreamBytes, bytesString)
	line("act. DRAM, unlimited SRAM (model)", t.CompulsoryBytes, d.CompulsoryBytes, bytesString)
	line("buffers", int64(len(t.Buffers)), int64(len(d.Buffers)), func(v int64) string { return strconv.FormatInt(v, 10) })
	if h != nil {
		a, b := h[0], h[1]
		fmt.Fprintf(tw, "%s\t\t\t\t\n", lab(fmt.Sprintf("simulated on %s:", a.Hardware)))
		line("  DRAM/image, no act. SRAM (depth 1)", int64(lbl[0].DRAMBytesPerImage), int64(lbl[1].DRAMBytesPerImage), bytesString)
		fmt.Fprintf(tw, "%s\t\t\t\t\n", lab(fmt.Sprintf("  with %s activation SRAM:", bytesString(a.ActivationSRAMBytes))))
		line("    spilled buffers", int64(a.Residency.SpilledBuffers), int64(b.Residency.SpilledBuffers), func(v int64) string { return strconv.FormatInt(v, 10) })
		line("    DRAM per image", int64(a.DRAMBytesPerImage), int64(b.DRAMBytesPerImage), bytesString)
		line("      activations", a.ActivationDRAMBytes/int64(t.Batch), b.ActivationDRAMBytes/int64(d.Batch), bytesString)
		line("        (model)", a.Residency.Bytes()/int64(t.Batch), b.Residency.Bytes()/int64(d.Batch), bytesString)
		line("      weights", a.WeightDRAMBytes/int64(t.Batch), b.WeightDRAMBytes/int64(d.Batch), bytesString)
		line("        (model)", t.WeightsBytes, d.WeightsBytes, bytesString)
		line("    cycles (batch)", a.Cycles, b.Cycles, func(v int64) string { return strconv.FormatInt(v, 10) })
		fmt.Fprintf(tw, "%s\t%.3f ms\t%.3f ms\t%s\t\n", lab("    latency (batch)"), a.LatencyS*1e3, b.LatencyS*1e3, ratioString(a.LatencyS, b.LatencyS))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", lab("    energy per image"), energyString(a.EnergyPerImageJ), energyString(b.EnergyPerImageJ), ratioString(a.EnergyPerImageJ, b.EnergyPerImageJ))
	}
	tw.Flush()
}

// writeMemorySweep prints activation DRAM traffic against on-chip SRAM size for every model and
// form: series[k] is the sweep of reps[k] (with hardware, also the simulator's whole DRAM
// traffic per image at each size).
func writeMemorySweep(w io.Writer, format string, reps []*memory.Report, series []memory.TrafficSeries, cfg *hw.Config) error {
	rows := memory.SweepRows(reps, series)
	switch format {
	case "json":
		return writeJSON(w, rows)
	case "csv":
		return memory.WriteSweepCSV(w, rows)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	var head []string
	for _, r := range reps {
		head = append(head, r.Model+" "+r.Form)
	}
	what := "activation DRAM per image (spill model)"
	if cfg != nil {
		what += " / all DRAM per image on " + cfg.Name + " (engine, weights included)"
	}
	fmt.Fprintf(w, "%s, against on-chip activation SRAM\n", what)
	fmt.Fprintf(tw, "SRAM\t%s\t\n", strings.Join(head, "\t"))
	n := len(series[0].Points)
	for i := range n {
		cells := []string{bytesString(series[0].Points[i].SRAMBytes)}
		for k := range reps {
			r := rows[k*n+i]
			cell := bytesString(int64(math.Round(r.DRAMBytesPerImage)))
			if r.SimDRAMPerImage != nil {
				cell += " / " + bytesString(int64(*r.SimDRAMPerImage))
			}
			cells = append(cells, cell)
		}
		fmt.Fprintf(tw, "%s\t\n", strings.Join(cells, "\t"))
	}
	tw.Flush()
	return nil
}
