package sweep

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGalleryStudiesLoad: every study of the gallery (docs/studies) loads, model files
// included.
func TestGalleryStudiesLoad(t *testing.T) {
	files, err := filepath.Glob("../docs/studies/*.yaml")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 6)
	for _, f := range files {
		_, err := Load(f)
		assert.NoError(t, err, f)
	}
}

// TestComputeDensityStacks: the compute-density study's four model files are equal-MAC
// stacks (4·56²·230400 = 2,890,137,600 MACs each), and depthwise is the least dense on
// every array.
func TestComputeDensityStacks(t *testing.T) {
	s, err := Load("../docs/studies/compute-density.yaml")
	require.NoError(t, err)
	tab, sum, err := Run(s, Options{})
	require.NoError(t, err)
	require.Zero(t, sum.Failed)
	require.Equal(t, 4*5*3*2, sum.Ran)
	macs, util := tab.col("macs"), tab.col("utilization")
	best := map[string]float64{} // model at array size → best utilization
	for _, r := range tab.Rows {
		assert.Equal(t, "2890137600", r[macs], r[1])
		u, err := strconv.ParseFloat(r[util], 64)
		require.NoError(t, err)
		k := r[1] + "@" + r[tab.col("array.rows")]
		best[k] = max(best[k], u)
	}
	for _, n := range []string{"8", "16", "32", "64", "128"} {
		dw := best["density/dw3x3.ir@"+n]
		assert.LessOrEqual(t, dw, 0.125, n)
		for _, m := range []string{"conv1x1", "conv3x3", "conv5x5"} {
			assert.Greater(t, best["density/"+m+".ir@"+n], 4*dw, "%s at %s", m, n)
		}
	}
}
