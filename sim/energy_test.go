package sim

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vggsim/vggsim/hw"
)

// TestDerivedEnergyClosedForm: with no energy fields, every layer's energy is its byte
// counts priced in closed form — each SRAM's bytes at 1.25 pJ·√(size/8 KiB)·node/45, the
// partial sums at the accumulator's (else the ofmap SRAM's) size, DRAM bytes at the kind's
// pJ/bit × 8, MACs at 0.2 pJ·(bits/8)²·node/45 — on random layers and hardware.
func TestDerivedEnergyClosedForm(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 6))
	kinds := hw.DRAMKinds()
	for it := range 150 {
		cfg := randomHW(r)
		cfg.Energy = hw.Energy{}
		cfg.ProcessNM = []int{0, 7, 28, 45, 65}[r.IntN(5)]
		cfg.DRAMKind = []hw.DRAMKind{"", kinds[r.IntN(len(kinds))]}[r.IntN(2)]
		ls := randomLayers(r)
		res, err := Simulate(cfg, ls, Options{Batch: 1 + r.IntN(2)})
		require.NoError(t, err)
		node := float64(cfg.ProcessNM)
		if node == 0 {
			node = 45
		}
		sram := func(b int64) float64 { return 1.25 * math.Sqrt(float64(b)/8192) * node / 45 }
		acc := sram(cfg.OfmapSRAMBytes)
		if cfg.AccumBytes > 0 {
			acc = sram(cfg.AccumBytes)
		}
		kind := cfg.DRAMKind
		if kind == "" {
			kind = hw.LPDDR4
		}
		b := float64(cfg.DataBits) / 8
		for i, l := range res.Layers {
			wantSRAM := (float64(l.SRAMIfmapReadBytes+l.DRAMIfmapReadBytes)*sram(cfg.IfmapSRAMBytes) +
				float64(l.SRAMFilterReadBytes+l.DRAMFilterReadBytes)*sram(cfg.FilterSRAMBytes) +
				float64(l.SRAMOfmapWriteBytes+l.DRAMOfmapWriteBytes)*sram(cfg.OfmapSRAMBytes) +
				float64(l.AccReadBytes+l.AccWriteBytes)*acc) * 1e-12
			wantDRAM := float64(l.DRAMReadBytes+l.DRAMWriteBytes) * 8 * kind.PJPerBit() * 1e-12
			wantMAC := float64(l.MACs+l.VectorOps) * 0.2 * b * b * node / 45 * 1e-12
			assert.InEpsilon(t, wantSRAM, l.EnergySRAMJ, 1e-12, "it %d layer %d", it, i)
			if wantDRAM > 0 {
				assert.InEpsilon(t, wantDRAM, l.EnergyDRAMJ, 1e-12, "it %d layer %d", it, i)
			}
			if wantMAC > 0 {
				assert.InEpsilon(t, wantMAC, l.EnergyMACJ, 1e-12, "it %d layer %d", it, i)
			}
			assert.InEpsilon(t, l.EnergyMACJ+l.EnergySRAMJ+l.EnergyDRAMJ+l.EnergyLeakageJ, l.EnergyJ, 1e-12)
		}
	}
}

// TestEnergyByHand: one 1×1 convolution on a 4×4 os array with 8 KiB SRAMs, 45 nm, HBM2,
// worked out on paper: every SRAM costs 1.25 pJ/B and a DRAM byte 31.2 pJ.
func TestEnergyByHand(t *testing.T) {
	cfg := &hw.Config{Name: "hand", Rows: 4, Cols: 4, Dataflow: hw.OutputStationary, ClockHz: 1e9, DataBits: 8,
		IfmapSRAMBytes: 8 << 10, FilterSRAMBytes: 8 << 10, OfmapSRAMBytes: 8 << 10, DRAMBandwidth: 1e9, DRAMKind: hw.HBM2}
	// 8×8×4 input, 4 filters of 1×1: M = 64, N = 4, K = 4; 1024 MACs. Everything fits: the
	// ifmap (256 B) and filters (16 B) are read from DRAM once, the ofmap (256 B) written once.
	l := Layer{Name: "c", Kind: Conv, InH: 8, InW: 8, InC: 4, OutC: 4, KH: 1, KW: 1, StrideH: 1, StrideW: 1}
	res, err := Simulate(cfg, []Layer{l}, Options{})
	require.NoError(t, err)
	r := res.Layers[0]
	require.Equal(t, int64(1024), r.MACs)
	require.Equal(t, []int64{256, 16, 256}, []int64{r.DRAMIfmapReadBytes, r.DRAMFilterReadBytes, r.DRAMOfmapWriteBytes})
	// SRAM: os reads M·K·cF = 256 ifmap and K·N·rF = 16·16 = 256 filter bytes, writes 256
	// ofmap bytes; fills 256 + 16, drain 256: 1296 bytes at 1.25 pJ = 1620 pJ.
	require.Equal(t, []int64{256, 256, 256}, []int64{r.SRAMIfmapReadBytes, r.SRAMFilterReadBytes, r.SRAMOfmapWriteBytes})
	assert.InDelta(t, 1620e-12, r.EnergySRAMJ, 1e-20)
	assert.InDelta(t, 528*31.2e-12, r.EnergyDRAMJ, 1e-20) // 528 DRAM bytes at 3.9 pJ/bit
	assert.InDelta(t, 1024*0.2e-12, r.EnergyMACJ, 1e-20)
}
