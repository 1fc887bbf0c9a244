package kern

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLinearMatchesInterp checks the fully connected kernel, as a 1×1 conv of a C×1×1 map,
// with a partial last block of outputs, inputs that are not a multiple of LinearChains,
// one output, and ReLU.
func TestLinearMatchesInterp(t *testing.T) {
	ls := []*Linear{{In: 1280, Out: 1000}, {In: 37, Out: 48, ReLU: true}, {In: 5, Out: 1}, {In: 64, Out: 17, ReLU: true}}
	ks := make([]testKernel, len(ls))
	for i, l := range ls {
		ks[i] = l
	}
	for i, e := range runTestKernels(t, ks) {
		assert.LessOrEqual(t, e, tol, ls[i].Name())
	}
}

func TestLinearPack(t *testing.T) {
	l := &Linear{In: 3, Out: 17}
	w := make([]float32, 3*17)
	for i := range w {
		w[i] = float32(i + 1)
	}
	pw, pb, err := l.Pack(w, make([]float32, 17))
	require.NoError(t, err)
	require.Len(t, pw, 2*3*16)
	assert.Len(t, pb, 32)
	// Output 16, input 2 lands in block 1, row 2, lane 0.
	assert.Equal(t, w[16*3+2], pw[(1*3+2)*16])
	assert.Zero(t, pw[(1*3+2)*16+1])
	_, _, err = l.Pack(w[:4], nil)
	assert.ErrorContains(t, err, "4 weights")
}
