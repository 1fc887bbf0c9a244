package memory

import "github.com/vggsim/vggsim/ir"

// label names a report in chart series: the model and its form.
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

// TrafficSeries is one line of a traffic-versus-SRAM chart.
type TrafficSeries struct {
	Label  string
	Batch  int
	Points []Traffic
	// Engine, when set, is the simulator's whole DRAM traffic (weights included) at each
	// point's SRAM size, drawn dashed next to the spill model's activation traffic.
	Engine []int64
}
