package sweep

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/vggsim/vggsim/chart"
	"github.com/vggsim/vggsim/sim"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// PlotRoofline draws a per-layer roofline (sim.Roofline) on log-log axes: the roof
// min(R·C, b·I) over arithmetic intensity I (MACs per DRAM byte), one dot per Conv or GEMM
// layer at its achieved MACs per cycle, labelled with its index in the simulation's layers
// and coloured by the roof above it (memory- or compute-bound). Saved to path by extension.
func PlotRoofline(rf *sim.Roofline, title, path string) error {
	var pts []sim.RooflinePoint
	for _, p := range rf.Points {
		if p.Intensity > 0 && p.MACsPerCycle > 0 {
			pts = append(pts, p)
		}
	}
	if len(pts) == 0 {
		return errors.New("roofline: no array layer moves DRAM bytes; nothing to place")
	}
	xlo, xhi := pts[0].Intensity, pts[0].Intensity
	ylo := pts[0].MACsPerCycle
	for _, p := range pts {
		xlo, xhi = min(xlo, p.Intensity), max(xhi, p.Intensity)
		ylo = min(ylo, p.MACsPerCycle)
	}
	ridge := rf.Ridge()
	if ridge > 0 {
		xlo, xhi = min(xlo, ridge), max(xhi, ridge)
	}
	xlo, xhi = xlo/2, xhi*2
	peak := rf.PeakMACsPerCycle
	ylo = min(ylo, rf.Attainable(xlo)) / 2

	c := chart.New(title, "arithmetic intensity (MACs per DRAM byte)", "MACs per cycle")
	chart.LogAxis(&c.Plot.X, xlo, xhi)
	chart.LogAxis(&c.Plot.Y, ylo, peak*1.6)

	// The roof: the bandwidth slope up to the ridge, then the array's peak.
	roof := plotter.XYs{{X: xlo, Y: rf.Attainable(xlo)}}
	if ridge > xlo && ridge < xhi {
		roof = append(roof, plotter.XY{X: ridge, Y: peak})
	}
	roof = append(roof, plotter.XY{X: xhi, Y: rf.Attainable(xhi)})
	ln, err := plotter.NewLine(roof)
	if err != nil {
		return err
	}
	ln.Color = chart.Color(7)
	ln.Width = vg.Points(2)
	c.Plot.Add(ln)
	roofLabel := fmt.Sprintf("roof: compute %s MACs/cycle", chart.NumberString(peak))
	if ridge > 0 {
		roofLabel += fmt.Sprintf(", DRAM %s B/cycle (ridge at %s MACs/B)", chart.NumberString(rf.DRAMBytesPerCycle), chart.NumberString(ridge))
	}
	c.Add(roofLabel, ln)

	for k, bound := range []string{"memory", "compute"} {
		// Layers of one shape sit on one spot: one dot, labelled "first index ×count".
		var xy plotter.XYs
		var labels []string
		var count []int
		n := 0
		for _, p := range pts {
			if p.Bound != bound {
				continue
			}
			n++
			at := plotter.XY{X: p.Intensity, Y: p.MACsPerCycle}
			if i := slices.Index(xy, at); i >= 0 {
				count[i]++
				continue
			}
			xy = append(xy, at)
			labels = append(labels, strconv.Itoa(p.Index))
			count = append(count, 1)
		}
		for i, k := range count {
			if k > 1 {
				labels[i] += fmt.Sprintf(" ×%d", k)
			}
		}
		if len(xy) == 0 {
			continue
		}
		s, err := plotter.NewScatter(xy)
		if err != nil {
			return err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: chart.Color(k), Radius: vg.Points(3.5), Shape: chart.Shape(k)}
		c.Plot.Add(s)
		lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xy, Labels: labels})
		if err != nil {
			return err
		}
		for i := range lb.TextStyle {
			lb.TextStyle[i].Font.Size = vg.Points(8)
			lb.TextStyle[i].Color = chart.Color(k)
		}
		lb.Offset = vg.Point{X: vg.Points(4), Y: vg.Points(2)}
		c.Plot.Add(lb)
		c.Add(fmt.Sprintf("%s-bound layers (%d), labelled by layer index", bound, n), s)
	}
	return chart.Save(c, path)
}
