package tinygolden

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFixture checks the fixture against the files on disk: every train_sd.*.npy and
// deploy_sd.*.npy is a manifest key (and the reverse), with the shapes the reference
// model has, and the blocks are the manifest's seven.
func TestFixture(t *testing.T) {
	c := Manifest(t)
	assert.Len(t, c.TrainKeys, 96)
	assert.Len(t, c.DeployKeys, 16)
	require.Len(t, c.Config.Blocks, 7)
	assert.Equal(t, Block{Name: "stage2.0", In: 8, Out: 16, Stride: 2, Groups: 2}, c.Config.Blocks[2])

	for _, deploy := range []bool{false, true} {
		keys, sd := StateDict(t, deploy)
		prefix := "train_sd."
		if deploy {
			prefix = "deploy_sd."
		}
		files, err := filepath.Glob(Path(prefix + "*.npy"))
		require.NoError(t, err)
		assert.Len(t, files, len(keys), "one .npy per key")
		assert.Len(t, sd, len(keys))
		assert.Equal(t, keys, c.Keys(deploy))
	}
	_, train := StateDict(t, false)
	assert.Equal(t, []int{8, 3, 3, 3}, train["stage0.rbr_dense.conv.weight"].Shape)
	assert.Equal(t, []int{16, 4, 3, 3}, train["stage2.0.rbr_dense.conv.weight"].Shape, "groups 2")
	_, dep := StateDict(t, true)
	assert.Equal(t, []int{10, 32}, dep["linear.weight"].Shape)

	assert.Equal(t, []int{1, 3, 32, 32}, Input(t).Shape)
	assert.Equal(t, []int{1, 10}, Logits(t, false).Shape)
	assert.Equal(t, []int{1, 10}, Logits(t, true).Shape)
	assert.Equal(t, []int{1, 16, 4, 4}, Activation(t, "stage2.1").Shape)
	for _, f := range []string{Spec, Path(TrainPTH), Path(DeployPTH)} {
		_, err := os.Stat(f)
		assert.NoError(t, err)
	}
}
