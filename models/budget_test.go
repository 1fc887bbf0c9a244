package models

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vggsim/vggsim/ir"
)

// TestPeakActivationElems checks the liveness walk against sums worked by hand.
func TestPeakActivationElems(t *testing.T) {
	// A chain: each step holds its input and its output, the largest pair is the peak.
	b := ir.NewBuilder("chain", ir.Shape{C: 3, H: 8, W: 8}) // 192
	x := b.Conv("c1", b.Input(), 16, 3, 1, 1, 1, true)      // 1024: 192+1024
	x = b.ReLU("r1", x)                                     // 1024+1024 = 2048
	x = b.Conv("c2", x, 4, 3, 2, 1, 1, true)                // 1024+64
	g, err := b.Finish(x)
	require.NoError(t, err)
	assert.Equal(t, int64(2048), PeakActivationElems(g))

	// A residual: x stays alive across the branch until the Add.
	b = ir.NewBuilder("res", ir.Shape{C: 4, H: 4, W: 4}) // x: 64
	y := b.Conv("c", b.Input(), 4, 3, 1, 1, 1, true)     // 64+64
	y = b.ReLU("r", y)                                   // x + y + relu = 192
	z := b.Add("a", b.Input(), y)                        // x + relu + add = 192
	g, err = b.Finish(z)
	require.NoError(t, err)
	assert.Equal(t, int64(192), PeakActivationElems(g))
}

// TestBudgetRefusesGiantSpec is issue 13 item 5: a model file within the documented limits
// that would need far more memory than any machine has is refused on its structure, with
// what it would need, before a byte of weights is allocated.
func TestBudgetRefusesGiantSpec(t *testing.T) {
	s, err := ParseSpec("giant.yaml", []byte("family: repvgg\nname: giant\nnum_blocks: [128, 128, 128, 128]\nwidth_multiplier: [128, 64, 32, 16]\n"))
	require.NoError(t, err)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	g, err := s.Build(Options{})
	require.NoError(t, err)
	err = Budget{}.Check(g, 1)
	runtime.ReadMemStats(&m1)
	require.Error(t, err)
	c := Count(g)
	assert.Regexp(t, `^model giant needs [0-9.]+ TiB for its [0-9]+ parameters, more than the limit of 4 GiB \(set \$VGGSIM_MAX_PARAM_BYTES to allow more\)$`, err.Error())
	assert.Contains(t, err.Error(), " "+itoa(c.Params+c.Buffers)+" parameters")
	assert.Less(t, m1.TotalAlloc-m0.TotalAlloc, uint64(64<<20), "building and checking the structure")

	// Activations: a zoo model on a huge batch.
	g, err = Build("RepVGG-A0", Options{})
	require.NoError(t, err)
	require.NoError(t, Budget{}.Check(g, 1))
	err = Budget{}.Check(g, 100000)
	require.Error(t, err)
	assert.Regexp(t, `^model RepVGG-A0 needs 672.9 GiB of activations for a batch of 100000 \(224x224 input\), more than the limit of 8 GiB \(set \$VGGSIM_MAX_ACTIVATION_BYTES to allow more\)$`, err.Error())

	// Layers, and the environment raising or lowering the limits.
	t.Setenv(EnvMaxLayers, "50")
	err = CheckBudget(g, 1)
	require.Error(t, err)
	assert.Regexp(t, `^model RepVGG-A0 has [0-9]+ layers, more than the limit of 50 \(set \$VGGSIM_MAX_LAYERS to allow more\)$`, err.Error())
	t.Setenv(EnvMaxLayers, "")
	t.Setenv(EnvMaxActivationBytes, "1T")
	require.NoError(t, CheckBudget(g, 1000))
	t.Setenv(EnvMaxParamBytes, "nope")
	assert.EqualError(t, CheckBudget(g, 1), `$VGGSIM_MAX_PARAM_BYTES: bad count "nope", want a positive integer with an optional K, M, G or T suffix`)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
