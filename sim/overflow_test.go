package sim

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vggsim/vggsim/hw"
)

// TestOverflowIsAnError: a DRAM link so slow for its clock that a layer's transfer cycles
// pass 2^62 makes Simulate fail with ErrOverflow naming the layer, never return a wrapped
// (negative) or clamped count; just below the limit the count is exact.
func TestOverflowIsAnError(t *testing.T) {
	cfg := &hw.Config{Name: "slow", Rows: 4, Cols: 4, Dataflow: hw.OutputStationary, ClockHz: 1e15, DataBits: 8,
		IfmapSRAMBytes: 8 << 10, FilterSRAMBytes: 8 << 10, OfmapSRAMBytes: 8 << 10, DRAMBandwidth: 1}
	l := Layer{Name: "c", Kind: Conv, InH: 64, InW: 64, InC: 16, OutC: 16, KH: 1, KW: 1, StrideH: 1, StrideW: 1}
	_, err := Simulate(cfg, []Layer{l}, Options{})
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrOverflow))
	assert.Equal(t, "sim: layer 0 (c): cycle count overflows: 128.25KiB of DRAM traffic at 1B/s and 1000THz take more than 2^62 cycles", err.Error())

	// The sweep's engine checks the same way.
	n, err := Prepare([]Layer{l}, Options{})
	require.NoError(t, err)
	var e Engine
	var r Result
	assert.True(t, errors.Is(e.Total(cfg, n, &r), ErrOverflow))

	// 131,328 bytes at 1 B/s and 1 GHz: 1.31·10¹⁴ cycles of transfer, far from the limit, exact.
	cfg.ClockHz = 1e9
	res, err := Simulate(cfg, []Layer{l}, Options{})
	require.NoError(t, err)
	assert.Equal(t, int64(131328e9), res.Layers[0].DRAMTransferCycles)
	assert.Greater(t, res.Layers[0].Cycles, int64(131328e9)-res.Layers[0].ComputeCycles)

	assert.Equal(t, int64(OverflowCycles), satCycles(math.Inf(1)))
	assert.Equal(t, int64(OverflowCycles), satCycles(math.NaN()))
	assert.Equal(t, int64(OverflowCycles), satCycles(1<<60))
	assert.Equal(t, int64(1<<60-1024), satCycles(1<<60-1024))
}

// TestOverflowTotal: layers each below the limit whose sum passes it are an error too.
func TestOverflowTotal(t *testing.T) {
	ls := []LayerResult{{Name: "a", Cycles: 1 << 61}, {Name: "b", Cycles: 1 << 61}}
	err := checkCycles(&hw.Config{}, ls, nil)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrOverflow))
	assert.NoError(t, checkCycles(&hw.Config{}, ls, []int{0}))
}
