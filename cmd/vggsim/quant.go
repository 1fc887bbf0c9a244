package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/vggsim/vggsim/checkpoint"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/onnx"
	"github.com/vggsim/vggsim/quant"
	"github.com/vggsim/vggsim/tensor"
)

func cmdQuant(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("quant", "MODEL [--weights train.pth] [--input calib.npy] [--bits 8] [--threshold 30] [--format table|json|csv]",
		`Report, per fused layer, how well weights (and, given an input batch, activations)
survive symmetric quantization: range, std, max|w|/std, and SQNR per tensor vs per output
channel, beside the BN-folded train-form branches (dense, 1x1, identity). "widen" is the
fused kernel's span (max-min) over the widest branch's; "loss" the worst branch's
per-tensor SQNR minus the fused kernel's. Layers whose per-tensor SQNR of weights or
activations falls below --threshold are flagged.

A deploy-form checkpoint is analyzed as well, without the branches. In JSON, an exact
quantization (SQNR +Inf) is written as 999. --format csv has one row per fused layer (branch
"fused", or "-" for a layer without branches) followed by one per branch, with the JSON
names as columns; an exact SQNR is "inf".`, stdout, stderr)
	var mf modelFlags
	mf.register(fs, withWeights|withSeed)
	in := fs.String("input", "", "calibration batch `x.npy` (float32 NCHW) for activation statistics; sets the input size")
	bits := fs.Int("bits", 8, "quantization width in bits (4..16)")
	thr := fs.Float64("threshold", 30, "flag layers whose per-tensor weight or activation SQNR is below this many dB")
	format := fs.String("format", "table", "output `format`: table, json or csv")
	pos, code, ok := parseArgs(fs, args, 1, 1)
	if !ok {
		return code
	}
	if *bits < 4 || *bits > 16 {
		return fail(stderr, "quant", badInput(fmt.Errorf("--bits %d: want 4..16", *bits)))
	}
	if err := checkFormat(*format, "table", "json", "csv"); err != nil {
		return fail(stderr, "quant", badInput(err))
	}
	if math.IsNaN(*thr) || math.IsInf(*thr, 0) {
		return fail(stderr, "quant", badInput(fmt.Errorf("--threshold %v: want a number of dB", *thr)))
	}
	o, err := mf.options()
	if err != nil {
		return fail(stderr, "quant", badInput(err))
	}
	bar, stderr := startProgress("quant", stderr)
	defer bar.Stop()
	mf.log = stderr
	bar.Stage("loading")
	var x *tensor.Tensor
	if *in != "" {
		if x, err = readBatch(*in); err != nil {
			return fail(stderr, "quant", err)
		}
		o.InputH, o.InputW = x.Shape[2], x.Shape[3]
	}
	g, err := loadNativeForm(&mf, pos[0], o)
	if err != nil {
		return fail(stderr, "quant", err)
	}
	if x != nil {
		if c := g.Input().Shape.C; c != x.Shape[1] {
			return fail(stderr, "quant", badInput(fmt.Errorf("%s has %d channels, %s wants %d", *in, x.Shape[1], g.Name, c)))
		}
	}
	r, err := quant.Analyze(g, x, quant.Options{Bits: *bits, ThresholdDB: *thr, Progress: bar.Set})
	if err != nil {
		return fail(stderr, "quant", badInput(err))
	}
	bar.Stop()
	if *format == "json" {
		if err := writeJSON(stdout, jsonSafe(r)); err != nil {
			return fail(stderr, "quant", err)
		}
		return exitOK
	}
	if *format == "csv" {
		if err := writeQuantCSV(stdout, r); err != nil {
			return fail(stderr, "quant", err)
		}
		return exitOK
	}
	writeQuantTable(stdout, r)
	return exitOK
}

// loadNativeForm builds MODEL in the form of its --weights (train or deploy, as the keys
// say) and binds them, or takes an ONNX model's own weights, or builds the train form with
// seeded random weights.
func loadNativeForm(mf *modelFlags, arg string, o models.Options) (*ir.Graph, error) {
	if mf.weights == "" && onnx.IsPath(arg) {
		g, err := models.LoadONNX(arg, o)
		return g, badInput(err)
	}
	if mf.weights == "" {
		g, err := models.Resolve(arg, o)
		if err != nil {
			return nil, badInput(err)
		}
		if err := models.CheckBudget(g, 1); err != nil { // before allocating the weights
			return nil, badInput(err)
		}
		mf.randomNotice(g.Name)
		models.InitWeights(g, mf.seed)
		return g, nil
	}
	sd, err := checkpoint.Load(mf.weights)
	if err != nil {
		return nil, badInput(err)
	}
	g, _, err := bindForm(arg, o, sd, mf.weights)
	return g, err
}

// writeQuantTable prints r as a table: one "fused" row per layer, then its branches.
func writeQuantTable(w io.Writer, r *quant.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "layer\tbranch\tmin\tmax\tstd\tmax|w|/std\twiden\tloss dB\tSQNR/tensor dB\tSQNR/channel dB\tact max\tact SQNR/tensor dB\tact SQNR/channel dB\tflag\t\n")
	for _, l := range r.Layers {
		widen, loss, actMax, actT, actC, flag := "", "", "", "", "", ""
		if l.Widening > 0 {
			widen, loss = fmt.Sprintf("%.2fx", l.Widening), fmt.Sprintf("%.1f", l.SQNRLossDB)
		}
		if a := l.Activation; a != nil {
			actMax, actT, actC = fmt.Sprintf("%.3g", a.Max), db(a.SQNRTensorDB), db(a.SQNRChanDB)
		}
		if l.Flagged {
			flag = "LOW " + strings.Join(l.FlaggedBy, "+")
		}
		kind := "fused"
		if len(l.Branches) == 0 {
			kind = "-"
		}
		s := l.Weights
		fmt.Fprintf(tw, "%s\t%s\t%.3g\t%.3g\t%.3g\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", l.Name, kind, s.Min, s.Max, s.Std, s.MaxAbsOverSD, widen, loss,
			db(s.SQNRTensorDB), db(s.SQNRChanDB), actMax, actT, actC, flag)
		for _, b := range l.Branches {
			s := b.Stats
			fmt.Fprintf(tw, "\t%s\t%.3g\t%.3g\t%.3g\t%.1f\t\t\t%s\t%s\t\t\t\t\t\n", b.Name, s.Min, s.Max, s.Std, s.MaxAbsOverSD, db(s.SQNRTensorDB), db(s.SQNRChanDB))
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "%s: %d of %d layers below %.1f dB per-tensor SQNR at %d bits\n", r.Model, r.Flagged, len(r.Layers), r.ThresholdDB, r.Bits)
}

// quantCSVHeader are the columns of `vggsim quant --format csv`, named as in its JSON.
var quantCSVHeader = []string{"layer", "branch", "min", "max", "std", "max_abs_over_std", "range_widening", "sqnr_loss_db",
	"sqnr_per_tensor_db", "sqnr_per_channel_db", "activation_max", "activation_sqnr_per_tensor_db", "activation_sqnr_per_channel_db", "flagged_by"}

// writeQuantCSV writes the report with one row per layer and one per branch.
func writeQuantCSV(w io.Writer, r *quant.Report) error {
	cw := csv.NewWriter(w)
	cw.Write(quantCSVHeader)
	f := func(v float64) string {
		if math.IsInf(v, 1) {
			return "inf"
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	stats := func(s quant.Stats) []string {
		return []string{f(s.Min), f(s.Max), f(s.Std), f(s.MaxAbsOverSD)}
	}
	for _, l := range r.Layers {
		kind := "fused"
		if len(l.Branches) == 0 {
			kind = "-"
		}
		widen, loss, actMax, actT, actC := "", "", "", "", ""
		if l.Widening > 0 {
			widen, loss = f(l.Widening), f(l.SQNRLossDB)
		}
		if a := l.Activation; a != nil {
			actMax, actT, actC = f(a.Max), f(a.SQNRTensorDB), f(a.SQNRChanDB)
		}
		rec := append([]string{l.Name, kind}, stats(l.Weights)...)
		rec = append(rec, widen, loss, f(l.Weights.SQNRTensorDB), f(l.Weights.SQNRChanDB), actMax, actT, actC, strings.Join(l.FlaggedBy, "+"))
		cw.Write(rec)
		for _, b := range l.Branches {
			rec := append([]string{l.Name, b.Name}, stats(b.Stats)...)
			cw.Write(append(rec, "", "", f(b.Stats.SQNRTensorDB), f(b.Stats.SQNRChanDB), "", "", "", ""))
		}
	}
	cw.Flush()
	return cw.Error()
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
