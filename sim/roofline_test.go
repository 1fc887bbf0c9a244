package sim

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vggsim/vggsim/hw"
)

// TestRooflineClosedForm places hand-made layer results on a 4×4 array at 2 GB/s and 1 GHz:
// b = 2 bytes/cycle, peak 16 MACs/cycle, ridge 8 MACs/byte.
func TestRooflineClosedForm(t *testing.T) {
	cfg := &hw.Config{Name: "t", Rows: 4, Cols: 4, ClockHz: 1e9, DRAMBandwidth: 2e9}
	res := &Result{Layers: []LayerResult{
		// I = 1000/200 = 5 MACs/B: roof min(16, 2·5) = 10, memory-bound; achieved 1000/100 = 10.
		{Name: "mem", MACs: 1000, DRAMReadBytes: 150, DRAMWriteBytes: 50, Cycles: 100},
		{Name: "pool", VectorOps: 500, Cycles: 40}, // no MACs: not on the roofline
		// I = 6400/100 = 64: roof 16, compute-bound; achieved 6400/800 = 8.
		{Name: "cmp", MACs: 6400, DRAMReadBytes: 100, Cycles: 800},
	}}
	rf := NewRoofline(cfg, res)
	assert.Equal(t, 16.0, rf.PeakMACsPerCycle)
	assert.Equal(t, 2.0, rf.DRAMBytesPerCycle)
	assert.Equal(t, 8.0, rf.Ridge())
	assert.Equal(t, []RooflinePoint{
		{Index: 0, Name: "mem", MACs: 1000, DRAMBytes: 200, Cycles: 100, Intensity: 5, MACsPerCycle: 10, Attainable: 10, Bound: "memory"},
		{Index: 2, Name: "cmp", MACs: 6400, DRAMBytes: 100, Cycles: 800, Intensity: 64, MACsPerCycle: 8, Attainable: 16, Bound: "compute"},
	}, rf.Points)
	assert.Equal(t, 16.0, rf.Attainable(8))
	assert.Equal(t, 1.0, rf.Attainable(0.5))
	_, err := json.Marshal(rf)
	require.NoError(t, err)

	// Unlimited bandwidth: every layer under the compute roof.
	cfg.DRAMBandwidth = 0
	rf = NewRoofline(cfg, res)
	assert.Zero(t, rf.Ridge())
	assert.Equal(t, 16.0, rf.Points[0].Attainable)
	assert.Equal(t, "compute", rf.Points[0].Bound)
}

// TestRooflineBelowRoof: every simulated layer of RepVGG-A0, on every preset, achieves at
// most its attainable rate (the stall model never beats the DRAM link or the array).
func TestRooflineBelowRoof(t *testing.T) {
	for _, cfg := range hw.Presets() {
		res, err := Simulate(cfg, a0Deploy(), Options{ChainResidency: true})
		require.NoError(t, err)
		rf := NewRoofline(cfg, res)
		require.Len(t, rf.Points, 23, cfg.Name) // 22 convs and the classifier
		for _, p := range rf.Points {
			assert.LessOrEqual(t, p.MACsPerCycle, p.Attainable*(1+1e-9), "%s %s", cfg.Name, p.Name)
			assert.Greater(t, p.Intensity, 0.0)
		}
	}
}
