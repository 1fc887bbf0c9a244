package memory

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/vggsim/vggsim/ir"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// PlotWidth and PlotHeight are the size of every chart.
const (
	PlotWidth  = 8 * vg.Inch
	PlotHeight = 4.5 * vg.Inch
)

var palette = []color.Color{
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, // red
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, // blue
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, // green
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, // orange
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, // purple
	color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}, // brown
	color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff}, // cyan
	color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}, // grey
}

func colorOf(i int) color.Color { return palette[i%len(palette)] }

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return p
}

func label(r *Report) string {
	if r.Form == "" {
		return r.Model
	}
	return r.Model + " " + r.Form
}

// anchor reports whether a node starts a new layer on the live chart's x axis: a spatial
// conv (kernel larger than 1×1), a pool, or a linear layer. A RepVGG block has exactly one
// in both forms, so the forms line up block by block.
func (lv *liveness) anchor(i int) bool {
	n := lv.g.Nodes[i]
	switch n.Op {
	case ir.Conv:
		return n.Attrs.KH > 1 || n.Attrs.KW > 1
	case ir.MaxPool, ir.GlobalAvgPool, ir.Linear:
		return true
	}
	return false
}

// LayerPositions returns the x position of every step on the live chart: layer u (the u-th
// spatial conv, pool or linear node) spans [u, u+1), and the steps from its node up to the
// next layer's are spread evenly across it; steps before the first layer sit at 0.
func (r *Report) LayerPositions() []float64 {
	lv := r.lv
	n := len(lv.steps)
	xs := make([]float64, n)
	start, u := 0, 0
	flush := func(end int) {
		for j := start; j < end; j++ {
			xs[j] = float64(u) + float64(j-start)/float64(end-start)
		}
	}
	for i := range n {
		if i > 0 && lv.anchor(i) {
			flush(i)
			start, u = i, u+1
		}
	}
	flush(n)
	return xs
}

// PlotLive returns a chart of live activation bytes per layer for every report: the working
// set (solid) and the paper-style resident bytes (dashed), in MiB.
func PlotLive(reps []*Report) (*plot.Plot, error) {
	if len(reps) == 0 {
		return nil, fmt.Errorf("memory: plot: no reports")
	}
	r0 := reps[0]
	p := newPlot(fmt.Sprintf("Live activation memory (%d-bit, batch %d)", r0.Bits, r0.Batch),
		"layer (spatial conv / pool / linear, in schedule order)", "MiB")
	for i, r := range reps {
		xs := r.LayerPositions()
		live := make(plotter.XYs, 0, len(xs)+1)
		res := make(plotter.XYs, 0, len(xs)+1)
		for j, s := range r.Steps {
			live = append(live, plotter.XY{X: xs[j], Y: mib(s.LiveBytes)})
			res = append(res, plotter.XY{X: xs[j], Y: mib(s.ResidentBytes)})
		}
		end := math.Floor(xs[len(xs)-1]) + 1
		live = append(live, plotter.XY{X: end, Y: live[len(live)-1].Y})
		res = append(res, plotter.XY{X: end, Y: res[len(res)-1].Y})
		for k, d := range []struct {
			xy   plotter.XYs
			what string
		}{{live, "working set"}, {res, "resident"}} {
			l, err := plotter.NewLine(d.xy)
			if err != nil {
				return nil, err
			}
			l.StepStyle = plotter.PostStep
			l.Color = colorOf(i)
			l.Width = vg.Points(1.2)
			if k == 1 {
				l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
				l.Width = vg.Points(0.8)
			}
			p.Add(l)
			p.Legend.Add(fmt.Sprintf("%s, %s (peak %s)", label(r), d.what, sizeString(peakOf(d.xy))), l)
		}
	}
	p.Y.Min = 0
	return p, nil
}

func peakOf(xy plotter.XYs) int64 {
	var m float64
	for _, p := range xy {
		m = max(m, p.Y)
	}
	return int64(math.Round(m * (1 << 20)))
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// TrafficSeries is one line of a traffic-versus-SRAM chart.
type TrafficSeries struct {
	Label  string
	Batch  int
	Points []Traffic
}

// PlotTraffic returns a chart of activation DRAM traffic per image against the on-chip
// activation SRAM size (log scale; the size-0 point, if any, is left out).
func PlotTraffic(series []TrafficSeries) (*plot.Plot, error) {
	p := newPlot("Activation DRAM traffic vs on-chip activation SRAM", "activation SRAM", "MB per image (reads + writes)")
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, s := range series {
		var xy plotter.XYs
		for _, t := range s.Points {
			if t.SRAMBytes <= 0 {
				continue
			}
			x := float64(t.SRAMBytes)
			xy = append(xy, plotter.XY{X: x, Y: float64(t.Bytes()) / float64(max(s.Batch, 1)) / 1e6})
			lo, hi = min(lo, x), max(hi, x)
		}
		if len(xy) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, err
		}
		l.StepStyle = plotter.PostStep
		l.Color = colorOf(i)
		pts.Color = colorOf(i)
		pts.Radius = vg.Points(1.5)
		p.Add(l, pts)
		p.Legend.Add(s.Label, l)
	}
	if math.IsInf(lo, 1) {
		return nil, fmt.Errorf("memory: plot: no traffic points")
	}
	logSizeAxis(p, lo, hi)
	p.Y.Min = 0
	return p, nil
}

// logSizeAxis makes p's x axis logarithmic with ticks at powers of two labelled as sizes.
func logSizeAxis(p *plot.Plot, lo, hi float64) {
	p.X.Scale = plot.LogScale{}
	var ticks []plot.Tick
	for e := math.Floor(math.Log2(lo)); e <= math.Ceil(math.Log2(hi)); e++ {
		v := math.Exp2(e)
		t := plot.Tick{Value: v}
		if int(e)%2 == 0 || hi/lo < 64 {
			t.Label = sizeString(int64(v))
		}
		ticks = append(ticks, t)
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
}

// sizeString formats bytes with a binary unit: 512 B, 64 KiB, 1.5 MiB.
func sizeString(b int64) string {
	switch {
	case b >= 1<<30:
		return trimFloat(float64(b)/(1<<30)) + " GiB"
	case b >= 1<<20:
		return trimFloat(float64(b)/(1<<20)) + " MiB"
	case b >= 1<<10:
		return trimFloat(float64(b)/(1<<10)) + " KiB"
	}
	return fmt.Sprintf("%d B", b)
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// PlotFusion returns a chart of whole-network DRAM traffic per image against the uniform
// fusion depth for every report, with the best mixed plan and layer-by-layer execution with
// the same SRAM as an activation cache as horizontal references. Depths whose line buffers
// do not fit the budget are drawn as crosses.
func PlotFusion(frs []*FusionReport) (*plot.Plot, error) {
	if len(frs) == 0 {
		return nil, fmt.Errorf("memory: plot: no fusion reports")
	}
	p := newPlot(fmt.Sprintf("Depth-first fusion, %s on-chip budget", sizeString(frs[0].SRAMBytes)),
		"fusion depth (layers per segment)", "DRAM MB per image (activations + weights)")
	p.Legend.Top = false
	maxD := 1
	for _, fr := range frs {
		for _, d := range fr.Depths {
			maxD = max(maxD, d.Depth)
		}
	}
	for i, fr := range frs {
		per := func(b int64) float64 { return float64(b) / float64(fr.Batch) / 1e6 }
		var all, fit, over plotter.XYs
		for _, d := range fr.Depths {
			pt := plotter.XY{X: float64(d.Depth), Y: per(d.DRAMBytes)}
			all = append(all, pt)
			if d.Fits {
				fit = append(fit, pt)
			} else {
				over = append(over, pt)
			}
		}
		l, err := plotter.NewLine(all)
		if err != nil {
			return nil, err
		}
		l.Color = colorOf(i)
		l.Width = vg.Points(1.2)
		p.Add(l)
		p.Legend.Add(fr.Model+", uniform depth", l)
		if len(fit) > 0 {
			s, err := plotter.NewScatter(fit)
			if err != nil {
				return nil, err
			}
			s.Color, s.Shape, s.Radius = colorOf(i), draw.CircleGlyph{}, vg.Points(3)
			p.Add(s)
		}
		if len(over) > 0 {
			s, err := plotter.NewScatter(over)
			if err != nil {
				return nil, err
			}
			s.Color, s.Shape, s.Radius = colorOf(i), draw.CrossGlyph{}, vg.Points(4)
			p.Add(s)
			p.Legend.Add(fr.Model+", line buffers over budget", s)
		}
		for k, ref := range []struct {
			y    float64
			what string
		}{
			{per(fr.Best.DRAMBytes), "best mix of depths"},
			{per(fr.CacheBytes), "layer by layer, SRAM as activation cache"},
			{per(fr.FloorBytes), "floor: input, output, weights once"},
		} {
			h, err := plotter.NewLine(plotter.XYs{{X: 1, Y: ref.y}, {X: float64(maxD), Y: ref.y}})
			if err != nil {
				return nil, err
			}
			h.Color = colorOf(i)
			h.Dashes = [][]vg.Length{{vg.Points(8), vg.Points(3)}, {vg.Points(2), vg.Points(2)}, {vg.Points(1), vg.Points(5)}}[k]
			h.Width = vg.Points(0.8)
			p.Add(h)
			p.Legend.Add(fmt.Sprintf("%s, %s", fr.Model, ref.what), h)
		}
	}
	var ticks []plot.Tick
	for d := 1; d <= maxD; d++ {
		ticks = append(ticks, plot.Tick{Value: float64(d), Label: fmt.Sprint(d)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min = 0
	return p, nil
}

// CheckPlotPath reports an error unless path ends in an image format SavePlot writes.
func CheckPlotPath(path string) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".svg", ".png", ".pdf", ".eps", ".jpg", ".jpeg", ".tif", ".tiff":
		return nil
	}
	return fmt.Errorf("plot %s: unknown format %q; want .svg, .png or .pdf", path, filepath.Ext(path))
}

// SavePlot writes p to path in the format its extension names (.svg, .png, .pdf, .eps).
func SavePlot(p *plot.Plot, path string) error {
	if err := CheckPlotPath(path); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	return p.Save(PlotWidth, PlotHeight, path)
}

// WritePlot writes p to w in format ("svg", "png", "pdf").
func WritePlot(p *plot.Plot, w io.Writer, format string) error {
	wt, err := p.WriterTo(PlotWidth, PlotHeight, format)
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(w)
	return err
}
