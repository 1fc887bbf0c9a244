package sim

import (
	"testing"

	"github.com/vggsim/vggsim/hw"
)

// a0Topology is testdata/scalesim/topologies/repvgg_a0.csv (RepVGG-A0 deploy form,
// padding folded into the ifmap size, the FC as a 1×1 conv).
var a0Topology = []ScaleSimLayer{
	conv("stage0", 225, 3, 3, 48, 2),
	conv("stage1_0", 113, 3, 48, 48, 2),
	conv("stage1_1", 58, 3, 48, 48, 1),
	conv("stage2_0", 57, 3, 48, 96, 2),
	conv("stage2_1", 30, 3, 96, 96, 1),
	conv("stage2_2", 30, 3, 96, 96, 1),
	conv("stage2_3", 30, 3, 96, 96, 1),
	conv("stage3_0", 29, 3, 96, 192, 2),
	conv("stage3_1", 16, 3, 192, 192, 1),
	conv("stage3_2", 16, 3, 192, 192, 1),
	conv("stage3_3", 16, 3, 192, 192, 1),
	conv("stage3_4", 16, 3, 192, 192, 1),
	conv("stage3_5", 16, 3, 192, 192, 1),
	conv("stage3_6", 16, 3, 192, 192, 1),
	conv("stage3_7", 16, 3, 192, 192, 1),
	conv("stage3_8", 16, 3, 192, 192, 1),
	conv("stage3_9", 16, 3, 192, 192, 1),
	conv("stage3_10", 16, 3, 192, 192, 1),
	conv("stage3_11", 16, 3, 192, 192, 1),
	conv("stage3_12", 16, 3, 192, 192, 1),
	conv("stage3_13", 16, 3, 192, 192, 1),
	conv("stage4_0", 15, 3, 192, 1280, 2),
	conv("fc", 1, 1, 1280, 1000, 1),
}

func conv(name string, hw, f, c, n, s int) ScaleSimLayer {
	return ScaleSimLayer{Name: name, IfmapH: hw, IfmapW: hw, FilterH: f, FilterW: f,
		Channels: c, NumFilters: n, StrideH: s, StrideW: s}
}

func a0Config(df hw.Dataflow) ScaleSimConfig {
	return ScaleSimConfig{RunName: "a0", ArrayHeight: 32, ArrayWidth: 32, IfmapSRAMkB: 64,
		FilterSRAMkB: 64, OfmapSRAMkB: 64, FilterOffset: 10000000, OfmapOffset: 20000000,
		Dataflow: df, InterfaceBandwidth: "CALC", MemoryBanks: 1}
}

// TestScaleSimA0Totals checks the headline numbers of the reference A0 run
// (scalesim.md: 1,711,177 cycles in all, stage0 69,775 cycles); every column of every layer is
// compared as text in package scalesim's golden test.
func TestScaleSimA0Totals(t *testing.T) {
	reps, err := SimulateScaleSim(a0Config(hw.OutputStationary), a0Topology)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, r := range reps {
		total += r.TotalCycles
	}
	if total != 1711177 {
		t.Errorf("total cycles %d, want 1711177", total)
	}
	r := reps[0]
	if r.TotalCycles != 69775 || r.IfmapDRAM.Count != 309315 || r.OfmapDRAM.Count != 602143 ||
		r.IfmapDRAM.StopCycle != 66534 || r.OfmapDRAM.StartCycle != 2874 || r.OfmapDRAM.StopCycle != 70159 {
		t.Errorf("stage0: %+v", r)
	}
}

// TestScaleSimTinyFormulas checks the closed form of scalesim.md on the tiny topology for
// all three dataflows: cycles = folds·per_fold − 1.
func TestScaleSimTinyFormulas(t *testing.T) {
	tiny := []ScaleSimLayer{conv("c1", 10, 3, 3, 8, 1), conv("c2", 10, 3, 8, 16, 2), conv("fc", 1, 1, 16, 10, 1)}
	for _, df := range dataflows {
		cfg := a0Config(df)
		cfg.ArrayHeight, cfg.ArrayWidth = 8, 8
		reps, err := SimulateScaleSim(cfg, tiny)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range reps {
			R, C := int64(8), int64(8)
			var sr, sc, T, perFold int64
			switch df {
			case hw.OutputStationary:
				sr, sc, T = r.M, r.N, r.K
				perFold = T + R + C - 2
			case hw.WeightStationary:
				sr, sc, T = r.K, r.N, r.M
				perFold = 2*R + C + T - 2
			default:
				sr, sc, T = r.K, r.M, r.N
				perFold = 2*R + C + T - 2
			}
			folds := ceilDiv64(sr, R) * ceilDiv64(sc, C)
			if want := folds*perFold - 1; r.TotalCycles != want {
				t.Errorf("%s layer %d: cycles %d, want %d", df, i, r.TotalCycles, want)
			}
		}
	}
}

func BenchmarkScaleSimA0(b *testing.B) {
	cfg := a0Config(hw.OutputStationary)
	for b.Loop() {
		if _, err := SimulateScaleSim(cfg, a0Topology); err != nil {
			b.Fatal(err)
		}
	}
}
