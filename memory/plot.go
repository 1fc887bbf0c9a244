package memory

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/vggsim/vggsim/ir"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// PlotWidth and PlotHeight are the size of every chart's plotting area with its axes and
// title; the legend is drawn below it and adds to the height. Raster formats are rendered
// at PlotDPI.
const (
	PlotWidth  = 9 * vg.Inch
	PlotHeight = 4.5 * vg.Inch
	PlotDPI    = 160
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

// Chart is a plot with its legend, which is drawn below the plotting area in one or two
// columns so that it never hides data.
type Chart struct {
	Plot    *plot.Plot
	entries []legendEntry
}

type legendEntry struct {
	label  string
	thumbs []plot.Thumbnailer
}

func newChart(title, x, y string) *Chart {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = x
	p.Y.Label.Text = y
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(12)
		a.Tick.Label.Font.Size = vg.Points(11)
	}
	p.Add(plotter.NewGrid())
	return &Chart{Plot: p}
}

// add adds a legend entry.
func (c *Chart) add(label string, thumbs ...plot.Thumbnailer) {
	c.entries = append(c.entries, legendEntry{label, thumbs})
}

// Legend returns the legend's labels in order.
func (c *Chart) Legend() []string {
	var s []string
	for _, e := range c.entries {
		s = append(s, e.label)
	}
	return s
}

// columns returns 2 when every legend entry fits in half the plotting width, else 1.
func (c *Chart) columns() int {
	if len(c.entries) <= 3 {
		return 1
	}
	l := legendStyle()
	var widest vg.Length
	for _, e := range c.entries {
		widest = max(widest, l.ThumbnailWidth+l.TextStyle.Rectangle("  "+e.label).Max.X)
	}
	// The plotting area is the chart's width less the y axis (about an inch).
	if 2*widest <= PlotWidth-vg.Inch {
		return 2
	}
	return 1
}

func (c *Chart) rows() int { return (len(c.entries) + c.columns() - 1) / c.columns() }

// legendStyle is the legend text style.
func legendStyle() plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font = font.From(plot.DefaultFont, vg.Points(10.5))
	l.Left, l.Top = true, true
	l.Padding = vg.Points(3)
	l.ThumbnailWidth = vg.Points(28)
	return l
}

// legendHeight returns the height the legend needs below the plot.
func (c *Chart) legendHeight() vg.Length {
	if len(c.entries) == 0 {
		return 0
	}
	l := legendStyle()
	h := l.TextStyle.Rectangle("Xg").Max.Y
	n := vg.Length(c.rows())
	return n*h + (n-1)*l.Padding + vg.Points(18)
}

// Size returns the chart's drawing size.
func (c *Chart) Size() (w, h vg.Length) { return PlotWidth, PlotHeight + c.legendHeight() }

// Draw draws the chart on dc: the plot on top, the legend in columns below it, aligned
// with the plotting area.
func (c *Chart) Draw(dc draw.Canvas) {
	lh := c.legendHeight()
	c.Plot.Draw(draw.Crop(dc, 0, 0, lh, 0))
	if lh == 0 {
		return
	}
	area := c.Plot.DataCanvas(draw.Crop(dc, 0, 0, lh, 0))
	cols := c.columns()
	rows := c.rows()
	colW := (area.Max.X - area.Min.X) / vg.Length(cols)
	for k := range cols {
		l := legendStyle()
		for i := k * rows; i < min(len(c.entries), (k+1)*rows); i++ {
			l.Add(c.entries[i].label, c.entries[i].thumbs...)
		}
		sub := dc
		sub.Min.X = area.Min.X + vg.Length(k)*colW
		sub.Max.X = sub.Min.X + colW
		sub.Max.Y = dc.Min.Y + lh - vg.Points(6)
		l.Draw(sub)
	}
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
	case ir.MaxPool, ir.GlobalAvgPool, ir.AdaptiveAvgPool, ir.Linear:
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

// modelNames returns the distinct model names of reps, joined.
func modelNames(names []string) string {
	var out []string
	for _, n := range names {
		if len(out) == 0 || out[len(out)-1] != n {
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}

// PlotLive returns a chart of live activation bytes per layer for every report: the working
// set (solid) and the paper-style resident bytes (dashed), in MiB, one color per report.
func PlotLive(reps []*Report) (*Chart, error) {
	if len(reps) == 0 {
		return nil, errors.New("memory: plot: no reports")
	}
	var names []string
	for _, r := range reps {
		names = append(names, r.Model)
	}
	r0 := reps[0]
	c := newChart(fmt.Sprintf("Live activation memory per layer: %s (%d-bit, batch %d)", modelNames(names), r0.Bits, r0.Batch),
		"layer (3×3 conv, pool or linear, in schedule order; a RepVGG block is one in both forms)", "live activations (MiB)")
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
			peak int64
			what string
		}{{live, r.PeakBytes, "working set"}, {res, r.ResidentPeakBytes, "resident (paper Fig. 3)"}} {
			l, err := plotter.NewLine(d.xy)
			if err != nil {
				return nil, err
			}
			l.StepStyle = plotter.PostStep
			l.Color = colorOf(i)
			l.Width = vg.Points(1.4)
			if k == 1 {
				l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
				l.Width = vg.Points(1)
			}
			c.Plot.Add(l)
			c.add(fmt.Sprintf("%s, %s: peak %s", label(r), d.what, sizeString(d.peak)), l)
		}
	}
	headroom(c.Plot, c.Plot.Y.Max)
	return c, nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// headroom starts p's y axis at 0 and leaves 6% above the highest data point.
func headroom(p *plot.Plot, top float64) {
	p.Y.Min = 0
	if top > 0 {
		p.Y.Max = top * 1.06
	}
}

// TrafficSeries is one line of a traffic-versus-SRAM chart.
type TrafficSeries struct {
	Label  string
	Batch  int
	Points []Traffic
	// Engine, when set, is the simulator's whole DRAM traffic (weights included) at each
	// point's SRAM size, drawn dashed next to the spill model's activation traffic.
	Engine []int64
}

// PlotTraffic returns a chart of activation DRAM traffic per image against the on-chip
// activation SRAM size (log scale; the size-0 point is marked on the y axis by the legend
// only). Series with Engine values also get the simulator's total DRAM traffic.
func PlotTraffic(series []TrafficSeries, hardware string) (*Chart, error) {
	title := "DRAM traffic per image vs on-chip activation SRAM"
	if hardware != "" {
		title += " (" + hardware + ")"
	}
	c := newChart(title, "on-chip activation SRAM (log scale)", "DRAM traffic per image (MiB)")
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, s := range series {
		per := func(b int64) float64 { return float64(b) / float64(max(s.Batch, 1)) / (1 << 20) }
		var xy, eng plotter.XYs
		var zero Traffic
		for k, t := range s.Points {
			if t.SRAMBytes <= 0 {
				zero = t
				continue
			}
			x := float64(t.SRAMBytes)
			xy = append(xy, plotter.XY{X: x, Y: per(t.Bytes())})
			if s.Engine != nil {
				eng = append(eng, plotter.XY{X: x, Y: per(s.Engine[k])})
			}
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
		l.Color, l.Width = colorOf(i), vg.Points(1.4)
		pts.Color, pts.Radius = colorOf(i), vg.Points(2)
		c.Plot.Add(l, pts)
		lbl := s.Label + ": activations, spill model"
		if len(s.Points) > 0 && s.Points[0].SRAMBytes == 0 {
			lbl += fmt.Sprintf(" (no SRAM: %s)", sizeString(int64(math.Round(per(zero.Bytes())*(1<<20)))))
		}
		c.add(lbl, l, pts)
		if len(eng) > 0 {
			el, err := plotter.NewLine(eng)
			if err != nil {
				return nil, err
			}
			el.StepStyle = plotter.PostStep
			el.Color, el.Width = colorOf(i), vg.Points(1)
			el.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			c.Plot.Add(el)
			c.add(s.Label+": all DRAM incl. weights, simulator", el)
		}
	}
	if math.IsInf(lo, 1) {
		return nil, errors.New("memory: plot: no traffic points")
	}
	logSizeAxis(c.Plot, lo, hi)
	headroom(c.Plot, c.Plot.Y.Max)
	return c, nil
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
	p.X.Min, p.X.Max = math.Exp2(math.Floor(math.Log2(lo))), math.Exp2(math.Ceil(math.Log2(hi)))
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
// fusion depth for every report: the simulator's (with hardware; solid) and the fusion
// model's, every byte moved once (dotted), with the best mixed plan, layer-by-layer
// execution with the same SRAM as an activation cache, and the model's floor as horizontal
// references. Depths whose line buffers do not fit the budget are drawn as crosses.
func PlotFusion(frs []*FusionReport) (*Chart, error) {
	if len(frs) == 0 {
		return nil, errors.New("memory: plot: no fusion reports")
	}
	var names []string
	for _, fr := range frs {
		names = append(names, fr.Model)
	}
	fr0 := frs[0]
	title := fmt.Sprintf("Depth-first fusion: %s, %s for line buffers and weights", modelNames(names), sizeString(fr0.SRAMBytes))
	if fr0.Hardware != "" {
		title += ", on " + fr0.Hardware
	}
	c := newChart(title, "uniform fusion depth (layers per segment; 1 = layer by layer)", "DRAM traffic per image (MiB)")
	maxD, minD := 1, math.MaxInt
	for _, fr := range frs {
		for _, d := range fr.Depths {
			maxD, minD = max(maxD, d.Depth), min(minD, d.Depth)
		}
	}
	if minD == math.MaxInt {
		minD = 1
	}
	for i, fr := range frs {
		per := func(b int64) float64 { return float64(b) / float64(fr.Batch) / (1 << 20) }
		hwName := fr.Hardware
		type series struct {
			get  func(*FusionPlan) int64
			what string
			main bool
		}
		ss := []series{{func(p *FusionPlan) int64 { return p.ModelDRAMBytes }, "fusion model (each byte once)", hwName == ""}}
		if hwName != "" {
			ss = []series{{func(p *FusionPlan) int64 { return p.DRAMBytes }, "simulator on " + hwName, true}, ss[0]}
		}
		for _, s := range ss {
			var all, fit, over plotter.XYs
			for k := range fr.Depths {
				d := &fr.Depths[k]
				pt := plotter.XY{X: float64(d.Depth), Y: per(s.get(d))}
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
			l.Width = vg.Points(1.6)
			radius := vg.Points(3.5)
			if !s.main {
				l.Width = vg.Points(1)
				l.Dashes = []vg.Length{vg.Points(1.5), vg.Points(2.5)}
				radius = vg.Points(2.5)
			}
			c.Plot.Add(l)
			thumbs := []plot.Thumbnailer{l}
			if len(fit) > 0 {
				sc, err := plotter.NewScatter(fit)
				if err != nil {
					return nil, err
				}
				sc.Color, sc.Shape, sc.Radius = colorOf(i), draw.CircleGlyph{}, radius
				c.Plot.Add(sc)
				thumbs = append(thumbs, sc)
			}
			c.add(fmt.Sprintf("%s, uniform depth: %s", fr.Model, s.what), thumbs...)
			if len(over) > 0 {
				sc, err := plotter.NewScatter(over)
				if err != nil {
					return nil, err
				}
				sc.Color, sc.Shape, sc.Radius = colorOf(i), draw.CrossGlyph{}, radius+vg.Points(1)
				c.Plot.Add(sc)
				if s.main {
					c.add(fr.Model+": line buffers over budget", sc)
				}
			}
		}
		src := "model"
		if hwName != "" {
			src = "simulator"
		}
		for k, ref := range []struct {
			y    float64
			what string
		}{
			{per(fr.Best.DRAMBytes), fmt.Sprintf("best mix of depths, %s (%s)", sizeString(fr.Best.DRAMBytes/int64(fr.Batch)), src)},
			{per(fr.Cache.DRAMBytes), fmt.Sprintf("layer by layer, SRAM as activation cache, %s (%s)", sizeString(fr.Cache.DRAMBytes/int64(fr.Batch)), src)},
			{per(fr.FloorBytes), fmt.Sprintf("floor: input, output, weights once, %s (model)", sizeString(fr.FloorBytes/int64(fr.Batch)))},
		} {
			h, err := plotter.NewLine(plotter.XYs{{X: float64(minD), Y: ref.y}, {X: float64(maxD), Y: ref.y}})
			if err != nil {
				return nil, err
			}
			h.Color = colorOf(i)
			h.Dashes = [][]vg.Length{{vg.Points(9), vg.Points(3)}, {vg.Points(9), vg.Points(3), vg.Points(2), vg.Points(3)}, {vg.Points(1), vg.Points(4)}}[k]
			h.Width = vg.Points(1)
			c.Plot.Add(h)
			c.add(fmt.Sprintf("%s: %s", fr.Model, ref.what), h)
		}
	}
	var ticks []plot.Tick
	for d := minD; d <= maxD; d++ {
		ticks = append(ticks, plot.Tick{Value: float64(d), Label: fmt.Sprint(d)})
	}
	c.Plot.X.Tick.Marker = plot.ConstantTicks(ticks)
	c.Plot.X.Min, c.Plot.X.Max = float64(minD)-0.2, float64(maxD)+0.2
	headroom(c.Plot, c.Plot.Y.Max)
	return c, nil
}

// plotFormat returns the format of path's extension, or an error.
func plotFormat(path string) (string, error) {
	switch ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), ".")); ext {
	case "svg", "png", "pdf", "eps", "jpg", "jpeg", "tif", "tiff":
		return ext, nil
	}
	return "", fmt.Errorf("plot %s: unknown format %q; want .svg, .png or .pdf", path, filepath.Ext(path))
}

// CheckPlotPath reports an error unless path ends in an image format SavePlot writes.
func CheckPlotPath(path string) error {
	_, err := plotFormat(path)
	return err
}

// SavePlot writes c to path in the format its extension names (.svg, .png, .pdf, .eps,
// .jpg, .tif).
func SavePlot(c *Chart, path string) error {
	format, err := plotFormat(path)
	if err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	if err := WritePlot(c, f, format); err != nil {
		f.Close()
		return fmt.Errorf("memory: plot %s: %w", path, err)
	}
	return f.Close()
}

// WritePlot writes c to w in format ("svg", "png", "pdf", "eps", "jpg", "tif"); raster
// formats at PlotDPI.
func WritePlot(c *Chart, w io.Writer, format string) error {
	width, height := c.Size()
	var wt io.WriterTo
	switch format {
	case "png", "jpg", "jpeg", "tif", "tiff":
		img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(PlotDPI))
		c.Draw(draw.New(img))
		switch format {
		case "png":
			wt = vgimg.PngCanvas{Canvas: img}
		case "jpg", "jpeg":
			wt = vgimg.JpegCanvas{Canvas: img}
		default:
			wt = vgimg.TiffCanvas{Canvas: img}
		}
	default:
		dc, err := draw.NewFormattedCanvas(width, height, format)
		if err != nil {
			return err
		}
		c.Draw(draw.New(dc))
		wt = dc
	}
	_, err := wt.WriteTo(w)
	return err
}
