package models_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vggsim/vggsim/checkpoint"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/reparam"
	"github.com/vggsim/vggsim/tensor"
)

// TestTimmKeysZoo: every key of every RepVGG zoo model, train and deploy, has a timm name
// that maps back, and the timm names of the stem, a stage block and the head are timm's.
func TestTimmKeysZoo(t *testing.T) {
	for _, name := range models.Names() {
		spec, err := models.ZooSpec(name)
		if err != nil || spec == nil {
			continue // ResNets and VGG-16 keep torchvision's names
		}
		for _, deploy := range []bool{false, true} {
			g, err := models.Build(name, models.Options{Deploy: deploy, InputH: 32})
			require.NoError(t, err)
			seen := map[string]bool{}
			for _, n := range g.Nodes {
				for _, s := range n.ParamSpecs() {
					k := n.Key(s.Name)
					tk, ok := models.TimmKey(k)
					require.True(t, ok, "%s: %s", name, k)
					assert.False(t, seen[tk], "%s: %s named twice", name, tk)
					seen[tk] = true
					back, ok := models.ReferenceKey(tk)
					require.True(t, ok, tk)
					assert.Equal(t, k, back)
				}
			}
		}
	}
	for ref, timm := range map[string]string{
		"stage0.rbr_dense.conv.weight":               "stem.conv_kxk.conv.weight",
		"stage0.rbr_1x1.bn.running_var":              "stem.conv_1x1.bn.running_var",
		"stage1.1.rbr_identity.weight":               "stages.0.1.identity.weight",
		"stage4.0.rbr_reparam.bias":                  "stages.3.0.reparam_conv.bias",
		"stage3.13.rbr_dense.bn.num_batches_tracked": "stages.2.13.conv_kxk.bn.num_batches_tracked",
		"stage2.0.se.down.weight":                    "stages.1.0.attn.fc1.weight",
		"linear.weight":                              "head.fc.weight",
	} {
		got, ok := models.TimmKey(ref)
		assert.True(t, ok)
		assert.Equal(t, timm, got)
	}
	for _, bad := range []string{"stage.x", "stage1.rbr_dense.conv.weight", "stage01.0.rbr_dense.conv.weight", "fc.weight", "stage1.0.conv.weight"} {
		_, ok := models.TimmKey(bad)
		assert.False(t, ok, bad)
	}
	for _, bad := range []string{"stages.x.0.conv_kxk.conv.weight", "stem.conv.weight", "head.weight"} {
		_, ok := models.ReferenceKey(bad)
		assert.False(t, ok, bad)
	}
}

// TestTimmCheckpointFusesBitExact: the timm-named checkpoint that tools/onnxgen made from a
// reference-named one binds to the same model and fuses to the same bits, which are the
// reference code's own conversion (tiny_repvgg_deploy.pth).
func TestTimmCheckpointFusesBitExact(t *testing.T) {
	dir := filepath.Join("testdata", "timm")
	fuse := func(file string) map[string]*tensor.Tensor {
		sd, err := checkpoint.Load(filepath.Join(dir, file))
		require.NoError(t, err)
		g, err := models.Resolve(filepath.Join("testdata", "tiny_repvgg.yaml"), models.Options{NumClasses: 10})
		require.NoError(t, err)
		require.NoError(t, models.Bind(g, sd.Keys, sd.Tensors), file)
		d, err := reparam.Deploy(g, reparam.Options{})
		require.NoError(t, err)
		_, ts := models.Unbind(d)
		return ts
	}
	timmSD, err := checkpoint.Load(filepath.Join(dir, "tiny_repvgg_train_timm.pth"))
	require.NoError(t, err)
	require.True(t, models.IsTimm(timmSD.Keys))
	assert.Contains(t, timmSD.Tensors, "stem.conv_kxk.conv.weight")

	ref, timm := fuse("tiny_repvgg_train.pth"), fuse("tiny_repvgg_train_timm.pth")
	want, err := checkpoint.Load(filepath.Join(dir, "tiny_repvgg_deploy.pth"))
	require.NoError(t, err)
	require.Len(t, timm, len(want.Keys))
	for _, k := range want.Keys {
		require.Contains(t, timm, k)
		assert.Equal(t, bitsOf(want.Tensors[k].F32), bitsOf(timm[k].F32), k)
		assert.Equal(t, bitsOf(ref[k].F32), bitsOf(timm[k].F32), k)
	}
}

func bitsOf(f []float32) []uint32 {
	b := make([]uint32, len(f))
	for i, v := range f {
		b[i] = math.Float32bits(v)
	}
	return b
}
