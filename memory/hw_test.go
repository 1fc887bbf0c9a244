package memory

import (
	"math"
	"testing"

	"github.com/vggsim/vggsim/hw"
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
	lg := r.lv.lower(res)
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
		in := 64
		if name == "VGG-16" {
			in = 224
		}
		train, deploy := zooPair(t, name, models.Options{InputH: in})
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
				for _, d := range r.lv.lower(res).dram {
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
			if mid.ActivationSRAMBytes != ActivationSRAM(cfg) || mid.DRAMBytes > none.DRAMBytes || mid.DRAMBytes < all.DRAMBytes {
				t.Errorf("%s %s: DRAM %d at %d bytes, %d with none, %d with all", name, r.Form, mid.DRAMBytes, mid.ActivationSRAMBytes, none.DRAMBytes, all.DRAMBytes)
			}
			if mid.Cycles <= 0 || mid.EnergyJ <= 0 || mid.DRAMBytesPerImage != float64(mid.DRAMBytes) {
				t.Errorf("%s %s: %+v", name, r.Form, mid)
			}
		}
	}
}

// TestFusionCostDepthOne: priced with the simulator, the depth-1 plan is the layer-by-layer
// plan exactly, and the per-depth plans are priced consistently.
func TestFusionCostDepthOne(t *testing.T) {
	cfg := edge32(t)
	_, deploy := zooPair(t, "RepVGG-A0", models.Options{InputH: 64})
	c := NewSimCoster(cfg, 8, 1)
	fr, err := FusionWithCost(deploy, FusionOptions{SRAMBytes: 64 << 10, MaxDepth: 4}, c)
	if err != nil || c.Err() != nil {
		t.Fatal(err, c.Err())
	}
	if fr.Depths[0].Cost != fr.LayerByLayer.Cost || fr.Depths[0].DRAMBytes != fr.LayerByLayer.DRAMBytes {
		t.Errorf("depth 1 %+v, layer by layer %+v", fr.Depths[0], fr.LayerByLayer)
	}
	for _, p := range append(fr.Depths, fr.Best) {
		if p.Cost.Cycles <= 0 || p.Cost.EnergyJ <= 0 {
			t.Errorf("depth %d: cost %+v", p.Depth, p.Cost)
		}
	}
	// Energy objective: the best plan never costs more energy than layer by layer.
	fe, err := FusionWithCost(deploy, FusionOptions{SRAMBytes: 64 << 10, MaxDepth: 4, Objective: "energy"}, NewSimCoster(cfg, 8, 1))
	if err != nil {
		t.Fatal(err)
	}
	if fe.Best.Cost.EnergyJ > fe.LayerByLayer.Cost.EnergyJ*(1+1e-12) {
		t.Errorf("energy-best %g > layer by layer %g", fe.Best.Cost.EnergyJ, fe.LayerByLayer.Cost.EnergyJ)
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
