package sweep

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/vggsim/vggsim/chart"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The plots here are built on the chart package (palette, markers, log axes, legend below
// the plot, fonts embedded in SVG, atomic saves by extension).

// column returns the float values of a column for the rows with status ok, and the rows.
func (t *Table) floats(name string) ([]float64, []int, error) {
	c := t.col(name)
	if c < 0 {
		return nil, nil, fmt.Errorf("no column %q; columns: %s", name, strings.Join(t.Columns, ", "))
	}
	st := t.col("status")
	var xs []float64
	var rows []int
	for i, r := range t.Rows {
		if r[st] != "ok" {
			continue
		}
		v, err := strconv.ParseFloat(r[c], 64)
		if err != nil {
			return nil, nil, fmt.Errorf("point %s: %s %q is not a number", r[0], name, r[c])
		}
		xs = append(xs, v)
		rows = append(rows, i)
	}
	return xs, rows, nil
}

// workloadLabel names a row's workload: "RepVGG-A0 deploy", with the input and batch when
// the table has more than one of them.
func (t *Table) workloadLabel(r []string, multiIn, multiBatch bool) string {
	s := r[1] + " " + r[2]
	if multiIn {
		s += " " + r[3]
	}
	if multiBatch {
		s += " b" + r[4]
	}
	return s
}

func (t *Table) groups() (labels []string, byRow map[int]string) {
	ins, bs := map[string]bool{}, map[string]bool{}
	for _, r := range t.Rows {
		ins[r[3]], bs[r[4]] = true, true
	}
	byRow = map[int]string{}
	for i, r := range t.Rows {
		l := t.workloadLabel(r, len(ins) > 1, len(bs) > 1)
		if !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
		byRow[i] = l
	}
	return labels, byRow
}

// newChart returns a chart in the chart package's style, its axes logarithmic where the
// values span 8× or more (xs, ys: every value drawn).
func newChart(title, x, y string, xs, ys []float64) *chart.Chart {
	c := chart.New(title, x, y)
	if spans(xs) {
		lo, hi := logRange(xs)
		chart.LogAxis(&c.Plot.X, lo, hi)
	}
	if spans(ys) {
		lo, hi := logRange(ys)
		chart.LogAxis(&c.Plot.Y, lo, hi)
	}
	return c
}

// logRange returns the range of a log axis over positive values v, with a margin.
func logRange(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), 0
	for _, x := range v {
		if x > 0 {
			lo, hi = min(lo, x), max(hi, x)
		}
	}
	return lo / 1.25, hi * 1.25
}

// PlotScatter draws every ok point of the table in the plane of two columns (x, y), one
// colour per workload, the points on the Pareto front drawn large (the front may be over
// more objectives than the two drawn); saved to
// path (.svg, .png, .pdf by extension). Log axes when the values span 8× or more.
func (t *Table) PlotScatter(x, y, path string) error {
	xs, rows, err := t.floats(x)
	if err != nil {
		return err
	}
	ys, _, err := t.floats(y)
	if err != nil {
		return err
	}
	labels, byRow := t.groups()
	c := newChart(fmt.Sprintf("%s vs %s (large: Pareto front)", y, x), x, y, xs, ys)
	p := c.Plot
	pc := len(t.Columns) - 1
	for gi, l := range labels {
		var all, front plotter.XYs
		for k, ri := range rows {
			if byRow[ri] != l {
				continue
			}
			all = append(all, plotter.XY{X: xs[k], Y: ys[k]})
			if t.Rows[ri][pc] == "true" {
				front = append(front, plotter.XY{X: xs[k], Y: ys[k]})
			}
		}
		if len(all) == 0 {
			continue
		}
		col := chart.Color(gi)
		s, err := plotter.NewScatter(all)
		if err != nil {
			return err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: chart.Faded(col, 0.35), Radius: vg.Points(1.6), Shape: draw.CircleGlyph{}}
		p.Add(s)
		if len(front) > 0 {
			slices.SortFunc(front, func(a, b plotter.XY) int { return cmpF(a.X, b.X) })
			f, err := plotter.NewScatter(front)
			if err != nil {
				return err
			}
			f.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(3.2), Shape: chart.Shape(gi)}
			p.Add(f)
			c.Add(l, f)
		} else {
			c.Add(l, s)
		}
	}
	return chart.Save(c, path)
}

// PlotLines draws a metric against a swept field, one line per workload: at each value of
// the field the best (lowest, or highest for throughput and utilization) metric over the
// other axes. Saved to path by extension.
func (t *Table) PlotLines(field, metric, path string) error {
	xs, rows, err := t.floats(field)
	if err != nil {
		return err
	}
	ys, _, err := t.floats(metric)
	if err != nil {
		return err
	}
	maximize := metric == "throughput_ips" || metric == "utilization"
	labels, byRow := t.groups()
	lines := make([]plotter.XYs, len(labels))
	var drawnX, drawnY []float64 // the axes' ranges are the lines', not every point's
	for gi, l := range labels {
		best := map[float64]float64{}
		for k, ri := range rows {
			if byRow[ri] != l {
				continue
			}
			if b, ok := best[xs[k]]; !ok || (maximize && ys[k] > b) || (!maximize && ys[k] < b) {
				best[xs[k]] = ys[k]
			}
		}
		if len(best) == 0 {
			continue
		}
		var xy plotter.XYs
		for x, y := range best {
			xy = append(xy, plotter.XY{X: x, Y: y})
		}
		slices.SortFunc(xy, func(a, b plotter.XY) int { return cmpF(a.X, b.X) })
		lines[gi] = xy
		for _, v := range xy {
			drawnX, drawnY = append(drawnX, v.X), append(drawnY, v.Y)
		}
	}
	c := newChart(fmt.Sprintf("%s vs %s (best over the other axes)", metric, field), field, metric, drawnX, drawnY)
	p := c.Plot
	for gi, l := range labels {
		xy := lines[gi]
		if len(xy) == 0 {
			continue
		}
		ln, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return err
		}
		ln.Color = chart.Color(gi)
		ln.Dashes = chart.Dashes(gi / 8)
		ln.Width = vg.Points(1.5)
		pts.Color = chart.Color(gi)
		pts.Shape = chart.Shape(gi)
		p.Add(ln, pts)
		c.Add(l, ln, pts)
	}
	return chart.Save(c, path)
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// spans reports whether positive values span a factor of 8 or more (a log axis reads
// better: a sweep over powers of two has 4 steps or more).
func spans(v []float64) bool {
	lo, hi := 0.0, 0.0
	for i, x := range v {
		if x <= 0 {
			return false
		}
		if i == 0 || x < lo {
			lo = x
		}
		if x > hi {
			hi = x
		}
	}
	return len(v) > 0 && hi >= 8*lo
}
