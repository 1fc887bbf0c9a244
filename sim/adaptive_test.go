package sim

import (
	"strings"
	"testing"

	"github.com/vggsim/vggsim/internal/geom"
	"github.com/vggsim/vggsim/ir"
)

// TestAdaptivePool checks the adaptive pooling layer: its windows are the ir's (PyTorch's),
// its work is the sum of its window sizes, it equals a plain pool when the windows tile the
// input, and bad sizes are reported.
func TestAdaptivePool(t *testing.T) {
	for in := 1; in <= 30; in++ {
		for out := 1; out <= 30; out++ {
			var sum int64
			for i := range out {
				s, e := geom.AdaptiveWindow(i, in, out)
				if ws, we := ir.AdaptiveWindow(i, in, out); s != ws || e != we {
					t.Fatalf("adaptiveWindow(%d, %d, %d) = [%d, %d), ir says [%d, %d)", i, in, out, s, e, ws, we)
				}
				sum += int64(e - s)
			}
			if got := windowSum(in, out); got != sum {
				t.Fatalf("windowSum(%d, %d) = %d, want %d", in, out, got, sum)
			}
		}
	}

	for _, c := range []struct {
		name                 string
		inH, inW, outH, outW int
		ops                  int64 // per channel, by hand
	}{
		{"5x5 to 3x3", 5, 5, 3, 3, 7 * 7},    // windows 2, 3, 2 per axis: (2+3+2)²
		{"1x1 to 7x7", 1, 1, 7, 7, 49},       // every window one pixel (replication)
		{"7x7 to 7x7", 7, 7, 7, 7, 49},       // identity
		{"2x4 to 3x2", 2, 4, 3, 2, 4 * 4},    // rows 1, 2, 1; columns 2, 2
		{"10x3 to 7x1", 10, 3, 7, 1, 16 * 3}, // rows 2,2,3,2,3,2,2 (16); one column window of 3
	} {
		l := Layer{Name: "avgpool", Kind: AdaptivePool, InH: c.inH, InW: c.inW, InC: 4, OutH: c.outH, OutW: c.outW}
		if err := l.Validate(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if h, w := l.OutDims(); h != c.outH || w != c.outW || l.OutElems() != int64(4*c.outH*c.outW) {
			t.Errorf("%s: out %dx%d, %d elems", c.name, h, w, l.OutElems())
		}
		if got := l.VectorOps(); got != 4*c.ops {
			t.Errorf("%s: VectorOps %d, want %d", c.name, got, 4*c.ops)
		}
		cfg := edgeConfig()
		res, err := Simulate(cfg, []Layer{l}, Options{Batch: 3})
		if err != nil {
			t.Fatal(err)
		}
		r := res.Layers[0]
		if r.Kind != "adaptive_pool" || r.MACs != 0 || r.VectorOps != 3*4*c.ops ||
			r.ComputeCycles != ceilDiv64(3*4*c.ops, int64(cfg.Cols)) ||
			r.SRAMIfmapReadBytes != 3*4*c.ops || r.DRAMIfmapReadBytes != int64(3*4*c.inH*c.inW) ||
			r.DRAMOfmapWriteBytes != int64(3*4*c.outH*c.outW) {
			t.Errorf("%s: %+v", c.name, r)
		}
	}

	// 14x14 to 7x7 is a 2x2 stride-2 pool: the same cost in every respect.
	a := Layer{Name: "p", Kind: AdaptivePool, InH: 14, InW: 14, InC: 512, OutH: 7, OutW: 7}
	p := Layer{Name: "p", Kind: Pool, InH: 14, InW: 14, InC: 512, KH: 2, KW: 2, StrideH: 2, StrideW: 2}
	ra, err := Simulate(edgeConfig(), []Layer{a}, Options{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	rp, err := Simulate(edgeConfig(), []Layer{p}, Options{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	ra.Layers[0].Kind = "pool"
	if ra.Layers[0] != rp.Layers[0] {
		t.Errorf("adaptive 14→7 %+v\n!= pool 2x2/2 %+v", ra.Layers[0], rp.Layers[0])
	}

	for _, c := range []struct {
		l    Layer
		want string
	}{
		{Layer{Kind: AdaptivePool, InH: 4, InW: 4, InC: 2, OutW: 7}, "OutH must be between 1"},
		{Layer{Kind: AdaptivePool, InH: 4, InW: 4, InC: 2, OutH: 7, OutW: -1}, "OutW must be between 1"},
		{Layer{Kind: AdaptivePool, InH: 4, InW: 4, InC: 2, OutH: 7, OutW: 7, OutC: 3}, "pooling keeps the channels"},
	} {
		if err := c.l.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.l, err, c.want)
		}
	}
}
