package memory

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/sim"
)

func edge32(t testing.TB) *hw.Config {
	t.Helper()
	cfg, err := hw.Resolve("edge-32")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestLowerResidual checks the sim layers of the residual block and their on-chip flags
// when everything is resident: conv1 with its ReLU fused, conv2, the add (its ReLU reads
// it on chip) and the final ReLU writing the output to DRAM.
func TestLowerResidual(t *testing.T) {
	r := analyze(t, residualBlock(t), Options{})
	_, res := r.lv.residency(r.costs, math.MaxInt64)
	lg := mustLower(t, r, res)
	type want struct {
		name      string
		kind      sim.LayerKind
		relu      bool
		in        []bool
		outOnChip bool
	}
	wants := []want{
		{"conv1", sim.Conv, true, []bool{false}, true}, // the input's first reader loads it
		{"conv2", sim.Conv, false, []bool{true}, true},
		{"add", sim.Add, false, []bool{true, true}, true}, // add → relu: never stored
		{"relu2", sim.ReLU, false, []bool{true}, false},   // the graph output
	}
	if len(lg.layers) != len(wants) {
		t.Fatalf("%d layers, want %d", len(lg.layers), len(wants))
	}
	for i, w := range wants {
		l := lg.layers[i]
		if l.Name != w.name || l.Kind != w.kind || l.FusedReLU != w.relu || l.OutputOnChip != w.outOnChip || len(l.InputsOnChip) != len(w.in) {
			t.Errorf("layer %d = %+v, want %+v", i, l, w)
			continue
		}
		for k := range w.in {
			if l.InputsOnChip[k] != w.in[k] {
				t.Errorf("%s input %d on chip = %v", l.Name, k, l.InputsOnChip[k])
			}
		}
	}
}

// TestLoweredTraffic: the per-layer DRAM bytes of the lowering add up to the spill model's
// traffic for the same residency, on every zoo model.
func TestLoweredTraffic(t *testing.T) {
	for _, name := range models.Names() {
		train, deploy := zooPair(t, name, models.Options{InputH: 64})
		c, err := Compare(train, deploy, Options{Batch: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []*Report{c.Train, c.Deploy} {
			for _, s := range []int64{0, r.PeakBytes / 3, r.PeakBytes} {
				tr, res := r.lv.residency(r.costs, s)
				if s == 0 {
					res = nil
				}
				var sum int64
				for _, d := range mustLower(t, r, res).dram {
					sum += d
				}
				if sum != tr.Bytes() {
					t.Errorf("%s %s at %d bytes: lowered layers move %d bytes, the spill model %d", name, r.Form, s, sum, tr.Bytes())
				}
			}
		}
	}
}

// TestSimulateAgreesWithSpillModel: with all activations resident, the simulator moves only
// the compulsory activation bytes; with none, at least the layer-by-layer bytes; and more
// SRAM never costs DRAM traffic.
func TestSimulateAgreesWithSpillModel(t *testing.T) {
	cfg := edge32(t)
	for _, name := range []string{"RepVGG-A0", "ResNet-18", "RepVGG-D2se"} {
		train, deploy := zooPair(t, name, models.Options{InputH: 64})
		c, err := Compare(train, deploy, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []*Report{c.Train, c.Deploy} {
			all, err := r.Simulate(cfg, 1<<40)
			if err != nil {
				t.Fatal(err)
			}
			if all.Residency.Bytes() != r.CompulsoryBytes || all.ActivationDRAMBytes != r.CompulsoryBytes {
				t.Errorf("%s %s: unlimited SRAM: model %d, sim %d, want compulsory %d", name, r.Form, all.Residency.Bytes(), all.ActivationDRAMBytes, r.CompulsoryBytes)
			}
			none, err := r.Simulate(cfg, 0)
			if err != nil {
				t.Fatal(err)
			}
			if none.Residency.Bytes() != r.StreamBytes || none.ActivationDRAMBytes < r.StreamBytes {
				t.Errorf("%s %s: no SRAM: model %d, sim %d, want ≥ %d", name, r.Form, none.Residency.Bytes(), none.ActivationDRAMBytes, r.StreamBytes)
			}
			if none.WeightDRAMBytes < r.WeightsBytes-r.WeightsBytes/4 {
				t.Errorf("%s %s: sim reads %d weight bytes of %d", name, r.Form, none.WeightDRAMBytes, r.WeightsBytes)
			}
			mid, err := r.Simulate(cfg, -1)
			if err != nil {
				t.Fatal(err)
			}
			// The searched budget is on the grid, within the activation SRAM.
			if !slices.Contains(ActivationBudgets(cfg), mid.ActivationSRAMBytes) || mid.ActivationSRAMBytes > ActivationSRAM(cfg) ||
				mid.DRAMBytes > none.DRAMBytes || mid.DRAMBytes < all.DRAMBytes {
				t.Errorf("%s %s: DRAM %d at %d bytes, %d with none, %d with all", name, r.Form, mid.DRAMBytes, mid.ActivationSRAMBytes, none.DRAMBytes, all.DRAMBytes)
			}
			if mid.Cycles <= 0 || mid.EnergyJ <= 0 || mid.DRAMBytesPerImage != float64(mid.DRAMBytes) {
				t.Errorf("%s %s: %+v", name, r.Form, mid)
			}
		}
	}
}

// TestFusionOnHardware: priced with the simulator, the depth-1 plan is exactly the engine's
// layer-by-layer run (Report.Simulate with no activation SRAM): DRAM bytes, cycles and
// energy, bit for bit; the cache plan is exactly Report.Simulate at the fusion budget; no
// plan goes below the model's floor; and the best plan never costs more of its objective
// than layer by layer.
func TestFusionOnHardware(t *testing.T) {
	cfg := edge32(t)
	for _, name := range []string{"RepVGG-A0", "ResNet-18", "VGG-16"} {
		train, deploy := zooPair(t, name, models.Options{InputH: 64})
		for _, g := range []*ir.Graph{deploy, train} {
			for _, batch := range []int{1, 2} {
				r, err := Analyze(g, Options{Batch: batch})
				if err != nil {
					t.Fatal(err)
				}
				lbl, err := r.Simulate(cfg, 0)
				if err != nil {
					t.Fatal(err)
				}
				const sram = 96 << 10
				cache, err := r.Simulate(cfg, sram)
				if err != nil {
					t.Fatal(err)
				}
				for _, obj := range []string{"traffic", "cycles", "energy"} {
					fr, err := Fusion(g, FusionOptions{Batch: batch, SRAMBytes: sram, MaxDepth: 4, Objective: obj, Hardware: cfg})
					if err != nil {
						t.Fatal(err)
					}
					what := fmt.Sprintf("%s batch %d, %s", g.Name, batch, obj)
					for _, p := range []FusionPlan{fr.LayerByLayer, fr.Depths[0]} {
						if p.DRAMBytes != lbl.DRAMBytes || p.Cost.Cycles != lbl.Cycles || p.Cost.EnergyJ != lbl.EnergyJ {
							t.Errorf("%s: depth 1 = %d B, %d cycles, %g J; engine layer by layer %d B, %d cycles, %g J",
								what, p.DRAMBytes, p.Cost.Cycles, p.Cost.EnergyJ, lbl.DRAMBytes, lbl.Cycles, lbl.EnergyJ)
						}
						if p.ModelDRAMBytes != r.StreamBytes+r.WeightsBytes {
							t.Errorf("%s: depth 1 model traffic %d, want %d", what, p.ModelDRAMBytes, r.StreamBytes+r.WeightsBytes)
						}
					}
					if fr.Cache.DRAMBytes != cache.DRAMBytes || fr.Cache.Cost.Cycles != cache.Cycles || fr.Cache.Cost.EnergyJ != cache.EnergyJ {
						t.Errorf("%s: cache plan %+v, engine at %d bytes: %d B, %d cycles", what, fr.Cache, sram, cache.DRAMBytes, cache.Cycles)
					}
					for _, p := range append([]FusionPlan{fr.Best}, fr.Depths...) {
						if p.DRAMBytes < fr.FloorBytes || p.ModelDRAMBytes < fr.FloorBytes || p.Cost.Cycles <= 0 || p.Cost.EnergyJ <= 0 {
							t.Errorf("%s: depth %d: %d B (model %d), floor %d, cost %+v", what, p.Depth, p.DRAMBytes, p.ModelDRAMBytes, fr.FloorBytes, p.Cost)
						}
					}
					b, l := fr.Best, fr.LayerByLayer
					worse := map[string]bool{
						"traffic": b.DRAMBytes > l.DRAMBytes,
						"cycles":  b.Cost.Cycles > l.Cost.Cycles,
						"energy":  b.Cost.EnergyJ > l.Cost.EnergyJ*(1+1e-12),
					}[obj]
					if worse || !b.Fits {
						t.Errorf("%s: best %+v worse than layer by layer %+v", what, b.Cost, l.Cost)
					}
				}
			}
		}
	}
}

// TestFusedSegmentOnHardware prices the three-layer chain fused in one-row bands by hand
// from the engine's per-band results. One budget: every band layer runs with the segment's
// line buffers and resident weights held in the ifmap and ofmap SRAMs.
func TestFusedSegmentOnHardware(t *testing.T) {
	cfg := edge32(t)
	budget := ActivationSRAM(cfg)
	g := threeLayers(t)
	fr, err := Fusion(g, FusionOptions{SRAMBytes: budget, MaxDepth: 3, Hardware: cfg})
	if err != nil {
		t.Fatal(err)
	}
	onChip := func(l sim.Layer, held int64) sim.LayerResult {
		l.InputsOnChip, l.OutputOnChip, l.ResidentBytes = []bool{true}, true, held
		res, err := sim.Simulate(cfg, []sim.Layer{l}, sim.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return res.Layers[0]
	}
	conv := func(name string, inH, stride, pad int) sim.Layer {
		return sim.Layer{Name: name, Kind: sim.Conv, InH: inH, InW: 16, InC: 8, OutC: 8, KH: 3, KW: 3,
			StrideH: stride, StrideW: stride, PadH: pad, PadW: 1, Groups: 1, Bias: true, FusedReLU: true}
	}
	// One output row of c per band: c reads 3 rows of b's map, b computes 2 rows from 4 of
	// a's, a computes 2 rows from 4 rows of the input; 8 bands. The segment holds 11 rows of
	// line buffers and every layer's weights.
	held := int64(11*rowBytes + 3*layerW)
	a, b, c := onChip(conv("a", 4, 1, 0), held), onChip(conv("b", 4, 1, 0), held), onChip(conv("c", 3, 2, 0), held)
	for _, v := range []sim.LayerResult{a, b, c} {
		if v.DRAMFilterReadBytes != layerW || v.DRAMPsumReadBytes != 0 {
			t.Fatalf("band layer %s: filter DRAM %d, want %d", v.Name, v.DRAMFilterReadBytes, layerW)
		}
	}
	s := fr.segment(0, 0, 3, 1, budget)
	if s.Bands != 8 || s.ResidentWeightsBytes != 3*layerW || s.SRAMBytes != held {
		t.Fatalf("segment %+v", s)
	}
	if s.SRAMBytes+s.StagingBytes != budget {
		t.Errorf("held %d + staging %d != ifmap+ofmap SRAM %d", s.SRAMBytes, s.StagingBytes, budget)
	}
	// Weights resident: input once, output once, weights once.
	wantD := int64(mapBytes + lastMap + 3*layerW)
	compute := 8 * (a.ComputeCycles + b.ComputeCycles + c.ComputeCycles)
	bwc := cfg.DRAMBandwidth / cfg.ClockHz
	cyc := func(b int64) int64 { return int64(math.Ceil(float64(b) / bwc)) }
	first := a.UniqueIfmapBytes + a.FirstLoadBytes // 4 input rows and a's first filter block
	last := c.UniqueOfmapBytes                     // one row of c's output
	wantC := cyc(first) + max(compute, cyc(wantD-first-last)) + cyc(last)
	if s.DRAMBytes != wantD || s.ModelDRAMBytes != wantD || s.Cost.Cycles != wantC {
		t.Errorf("segment: %d B (model %d), %d cycles; want %d B, %d cycles", s.DRAMBytes, s.ModelDRAMBytes, s.Cost.Cycles, wantD, wantC)
	}
	// Nothing resident (the budget holds only the line buffers): every band re-reads each
	// layer's weights, as the engine charges each band.
	s0 := fr.segment(0, 0, 3, 1, 11*rowBytes)
	if want := int64(mapBytes + lastMap + 8*3*layerW); s0.ResidentWeightsBytes != 0 || s0.DRAMBytes != want || s0.ModelDRAMBytes != want {
		t.Errorf("no resident weights: %d B (model %d), want %d", s0.DRAMBytes, s0.ModelDRAMBytes, want)
	}
	// A budget the staging floors leave no room for: the line buffers do not fit.
	minIf, _, minOf := cfg.MinSRAMBytes()
	if s := fr.segment(0, 0, 3, 1, budget); !s.Fits {
		t.Errorf("segment does not fit in %d", budget)
	}
	tight := cfg.Clone()
	tight.IfmapSRAMBytes, tight.OfmapSRAMBytes = 11*rowBytes/2+minIf, 11*rowBytes/2+minOf-1
	ft, err := Fusion(g, FusionOptions{SRAMBytes: ActivationSRAM(tight), MaxDepth: 3, Hardware: tight})
	if err != nil {
		t.Fatal(err)
	}
	if s := ft.segment(0, 0, 3, 1, ActivationSRAM(tight)); s.Fits {
		t.Errorf("11 rows fit beside the staging floors of %d + %d bytes", tight.IfmapSRAMBytes, tight.OfmapSRAMBytes)
	}
}

func BenchmarkSimulate(b *testing.B) {
	cfg := edge32(b)
	for _, name := range []string{"RepVGG-A0", "ResNet-50"} {
		train, deploy := zooPair(b, name, models.Options{})
		c, err := Compare(train, deploy, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.Train.Simulate(cfg, -1); err != nil {
					b.Fatal(err)
				}
				if _, err := c.Deploy.Simulate(cfg, -1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAdaptivePool: VGG-16 at 32×32 has torchvision's AdaptiveAvgPool2d((7, 7)) replicating
// its 512×1×1 last feature map. The pool gets a buffer of its own (it never runs in place),
// both maps are live while it runs, it lowers to a sim.AdaptivePool of 512·49 additions per
// image, and the lowered traffic is the spill model's.
func TestAdaptivePool(t *testing.T) {
	_, deploy := zooPair(t, "VGG-16", models.Options{InputH: 32})
	r, err := Analyze(deploy, Options{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	at := -1
	for i, s := range r.Steps {
		if s.Node == "avgpool" {
			at = i
		}
	}
	if at < 0 {
		t.Fatal("no avgpool step")
	}
	pool, prev := r.Steps[at], r.Steps[at-1]
	in, out := bytesOf(512, 2, r.Bits), bytesOf(512*49, 2, r.Bits)
	if prev.Node != "features.30" || pool.Op != "adaptiveavgpool" || pool.InPlace || pool.Buffer == prev.Buffer ||
		pool.OutBytes != out || pool.LiveBytes < in+out {
		t.Errorf("avgpool step %+v after %+v", pool, prev)
	}
	lg := mustLower(t, r, nil)
	var l *sim.Layer
	for k := range lg.layers {
		if lg.layers[k].Name == "avgpool" {
			l = &lg.layers[k]
		}
	}
	if l == nil || l.Kind != sim.AdaptivePool || l.InH != 1 || l.InW != 1 || l.InC != 512 || l.OutH != 7 || l.OutW != 7 ||
		l.InputOnChip(0) || l.OutputOnChip {
		t.Fatalf("lowered avgpool %+v", l)
	}
	h, err := r.Simulate(edge32(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, lr := range h.Sim.Layers {
		if lr.Name == "avgpool" && (lr.Kind != "adaptive_pool" || lr.VectorOps != 2*512*49 ||
			lr.DRAMIfmapReadBytes != in || lr.DRAMOfmapWriteBytes != out) {
			t.Errorf("simulated avgpool %+v", lr)
		}
	}
}

// TestSweep: a sweep is TrafficSweep at every size, labelled with the model and form, and
// with hardware the simulator's whole DRAM traffic at each size as the activation SRAM.
func TestSweep(t *testing.T) {
	cfg := edge32(t)
	train, deploy := zooPair(t, "RepVGG-A0", models.Options{InputH: 64})
	c, err := Compare(train, deploy, Options{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Deploy
	sizes := SweepSizes(16<<10, r.PeakBytes, 2)
	plain, err := r.Sweep(sizes, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Label != "RepVGG-A0 deploy" || plain.Batch != 2 || plain.Engine != nil || !slices.Equal(plain.Points, r.TrafficSweep(sizes)) {
		t.Errorf("sweep without hardware: %+v", plain)
	}
	s, err := r.Sweep(sizes, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Points, plain.Points) || len(s.Engine) != len(sizes) {
		t.Fatalf("sweep on %s: %+v", cfg.Name, s)
	}
	for i, size := range sizes {
		h, err := r.Simulate(cfg, size)
		if err != nil {
			t.Fatal(err)
		}
		if s.Engine[i] != h.DRAMBytes {
			t.Errorf("at %d bytes: sweep %d, Simulate %d", size, s.Engine[i], h.DRAMBytes)
		}
	}
}

// mustLower lowers r's graph with the given resident buffers.
func mustLower(t *testing.T, r *Report, res []bool) loweredGraph {
	t.Helper()
	lg, err := r.lv.lower(res)
	if err != nil {
		t.Fatal(err)
	}
	return lg
}

// TestSimulationReusesAnalysis: Report.Simulation on an analysis made once equals
// SimulateGraph, for several configurations in a row.
func TestSimulationReusesAnalysis(t *testing.T) {
	g, err := models.BuildDeploy("RepVGG-A0", models.Options{InputH: 64, InputW: 64})
	if err != nil {
		t.Fatal(err)
	}
	r := analyze(t, g, Options{Bits: 8, Batch: 2})
	for _, name := range []string{"edge-32", "nvdla-large", "scalesim-32x32"} {
		cfg, err := hw.Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Simulation("deploy", cfg)
		if err != nil {
			t.Fatal(err)
		}
		want, err := SimulateGraph(g, "deploy", cfg, 2, sim.ObjectiveLatency)
		if err != nil {
			t.Fatal(err)
		}
		if got.Result.Total != want.Result.Total || got.DRAMBytesPerImage != want.DRAMBytesPerImage || got.Input != [2]int{64, 64} {
			t.Errorf("%s: reused analysis gives %+v, SimulateGraph %+v", name, got.Result.Total, want.Result.Total)
		}
	}
}
