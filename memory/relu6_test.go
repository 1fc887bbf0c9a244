package memory

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/sim"
)

// TestLowerReLU6 checks that a ReLU6 after a conv fuses into it as a ReLU does (a clip in
// the output path costs nothing) and that a ReLU6 after anything else becomes a vector
// layer of the ReLU kind, taking its operand's buffer in place.
func TestLowerReLU6(t *testing.T) {
	b := ir.NewBuilder("clip", ir.Shape{C: 4, H: 8, W: 8})
	x := b.ReLU6("act1", b.Conv("conv", b.Input(), 4, 3, 1, 1, 4, true))
	y := b.ReLU6("act2", b.Add("add", x, b.Input()))
	g, err := b.Finish(y)
	require.NoError(t, err)
	r := analyze(t, g, Options{})
	lg := mustLower(t, r, nil)
	require.Len(t, lg.layers, 3)
	assert.Equal(t, sim.Conv, lg.layers[0].Kind)
	assert.True(t, lg.layers[0].FusedReLU)
	assert.Equal(t, 4, lg.layers[0].Groups)
	assert.Equal(t, sim.Add, lg.layers[1].Kind)
	assert.Equal(t, sim.ReLU, lg.layers[2].Kind)
	assert.Equal(t, "act2", lg.layers[2].Name)
}

// TestMobileNetV2Lowers: every conv of MobileNetV2 (52, depthwise ones included) reaches the
// simulator with its ReLU6 fused where torchvision has one (35 = stem + 17 depthwise + 16
// expansions + the last 1×1), and the MACs agree with the model count.
func TestMobileNetV2Lowers(t *testing.T) {
	g, err := models.BuildDeploy("MobileNetV2", models.Options{})
	require.NoError(t, err)
	r := analyze(t, g, Options{})
	lg := mustLower(t, r, nil)
	convs, fused, dw := 0, 0, 0
	var macs int64
	for _, l := range lg.layers {
		macs += l.MACs(1)
		if l.Kind != sim.Conv {
			continue
		}
		convs++
		if l.FusedReLU {
			fused++
		}
		if l.Groups > 1 && l.Groups == l.InC {
			dw++
		}
	}
	assert.Equal(t, 52, convs)
	assert.Equal(t, 35, fused)
	assert.Equal(t, 17, dw)
	assert.Equal(t, models.Count(g).MACs, macs)
}

// TestLayersMatchSimulate: simulating Report.Layers at the hardware's activation SRAM gives
// the result Report.Simulate gives.
func TestLayersMatchSimulate(t *testing.T) {
	cfg := edge32(t)
	for _, name := range []string{"RepVGG-A0", "ResNet-18", "MobileNetV2"} {
		g, err := models.Build(name, models.Options{})
		require.NoError(t, err)
		r := analyze(t, g, Options{Bits: cfg.DataBits, Batch: 2})
		h, err := r.Simulate(cfg, -1)
		require.NoError(t, err)
		ls, err := r.Layers(h.ActivationSRAMBytes) // the budget the search chose
		require.NoError(t, err)
		got, err := sim.Simulate(cfg, ls, sim.Options{Batch: 2})
		require.NoError(t, err)
		assert.Equal(t, h.Sim.Total, got.Total, name)
	}
}
