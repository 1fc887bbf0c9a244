// Package memplot draws package memory's charts with package chart: live activation
// bytes per layer, DRAM traffic against on-chip SRAM, and DRAM traffic against fusion depth.
// It sits above memory so that memory itself does not depend on a plotting library.
package memplot

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/vggsim/vggsim/chart"
	"github.com/vggsim/vggsim/memory"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

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

// Live returns a chart of live activation bytes per layer for every report: the working
// set (solid) and the paper-style resident bytes (dashed), in MiB, one color per report.
func Live(reps []*memory.Report) (*chart.Chart, error) {
	if len(reps) == 0 {
		return nil, errors.New("memplot: no reports")
	}
	var names []string
	for _, r := range reps {
		names = append(names, r.Model)
	}
	r0 := reps[0]
	c := chart.New(fmt.Sprintf("Live activation memory per layer: %s (%d-bit, batch %d)", modelNames(names), r0.Bits, r0.Batch),
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
			l.Color = chart.Color(i)
			l.Width = vg.Points(1.4)
			if k == 1 {
				l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
				l.Width = vg.Points(1)
			}
			c.Plot.Add(l)
			c.Add(fmt.Sprintf("%s, %s: peak %s", label(r), d.what, chart.SizeString(d.peak)), l)
		}
	}
	chart.Headroom(c.Plot, c.Plot.Y.Max)
	return c, nil
}

// Traffic returns a chart of activation DRAM traffic per image against the on-chip
// activation SRAM size (log scale; the size-0 point is marked on the y axis by the legend
// only). Series with Engine values also get the simulator's total DRAM traffic.
func Traffic(series []memory.TrafficSeries, hardware string) (*chart.Chart, error) {
	title := "DRAM traffic per image vs on-chip activation SRAM"
	if hardware != "" {
		title += " (" + hardware + ")"
	}
	c := chart.New(title, "on-chip activation SRAM (log scale)", "DRAM traffic per image (MiB)")
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, s := range series {
		per := func(b int64) float64 { return float64(b) / float64(max(s.Batch, 1)) / (1 << 20) }
		var xy, eng plotter.XYs
		var zero memory.Traffic
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
		l.Color, l.Width = chart.Color(i), vg.Points(1.4)
		pts.Color, pts.Radius = chart.Color(i), vg.Points(2)
		c.Plot.Add(l, pts)
		lbl := s.Label + ": activations, spill model"
		if len(s.Points) > 0 && s.Points[0].SRAMBytes == 0 {
			lbl += fmt.Sprintf(" (no SRAM: %s)", chart.SizeString(int64(math.Round(per(zero.Bytes())*(1<<20)))))
		}
		c.Add(lbl, l, pts)
		if len(eng) > 0 {
			el, err := plotter.NewLine(eng)
			if err != nil {
				return nil, err
			}
			el.StepStyle = plotter.PostStep
			el.Color, el.Width = chart.Color(i), vg.Points(1)
			el.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			c.Plot.Add(el)
			c.Add(s.Label+": all DRAM incl. weights, simulator", el)
		}
	}
	if math.IsInf(lo, 1) {
		return nil, errors.New("memplot: no traffic points")
	}
	chart.LogSizeAxis(c.Plot, lo, hi)
	chart.Headroom(c.Plot, c.Plot.Y.Max)
	return c, nil
}

// Fusion returns a chart of whole-network DRAM traffic per image against the uniform
// fusion depth for every report: the simulator's (with hardware; solid) and the fusion
// model's, every byte moved once (dotted), with the best mixed plan, layer-by-layer
// execution with the same SRAM as an activation cache, and the model's floor as horizontal
// references. Depths whose line buffers do not fit the budget are drawn as crosses.
func Fusion(frs []*memory.FusionReport) (*chart.Chart, error) {
	if len(frs) == 0 {
		return nil, errors.New("memplot: no fusion reports")
	}
	var names []string
	for _, fr := range frs {
		names = append(names, fr.Model)
	}
	fr0 := frs[0]
	title := fmt.Sprintf("Depth-first fusion: %s, %s for line buffers and weights", modelNames(names), chart.SizeString(fr0.SRAMBytes))
	if fr0.Hardware != "" {
		title += ", on " + fr0.Hardware
	}
	c := chart.New(title, "uniform fusion depth (layers per segment; 1 = layer by layer)", "DRAM traffic per image (MiB)")
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
			get  func(*memory.FusionPlan) int64
			what string
			main bool
		}
		ss := []series{{func(p *memory.FusionPlan) int64 { return p.ModelDRAMBytes }, "fusion model (each byte once)", hwName == ""}}
		if hwName != "" {
			ss = []series{{func(p *memory.FusionPlan) int64 { return p.DRAMBytes }, "simulator on " + hwName, true}, ss[0]}
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
			l.Color = chart.Color(i)
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
				sc.Color, sc.Shape, sc.Radius = chart.Color(i), draw.CircleGlyph{}, radius
				c.Plot.Add(sc)
				thumbs = append(thumbs, sc)
			}
			c.Add(fmt.Sprintf("%s, uniform depth: %s", fr.Model, s.what), thumbs...)
			if len(over) > 0 {
				sc, err := plotter.NewScatter(over)
				if err != nil {
					return nil, err
				}
				sc.Color, sc.Shape, sc.Radius = chart.Color(i), draw.CrossGlyph{}, radius+vg.Points(1)
				c.Plot.Add(sc)
				if s.main {
					c.Add(fr.Model+": line buffers over budget", sc)
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
			{per(fr.Best.DRAMBytes), fmt.Sprintf("best mix of depths, %s (%s)", chart.SizeString(fr.Best.DRAMBytes/int64(fr.Batch)), src)},
			{per(fr.Cache.DRAMBytes), fmt.Sprintf("layer by layer, SRAM as activation cache, %s (%s)", chart.SizeString(fr.Cache.DRAMBytes/int64(fr.Batch)), src)},
			{per(fr.FloorBytes), fmt.Sprintf("floor: input, output, weights once, %s (model)", chart.SizeString(fr.FloorBytes/int64(fr.Batch)))},
		} {
			h, err := plotter.NewLine(plotter.XYs{{X: float64(minD), Y: ref.y}, {X: float64(maxD), Y: ref.y}})
			if err != nil {
				return nil, err
			}
			h.Color = chart.Color(i)
			h.Dashes = [][]vg.Length{{vg.Points(9), vg.Points(3)}, {vg.Points(9), vg.Points(3), vg.Points(2), vg.Points(3)}, {vg.Points(1), vg.Points(4)}}[k]
			h.Width = vg.Points(1)
			c.Plot.Add(h)
			c.Add(fmt.Sprintf("%s: %s", fr.Model, ref.what), h)
		}
	}
	var ticks []plot.Tick
	for d := minD; d <= maxD; d++ {
		ticks = append(ticks, plot.Tick{Value: float64(d), Label: fmt.Sprint(d)})
	}
	c.Plot.X.Tick.Marker = plot.ConstantTicks(ticks)
	c.Plot.X.Min, c.Plot.X.Max = float64(minD)-0.2, float64(maxD)+0.2
	chart.Headroom(c.Plot, c.Plot.Y.Max)
	return c, nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// label names a report in legends: the model and its form.
func label(r *memory.Report) string {
	if r.Form == "" {
		return r.Model
	}
	return r.Model + " " + r.Form
}
