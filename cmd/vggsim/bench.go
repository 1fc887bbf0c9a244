package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/vggsim/vggsim/bench"
	"github.com/vggsim/vggsim/codegen/kern"
)

// benchReport is the JSON of vggsim bench: the deploy form's result with the train
// form's median beside it (with --form both), or one form's result.
type benchReport struct {
	*bench.Result
	Form              string  `json:"form"`
	TrainFormMedianMs float64 `json:"train_form_median_ms,omitempty"`
	DeploySpeedup     float64 `json:"deploy_speedup,omitempty"`
}

func cmdBench(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench", "MODEL [--threads N] [--runs N] [--warmup N] [--form deploy|train|both] [--format table|json|csv] [--input-size H[xW]] [--algo auto|direct|winograd] [--tune]",
		"Time MODEL's generated code (vggsim build's kernels on the thread pool) on this CPU: median,\n"+
			"min and spread of --runs forwards after --warmup, GFLOP/s and % of the FMA peak measured\n"+
			"by a loop vggsim emits, per-layer time, algorithm and error vs the interpreter of the conv\n"+
			"layers (each run alone),\n"+
			"and with --form both the deploy form's speed-up over the train form. The output is\n"+
			"checked against the reference interpreter (relerr). Seeded random weights.", stdout, stderr)
	var mf modelFlags
	mf.register(fs, withSeed)
	var tf toolFlags
	tf.register(fs)
	threads := fs.Int("threads", 1, "pool `threads`")
	runs := fs.Int("runs", 20, "timed forwards")
	warmup := fs.Int("warmup", 3, "untimed forwards before them")
	layerRuns := fs.Int("layer-runs", 11, "times each conv layer is timed alone (0: skip per-layer times)")
	form := fs.String("form", "deploy", "model `form`: deploy, train or both")
	format := fs.String("format", "table", "output `format`: table, json or csv (a forward row, then one per conv layer)")
	pos, code, ok := parseArgs(fs, args, 1, 1)
	if !ok {
		return code
	}
	if err := checkFormat(*format, "table", "json", "csv"); err != nil {
		return fail(stderr, "bench", badInput(err))
	}
	if *form != "deploy" && *form != "train" && *form != "both" {
		return fail(stderr, "bench", badInput(fmt.Errorf("--form %q: want deploy, train or both", *form)))
	}
	if *threads < 1 || *runs < 1 || *warmup < 0 || *layerRuns < 0 {
		return fail(stderr, "bench", badInput(fmt.Errorf("--threads and --runs must be at least 1, --warmup at least 0")))
	}
	tc, err := tf.toolchain()
	if err != nil {
		return fail(stderr, "bench", err)
	}
	o, err := mf.options()
	if err != nil {
		return fail(stderr, "bench", badInput(err))
	}
	bar, stderr := startProgress("bench", stderr)
	defer bar.Stop()
	mf.log = stderr
	bar.Stage("measuring the FMA peak")
	dir, err := os.MkdirTemp("", "vggsim-peak-")
	if err != nil {
		return fail(stderr, "bench", err)
	}
	defer os.RemoveAll(dir)
	peak, err := bench.Peak(*threads, dir)
	if err != nil {
		return fail(stderr, "bench", codegenErr(err))
	}
	algo, err := kern.ParseAlgo(tf.algo)
	if err != nil {
		return fail(stderr, "bench", badInput(fmt.Errorf("--algo: %w", err)))
	}
	bo := bench.Options{Threads: *threads, Runs: *runs, Warmup: *warmup, LayerRuns: *layerRuns, Algo: algo, Tune: tf.tune}
	results := map[string]*bench.Result{}
	for _, f := range []string{"deploy", "train"} {
		if *form != f && *form != "both" {
			continue
		}
		mf.form = f
		bar.Stage("building and timing the " + f + " form")
		g, err := mf.load(pos[0], o)
		if err != nil {
			return fail(stderr, "bench", err)
		}
		lo := bo
		if f == "train" && *form == "both" {
			lo.LayerRuns = 0
		}
		r, err := bench.Run(g, tc, lo, peak)
		if err != nil {
			return fail(stderr, "bench", codegenErr(err))
		}
		results[f] = r
	}
	bar.Stop()
	rep := benchReport{Result: results["deploy"], Form: "deploy"}
	if rep.Result == nil {
		rep = benchReport{Result: results["train"], Form: "train"}
	}
	if t := results["train"]; t != nil {
		rep.TrainFormMedianMs = t.MedianMs
		if rep.Form == "deploy" {
			rep.DeploySpeedup = t.MedianMs / rep.MedianMs
		}
	}
	if *format == "json" {
		if err := writeJSON(stdout, rep); err != nil {
			return fail(stderr, "bench", err)
		}
		return exitOK
	}
	r := rep.Result
	if *format == "csv" {
		if err := writeBenchCSV(stdout, rep); err != nil {
			return fail(stderr, "bench", err)
		}
		return exitOK
	}
	fmt.Fprintf(stdout, "%s (%s form), %d thread(s), %d runs after %d warm-up\n", r.Model, rep.Form, r.Threads, len(r.TimesMs), *warmup)
	fmt.Fprintf(stdout, "  median %.3f ms, min %.3f ms, spread (p10-p90) %.1f%%\n", r.MedianMs, r.MinMs, r.SpreadPct)
	fmt.Fprintf(stdout, "  %.2f GMAC: %.1f GFLOP/s, %.1f%% of the measured FMA peak (%.1f GFLOP/s)\n", float64(r.MACs)/1e9, r.GFlops, r.PctPeak, r.PeakGFlops)
	fmt.Fprintf(stdout, "  output vs interp: relative error %.2g\n", r.RelErr)
	if rep.TrainFormMedianMs > 0 && rep.DeploySpeedup > 0 {
		fmt.Fprintf(stdout, "  train form median %.3f ms: deploy is %.2fx faster\n", rep.TrainFormMedianMs, rep.DeploySpeedup)
	}
	fmt.Fprintf(stdout, "\n  %-28s %-10s %9s %9s %7s %8s  %s\n", "layer", "algorithm", "ms alone", "GFLOP/s", "% peak", "relerr", "kernel")
	for _, l := range r.Layers {
		ms, gf, pct, re := "-", "-", "-", "-"
		if l.Ms > 0 {
			ms, gf, pct = fmt.Sprintf("%.3f", l.Ms), fmt.Sprintf("%.1f", l.GFlops), fmt.Sprintf("%.1f", 100*l.GFlops/r.PeakGFlops)
		}
		if l.RelErr != nil {
			re = fmt.Sprintf("%.1e", *l.RelErr)
		}
		kernel := l.Kernel
		if l.Timed != "" {
			kernel += " (" + l.Timed + " alone: the fused add is not timed)"
		}
		fmt.Fprintf(stdout, "  %-28s %-10s %9s %9s %7s %8s  %s\n", l.Name, l.Family, ms, gf, pct, re, kernel)
	}
	return exitOK
}

// writeBenchCSV writes the whole forward as a row named "forward" (median time), then one
// row per conv layer timed alone (empty times when it was not).
func writeBenchCSV(w io.Writer, rep benchReport) error {
	r := rep.Result
	cw := csv.NewWriter(w)
	cw.Write([]string{"model", "form", "threads", "layer", "algorithm", "kernel", "macs", "ms", "gflops", "pct_peak", "relerr"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	head := []string{r.Model, rep.Form, strconv.Itoa(r.Threads)}
	cw.Write(append(head, "forward", "", "", strconv.FormatInt(r.MACs, 10), f(r.MedianMs), f(r.GFlops), f(r.PctPeak), f(r.RelErr)))
	for _, l := range r.Layers {
		ms, gf, pct, re := "", "", "", ""
		if l.Ms > 0 {
			ms, gf, pct = f(l.Ms), f(l.GFlops), f(100*l.GFlops/r.PeakGFlops)
		}
		if l.RelErr != nil {
			re = f(*l.RelErr)
		}
		cw.Write(append(head, l.Name, l.Family, l.Kernel, strconv.FormatInt(l.MACs, 10), ms, gf, pct, re))
	}
	cw.Flush()
	return cw.Error()
}
