package sim

import (
	"math"
	"testing"

	"github.com/vggsim/vggsim/hw"
)

// TestFormulasByHand checks docs/simulator.md against hand computations, formula by formula,
// on layers small enough to work out on paper (the working is in the comments).
func TestFormulasByHand(t *testing.T) {
	near := func(got, want float64) bool { return math.Abs(got-want) <= 1e-12*math.Abs(want) }

	// A. os with K cut into chunks (§4.3 pipeline with changing T, §4.4 k-chunk mapping,
	// §4.6 roofline, §4.8 energy). 4×4 os, int8, 32-bit partial sums; filter SRAM 64 B (a
	// 32 B half), ifmap and ofmap SRAM 1 KiB (512 B halves), no accumulator; 1 GHz, 2 GB/s:
	// b = 2 bytes per cycle. A GEMM with M = 8, K = 20, N = 4: rowFolds 2, colFolds 1.
	cfg := &hw.Config{Name: "a", Rows: 4, Cols: 4, Dataflow: hw.OutputStationary, ClockHz: 1e9, DataBits: 8, AccBits: 32,
		IfmapSRAMBytes: 1024, FilterSRAMBytes: 64, OfmapSRAMBytes: 1024, DRAMBandwidth: 2e9, Energy: hw.FlatEnergy()}
	res, err := Simulate(cfg, []Layer{{Name: "fc", Kind: GEMM, Rows: 8, InC: 20, OutC: 4}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := res.Layers[0]
	// The K×C filter block, 20·4 = 80 B, does not fit the 32 B half, so n-outer and m-outer
	// read the filter once per row fold (2·80 B). Chunks: ⌊32/4⌋ = 8 → ⌈20/8⌉ = 3 chunks,
	// balanced to 7, 7, 6. The M·C = 32 partial sums (128 B) fit the 512 B ofmap half: one M
	// tile of 8 rows. Ifmap 160 B fits its half: read once. DRAM: ifmap 160, filter 80.
	if l.Order != "n-outer k-chunk=7 m-tile=8" || l.DRAMIfmapReadBytes != 160 || l.DRAMFilterReadBytes != 80 ||
		l.DRAMOfmapWriteBytes != 32 {
		t.Errorf("A mapping: %q, DRAM ifmap %d filter %d ofmap %d", l.Order, l.DRAMIfmapReadBytes, l.DRAMFilterReadBytes, l.DRAMOfmapWriteBytes)
	}
	// Folds (chunk outer, row fold inner): T = 7, 7, 7, 7, 6, 6, all 4×4. Starts: 0, 7, 14,
	// 21; 7 → 6: max(7, 7+4−6) = 7 → 28; 6 → 6: max(6, 4) = 6 → 34. Last end: 34+6+4+4−2 = 46.
	if l.Folds != 6 || l.ComputeCycles != 46 || l.StreamCycles != 40 || l.PipelineOverheadCycles != 6 {
		t.Errorf("A compute: %d folds, %d cycles, %d stream", l.Folds, l.ComputeCycles, l.StreamCycles)
	}
	// Partial sums: 3 passes, 2 stored and read back: 32·2·4 B = 256 B each way, on chip.
	if l.AccWriteBytes != 256 || l.AccReadBytes != 256 || l.DRAMPsumReadBytes != 0 {
		t.Errorf("A partial sums: acc %d/%d, DRAM %d", l.AccWriteBytes, l.AccReadBytes, l.DRAMPsumReadBytes)
	}
	// Roofline: F = first fold's 4×4 ifmap + 4×4 filter words = 32 B; L = last fold's 4×4 =
	// 16 B; d = 160+80+32 = 272 B; one outer tile: x = 272−32−16 = 224 B = 112 cycles >
	// compute 46. Cycles = 32/2 + 46 + (112 − 46) + 16/2 = 136.
	if l.FirstLoadBytes != 32 || l.LastDrainBytes != 16 || l.Cycles != 136 || l.StallCycles != 90 {
		t.Errorf("A roofline: F %d L %d, %d cycles %d stall", l.FirstLoadBytes, l.LastDrainBytes, l.Cycles, l.StallCycles)
	}
	// SRAM: ifmap reads M·K·colFolds = 160, filter K·N·rowFolds = 160, ofmap drain 32 →
	// 352 read; ofmap writes 32 + DRAM fills 240 = 272 written; partial sums 512.
	// Energy: 640 MACs·0.2 + (352+272+512)·1.2 + 272·20 pJ = 128 + 1363.2 + 5440 pJ.
	if l.SRAMReadBytes != 352 || l.SRAMWriteBytes != 272 || !near(l.EnergyMACJ, 128e-12) ||
		!near(l.EnergySRAMJ, 1363.2e-12) || !near(l.EnergyDRAMJ, 5440e-12) || !near(l.EnergyJ, 6931.2e-12) {
		t.Errorf("A energy: SRAM %d/%d, %g %g %g %g J", l.SRAMReadBytes, l.SRAMWriteBytes, l.EnergyMACJ, l.EnergySRAMJ, l.EnergyDRAMJ, l.EnergyJ)
	}
	// §4.8: latency 136 ns; 640·2 ops / 136 ns = 9.41… GOPS; utilization 640/(136·16).
	if !near(res.LatencyS, 136e-9) || !near(res.ThroughputIPS, 1/136e-9) || !near(res.AchievedTOPS, 1280/136e-9/1e12) ||
		!near(res.Utilization, 640.0/(136*16)) || !near(res.MappingEfficiency, 640.0/(40*16)) {
		t.Errorf("A totals: %+v", res)
	}

	// B. The line-buffer strip sweep (§4.4 sweepA) and ws tiles. A 3×3 conv, stride 1, no
	// padding, on a 6×10×2 input, 4 filters: M = 4·8 = 32, K = 18, N = 4. 4×4 ws. Ifmap SRAM
	// 48 B: the band of 3+1 rows is 8 B per input column, so 6 columns fit (< 10): strips of
	// (6−3)/1+1 = 4 output columns, ⌈8/4⌉ = 2 strips, which both fetch the 3−1 = 2 columns
	// where they meet: 120 B / 10 columns · (10 + 2) = 144 B per sweep. Ofmap SRAM 64 B: a 32 B
	// half holds 8 partial sums, 2 per column: tiles of 2 of the 32 stream rows (16 tiles).
	// The filter (72 B) and a 18×4 filter block do not fit the 32 B filter half: 16 reads.
	cfg = &hw.Config{Name: "b", Rows: 4, Cols: 4, Dataflow: hw.WeightStationary, ClockHz: 1e9, DataBits: 8, AccBits: 32,
		IfmapSRAMBytes: 48, FilterSRAMBytes: 64, OfmapSRAMBytes: 64, DRAMBandwidth: 2e9, Energy: hw.FlatEnergy()}
	res, err = Simulate(cfg, []Layer{{Name: "conv", Kind: Conv, InH: 6, InW: 10, InC: 2, OutC: 4, KH: 3, KW: 3}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l = res.Layers[0]
	if l.M != 32 || l.K != 18 || l.N != 4 || l.DRAMIfmapReadBytes != 144 || l.DRAMFilterReadBytes != 16*72 ||
		l.UniqueIfmapBytes != 120 || l.Order[len(l.Order)-6:] != "tile=2" {
		t.Errorf("B: %q M%d K%d N%d, DRAM ifmap %d filter %d, unique ifmap %d", l.Order, l.M, l.K, l.N,
			l.DRAMIfmapReadBytes, l.DRAMFilterReadBytes, l.UniqueIfmapBytes)
	}
	// 5 K-blocks (4, 4, 4, 4, 2 rows): 4 passes stored and read back, 32·4·4·4 B = 2048 B.
	if l.AccWriteBytes != 2048 || l.AccReadBytes != 2048 || l.Folds != 5*16 {
		t.Errorf("B partial sums: acc %d/%d, %d folds", l.AccWriteBytes, l.AccReadBytes, l.Folds)
	}

	// C. The two-class roofline (§4.6): os n-outer over 2 column folds with the ifmap loaded
	// once in the first. 4×4 os, M = 4, K = 16, N = 8; every SRAM 1 KiB; 4 GB/s at 1 GHz.
	// DRAM: ifmap 64 B (once), filter 128 B, ofmap 32 B: d = 224. Compute: 2 folds of T = 16,
	// 16 + 16+4+4−2 = 38 cycles, c = 19 per tile. F = 16+16 = 32 B, L = 16 B; O = 64−32 = 32,
	// x_n = (224−32−16−32)/2 = 72 B = 18 cycles ≤ 19; x_h = 72+32 = 104 B = 26 cycles.
	cfg = &hw.Config{Name: "c", Rows: 4, Cols: 4, Dataflow: hw.OutputStationary, ClockHz: 1e9, DataBits: 8, AccBits: 32,
		IfmapSRAMBytes: 1024, FilterSRAMBytes: 1024, OfmapSRAMBytes: 1024, DRAMBandwidth: 4e9, Energy: hw.FlatEnergy()}
	m := newModel(cfg, Options{})
	got := m.roof(38, 32, 16, 224, traffic{tiles: 2, heavy: 1, onceBytes: 64})
	// 32/4 + 38 + (26 − 19) + 0 + 16/4 = 57; a uniform spread would say 8 + max(38, 44) + 4 = 56.
	if got != 57 {
		t.Errorf("C roof = %d, want 57", got)
	}
	if got := m.roof(38, 32, 16, 224, traffic{tiles: 1, heavy: 1}); got != 56 {
		t.Errorf("C roof with one tile = %d, want 56", got)
	}
}
