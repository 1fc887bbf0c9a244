package main

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/vggsim/vggsim/quant"
	"github.com/vggsim/vggsim/tensor"
)

func cmdQuant(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("quant", "MODEL [--weights train.pth] [--input calib.npy] [--bits 8] [--format table|json]",
		"Report, per fused layer, how well weights (and, given an input batch, activations)\nsurvive symmetric quantization: range, max|w|/std, and SQNR per tensor vs per output\nchannel, beside the BN-folded train-form branches. Layers whose per-tensor weight SQNR\nfalls below --threshold are flagged.", stderr)
	var mf modelFlags
	mf.register(fs, true)
	in := fs.String("input", "", "calibration batch `x.npy` (float32 NCHW) for activation statistics")
	bits := fs.Int("bits", 8, "quantization width in bits (4..16)")
	thr := fs.Float64("threshold", 30, "flag layers whose per-tensor weight SQNR is below this many dB")
	format := fs.String("format", "table", "output format: table or json")
	pos, code, ok := parseArgs(fs, args, 1, 1)
	if !ok {
		return code
	}
	if *bits < 4 || *bits > 16 {
		return fail(stderr, "quant", badInput(fmt.Errorf("--bits %d: want 4..16", *bits)))
	}
	if *format != "table" && *format != "json" {
		return fail(stderr, "quant", badInput(fmt.Errorf("--format %q: want table or json", *format)))
	}
	o, err := mf.options()
	if err != nil {
		return fail(stderr, "quant", badInput(err))
	}
	var x *tensor.Tensor
	if *in != "" {
		if x, err = readBatch(*in); err != nil {
			return fail(stderr, "quant", err)
		}
		o.InputH, o.InputW = x.Shape[2], x.Shape[3]
	}
	mf.form = "train"
	g, err := mf.load(pos[0], o)
	if err != nil {
		return fail(stderr, "quant", err)
	}
	r, err := quant.Analyze(g, x, quant.Options{Bits: *bits, ThresholdDB: *thr})
	if err != nil {
		return fail(stderr, "quant", badInput(err))
	}
	if *format == "json" {
		if err := writeJSON(stdout, jsonSafe(r)); err != nil {
			return fail(stderr, "quant", err)
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "layer\tbranch\tmin\tmax\tstd\tmax|w|/std\tSQNR/tensor dB\tSQNR/channel dB\tact SQNR/tensor dB\tflag\t\n")
	for _, l := range r.Layers {
		act, flag := "", ""
		if l.Activation != nil {
			act = db(l.Activation.SQNRTensorDB)
		}
		if l.Flagged {
			flag = "LOW"
		}
		s := l.Weights
		fmt.Fprintf(tw, "%s\tfused\t%.3g\t%.3g\t%.3g\t%.1f\t%s\t%s\t%s\t%s\t\n", l.Name, s.Min, s.Max, s.Std, s.MaxAbsOverSD, db(s.SQNRTensorDB), db(s.SQNRChanDB), act, flag)
		for _, b := range l.Branches {
			s := b.Stats
			fmt.Fprintf(tw, "\t%s\t%.3g\t%.3g\t%.3g\t%.1f\t%s\t%s\t\t\t\n", b.Name, s.Min, s.Max, s.Std, s.MaxAbsOverSD, db(s.SQNRTensorDB), db(s.SQNRChanDB))
		}
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%s: %d of %d layers below %.1f dB per-tensor weight SQNR at %d bits\n", r.Model, r.Flagged, len(r.Layers), r.ThresholdDB, r.Bits)
	return exitOK
}

func db(v float64) string {
	if math.IsInf(v, 1) {
		return "exact"
	}
	return fmt.Sprintf("%.1f", v)
}

// jsonSafe replaces +Inf SQNRs (exact quantization), which JSON cannot carry, by 999.
func jsonSafe(r *quant.Report) *quant.Report {
	fix := func(s *quant.Stats) {
		for _, p := range []*float64{&s.SQNRTensorDB, &s.SQNRChanDB} {
			if math.IsInf(*p, 1) {
				*p = 999
			}
		}
	}
	for i := range r.Layers {
		l := &r.Layers[i]
		fix(&l.Weights)
		if l.Activation != nil {
			fix(l.Activation)
		}
		for j := range l.Branches {
			fix(&l.Branches[j].Stats)
		}
	}
	return r
}
