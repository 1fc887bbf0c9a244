package sim

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOneSRAMBudget: resident activations take their bytes from the ifmap and ofmap SRAMs
// the layer stages its operands in (Layer.ResidentBytes). Under the DRAM objective, on
// random layers and hardware: holding more of the SRAM never saves DRAM traffic, and a
// larger ifmap or ofmap SRAM (the same bytes held) never costs any.
func TestOneSRAMBudget(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 12))
	dram := func(l *LayerResult) int64 { return l.DRAMReadBytes + l.DRAMWriteBytes }
	shrunk := 0
	for it := range 400 {
		cfg := randomHW(r)
		ls := randomLayers(r)
		a := cfg.IfmapSRAMBytes + cfg.OfmapSRAMBytes
		held := make([]Layer, len(ls))
		copy(held, ls)
		for i := range held {
			held[i].ResidentBytes = r.Int64N(a + 1)
		}
		opts := Options{Objective: ObjectiveDRAM, Batch: 1 + r.IntN(2)}
		free, err := Simulate(cfg, ls, opts)
		require.NoError(t, err)
		busy, err := Simulate(cfg, held, opts)
		require.NoError(t, err)
		more := make([]Layer, len(held))
		copy(more, held)
		for i := range more {
			more[i].ResidentBytes += r.Int64N(a/2 + 1)
		}
		busier, err := Simulate(cfg, more, opts)
		require.NoError(t, err)
		big := cfg.Clone()
		if r.IntN(2) == 0 {
			big.IfmapSRAMBytes *= 2
		} else {
			big.OfmapSRAMBytes *= 2
		}
		bigger, err := Simulate(big, held, opts)
		require.NoError(t, err)
		for i := range ls {
			f, b, bb, g := dram(&free.Layers[i]), dram(&busy.Layers[i]), dram(&busier.Layers[i]), dram(&bigger.Layers[i])
			assert.LessOrEqual(t, f, b, "it %d layer %d (%s): holding %d of %d bytes saved traffic", it, i, ls[i].Kind, held[i].ResidentBytes, a)
			assert.LessOrEqual(t, b, bb, "it %d layer %d: holding more saved traffic", it, i)
			assert.LessOrEqual(t, g, b, "it %d layer %d: a larger SRAM moved more", it, i)
			if b > f {
				shrunk++
			}
		}
	}
	assert.Greater(t, shrunk, 20, "held bytes must cost traffic in some layers")
}
