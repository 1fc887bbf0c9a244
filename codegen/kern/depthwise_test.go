package kern

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// depthwiseGrid is the seeded grid of depthwise shapes: MobileNetV2's (3×3, stride 1 and
// 2, ReLU6), channels that are not whole blocks, 1×1 maps, maps narrower than the tile,
// 5×5 kernels, no padding, and plain ReLU or no activation.
func depthwiseGrid() []Conv {
	dw := func(c, h, w, k, s, p int, act string) Conv {
		return Conv{C: c, H: h, W: w, K: c, KH: k, KW: k, Stride: s, Pad: p, Groups: c, ReLU: act == "relu", ReLU6: act == "relu6"}
	}
	cs := []Conv{
		dw(32, 28, 28, 3, 1, 1, "relu6"),
		dw(96, 28, 28, 3, 2, 1, "relu6"),
		dw(144, 14, 14, 3, 1, 1, "relu6"),
		dw(24, 13, 17, 3, 2, 1, "relu6"),
		dw(16, 7, 7, 3, 1, 1, "relu"),
		dw(5, 1, 1, 3, 1, 1, ""),
		dw(2, 3, 2, 3, 2, 1, "relu6"),
		dw(40, 9, 11, 5, 1, 2, "relu6"),
		dw(17, 10, 10, 5, 2, 2, ""),
		dw(16, 6, 6, 3, 1, 0, "relu"),
		dw(48, 30, 30, 3, 1, 1, "relu6"),
	}
	r := rand.New(rand.NewPCG(3, 9))
	for range 4 {
		k := []int{1, 3, 3, 5}[r.IntN(4)]
		cs = append(cs, dw(2+r.IntN(40), 1+r.IntN(20), 1+r.IntN(20), k, 1+r.IntN(2), r.IntN(k/2+1), []string{"", "relu", "relu6"}[r.IntN(3)]))
	}
	return cs
}

func TestDepthwiseMatchesInterp(t *testing.T) {
	var ks []testKernel
	for _, c := range depthwiseGrid() {
		if _, wo := c.Out(); wo <= 0 {
			continue
		}
		d, err := NewDepthwise(c)
		require.NoError(t, err, c)
		ks = append(ks, d)
	}
	// Forced tiles: one pixel, and a tile that leaves a tail.
	for _, rw := range []int{1, 5} {
		d, err := NewDepthwise(Conv{C: 32, H: 12, W: 23, K: 32, KH: 3, KW: 3, Stride: 1, Pad: 1, Groups: 32, ReLU6: true})
		require.NoError(t, err)
		d.RW = rw
		ks = append(ks, d)
	}
	for i, e := range runTestKernels(t, ks) {
		d := ks[i].(*Depthwise)
		assert.LessOrEqual(t, e, tol, "%s tile %d", d.Conv, d.RW)
	}
}

func TestCheckDepthwise(t *testing.T) {
	assert.True(t, IsDepthwise(Conv{C: 8, K: 8, Groups: 8}))
	assert.False(t, IsDepthwise(Conv{C: 8, K: 16, Groups: 8}), "channel multiplier 2")
	assert.False(t, IsDepthwise(Conv{C: 1, K: 1, Groups: 1}), "one channel is a dense conv")
	assert.ErrorContains(t, CheckDepthwise(Conv{C: 8, H: 4, W: 4, K: 8, KH: 3, KW: 3, Stride: 1, Groups: 4}), "not depthwise")
	assert.ErrorContains(t, CheckDepthwise(Conv{C: 8, H: 2, W: 2, K: 8, KH: 5, KW: 5, Stride: 1, Groups: 8}), "empty output")
	assert.Equal(t, 7, ChooseDWTile(Conv{C: 16, H: 14, W: 14, K: 16, KH: 3, KW: 3, Stride: 1, Pad: 1, Groups: 16}))
	assert.Equal(t, 8, ChooseDWTile(Conv{C: 16, H: 112, W: 112, K: 16, KH: 3, KW: 3, Stride: 1, Pad: 1, Groups: 16}))
	assert.Equal(t, 3, ChooseDWTile(Conv{C: 16, H: 3, W: 3, K: 16, KH: 3, KW: 3, Stride: 1, Pad: 1, Groups: 16}))
}

func TestDepthwisePack(t *testing.T) {
	d, err := NewDepthwise(Conv{C: 17, H: 4, W: 4, K: 17, KH: 3, KW: 3, Stride: 1, Pad: 1, Groups: 17})
	require.NoError(t, err)
	w := make([]float32, 17*9)
	for i := range w {
		w[i] = float32(i + 1)
	}
	pw, pb, err := d.Pack(w, nil)
	require.NoError(t, err)
	require.Len(t, pw, 2*16*9)
	assert.Len(t, pb, 32)
	// Channel 16, tap 4 lands in block 1, tap 4, lane 0; padding lanes are zero.
	assert.Equal(t, w[16*9+4], pw[(1*9+4)*16+0])
	assert.Equal(t, w[3*9+8], pw[8*16+3])
	assert.Zero(t, pw[(1*9+4)*16+1])
	_, _, err = d.Pack(w[:5], nil)
	assert.ErrorContains(t, err, "5 weights")
}
