package memory

import (
	"slices"
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
// in docs/memory.md. With one output row of c per band: c (stride 2) holds (1−1)·2+3 = 3
// rows of b's map and asks for 2 new ones per band; b computes 2 rows from (2−1)·1+3 = 4
// rows of a's map; a computes 2 rows from 4 rows of the input. 11 rows of 8×16 bytes.
func TestLineBuffersByHand(t *testing.T) {
	fr := fusion(t, threeLayers(t), FusionOptions{SRAMBytes: 1 << 20, MaxDepth: 3})
	if len(fr.Chains) != 1 || len(fr.Chains[0].Layers) != 3 {
		t.Fatalf("chains = %+v, want one chain of 3 layers", fr.Chains)
	}
	s := fr.segment(0, 0, 3, 1, 11*rowBytes)
	if !slices.Equal(s.LineRows, []int{4, 4, 3}) {
		t.Errorf("line rows = %v, want [4 4 3]", s.LineRows)
	}
	// Halo: K−S rows of each held map carry over: 2 of the input, 2 of map 1, 1 of map 2.
	if s.LineBufferBytes != 11*rowBytes || s.HaloBytes != (2+2+1)*rowBytes || s.Bands != 8 {
		t.Errorf("line buffers %d, halo %d, bands %d; want %d, %d, 8", s.LineBufferBytes, s.HaloBytes, s.Bands, 11*rowBytes, 5*rowBytes)
	}
	// 1408 bytes hold the line buffers and nothing else: all weights are re-read every band.
	if !s.Fits || s.ResidentWeightsBytes != 0 || s.WeightTrafficBytes != 8*3*layerW {
		t.Errorf("fits %v, resident %d, weight traffic %d", s.Fits, s.ResidentWeightsBytes, s.WeightTrafficBytes)
	}
	if s.DRAMBytes != mapBytes+lastMap+8*3*layerW || s.SavedBytes != 4*mapBytes {
		t.Errorf("segment traffic %d, saved %d", s.DRAMBytes, s.SavedBytes)
	}
	if s := fr.segment(0, 0, 3, 1, 11*rowBytes-1); s.Fits {
		t.Errorf("fits in %d bytes", 11*rowBytes-1)
	}
	// Four bands of two rows: c holds 5 rows of map 2, b computes 4 rows from 6 of map 1,
	// a computes 4 from 6 of the input.
	s2 := fr.segment(0, 0, 3, 2, 1<<20)
	if !slices.Equal(s2.LineRows, []int{6, 6, 5}) || s2.Bands != 4 || s2.LineBufferBytes != 17*rowBytes {
		t.Errorf("band 2: line rows %v, bands %d, %d bytes; want [6 6 5], 4, %d", s2.LineRows, s2.Bands, s2.LineBufferBytes, 17*rowBytes)
	}
	// A 3x3 stride-1 pair in one-row bands holds 3 rows of each map: two kept from the last
	// band and the new one.
	s1 := fr.segment(0, 0, 2, 1, 1<<20)
	if !slices.Equal(s1.LineRows, []int{3, 3}) || s1.HaloBytes != 4*rowBytes || s1.Bands != 16 {
		t.Errorf("depth 2: line rows %v, halo %d, bands %d", s1.LineRows, s1.HaloBytes, s1.Bands)
	}
	// One band: the layers run on whole maps one after another; the most held at once is
	// the input and map 1 (or map 1 and map 2).
	s3 := fr.segment(0, 0, 3, 8, 1<<20)
	if s3.Bands != 1 || s3.LineBufferBytes != 2*mapBytes || s3.HaloBytes != 0 || s3.ResidentWeightsBytes != 0 || s3.WeightTrafficBytes != 3*layerW {
		t.Errorf("one band: %+v", s3)
	}
}

// TestDepthOneIsLayerByLayer: a plan of depth 1 is layer-by-layer execution exactly, the
// spill model with no activation SRAM plus every weight once.
func TestDepthOneIsLayerByLayer(t *testing.T) {
	g := threeLayers(t)
	r := analyze(t, g, Options{})
	for _, sram := range []int64{0, 11 * rowBytes, 1 << 20} {
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
		// the intermediates. The best is a alone, then b and c fused in 4 bands of 2 rows
		// (6 rows of map 1 and 5 of map 2: 11 rows again): map 2 saved (2·2048), b and c's
		// weights read 3 more times.
		{11 * rowBytes, lbl - 2*mapBytes + 3*2*layerW},
		// Depth 3 in 4 bands of 2 rows (17 rows of line buffers) with one layer's weights
		// resident: input and output once, weights 1 + 2·4 times.
		{17*rowBytes + layerW, mapBytes + lastMap + 9*layerW},
		// Line buffers and all weights: the intermediates never leave the chip, every
		// weight is read once; the floor.
		{11*rowBytes + 3*layerW, mapBytes + lastMap + 3*layerW},
	} {
		fr := fusion(t, g, FusionOptions{SRAMBytes: c.sram, MaxDepth: 3})
		if fr.Best.DRAMBytes != c.want || !fr.Best.Fits {
			t.Errorf("sram %d: best %d bytes, want %d; segments %+v", c.sram, fr.Best.DRAMBytes, c.want, fr.Best.Segments)
		}
		if fr.Best.DRAMBytes < fr.FloorBytes {
			t.Errorf("sram %d: best %d below the floor %d", c.sram, fr.Best.DRAMBytes, fr.FloorBytes)
		}
	}
	fr := fusion(t, g, FusionOptions{SRAMBytes: 11 * rowBytes, MaxDepth: 3})
	if d3 := fr.Depths[2]; !d3.Fits || d3.MinSRAMBytes != 11*rowBytes || d3.DRAMBytes != mapBytes+lastMap+8*3*layerW {
		t.Errorf("depth 3 at %d: %+v", 11*rowBytes, d3)
	}
	if d3 := fusion(t, g, FusionOptions{SRAMBytes: 11*rowBytes - 1, MaxDepth: 3}).Depths[2]; d3.Fits {
		t.Errorf("depth 3 fits in %d bytes", 11*rowBytes-1)
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
