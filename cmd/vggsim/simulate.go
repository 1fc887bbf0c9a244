package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/memory"
	"github.com/vggsim/vggsim/sim"
)

// defaultModel is what `vggsim simulate` runs without a MODEL argument.
const defaultModel = "RepVGG-A0"

func cmdSimulate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("simulate", "[MODEL] [--hw PRESET|FILE] [--batch N] [--form train|deploy] [--input-size H[xW]] [--objective latency|energy|edp|dram] [--format table|json|csv]\n       vggsim simulate --scalesim-config scale.cfg --topology net.csv [--format scalesim|table|json|csv] [-o DIR [--traces]]",
		"Simulate MODEL (default "+defaultModel+", deploy form) on a systolic-array accelerator (default\nthe "+hw.DefaultPreset+" preset) with the native analytical engine: cycles, stalls, utilization,\nSRAM and DRAM traffic per operand, energy, latency, per layer and in total. Activations stay\non chip between layers when the liveness model finds room for them in the ifmap+ofmap SRAM.\n\nWith --scalesim-config and --topology it runs the SCALE-Sim v2 compatibility engine instead,\nwhose every report column is identical to SCALE-Sim's (CALC and USER bandwidth modes); -o DIR\nwrites SCALE-Sim's report CSVs into DIR/<run_name>/ and --traces adds its per-layer SRAM\nand DRAM traces (DIR/<run_name>/layer<i>/*_{SRAM,DRAM}_TRACE.csv, small runs only).", stdout, stderr)
	var mf modelFlags
	mf.register(fs, withForm)
	mf.form = "deploy"
	fs.Lookup("form").DefValue = "deploy"
	hwArg := fs.String("hw", hw.DefaultPreset, "hardware: a `preset` name (see vggsim presets) or a YAML file")
	batch := fs.Int("batch", 1, "images per run")
	objective := fs.String("objective", "latency", "what the mapper minimizes per layer: `latency`, energy, edp (energy·delay) or dram (bytes); ties go to the others")
	format := fs.String("format", "table", "output `format`: table, json or csv; with --scalesim-config also scalesim")
	cfgPath := fs.String("scalesim-config", "", "SCALE-Sim .cfg `file` (compatibility mode)")
	topo := fs.String("topology", "", "SCALE-Sim topology CSV `file` (compatibility mode)")
	outDir := fs.String("o", "", "`dir`ectory for the SCALE-Sim report CSVs, written to DIR/<run_name>/ (compatibility mode only)")
	traces := fs.Bool("traces", false, "with -o, also write SCALE-Sim's per-layer SRAM and DRAM cycle traces (small runs)")
	pos, code, ok := parseArgs(fs, args, 0, 1)
	if !ok {
		return code
	}
	if *cfgPath != "" || *topo != "" {
		if len(pos) > 0 {
			return fail(stderr, "simulate", badInput(errors.New("MODEL and --scalesim-config/--topology exclude each other")))
		}
		// The .cfg describes the hardware and the topology the layers: the native mode's
		// flags would be silently ignored.
		var native []string
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "hw", "batch", "form", "input-size", "classes", "objective":
				native = append(native, "--"+f.Name)
			}
		})
		if len(native) > 0 {
			return fail(stderr, "simulate", badInput(fmt.Errorf("%s: not used with --scalesim-config (the .cfg and the topology describe the run)", strings.Join(native, ", "))))
		}
		if err := noStdout("-o", *outDir, "-o names the directory for SCALE-Sim's reports"); err != nil {
			return fail(stderr, "simulate", err)
		}
		return runScaleSim(*cfgPath, *topo, *outDir, *format, *traces, stdout, stderr)
	}
	if err := checkFormat(*format, "table", "json", "csv"); err != nil {
		if *format == "scalesim" {
			err = fmt.Errorf("%w (scalesim needs --scalesim-config and --topology)", err)
		}
		return fail(stderr, "simulate", badInput(err))
	}
	if *traces {
		return fail(stderr, "simulate", badInput(errors.New("--traces: SCALE-Sim traces need --scalesim-config, --topology and -o DIR")))
	}
	if *outDir != "" {
		return fail(stderr, "simulate", badInput(fmt.Errorf("-o %s: -o names the directory for SCALE-Sim reports (with --scalesim-config); the native simulator prints to stdout", *outDir)))
	}
	if *batch < 1 || *batch > 1<<20 { // the simulator's bound
		return fail(stderr, "simulate", badInput(fmt.Errorf("--batch %d: want 1..1048576", *batch)))
	}
	obj, err := sim.ParseObjective(*objective)
	if err != nil {
		return fail(stderr, "simulate", badInput(fmt.Errorf("--objective: %w", err)))
	}
	model := defaultModel
	if len(pos) == 1 {
		model = pos[0]
	}
	cfg, err := hw.Resolve(*hwArg)
	if err != nil {
		return fail(stderr, "simulate", badInput(err))
	}
	g, err := mf.structure(model)
	if err != nil {
		return fail(stderr, "simulate", err)
	}
	s, err := memory.SimulateGraph(g, mf.form, cfg, *batch, obj)
	if err != nil {
		return fail(stderr, "simulate", err)
	}
	switch *format {
	case "json":
		err = writeJSON(stdout, s)
	case "csv":
		err = s.Result.WriteCSV(stdout)
	default:
		err = writeSimTable(stdout, s, cfg)
	}
	if err != nil {
		return fail(stderr, "simulate", err)
	}
	return exitOK
}

func writeSimTable(w io.Writer, s *memory.Simulation, cfg *hw.Config) error {
	r := s.Result
	fmt.Fprintf(w, "%s (%s form, %dx%d, batch %d) on %s\n\n", s.Model, s.Form, s.Input[0], s.Input[1], r.Batch, cfg)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "layer\tkind\tM×N×K (×groups)\tfolds\tcycles\tstall\tutil %\tDRAM rd KiB\tDRAM wr KiB\ton-chip in/out\tenergy µJ\tmapping\t\n")
	for _, l := range r.Layers {
		shape := ""
		if l.MACs > 0 {
			shape = fmt.Sprintf("%d×%d×%d", l.M, l.N, l.K)
			if l.Groups > 1 {
				shape += fmt.Sprintf(" ×%d", l.Groups)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%s/%s\t%.2f\t%s\t\n", l.Name, l.Kind, shape, blankZero(l.Folds), l.Cycles, l.StallCycles,
			100*l.Utilization, kib(l.DRAMReadBytes), kib(l.DRAMWriteBytes), yesNo(l.InputOnChip), yesNo(l.OutputOnChip), l.EnergyJ*1e6, l.Order)
	}
	t := r.Total
	fmt.Fprintf(tw, "total\t\t\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t\t%.2f\t\t\n", t.Folds, t.Cycles, t.StallCycles, 100*t.Utilization, kib(t.DRAMReadBytes), kib(t.DRAMWriteBytes), t.EnergyJ*1e6)
	if err := tw.Flush(); err != nil {
		return err
	}
	img := float64(r.Batch)
	fmt.Fprintf(w, "\nlatency %.3f ms per run  throughput %.1f images/s  %.3f of %.3f TOPS (%.1f%% utilization, %.1f%% mapping efficiency)\n",
		r.LatencyS*1e3, r.ThroughputIPS, r.AchievedTOPS, r.PeakTOPS, 100*r.Utilization, 100*r.MappingEfficiency)
	fmt.Fprintf(w, "MACs %d per run  cycles %d, of which stall %d (%.1f%%)\n", t.MACs, t.Cycles, t.StallCycles, 100*float64(t.StallCycles)/float64(max(t.Cycles, 1)))
	fmt.Fprintf(w, "DRAM %.2f MiB per image; per run: ifmap %.2f, filter %.2f (weights %.2f), ofmap %.2f, partial sums %.2f MiB\n",
		s.DRAMBytesPerImage/(1<<20), mib(t.DRAMIfmapReadBytes), mib(t.DRAMFilterReadBytes), mib(t.UniqueFilterBytes), mib(t.DRAMOfmapWriteBytes), mib(t.DRAMPsumReadBytes+t.DRAMPsumWriteBytes))
	fmt.Fprintf(w, "SRAM per run %.2f MiB read, %.2f MiB written, partial sums %.2f MiB; activations kept on chip in %s\n",
		mib(t.SRAMReadBytes), mib(t.SRAMWriteBytes), mib(t.AccReadBytes+t.AccWriteBytes), hw.FormatSize(s.ActivationSRAMBytes))
	fmt.Fprintf(w, "energy %.3f mJ per image: MAC %.3f, SRAM %.3f, DRAM %.3f, leakage %.3f mJ\n",
		r.EnergyPerImageJ*1e3, t.EnergyMACJ*1e3/img, t.EnergySRAMJ*1e3/img, t.EnergyDRAMJ*1e3/img, t.EnergyLeakageJ*1e3/img)
	return nil
}

func kib(b int64) float64 { return float64(b) / 1024 }
func mib(b int64) float64 { return float64(b) / (1 << 20) }

func blankZero(v int64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

func yesNo(b bool) string {
	if b {
		return "y"
	}
	return "n"
}
