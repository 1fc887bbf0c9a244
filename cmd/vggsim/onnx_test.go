package main

import (
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vggsim/vggsim/checkpoint"
	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/onnx"
)

const torchONNX = "../../onnx/testdata/torch/"

// TestONNXModelArgument: an .onnx file goes where MODEL goes; show, simulate and infer
// agree with the zoo model and with PyTorch.
func TestONNXModelArgument(t *testing.T) {
	// simulate: the PyTorch export of ResNet-18 gives the zoo's deploy-form numbers.
	got := runLine(t, "simulate "+torchONNX+"resnet18.structure.onnx --hw tpu-v1 --format json")
	want := runLine(t, "simulate ResNet-18 --form deploy --hw tpu-v1 --format json")
	// Layer names differ where PyTorch names a reused ReLU module relu_1.
	names := regexp.MustCompile(`"(name|model)": "[^"]*"`)
	assert.Equal(t, names.ReplaceAllString(want, ""), names.ReplaceAllString(got, ""))

	// show --form deploy runs reparam on the train-form export.
	out := runLine(t, "show "+torchONNX+"tiny_repvgg_train.onnx --form deploy")
	assert.Contains(t, out, "@stage1.0.rbr_reparam : 8x8x8")
	assert.NotContains(t, out, "batchnorm")

	// infer with the file's weights, both forms, within 1e-5 of PyTorch.
	dir := t.TempDir()
	want32, err := npy.ReadFile(torchONNX + "tiny_repvgg_train.output.npy")
	require.NoError(t, err)
	for _, form := range []string{"train", "deploy"} {
		y := filepath.Join(dir, form+".npy")
		runLine(t, "infer "+torchONNX+"tiny_repvgg_train.onnx --form "+form+" --input "+torchONNX+"tiny_repvgg_train.input.npy -o "+y)
		got, err := npy.ReadFile(y)
		require.NoError(t, err)
		require.Equal(t, want32.Shape, got.Shape)
		var d, m float64
		for i := range got.F32 {
			d = max(d, math.Abs(float64(got.F32[i]-want32.F32[i])))
			m = max(m, math.Abs(float64(want32.F32[i])))
		}
		assert.LessOrEqual(t, d/m, 1e-5, form)
	}
}

// TestFuseONNXAndTimm: fuse writes ONNX and timm names; a timm-named checkpoint fuses to the
// same bits as the reference-named one.
func TestFuseONNXAndTimm(t *testing.T) {
	dir := t.TempDir()
	spec := "../../models/testdata/tiny_repvgg.yaml"
	timmDir := "../../models/testdata/timm/"
	ref, timm, timmOut := filepath.Join(dir, "ref.pth"), filepath.Join(dir, "timm.pth"), filepath.Join(dir, "timm_names.safetensors")
	runLine(t, "fuse "+spec+" --classes 10 --weights "+timmDir+"tiny_repvgg_train.pth -o "+ref)
	runLine(t, "fuse "+spec+" --classes 10 --weights "+timmDir+"tiny_repvgg_train_timm.pth -o "+timm)
	runLine(t, "fuse "+spec+" --classes 10 --weights "+timmDir+"tiny_repvgg_train.pth -o "+timmOut+" --names timm")
	a, err := checkpoint.Load(ref)
	require.NoError(t, err)
	b, err := checkpoint.Load(timm)
	require.NoError(t, err)
	c, err := checkpoint.Load(timmOut)
	require.NoError(t, err)
	require.Equal(t, a.Keys, b.Keys)
	assert.Equal(t, "stem.reparam_conv.weight", c.Keys[0])
	assert.Equal(t, "head.fc.bias", c.Keys[len(c.Keys)-1])
	for i, k := range a.Keys {
		assert.Equal(t, a.Tensors[k].F32, b.Tensors[k].F32, k)
		assert.Equal(t, a.Tensors[k].F32, c.Tensors[c.Keys[i]].F32, k)
	}
	// The timm-named deploy checkpoint runs as the deploy form.
	runLine(t, "infer "+spec+" --classes 10 --weights "+timmOut+" --input "+torchONNX+"tiny_repvgg_train.input.npy -o "+filepath.Join(dir, "y.npy"))

	// fuse -o .onnx from the train-form ONNX: the deploy graph with the same tensors.
	o := filepath.Join(dir, "d.onnx")
	runLine(t, "fuse "+torchONNX+"tiny_repvgg_train.onnx -o "+o)
	g, err := onnx.Load(o, onnx.Options{})
	require.NoError(t, err)
	assert.Equal(t, a.Tensors["stage1.0.rbr_reparam.weight"].F32, g.Node("stage1.0.rbr_reparam").Params["weight"].F32)
}

func TestONNXErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"show", torchONNX + "resnet18.structure.onnx", "--input-size", "64"}, "the model's input is 224x224; an ONNX model's input size cannot be changed"},
		{[]string{"infer", torchONNX + "vgg16.structure.onnx", "--input", torchONNX + "vgg16_small.input.npy", "-o", "y.npy"}, "features.0.weight: external data"},
		{[]string{"fuse", "RepVGG-A0", "--weights", "x.pth", "-o", "a.onnx", "--names", "timm"}, "--names timm: applies to checkpoint outputs"},
		{[]string{"fuse", "RepVGG-A0", "--weights", "x.pth", "-o", "a.pth", "--names", "hf"}, `unknown naming "hf"`},
		{[]string{"show", "missing.onnx"}, "missing.onnx"},
	}
	for _, c := range cases {
		_, errs, code := vggsim(t, c.args...)
		assert.Equal(t, exitUsage, code, c.args)
		assert.Contains(t, errs, c.want, c.args)
		assert.Equal(t, 1, strings.Count(errs, "\n"), c.args)
	}
}
