package memory

import (
	"testing"

	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/reparam"
)

func zooPair(t testing.TB, name string, o models.Options) (train, deploy *ir.Graph) {
	t.Helper()
	train, err := models.Build(name, o)
	if err != nil {
		t.Fatal(err)
	}
	deploy, err = models.BuildDeploy(name, o)
	if err != nil {
		t.Fatal(err)
	}
	return train, deploy
}

// TestZooBounds: peak ≤ arena ≤ sum of all activations on every zoo model in both forms, at
// two batch sizes, plus the other invariants of checkInvariants.
func TestZooBounds(t *testing.T) {
	for _, name := range models.Names() {
		train, deploy := zooPair(t, name, models.Options{})
		for _, g := range []*ir.Graph{train, deploy} {
			for _, o := range []Options{{}, {Batch: 2, Bits: 16, Align: 64}} {
				r, err := Analyze(g, o)
				if err != nil {
					t.Fatal(err)
				}
				if o.Align > 1 {
					// Alignment pads the arena; the plain bounds hold before padding.
					if r.ArenaBytes < r.PeakBytes {
						t.Errorf("%s: aligned arena %d below peak %d", name, r.ArenaBytes, r.PeakBytes)
					}
					continue
				}
				checkInvariants(t, r)
			}
		}
	}
}

// TestTrainNeverBelowDeploy: the train form of a net never needs less activation memory,
// SRAM, weights or DRAM traffic than its deploy form, at any activation SRAM size.
func TestTrainNeverBelowDeploy(t *testing.T) {
	for _, name := range models.Names() {
		for _, in := range []int{224, 64} {
			train, deploy := zooPair(t, name, models.Options{InputH: in})
			c, err := Compare(train, deploy, Options{})
			if err != nil {
				t.Fatal(err)
			}
			tr, de := c.Train, c.Deploy
			for k, v := range map[string][2]int64{
				"peak":       {tr.PeakBytes, de.PeakBytes},
				"resident":   {tr.ResidentPeakBytes, de.ResidentPeakBytes},
				"arena":      {tr.ArenaBytes, de.ArenaBytes},
				"min sram":   {tr.MinSRAMNoSpill, de.MinSRAMNoSpill},
				"weights":    {tr.WeightsBytes, de.WeightsBytes},
				"stream":     {tr.StreamBytes, de.StreamBytes},
				"compulsory": {tr.CompulsoryBytes, de.CompulsoryBytes},
			} {
				if v[0] < v[1] {
					t.Errorf("%s@%d: train %s %d < deploy %d", name, in, k, v[0], v[1])
				}
			}
			sizes := SweepSizes(1<<10, max(tr.PeakBytes, de.PeakBytes), 2)
			tt, dt := tr.TrafficSweep(sizes), de.TrafficSweep(sizes)
			for i := range sizes {
				if tt[i].Bytes() < dt[i].Bytes() {
					t.Errorf("%s@%d: at %d bytes of SRAM train traffic %d < deploy %d", name, in, sizes[i], tt[i].Bytes(), dt[i].Bytes())
				}
				if !tt[i].Exact || !dt[i].Exact {
					t.Errorf("%s@%d: inexact residency search at %d bytes", name, in, sizes[i])
				}
				if i > 0 && (tt[i].Bytes() > tt[i-1].Bytes() || dt[i].Bytes() > dt[i-1].Bytes()) {
					t.Errorf("%s@%d: traffic grows from %d to %d bytes of SRAM", name, in, sizes[i-1], sizes[i])
				}
			}
		}
	}
}

// TestCompareDerivesDeploy: Compare with no deploy graph derives it by reparam, and the
// result equals the zoo's deploy form.
func TestCompareDerivesDeploy(t *testing.T) {
	train, deploy := zooPair(t, "RepVGG-A0", models.Options{InputH: 64})
	a, err := Compare(train, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Compare(train, deploy, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Deploy.PeakBytes != b.Deploy.PeakBytes || a.Deploy.ArenaBytes != b.Deploy.ArenaBytes || a.Deploy.WeightsBytes != b.Deploy.WeightsBytes {
		t.Errorf("derived deploy %+v, zoo deploy %+v", a.Deploy, b.Deploy)
	}
	if _, err := reparam.Deploy(train, reparam.Options{}); err != nil {
		t.Fatal(err)
	}
}

// TestPaperClaimOnZoo: in the zoo's RepVGG-A0, the deploy form's resident peak is one
// feature map (stage 0's output) and the train form's is two (both branch results of stage
// 0 before the add); ResNet-34 holds the shortcut next to the block's maps.
func TestPaperClaimOnZoo(t *testing.T) {
	train, deploy := zooPair(t, "RepVGG-A0", models.Options{})
	c, err := Compare(train, deploy, Options{})
	if err != nil {
		t.Fatal(err)
	}
	stage0 := int64(48 * 112 * 112)
	if c.Deploy.ResidentPeakBytes != stage0 || c.Train.ResidentPeakBytes != 2*stage0 {
		t.Errorf("resident peaks: deploy %d, train %d; want %d and %d", c.Deploy.ResidentPeakBytes, c.Train.ResidentPeakBytes, stage0, 2*stage0)
	}
}

// TestZooChains: the deploy RepVGG body is one chain (every layer), ResNet-34's chains are
// the two convs of each basic block, VGG-16's features are one chain through the pools.
func TestZooChains(t *testing.T) {
	for _, c := range []struct {
		name   string
		chains int
		layers int // of the first chain
	}{
		{"RepVGG-A0", 1, 22},
		{"RepVGG-B0", 1, 28},
		{"ResNet-34", 17, 2}, // the stem (conv1 → maxpool), then the blocks
		{"VGG-16", 1, 18},
	} {
		_, deploy := zooPair(t, c.name, models.Options{InputH: 64})
		fr, err := Fusion(deploy, FusionOptions{SRAMBytes: 256 << 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(fr.Chains) != c.chains || len(fr.Chains[0].Layers) != c.layers {
			t.Errorf("%s: %d chains, first of %d layers; want %d, %d", c.name, len(fr.Chains), len(fr.Chains[0].Layers), c.chains, c.layers)
		}
		if fr.Best.DRAMBytes > fr.LayerByLayer.DRAMBytes || fr.LayerByLayer.DRAMBytes != fr.report.StreamBytes+fr.report.WeightsBytes {
			t.Errorf("%s: best %d, layer by layer %d", c.name, fr.Best.DRAMBytes, fr.LayerByLayer.DRAMBytes)
		}
	}
}

// TestZooFusionMonotone: the best plan's traffic is non-increasing in the SRAM budget, in
// the fusion model and with the simulator, on every zoo model's deploy form (RepVGG-A0
// at 224×224, the others at 64×64 to keep the test fast). The hardware is edge-32 with
// 4 MiB ifmap and ofmap SRAMs, so that the budget can range up to 8 MiB (one budget: it is
// part of those SRAMs).
func TestZooFusionMonotone(t *testing.T) {
	cfg := edge32(t).Clone()
	cfg.IfmapSRAMBytes, cfg.OfmapSRAMBytes = 4<<20, 4<<20
	for _, name := range models.Names() {
		in := 64
		if name == "RepVGG-A0" {
			in = 224
		}
		_, deploy := zooPair(t, name, models.Options{InputH: in})
		for _, h := range []*hw.Config{nil, cfg} {
			prev := int64(-1)
			for _, s := range SweepSizes(8<<10, 8<<20, 1) {
				fr, err := Fusion(deploy, FusionOptions{SRAMBytes: s, MaxDepth: 4, Hardware: h})
				if err != nil {
					t.Fatal(err)
				}
				if prev >= 0 && fr.Best.DRAMBytes > prev {
					t.Errorf("%s@%d (hardware %v): at %d bytes: %d > %d", name, in, h != nil, s, fr.Best.DRAMBytes, prev)
				}
				if fr.Best.DRAMBytes > fr.LayerByLayer.DRAMBytes || fr.Best.DRAMBytes < fr.FloorBytes {
					t.Errorf("%s@%d at %d bytes: best %d outside [floor %d, layer by layer %d]", name, in, s, fr.Best.DRAMBytes, fr.FloorBytes, fr.LayerByLayer.DRAMBytes)
				}
				prev = fr.Best.DRAMBytes
			}
		}
	}
}

// TestTrainNeverBelowDeployOnHardware: simulated on edge-32, the train form of every zoo
// net never moves fewer DRAM bytes, takes fewer cycles or spends less energy than its
// deploy form, with no activation SRAM, the default one, or enough for every activation;
// nor does its best fusion plan move fewer bytes.
func TestTrainNeverBelowDeployOnHardware(t *testing.T) {
	cfg := edge32(t)
	for _, name := range models.Names() {
		train, deploy := zooPair(t, name, models.Options{InputH: 64})
		c, err := Compare(train, deploy, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []int64{0, -1, c.Train.PeakBytes} {
			tr, err := c.Train.Simulate(cfg, s)
			if err != nil {
				t.Fatal(err)
			}
			de, err := c.Deploy.Simulate(cfg, s)
			if err != nil {
				t.Fatal(err)
			}
			if tr.DRAMBytes < de.DRAMBytes || tr.Cycles < de.Cycles || tr.EnergyJ < de.EnergyJ {
				t.Errorf("%s at %d bytes: train %d B, %d cycles, %g J; deploy %d B, %d cycles, %g J",
					name, s, tr.DRAMBytes, tr.Cycles, tr.EnergyJ, de.DRAMBytes, de.Cycles, de.EnergyJ)
			}
		}
		var best [2]int64
		for k, g := range []*ir.Graph{train, deploy} {
			fr, err := Fusion(g, FusionOptions{SRAMBytes: 128 << 10, MaxDepth: 4, Hardware: cfg})
			if err != nil {
				t.Fatal(err)
			}
			best[k] = fr.Best.DRAMBytes
		}
		if best[0] < best[1] {
			t.Errorf("%s: train fuses to %d bytes, deploy %d", name, best[0], best[1])
		}
	}
}

// BenchmarkAnalyze is the hardware-free analysis of both forms: liveness, arena, spill
// model extremes and a traffic sweep.
func BenchmarkAnalyze(b *testing.B) {
	for _, name := range models.Names() {
		train, deploy := zooPair(b, name, models.Options{})
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				c, err := Compare(train, deploy, Options{})
				if err != nil {
					b.Fatal(err)
				}
				sizes := SweepSizes(16<<10, c.Train.PeakBytes, 4)
				c.Train.TrafficSweep(sizes)
				c.Deploy.TrafficSweep(sizes)
			}
		})
	}
}

// BenchmarkWholeAnalysis is everything `vggsim memory --hw` and `vggsim fusion` compute for
// one zoo model at 224×224 on edge-32: both forms analyzed, a traffic sweep, each form
// simulated with no, the default and unlimited activation SRAM, and the deploy form's
// fusion analysis (depths 1..6 and the best plan) priced by the simulator.
func BenchmarkWholeAnalysis(b *testing.B) {
	cfg := edge32(b)
	for _, name := range models.Names() {
		train, deploy := zooPair(b, name, models.Options{})
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				c, err := Compare(train, deploy, Options{})
				if err != nil {
					b.Fatal(err)
				}
				sizes := SweepSizes(16<<10, c.Train.PeakBytes, 2)
				for _, r := range []*Report{c.Train, c.Deploy} {
					r.TrafficSweep(sizes)
					for _, s := range []int64{0, -1, r.PeakBytes} {
						if _, err := r.Simulate(cfg, s); err != nil {
							b.Fatal(err)
						}
					}
				}
				if _, err := Fusion(deploy, FusionOptions{SRAMBytes: ActivationSRAM(cfg), Hardware: cfg}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
