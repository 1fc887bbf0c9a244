package sweep

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vggsim/vggsim/sim"
)

// Options controls a run of a study.
type Options struct {
	// Output is the results file, written as points finish (in point order, flushed), then
	// rewritten atomically with the Pareto column filled. "" writes only the final table,
	// to Stdout.
	Output string
	Stdout io.Writer
	// Format is the encoding when Output is ""; with a file, its name decides (FormatOf).
	Format Format
	// Jobs is the number of points simulated at once; 0 means GOMAXPROCS.
	Jobs int
	// Shard and Shards select every Shards-th point starting at Shard (0-based); Shards 0
	// or 1 runs everything.
	Shard, Shards int
	// Resume keeps the rows already in Output and runs only the missing points.
	Resume bool
	// Progress, when not nil, is told how the run advances.
	Progress *Progress
}

// Summary counts a run's points.
type Summary struct {
	Grid     int // points in the full grid
	Dropped  int // removed by the constraints
	Selected int // in this shard
	Resumed  int // already in the output file
	Ran      int // simulated now
	Failed   int // simulated now with a status other than ok (bad hardware, model errors)
	// LayerSims counts the layers of the networks run: per point, the layers of the
	// network at the chosen activation budget, repeats included.
	LayerSims int64
	// EngineLayerSims counts the layer simulations the engines actually ran: per point, the
	// distinct layers of the budgets searched, less those of budgets skipped as unable to
	// win (sim.Engine.Best).
	EngineLayerSims int64
	Elapsed         time.Duration
}

// Columns returns the header of the study's results: point, model, form, input, batch,
// the swept fields, status, the metrics, pes, sram_bytes, area_mm2 and the pareto column.
func (s *Study) Columns() []string {
	cols := slices.Clone(leadColumns)
	for _, f := range s.AxisFields() {
		cols = append(cols, f.Path)
	}
	cols = append(cols, tailColumns...)
	return append(cols, paretoColumn(s.Objectives, s.Front))
}

// keyCells returns the cells that identify a point: lead columns and swept values.
func (s *Study) keyCells(p Point, ws []Workload) []string {
	var b rowBuilder
	s.appendKey(&b, p, ws)
	return b.row()
}

// appendKey appends the cells that identify a point to b.
func (s *Study) appendKey(b *rowBuilder, p Point, ws []Workload) {
	w := ws[p.Workload]
	name := w.Model.Path
	if name != w.Model.Arg && w.Model.Path != "" && (isIRPath(w.Model.Arg) || strings.ContainsAny(w.Model.Arg, `/\.`)) {
		name = w.Model.Arg // a file: as the study names it, not the resolved path
	}
	b.int(int64(p.Index))
	b.str(name)
	b.str(w.Form)
	b.str(w.inputText())
	b.int(int64(w.Batch))
	for _, v := range p.Values {
		if v.Str != "" {
			b.str(v.Str)
		} else {
			b.float(v.Num)
		}
	}
}

// rowBuilder builds a row's cells in one buffer that becomes one string, the cells its
// slices: two allocations per row whatever its width.
type rowBuilder struct {
	buf  []byte
	ends []int
}

func (b *rowBuilder) str(s string) { b.buf = append(b.buf, s...); b.ends = append(b.ends, len(b.buf)) }
func (b *rowBuilder) int(v int64) {
	b.buf = strconv.AppendInt(b.buf, v, 10)
	b.ends = append(b.ends, len(b.buf))
}
func (b *rowBuilder) float(v float64) {
	b.buf = strconv.AppendFloat(b.buf, v, 'g', -1, 64)
	b.ends = append(b.ends, len(b.buf))
}

// row returns the cells built so far and empties b for the next row.
func (b *rowBuilder) row() []string {
	all := string(b.buf)
	cells := make([]string, len(b.ends))
	start := 0
	for i, e := range b.ends {
		cells[i] = all[start:e]
		start = e
	}
	b.buf, b.ends = b.buf[:0], b.ends[:0]
	return cells
}

// Run simulates the study's points (or one shard of them) and returns the finished
// table. See Options for output, resuming and sharding.
func Run(s *Study, opts Options) (*Table, *Summary, error) {
	start := time.Now()
	all, dropped := s.Points()
	pts := all
	if opts.Shards > 1 {
		pts = Shard(all, opts.Shard, opts.Shards)
	}
	sum := &Summary{Dropped: dropped, Grid: len(all) + dropped, Selected: len(pts)}
	ws := s.Workloads()
	t := &Table{Columns: s.Columns()}

	// Resume: keep the finished rows that belong to this study and shard.
	done := map[int]bool{}
	var appendAt int64 = -1
	if opts.Resume && opts.Output != "" {
		old, complete, err := ReadTable(opts.Output)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, nil, fmt.Errorf("resume: %w", err)
		case !slices.Equal(old.Columns[:len(old.Columns)-1], t.Columns[:len(t.Columns)-1]):
			return nil, nil, fmt.Errorf("resume: %s has columns %s, this study writes %s", opts.Output,
				strings.Join(old.Columns, ","), strings.Join(t.Columns, ","))
		default:
			byIndex := make(map[int]Point, len(pts))
			for _, p := range pts {
				byIndex[p.Index] = p
			}
			for _, r := range old.Rows {
				i, _ := strconv.Atoi(r[0])
				p, ok := byIndex[i]
				key := s.keyCells(p, ws)
				if !ok || !slices.Equal(r[:len(key)], key) {
					return nil, nil, fmt.Errorf("resume: %s: point %s is not this study's (or this shard's) point %d; was it written by another study?", opts.Output, r[0], i)
				}
				if done[i] {
					return nil, nil, fmt.Errorf("resume: %s: point %d appears twice", opts.Output, i)
				}
				done[i] = true
				r[len(r)-1] = ""
				t.Rows = append(t.Rows, r)
			}
			appendAt = complete
		}
	}
	sum.Resumed = len(done)
	var todo []Point
	for _, p := range pts {
		if !done[p.Index] {
			todo = append(todo, p)
		}
	}

	// The streaming writer.
	var tw *tableWriter
	if opts.Output != "" {
		f, err := os.OpenFile(opts.Output, os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			return nil, nil, err
		}
		defer f.Close()
		if appendAt < 0 {
			appendAt = 0
		}
		if err := f.Truncate(appendAt); err != nil {
			return nil, nil, err
		}
		if _, err := f.Seek(appendAt, io.SeekStart); err != nil {
			return nil, nil, err
		}
		tw = newTableWriter(f, FormatOf(opts.Output), t.Columns)
		if appendAt == 0 {
			if err := tw.header(); err != nil {
				return nil, nil, err
			}
		}
		// Rows kept from the file are rewritten only at the end; a file cut mid-run
		// is truncated to its whole lines above.
		if err := tw.flush(); err != nil {
			return nil, nil, err
		}
	}

	// The workloads with work to do, built once.
	sims := make([]*workloadSim, len(ws))
	simErr := make([]error, len(ws))
	for _, p := range todo {
		if sims[p.Workload] == nil && simErr[p.Workload] == nil {
			sims[p.Workload], simErr[p.Workload] = newWorkloadSim(ws[p.Workload])
		}
	}

	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	jobs = max(1, min(jobs, len(todo)))
	rows := make([][]string, len(todo))
	chunk := max(1, min(maxChunk, len(todo)/(8*jobs)))
	ready := make(chan [2]int, 4096) // finished runs of points: todo[lo:hi]
	var next atomic.Int64
	var layerSims, engineSims atomic.Int64
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			var e sim.Engine // worker-local scratch
			defer func() { engineSims.Add(e.LayerSims()); wg.Done() }()
			var b rowBuilder
			for {
				k0 := int(next.Add(int64(chunk)) - int64(chunk))
				if k0 >= len(todo) {
					return
				}
				hi := min(k0+chunk, len(todo))
				var n int64
				for k := k0; k < hi; k++ {
					p := todo[k]
					row, nk := s.evalPoint(&e, &b, p, ws, sims[p.Workload], simErr[p.Workload])
					n += int64(nk)
					rows[k] = row
				}
				layerSims.Add(n)
				ready <- [2]int{k0, hi}
			}
		}()
	}
	go func() { wg.Wait(); close(ready) }()
	if opts.Progress != nil {
		opts.Progress.start(len(todo), len(pts))
	}
	statusCol := len(leadColumns) + len(s.AxisFields())
	have := make([]bool, len(todo))
	written := 0
	var werr error
	for {
		run, ok := <-ready
		if !ok {
			break
		}
		markHave(have, run)
		// Drain whatever else is ready, then write the rows now in order and flush.
	drain:
		for {
			select {
			case run2, ok2 := <-ready:
				if !ok2 {
					break drain
				}
				markHave(have, run2)
			default:
				break drain
			}
		}
		for written < len(todo) && have[written] {
			if rows[written][statusCol] != "ok" {
				sum.Failed++
			}
			if tw != nil && werr == nil {
				werr = tw.row(rows[written])
			}
			written++
		}
		if tw != nil && werr == nil {
			werr = tw.flush()
		}
		if opts.Progress != nil {
			opts.Progress.set(written)
		}
	}
	if opts.Progress != nil {
		opts.Progress.finish()
	}
	if werr != nil {
		return nil, nil, werr
	}
	sum.Ran = len(todo)
	sum.LayerSims = layerSims.Load()
	sum.EngineLayerSims = engineSims.Load()
	t.Rows = append(t.Rows, rows...)
	if err := t.markPareto(); err != nil {
		return nil, nil, err
	}
	if opts.Output != "" {
		if err := t.WriteFile(opts.Output); err != nil {
			return nil, nil, err
		}
	} else if opts.Stdout != nil {
		if err := t.Write(opts.Stdout, opts.Format); err != nil {
			return nil, nil, err
		}
	}
	sum.Elapsed = time.Since(start)
	return t, sum, nil
}

// markHave marks the points todo[run[0]:run[1]] finished.
func markHave(have []bool, run [2]int) {
	for k := run[0]; k < run[1]; k++ {
		have[k] = true
	}
}

// maxChunk is the most consecutive points a worker takes at a time: neighbouring points
// differ in the fastest-turning axes only, so a worker that simulates them one after another
// reuses the mapspaces its engine kept (sim.Engine) instead of each worker seeing every
// other point, and the writer wakes once per run of points. Small runs take fewer, so every
// worker still gets about 8 runs.
const maxChunk = 16

// evalPoint simulates one point and returns its row (the pareto cell empty) and the
// number of layers simulated.
func (s *Study) evalPoint(e *sim.Engine, b *rowBuilder, p Point, ws []Workload, wsim *workloadSim, buildErr error) ([]string, int) {
	s.appendKey(b, p, ws)
	cfg := s.Config(p)
	blank := func(status string) []string {
		b.str(status)
		for range len(tailColumns) {
			b.str("")
		}
		return b.row()
	}
	if buildErr != nil {
		return blank(oneLine(buildErr)), 0
	}
	if err := cfg.Validate(); err != nil {
		return blank("invalid hardware: " + oneLine(err)), 0
	}
	m, n, err := wsim.simulate(e, cfg)
	if err != nil {
		return blank(oneLine(err)), n
	}
	b.str("ok")
	b.int(m.MACs)
	b.int(m.Cycles)
	b.int(m.StallCycles)
	b.float(m.LatencyS)
	b.float(m.ThroughputIPS)
	b.float(m.Utilization)
	b.float(m.EnergyPerImageJ)
	b.float(m.DRAMBytesPerImage)
	b.int(int64(cfg.PEs()))
	b.int(cfg.SRAMBytes())
	b.float(s.Area.Of(cfg))
	b.str("")
	return b.row(), n
}

// oneLine joins a multi-line error into one line.
func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }
