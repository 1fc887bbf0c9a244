package main

import (
	"encoding/csv"
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
cycles and energy on --hw.

DRAM, cycles and energy are the simulator's (sim package, native engine): depth 1 is
exactly ` + "`vggsim memory MODEL --hw HW --sram 0`" + ` (layer by layer, no activation SRAM),
and the cache row exactly ` + "`vggsim memory MODEL --hw HW --sram BUDGET`" + `. The "model"
column is the fusion model's traffic with every byte moved once (no re-reads for tiling).
Formulas: docs/memory.md.`

// fusionRow is one plan of `vggsim fusion --format json|csv`.
type fusionRow struct {
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

// fusionOut is one model of `vggsim fusion --format json`.
type fusionOut struct {
	Model      string               `json:"model"`
	Form       string               `json:"form"`
	Input      [2]int               `json:"input"` // H, W
	Hardware   string               `json:"hardware"`
	Bits       int                  `json:"bits"`
	Batch      int                  `json:"batch"`
	SRAMBytes  int64                `json:"sram_bytes"`
	FloorBytes int64                `json:"floor_dram_bytes"`
	Plans      []fusionRow          `json:"plans"`
	Best       []memory.Segment     `json:"best_segments"`
	Chains     []memory.FusionChain `json:"chains"`

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
	fs.StringVar(&mf.sram, "sram", "", "on-chip `size` for line buffers and resident weights (default: the hardware's ifmap+ofmap SRAM, the activation SRAM of memory --hw)")
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
		in := g.Input().Shape
		out := &fusionOut{Model: fr.Model, Form: *form, Input: [2]int{in.H, in.W}, Hardware: fr.Hardware,
			Bits: fr.Bits, Batch: fr.Batch, SRAMBytes: budget, Chains: fr.Chains, Best: fr.Best.Segments,
			FloorBytes: fr.FloorBytes, arg: arg, hwBits: cfg.DataBits, report: fr}
		out.depths = fr.Depths[lo-1:]
		lbl := fr.LayerByLayer.DRAMBytes
		perImage := func(b int64) float64 { return float64(b) / float64(fr.Batch) }
		row := func(name string, p memory.FusionPlan) fusionRow {
			var lb int64
			for _, s := range p.Segments {
				lb = max(lb, s.LineBufferBytes)
			}
			return fusionRow{Model: fr.Model, Form: *form, Plan: name, Depth: p.Depth,
				DRAMBytesPerImage: perImage(p.DRAMBytes), DRAMBytes: p.DRAMBytes, SavedBytes: lbl - p.DRAMBytes,
				ModelDRAMBytesPerImage: perImage(p.ModelDRAMBytes), ModelDRAMBytes: p.ModelDRAMBytes,
				LineBufferBytes: lb, SRAMBytes: p.SRAMBytes, MinSRAMBytes: p.MinSRAMBytes,
				Fits: p.Fits, Segments: len(p.Segments), Cycles: p.Cost.Cycles, EnergyJ: p.Cost.EnergyJ}
		}
		if lo > 1 {
			out.Plans = append(out.Plans, row("layer-by-layer", fr.LayerByLayer))
		}
		for _, p := range out.depths {
			out.Plans = append(out.Plans, row(fmt.Sprintf("depth-%d", p.Depth), p))
		}
		out.Plans = append(out.Plans, row("best", fr.Best))
		c := fr.Cache
		out.Plans = append(out.Plans, fusionRow{Model: fr.Model, Form: *form, Plan: "cache",
			DRAMBytesPerImage: perImage(c.DRAMBytes), DRAMBytes: c.DRAMBytes, SavedBytes: lbl - c.DRAMBytes,
			ModelDRAMBytesPerImage: perImage(c.ModelDRAMBytes), ModelDRAMBytes: c.ModelDRAMBytes,
			SRAMBytes: budget, Fits: true, Cycles: c.Cost.Cycles, EnergyJ: c.Cost.EnergyJ})
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
	switch mf.format {
	case "json":
		if err := writeJSON(stdout, outs); err != nil {
			return fail(stderr, "fusion", err)
		}
	case "csv":
		cw := csv.NewWriter(stdout)
		cw.Write([]string{"model", "form", "plan", "depth", "dram_bytes_per_image", "saved_bytes", "model_dram_bytes_per_image",
			"line_buffer_bytes", "sram_bytes", "min_sram_bytes", "fits", "segments", "cycles", "energy_j"})
		f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
		for _, o := range outs {
			for _, r := range o.Plans {
				cw.Write([]string{r.Model, r.Form, r.Plan, strconv.Itoa(r.Depth), f(r.DRAMBytesPerImage),
					strconv.FormatInt(r.SavedBytes, 10), f(r.ModelDRAMBytesPerImage), strconv.FormatInt(r.LineBufferBytes, 10),
					strconv.FormatInt(r.SRAMBytes, 10), strconv.FormatInt(r.MinSRAMBytes, 10), strconv.FormatBool(r.Fits),
					strconv.Itoa(r.Segments), strconv.FormatInt(r.Cycles, 10), strconv.FormatFloat(r.EnergyJ, 'g', -1, 64)})
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
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
