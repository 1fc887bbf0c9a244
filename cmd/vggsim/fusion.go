package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/vggsim/vggsim/chart"
	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/memory"
	"github.com/vggsim/vggsim/memory/memplot"
	"github.com/vggsim/vggsim/models"
)

const fusionDesc = `Depth-first (line-buffer) fusion of MODEL's chains of windowed layers (conv3x3
stacks; pools included): k consecutive layers run a band of output rows at a time, the
intermediate maps kept in line buffers on chip and never written to DRAM. For each uniform
depth in --depth and for the best mix of depths (chosen per chain segment under the --sram
budget for line buffers and resident weights), the whole network's DRAM traffic, SRAM use,
cycles and energy on --hw. One budget: --sram is part of the hardware's ifmap+ofmap SRAM,
and what a fused segment holds there is not there for its layers to stage operands in.

DRAM, cycles and energy are the simulator's (sim package, native engine): depth 1 is
exactly ` + "`vggsim memory MODEL --hw HW --sram 0`" + ` (layer by layer, no activation SRAM),
and the cache row exactly ` + "`vggsim memory MODEL --hw HW --sram BUDGET`" + `. The "model"
column is the fusion model's traffic with every byte moved once (no re-reads for tiling).
Formulas: docs/memory.md.`

// fusionOut is one model of `vggsim fusion`: the printed summary and what the table needs
// besides it.
type fusionOut struct {
	*memory.FusionSummary

	arg    string
	hwBits int // the hardware's data width (memory's default --bits)
	report *memory.FusionReport
	depths []memory.FusionPlan // the plans of the requested depths
}

// parseDepth parses --depth: "K" (1..K) or "A..B".
func parseDepth(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(s, "..")
	if !ok {
		a, b = "1", s
	}
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || lo < 1 || hi < lo || hi > memory.MaxFusionDepth {
		return 0, 0, fmt.Errorf("--depth %q: want K or A..B with 1 ≤ A ≤ B ≤ %d", s, memory.MaxFusionDepth)
	}
	return lo, hi, nil
}

func cmdFusion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fusion", "MODEL [MODEL...] [--hw PRESET|FILE] [--depth 1..6] [--sram SIZE] [--batch N] [--bits N] [--input-size H[xW]] [--form deploy|train] [--objective traffic|cycles|energy] [--format table|json|csv] [--plot fusion.svg]", fusionDesc, stdout, stderr)
	var mf memFlags
	mf.register(fs, hw.DefaultPreset)
	fs.StringVar(&mf.plot, "plot", "", "write the depth-vs-traffic chart to `file` (.svg, .png, .pdf)")
	fs.StringVar(&mf.sram, "sram", "", "on-chip `size` for line buffers and resident weights, at most the hardware's ifmap+ofmap SRAM (the default), which operand staging shares")
	depth := fs.String("depth", "1..6", "fusion depths to report, `K` or A..B; the best plan uses depths 1..B")
	form := fs.String("form", "deploy", "model form: deploy (fused, plain) or train")
	objective := fs.String("objective", "traffic", "what the best plan minimizes: traffic, cycles or energy")
	pos, code, ok := parseArgs(fs, args, 1, -1)
	if !ok {
		return code
	}
	o, cfg, bits, err := mf.resolve()
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	lo, hi, err := parseDepth(*depth)
	if err != nil {
		errs = append(errs, err)
	}
	if *form != "deploy" && *form != "train" {
		errs = append(errs, fmt.Errorf("--form %q: want deploy or train", *form))
	}
	if mf.hwArg == "" {
		errs = append(errs, errors.New("--hw must name hardware: a preset or a YAML file"))
	}
	if err := errors.Join(errs...); err != nil {
		return fail(stderr, "fusion", badInput(err))
	}
	budget := memory.ActivationSRAM(cfg)
	if mf.sram != "" {
		if budget, err = parseSRAM(mf.sram); err != nil {
			return fail(stderr, "fusion", err)
		}
	}
	o.Deploy = *form == "deploy"
	var outs []*fusionOut
	for _, arg := range pos {
		g, err := models.Resolve(arg, o)
		if err != nil {
			return fail(stderr, "fusion", badInput(err))
		}
		fr, err := memory.Fusion(g, memory.FusionOptions{Bits: bits, Batch: mf.batch, SRAMBytes: budget,
			MaxDepth: hi, Objective: *objective, Hardware: cfg})
		if err != nil {
			return fail(stderr, "fusion", badInput(err))
		}
		out := &fusionOut{FusionSummary: fr.Summary(*form, lo), arg: arg, hwBits: cfg.DataBits, report: fr,
			depths: fr.Depths[lo-1:]}
		outs = append(outs, out)
	}
	if mf.plot != "" {
		var frs []*memory.FusionReport
		for _, o := range outs {
			r := *o.report
			r.Depths = o.depths
			frs = append(frs, &r)
		}
		p, err := memplot.Fusion(frs)
		if err == nil {
			err = chart.Save(p, mf.plot)
		}
		if err != nil {
			return fail(stderr, "fusion", err)
		}
	}
	sums := make([]*memory.FusionSummary, len(outs))
	for i, o := range outs {
		sums[i] = o.FusionSummary
	}
	switch mf.format {
	case "json":
		if err := writeJSON(stdout, sums); err != nil {
			return fail(stderr, "fusion", err)
		}
	case "csv":
		if err := memory.WriteFusionCSV(stdout, sums); err != nil {
			return fail(stderr, "fusion", err)
		}
	default:
		for i, o := range outs {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			writeFusionTable(stdout, o)
		}
	}
	return exitOK
}

func writeFusionTable(w io.Writer, o *fusionOut) {
	fr := o.report
	layers := 0
	for _, c := range fr.Chains {
		layers += len(c.Layers)
	}
	batch := int64(fr.Batch)
	input := fmt.Sprintf("%dx%d", o.Input[0], o.Input[1])
	fmt.Fprintf(w, "%s %s, %s, %d-bit, batch %d, on %s, %s on chip for line buffers and resident weights\n",
		o.Model, o.Form, input, o.Bits, o.Batch, o.Hardware, bytesString(o.SRAMBytes))
	fmt.Fprintf(w, "%d fusable chain(s), %d layers. DRAM, cycles, energy: the simulator's; model: every byte once (floor %s).\n",
		len(fr.Chains), layers, bytesString(fr.FloorBytes/batch))
	flags := ""
	if input != "224x224" {
		flags += " --input-size " + input
	}
	if o.Batch > 1 {
		flags += fmt.Sprintf(" --batch %d", o.Batch)
	}
	if o.Bits != o.hwBits {
		flags += fmt.Sprintf(" --bits %d", o.Bits)
	}
	fmt.Fprintf(w, "Depth 1 = `vggsim memory %s --hw %s --sram 0%s` (%s form); the cache row = the same with --sram %s.\n",
		o.arg, o.Hardware, flags, o.Form, sizeFlag(o.SRAMBytes))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	const labelW = 28
	lab := func(s string) string { return fmt.Sprintf("%-*s", labelW, s) }
	fmt.Fprintf(tw, "%s\tDRAM/image\tvs depth 1\tmodel DRAM/image\tline buffers\tSRAM used\tfits\tsegments\tcycles\tenergy/image\t\n", lab("plan"))
	lbl := float64(fr.LayerByLayer.DRAMBytes)
	for _, r := range o.Plans {
		var name string
		switch r.Plan {
		case "depth-1", "layer-by-layer":
			name = "depth 1 (layer by layer)"
		case "best":
			name = "best mix of depths"
		case "cache":
			name = "depth 1 + activation cache"
		default:
			name = "depth " + strconv.Itoa(r.Depth)
		}
		fits := "yes"
		if !r.Fits {
			fits = "NO"
		}
		cyc, en := strconv.FormatInt(r.Cycles, 10), energyString(r.EnergyJ/float64(fr.Batch))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t\n", lab(name), bytesString(r.DRAMBytes/batch),
			ratioString(float64(r.DRAMBytes), lbl), bytesString(r.ModelDRAMBytes/batch), bytesString(r.LineBufferBytes),
			bytesString(r.SRAMBytes), fits, r.Segments, cyc, en)
	}
	tw.Flush()
	fmt.Fprintln(w, "best plan (depth-1 segments: layer by layer):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  layers\tdepth\tband rows\tbands\tline rows\tline buffers\thalo\tresident weights\tDRAM\tmodel DRAM\n")
	for _, s := range fr.Best.Segments {
		c := fr.Chains[s.Chain]
		names := c.Layers[s.First].Node
		if s.Depth > 1 {
			names += " .. " + c.Layers[s.First+s.Depth-1].Node
		}
		rows := "-"
		if len(s.LineRows) > 0 {
			rows = strings.Trim(strings.Join(strings.Fields(fmt.Sprint(s.LineRows)), ","), "[]")
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", names, s.Depth, s.BandRows, s.Bands, rows,
			bytesString(s.LineBufferBytes), bytesString(s.HaloBytes), bytesString(s.ResidentWeightsBytes),
			bytesString(s.DRAMBytes), bytesString(s.ModelDRAMBytes))
	}
	tw.Flush()
}

// sizeFlag formats bytes as a --sram value: 128KiB, 1MiB, or a byte count.
func sizeFlag(b int64) string {
	switch {
	case b > 0 && b%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", b>>20)
	case b > 0 && b%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", b>>10)
	}
	return strconv.FormatInt(b, 10)
}
