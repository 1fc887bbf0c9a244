package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/vggsim/vggsim/internal/progress"
	"github.com/vggsim/vggsim/sweep"
)

func cmdSweep(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "merge" {
		return cmdSweepMerge(args[1:], stdout, stderr)
	}
	fs := newFlagSet("sweep", "STUDY.yaml [-o results.csv|.jsonl] [--resume] [--shard i/n] [--jobs N] [--format csv|jsonl] [--quiet]\n       vggsim sweep merge PART... -o results.csv [--pareto latency,energy]",
		"Run a what-if study (docs/studies/README.md): every combination of the study's models and\nhardware axes that passes its constraints, simulated in this process on all cores. Rows are\nwritten to -o in point order as points finish (flushed, so a kill loses nothing written);\nat the end the file is rewritten with the Pareto front marked. --resume skips the points\nalready in -o. --shard i/n runs every n-th point from the i-th (0-based), for a batch\nsystem's array job; `vggsim sweep merge` joins the parts. Progress goes to stderr.", stdout, stderr)
	out := fs.String("o", "", "results `file` (.csv, or .jsonl for JSON Lines); without it (or with -) the table goes to stdout at the end")
	format := fs.String("format", "", "`format` of stdout: csv or jsonl (default csv; with -o the name decides)")
	resume := fs.Bool("resume", false, "keep the rows already in -o and run only the missing points")
	shard := fs.String("shard", "", "run shard `i/n` only (0 ≤ i < n)")
	jobs := fs.Int("jobs", 0, "points simulated at once (default: all cores)")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	var pf plotFlags
	pf.register(fs)
	pos, code, ok := parseArgs(fs, args, 1, 1)
	if !ok {
		return code
	}
	if *out == stdoutPath { // the table to stdout, as without -o
		*out = ""
	}
	opts := sweep.Options{Output: *out, Stdout: stdout, Jobs: *jobs, Resume: *resume}
	switch *format {
	case "", "csv":
	case "jsonl":
		opts.Format = sweep.JSONL
	default:
		return fail(stderr, "sweep", badInput(fmt.Errorf("--format %q: want csv or jsonl", *format)))
	}
	if *format != "" && *out != "" {
		return fail(stderr, "sweep", badInput(errors.New("--format is for stdout; with -o the file name (.csv, .jsonl) decides")))
	}
	if *resume && *out == "" {
		return fail(stderr, "sweep", badInput(errors.New("--resume needs -o, the file to resume")))
	}
	if *jobs < 0 {
		return fail(stderr, "sweep", badInput(fmt.Errorf("--jobs %d: want ≥ 0", *jobs)))
	}
	if *shard != "" {
		i, n, err := sweep.ParseShard(*shard)
		if err != nil {
			return fail(stderr, "sweep", badInput(err))
		}
		opts.Shard, opts.Shards = i, n
	}
	st, err := sweep.Load(pos[0])
	if err != nil {
		return fail(stderr, "sweep", badInput(err))
	}
	if !*quiet {
		opts.Progress = &sweep.Progress{W: stderr, TTY: isTerminal(stderr)}
	}
	if err := pf.check(st.Columns()); err != nil {
		return fail(stderr, "sweep", badInput(err))
	}
	tab, sum, err := sweep.Run(st, opts)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || strings.HasPrefix(err.Error(), "resume:") {
			return fail(stderr, "sweep", badInput(err))
		}
		return fail(stderr, "sweep", err)
	}
	if err := pf.draw(tab); err != nil {
		return fail(stderr, "sweep", err)
	}
	if !*quiet {
		sec := max(sum.Elapsed.Seconds(), 1e-9)
		fmt.Fprintf(stderr, "sweep: %s: %d points (%d dropped by constraints), %d in this run, %d resumed, %d failed; %d network layers in %s (%.0f/s), %d layer simulations run by the engine (%.0f/s)\n",
			st.Name, sum.Selected, sum.Dropped, sum.Ran, sum.Resumed, sum.Failed, sum.LayerSims, sum.Elapsed.Round(1e6),
			float64(sum.LayerSims)/sec, sum.EngineLayerSims, float64(sum.EngineLayerSims)/sec)
	}
	return exitOK
}

func cmdSweepMerge(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sweep merge", "PART... -o results.csv [--pareto latency,energy]",
		"Join the results files of a study's shards (vggsim sweep --shard i/n) into one, in point\norder, with the Pareto front recomputed over all points (over --pareto's objectives, else the\nstudy's). Merging every shard gives the unsharded run's file byte for byte.", stdout, stderr)
	out := fs.String("o", "", "merged results `file` (.csv or .jsonl); without it (or with -) CSV goes to stdout")
	pareto := fs.String("pareto", "", "comma-separated `objectives`: "+strings.Join(sweep.ObjectiveNames(), ", "))
	var pf plotFlags
	pf.register(fs)
	pos, code, ok := parseArgs(fs, args, 1, -1)
	if !ok {
		return code
	}
	var objs []sweep.Objective
	if *pareto != "" {
		for _, n := range strings.Split(*pareto, ",") {
			o, err := sweep.LookupObjective(strings.TrimSpace(n))
			if err != nil {
				return fail(stderr, "sweep merge", badInput(fmt.Errorf("--pareto: %w", err)))
			}
			objs = append(objs, o)
		}
	}
	t, err := sweep.Merge(pos, objs)
	if err != nil {
		return fail(stderr, "sweep merge", badInput(err))
	}
	if err := pf.check(t.Columns); err != nil {
		return fail(stderr, "sweep merge", badInput(err))
	}
	if err := pf.draw(t); err != nil {
		return fail(stderr, "sweep merge", err)
	}
	if *out == "" || *out == stdoutPath {
		err = t.Write(stdout, sweep.CSV)
	} else {
		err = t.WriteFile(*out)
	}
	if err != nil {
		return fail(stderr, "sweep merge", err)
	}
	return exitOK
}

// isTerminal reports whether w is a character device (a terminal), where the progress bar
// redraws in place.
func isTerminal(w io.Writer) bool { return progress.IsTerminal(w) }

// plotFlags are the chart flags of sweep and sweep merge.
type plotFlags struct {
	scatter, x, y      string
	line, lineX, lineY string
}

func (p *plotFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.scatter, "plot", "", "objectives scatter with the Pareto front, to `file` (.svg, .png, .pdf)")
	fs.StringVar(&p.x, "plot-x", "", "x `column` of --plot (default the first objective's)")
	fs.StringVar(&p.y, "plot-y", "", "y `column` of --plot (default the second objective's)")
	fs.StringVar(&p.line, "line", "", "a metric against one swept field, one line per model, to `file`")
	fs.StringVar(&p.lineX, "line-x", "", "the swept `field` of --line (default the first axis)")
	fs.StringVar(&p.lineY, "line-y", "", "the metric `column` of --line (default the first objective's)")
}

// check fills the defaults from the results' columns and rejects unknown columns.
func (p *plotFlags) check(cols []string) error {
	last := cols[len(cols)-1]
	objs := strings.Split(strings.TrimSuffix(strings.TrimPrefix(last, "pareto:"), "/all"), "+")
	col := func(name string) string {
		o, err := sweep.LookupObjective(name)
		if err != nil {
			return name
		}
		return o.Column
	}
	if p.x == "" {
		p.x = col(objs[0])
	}
	if p.y == "" {
		p.y = "area_mm2"
		if len(objs) > 1 {
			p.y = col(objs[1])
		}
	}
	if p.lineY == "" {
		p.lineY = col(objs[0])
	}
	if p.lineX == "" {
		if i := slices.Index(cols, "status"); i > 5 {
			p.lineX = cols[5]
		} else if p.line != "" {
			return errors.New("--line: the study sweeps no hardware field")
		}
	}
	for _, c := range []string{p.x, p.y, p.lineX, p.lineY} {
		if p.scatter+p.line != "" && !slices.Contains(cols, c) {
			return fmt.Errorf("plot: no column %q; columns: %s", c, strings.Join(cols, ", "))
		}
	}
	return nil
}

func (p *plotFlags) draw(t *sweep.Table) error {
	if p.scatter != "" {
		if err := t.PlotScatter(p.x, p.y, p.scatter); err != nil {
			return err
		}
	}
	if p.line != "" {
		return t.PlotLines(p.lineX, p.lineY, p.line)
	}
	return nil
}
