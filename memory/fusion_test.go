package memory

import (
	"testing"

	"github.com/vggsim/vggsim/ir"
)

// threeLayers: 8×16×16 → conv3x3 s1 → conv3x3 s1 → conv3x3 s2 (8 channels, bias, ReLU each).
func threeLayers(t *testing.T) *ir.Graph {
	b := ir.NewBuilder("three", ir.Shape{C: 8, H: 16, W: 16})
	x := b.Input()
	for i, s := range []int{1, 1, 2} {
		name := string(rune('a' + i))
		x = b.ReLU(name+".relu", b.Conv(name+".conv", x, 8, 3, s, 1, 1, true))
	}
	return finish(t, b, x)
}

const (
	mapBytes = 8 * 16 * 16 // every map but the last, at 8 bits
	lastMap  = 8 * 8 * 8
	rowBytes = 8 * 16 // one row of an intermediate map
	layerW   = 8*8*9 + 8
)

func fusion(t *testing.T, g *ir.Graph, o FusionOptions) *FusionReport {
	t.Helper()
	fr, err := Fusion(g, o)
	if err != nil {
		t.Fatal(err)
	}
	return fr
}

// TestLineBuffersByHand checks the three-layer case against the numbers worked out by hand
// in docs/memory.md: with one output row per band, the last layer (stride 2) holds 3 rows
// of the second map and asks for 2 new ones per band, so the second layer holds
// (2−1)·1+3 = 4 rows of the first map.
func TestLineBuffersByHand(t *testing.T) {
	fr := fusion(t, threeLayers(t), FusionOptions{SRAMBytes: 1 << 20, MaxDepth: 3})
	if len(fr.Chains) != 1 || len(fr.Chains[0].Layers) != 3 {
		t.Fatalf("chains = %+v, want one chain of 3 layers", fr.Chains)
	}
	s := fr.segment(0, 0, 3, 1, 896, subsetSums([]int64{layerW, layerW, layerW}))
	if len(s.LineRows) != 2 || s.LineRows[0] != 4 || s.LineRows[1] != 3 {
		t.Errorf("line rows = %v, want [4 3]", s.LineRows)
	}
	if s.LineBufferBytes != 7*rowBytes || s.HaloBytes != (2+1)*rowBytes || s.Bands != 8 {
		t.Errorf("line buffers %d, halo %d, bands %d; want %d, %d, 8", s.LineBufferBytes, s.HaloBytes, s.Bands, 7*rowBytes, 3*rowBytes)
	}
	// 896 bytes hold the line buffers and nothing else: all weights are re-read every band.
	if !s.Fits || s.ResidentWeightsBytes != 0 || s.WeightTrafficBytes != 8*3*layerW {
		t.Errorf("fits %v, resident %d, weight traffic %d", s.Fits, s.ResidentWeightsBytes, s.WeightTrafficBytes)
	}
	if s.DRAMBytes() != mapBytes+lastMap+8*3*layerW || s.SavedBytes != 4*mapBytes {
		t.Errorf("segment traffic %d, saved %d", s.DRAMBytes(), s.SavedBytes)
	}
	// Two bands of two rows: 5 rows of map 2, 6 of map 1.
	s2 := fr.segment(0, 0, 3, 2, 1<<20, subsetSums([]int64{layerW, layerW, layerW}))
	if s2.LineRows[0] != 6 || s2.LineRows[1] != 5 || s2.Bands != 4 {
		t.Errorf("band 2: line rows %v, bands %d; want [6 5], 4", s2.LineRows, s2.Bands)
	}
	// A 3x3 stride-1 pair holds 3 rows: two kept from the last band and the new one.
	s1 := fr.segment(0, 0, 2, 1, 1<<20, subsetSums([]int64{layerW, layerW}))
	if s1.LineRows[0] != 3 || s1.HaloBytes != 2*rowBytes {
		t.Errorf("depth 2: line rows %v, halo %d", s1.LineRows, s1.HaloBytes)
	}
}

// TestDepthOneIsLayerByLayer: a plan of depth 1 is layer-by-layer execution exactly, the
// spill model with no activation SRAM plus every weight once.
func TestDepthOneIsLayerByLayer(t *testing.T) {
	g := threeLayers(t)
	r := analyze(t, g, Options{})
	for _, sram := range []int64{0, 896, 1 << 20} {
		fr := fusion(t, g, FusionOptions{SRAMBytes: sram, MaxDepth: 3})
		want := r.StreamBytes + r.WeightsBytes
		if want != mapBytes+2*2*mapBytes+lastMap+3*layerW {
			t.Fatalf("layer by layer = %d by the spill model", want)
		}
		for _, p := range []FusionPlan{fr.LayerByLayer, fr.Depths[0]} {
			if p.DRAMBytes != want || !p.Fits || p.Depth != 1 {
				t.Errorf("sram %d: depth-1 plan %d bytes (fits %v), want %d", sram, p.DRAMBytes, p.Fits, want)
			}
		}
	}
}

func TestFusionBest(t *testing.T) {
	g := threeLayers(t)
	lbl := int64(mapBytes + 4*mapBytes + lastMap + 3*layerW)
	for _, c := range []struct {
		sram int64
		want int64
	}{
		// Too small for any line buffer: layer by layer.
		{0, lbl},
		// Line buffers fit, but re-reading three layers' weights every band costs more than
		// the intermediates. The best is layer 1 alone, then layers 2–3 fused in 4 bands of
		// 2 rows (5 rows of map 2, 640 bytes): map 2 saved (2·2048), layers 2–3's weights
		// read 3 more times.
		{896, lbl - 2*mapBytes + 3*2*layerW},
		// Line buffers and all weights: the intermediates never leave the chip.
		{896 + 3*layerW, mapBytes + lastMap + 3*layerW},
	} {
		fr := fusion(t, g, FusionOptions{SRAMBytes: c.sram, MaxDepth: 3})
		if fr.Best.DRAMBytes != c.want || !fr.Best.Fits {
			t.Errorf("sram %d: best %d bytes, want %d; segments %+v", c.sram, fr.Best.DRAMBytes, c.want, fr.Best.Segments)
		}
	}
	fr := fusion(t, g, FusionOptions{SRAMBytes: 896, MaxDepth: 3})
	if d3 := fr.Depths[2]; !d3.Fits || d3.MinSRAMBytes != 896 || d3.DRAMBytes != mapBytes+lastMap+8*3*layerW {
		t.Errorf("depth 3 at 896: %+v", d3)
	}
	if d3 := fusion(t, g, FusionOptions{SRAMBytes: 895, MaxDepth: 3}).Depths[2]; d3.Fits {
		t.Errorf("depth 3 fits in 895 bytes")
	}
}

// TestFusionMonotone: the best plan's traffic never grows with the SRAM budget.
func TestFusionMonotone(t *testing.T) {
	g := threeLayers(t)
	prev := int64(-1)
	for sram := int64(0); sram <= 6000; sram += 37 {
		fr := fusion(t, g, FusionOptions{SRAMBytes: sram, MaxDepth: 3})
		if prev >= 0 && fr.Best.DRAMBytes > prev {
			t.Fatalf("sram %d: best %d > %d at a smaller budget", sram, fr.Best.DRAMBytes, prev)
		}
		prev = fr.Best.DRAMBytes
	}
}

func TestFusionErrors(t *testing.T) {
	g := threeLayers(t)
	for _, o := range []FusionOptions{{MaxDepth: 33}, {MaxDepth: -1}, {SRAMBytes: -1}, {Objective: "fast"}, {Objective: "energy"}} {
		if _, err := Fusion(g, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}
