// Package chart draws the project's charts with gonum/plot in one style: a palette with
// matching point markers and dash patterns, a legend below the plotting area (never over
// data), log axes (LogAxis with LogTicks; LogSizeAxis for byte sizes), and saving by file
// extension (.svg with its fonts embedded, .png, .pdf, .eps, .jpg, .tif). It knows nothing
// about models or memory; packages above it (memory/memplot, sweep's scatter, line and
// roofline plots) build their charts from it.
package chart

import (
	"fmt"
	"github.com/vggsim/vggsim/internal/atomicfile"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Width and Height are the size of every chart's plotting area with its axes and
// title; the legend is drawn below it and adds to the height. Raster formats are rendered
// at DPI.
const (
	Width  = 9 * vg.Inch
	Height = 4.5 * vg.Inch
	DPI    = 160
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

// Color returns the i-th color of the palette, cycling.
func Color(i int) color.Color { return palette[i%len(palette)] }

// Faded returns c with the given opacity (0 transparent, 1 opaque), for dense point clouds
// behind highlighted points.
func Faded(c color.Color, opacity float64) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(math.Round(255 * min(1, max(0, opacity))))}
}

var shapes = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{},
	draw.PlusGlyph{}, draw.CrossGlyph{}, draw.RingGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}}

// Shape returns the i-th point marker (circle, square, triangle, plus, cross, ring, box,
// pyramid), cycling; with Color(i) it tells series apart in print too.
func Shape(i int) draw.GlyphDrawer { return shapes[i%len(shapes)] }

// Dashes returns the i-th line dash pattern, cycling: solid first, then dashed and dotted
// patterns, for series beyond the palette.
func Dashes(i int) []vg.Length {
	pats := [][]vg.Length{nil, {vg.Points(6), vg.Points(2)}, {vg.Points(2), vg.Points(2)}, {vg.Points(6), vg.Points(2), vg.Points(2), vg.Points(2)}}
	return pats[i%len(pats)]
}

// LogAxis makes an axis logarithmic with ticks at powers of ten (labelled) and their 2× and
// 5× multiples (unlabelled) between lo and hi, the data's range (both > 0).
func LogAxis(a *plot.Axis, lo, hi float64) {
	a.Scale = plot.LogScale{}
	a.Min, a.Max = lo, hi
	a.Tick.Marker = plot.ConstantTicks(LogTicks(lo, hi))
}

// LogTicks returns the ticks of a log axis from lo to hi: every power of ten labelled
// (1, 10, 100, 1k, 1M…, or 0.01), 2× and 5× multiples as minor ticks, labelled too when the
// range spans less than two decades.
func LogTicks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	few := hi/lo < 100
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || few {
				t.Label = NumberString(v)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// NumberString formats a tick value briefly: 0.05, 2, 150, 20k, 1.5M, 3G.
func NumberString(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return trimFloat(v/1e9) + "G"
	case a >= 1e6:
		return trimFloat(v/1e6) + "M"
	case a >= 1e4:
		return trimFloat(v/1e3) + "k"
	case a >= 1 || a == 0:
		return trimFloat(v)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

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

// New returns a chart with a title, axis labels and a grid, in the house style.
func New(title, x, y string) *Chart {
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

// Add adds a legend entry: a label and the plotters whose thumbnails mark it.
func (c *Chart) Add(label string, thumbs ...plot.Thumbnailer) {
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
	if 2*widest <= Width-vg.Inch {
		return 2
	}
	return 1
}

// rows returns the legend rows per column.
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
func (c *Chart) Size() (w, h vg.Length) { return Width, Height + c.legendHeight() }

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

// Headroom starts p's y axis at 0 and leaves 6% above the highest data point.
func Headroom(p *plot.Plot, top float64) {
	p.Y.Min = 0
	if top > 0 {
		p.Y.Max = top * 1.06
	}
}

// LogSizeAxis makes p's x axis logarithmic with ticks at powers of two labelled as sizes.
func LogSizeAxis(p *plot.Plot, lo, hi float64) {
	p.X.Scale = plot.LogScale{}
	var ticks []plot.Tick
	for e := math.Floor(math.Log2(lo)); e <= math.Ceil(math.Log2(hi)); e++ {
		v := math.Exp2(e)
		t := plot.Tick{Value: v}
		if int(e)%2 == 0 || hi/lo < 64 {
			t.Label = SizeString(int64(v))
		}
		ticks = append(ticks, t)
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = math.Exp2(math.Floor(math.Log2(lo))), math.Exp2(math.Ceil(math.Log2(hi)))
}

// SizeString formats bytes with a binary unit: 512 B, 64 KiB, 1.5 MiB.
func SizeString(b int64) string {
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

// trimFloat formats v with at most two decimals, trailing zeros dropped.
func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// format returns the format of path's extension, or an error.
func format(path string) (string, error) {
	switch ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), ".")); ext {
	case "svg", "png", "pdf", "eps", "jpg", "jpeg", "tif", "tiff":
		return ext, nil
	}
	return "", fmt.Errorf("plot %s: unknown format %q; want .svg, .png or .pdf", path, filepath.Ext(path))
}

// CheckPath reports an error unless path ends in an image format Save writes.
func CheckPath(path string) error {
	_, err := format(path)
	return err
}

// Save writes c to path in the format its extension names (.svg, .png, .pdf, .eps,
// .jpg, .tif).
func Save(c *Chart, path string) error {
	format, err := format(path)
	if err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	// Through a temporary file renamed into place: a failed write leaves any old plot whole.
	if err := atomicfile.Write(path, func(w io.Writer) error { return Write(c, w, format) }); err != nil {
		return fmt.Errorf("chart: plot %s: %w", path, err)
	}
	return nil
}

// Write writes c to w in format ("svg", "png", "pdf", "eps", "jpg", "tif"); raster
// formats at DPI, SVG with its fonts embedded.
func Write(c *Chart, w io.Writer, format string) error {
	width, height := c.Size()
	var wt io.WriterTo
	switch format {
	case "png", "jpg", "jpeg", "tif", "tiff":
		img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(DPI))
		c.Draw(draw.New(img))
		switch format {
		case "png":
			wt = vgimg.PngCanvas{Canvas: img}
		case "jpg", "jpeg":
			wt = vgimg.JpegCanvas{Canvas: img}
		default:
			wt = vgimg.TiffCanvas{Canvas: img}
		}
	case "svg":
		// Fonts embedded, so the chart renders the same where Liberation is not installed.
		dc := vgsvg.NewWith(vgsvg.UseWH(width, height), vgsvg.EmbedFonts(true))
		c.Draw(draw.New(dc))
		wt = dc
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
