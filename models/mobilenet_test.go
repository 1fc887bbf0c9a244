package models_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
)

// TestMobileNetV2Counts checks MobileNetV2 against torchvision: 3,504,872 parameters
// (sum(p.numel() for p in torchvision.models.mobilenet_v2().parameters())) and the
// multiply-accumulates of its convs and classifier at 224×224, 300,774,272, computed by hand
// as Σ Hout·Wout·Cout·Cin/groups·k² (torchvision publishes 0.30 GFLOPs, counting MACs).
func TestMobileNetV2Counts(t *testing.T) {
	g, err := models.Build("mobilenetv2", models.Options{})
	require.NoError(t, err)
	require.NoError(t, ir.Verify(g))
	c := models.Count(g)
	assert.Equal(t, int64(3504872), c.Params)
	assert.Equal(t, int64(300774272), c.MACs)
	assert.Equal(t, 52, c.ConvLayers) // stem + 17 blocks (2 or 3 convs) + the 1×1 to 1280
	d, err := models.BuildDeploy("MobileNetV2", models.Options{})
	require.NoError(t, err)
	dc := models.Count(d)
	assert.Equal(t, c.MACs, dc.MACs)
	// Deploy form: every BatchNorm (2·C parameters) becomes a conv bias (C parameters).
	var bnC int64
	for _, n := range g.Nodes {
		if n.Op == ir.BatchNorm {
			bnC += int64(n.Out.Shape.C)
		}
	}
	assert.Equal(t, c.Params-bnC, dc.Params)
	// torchvision names: the depthwise conv of block 2 and its ReLU6, the projection BN.
	dw := g.Node("features.2.conv.1.0")
	require.NotNil(t, dw)
	assert.Equal(t, 96, dw.Attrs.Groups)
	assert.Equal(t, 2, dw.Attrs.Stride)
	require.NotNil(t, g.Node("features.2.conv.1.2"))
	assert.Equal(t, ir.ReLU6, g.Node("features.2.conv.1.2").Op)
	require.NotNil(t, g.Node("features.1.conv.2")) // t = 1: BN of the projection
	assert.Equal(t, ir.BatchNorm, g.Node("features.1.conv.2").Op)
	require.NotNil(t, g.Node("features.3.add"))
	assert.Nil(t, g.Node("features.2.add"))
	assert.Equal(t, ir.Shape{C: 1280, H: 7, W: 7}, g.Node("features.18.2").Out.Shape)
}
