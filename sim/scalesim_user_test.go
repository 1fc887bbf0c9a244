package sim

import (
	"math/rand/v2"
	"testing"

	"github.com/vggsim/vggsim/hw"
)

// TestScaleSimUserProperties checks USER bandwidth mode against CALC mode and against itself
// on random small layers: the stall-free part of a USER run is the CALC run's total (SCALE-Sim's
// stalls only delay the demand rows), SRAM counts do not depend on the mode, DRAM reads come
// in whole lines of B words, and more bandwidth never stalls more.
func TestScaleSimUserProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 1))
	dfs := []hw.Dataflow{hw.OutputStationary, hw.WeightStationary, hw.InputStationary}
	stalled := 0
	for i := range 60 {
		f := 1 + rng.IntN(3)
		l := ScaleSimLayer{Name: "l", FilterH: f, FilterW: f, Channels: 1 + rng.IntN(12),
			NumFilters: 1 + rng.IntN(40), StrideH: 1 + rng.IntN(2)}
		l.StrideW = l.StrideH
		l.IfmapH = f + rng.IntN(14)
		l.IfmapW = f + rng.IntN(14)
		cfg := ScaleSimConfig{ArrayHeight: 2 + rng.IntN(10), ArrayWidth: 2 + rng.IntN(10),
			IfmapSRAMkB: 1, FilterSRAMkB: 1, OfmapSRAMkB: 1, Dataflow: dfs[i%3]}
		calc, err := SimulateScaleSimLayer(cfg, 0, l)
		if err != nil {
			t.Fatal(err)
		}
		prevStall := int64(-1)
		for _, bw := range []int{16, 4, 1} {
			cfg.InterfaceBandwidth, cfg.Bandwidth = "USER", []int{bw}
			user, err := SimulateScaleSimLayer(cfg, 0, l)
			if err != nil {
				t.Fatal(err)
			}
			if user.TotalCycles-user.StallCycles != calc.TotalCycles {
				t.Errorf("case %d bw %d (%+v %+v): total %d - stall %d != CALC total %d", i, bw, cfg, l,
					user.TotalCycles, user.StallCycles, calc.TotalCycles)
			}
			if user.IfmapSRAM.Count != calc.IfmapSRAM.Count || user.FilterSRAM.Count != calc.FilterSRAM.Count ||
				user.OfmapSRAM.Count != calc.OfmapSRAM.Count {
				t.Errorf("case %d bw %d: SRAM counts differ from CALC's", i, bw)
			}
			if user.IfmapDRAM.Count%int64(bw) != 0 || user.FilterDRAM.Count%int64(bw) != 0 {
				t.Errorf("case %d bw %d: DRAM reads %d, %d are not whole lines", i, bw, user.IfmapDRAM.Count, user.FilterDRAM.Count)
			}
			if prevStall >= 0 && user.StallCycles < prevStall {
				t.Errorf("case %d: bandwidth %d stalls %d cycles, less than %d with more bandwidth", i, bw, user.StallCycles, prevStall)
			}
			prevStall = user.StallCycles
		}
		if prevStall > 0 {
			stalled++
		}
	}
	if stalled < 20 {
		t.Errorf("only %d of 60 cases stall at 1 word/cycle: the property is not exercised", stalled)
	}
}

// BenchmarkScaleSimUserA0Stage1 times one USER-mode layer (A0 stage1.0 on a 16×32 ws array).
func BenchmarkScaleSimUserA0Stage1(b *testing.B) {
	cfg := ScaleSimConfig{ArrayHeight: 16, ArrayWidth: 32, IfmapSRAMkB: 32, FilterSRAMkB: 32, OfmapSRAMkB: 32,
		Dataflow: hw.WeightStationary, Bandwidth: []int{4}, InterfaceBandwidth: "USER"}
	l := ScaleSimLayer{Name: "stage1_0", IfmapH: 113, IfmapW: 113, FilterH: 3, FilterW: 3, Channels: 48,
		NumFilters: 48, StrideH: 2, StrideW: 2}
	for b.Loop() {
		if _, err := SimulateScaleSimLayer(cfg, 1, l); err != nil {
			b.Fatal(err)
		}
	}
}
