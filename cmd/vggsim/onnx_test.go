package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"sort"
	"strconv"
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
	// simulate: PyTorch's exports give the zoo models' numbers, in both forms (ResNet-18's
	// export has its BatchNorms folded: the zoo's deploy form). Layer names differ where
	// PyTorch names modules differently (a reused ReLU is relu_1), and PyTorch orders a
	// RepVGG block's identity branch first, so layers are compared as a multiset.
	for _, c := range []struct{ file, model, zooForm string }{
		{"repvgg_a0_train", "RepVGG-A0", ""},
		{"repvgg_a0_deploy", "RepVGG-A0", "deploy"},
		{"resnet18", "ResNet-18", "deploy"},
		{"vgg16", "VGG-16", ""},
	} {
		for _, form := range []string{"train", "deploy"} {
			zf := form
			if c.zooForm != "" {
				zf = c.zooForm
			}
			got := runLine(t, "simulate "+torchONNX+c.file+".structure.onnx --hw tpu-v1 --format json --form "+form)
			want := runLine(t, "simulate "+c.model+" --form "+zf+" --hw tpu-v1 --format json")
			assert.Equal(t, canonicalSim(t, want), canonicalSim(t, got), "%s --form %s", c.file, form)
		}
	}

	// show --form deploy runs reparam on the train-form export.
	out := runLine(t, "show "+torchONNX+"tiny_repvgg_train.onnx --form deploy")
	assert.Contains(t, out, "@stage1.0.rbr_reparam : 8x8x8")
	assert.NotContains(t, out, "batchnorm")

	// quant uses the file's weights: --seed (for random weights) changes nothing.
	q1 := runLine(t, "quant "+torchONNX+"tiny_repvgg_train.onnx --input "+torchONNX+"tiny_repvgg_train.input.npy --seed 1")
	q2 := runLine(t, "quant "+torchONNX+"tiny_repvgg_train.onnx --input "+torchONNX+"tiny_repvgg_train.input.npy --seed 2")
	assert.Equal(t, q1, q2)
	q3 := runLine(t, "quant ../../models/testdata/tiny_repvgg.yaml --classes 10 --input "+torchONNX+"tiny_repvgg_train.input.npy --seed 2")
	assert.NotEqual(t, q1, q3)

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

// canonicalSim returns simulate's JSON without model, form and layer names, its layers
// sorted.
// roundFloats rounds every number in a decoded JSON tree to 12 significant digits: sums over
// layers taken in another order (a multiset of layers) differ in their last bits.
func roundFloats(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if f, ok := e.(float64); ok {
				x[k], _ = strconv.ParseFloat(strconv.FormatFloat(f, 'g', 12, 64), 64)
			} else {
				roundFloats(e)
			}
		}
	case []any:
		for i, e := range x {
			if f, ok := e.(float64); ok {
				x[i], _ = strconv.ParseFloat(strconv.FormatFloat(f, 'g', 12, 64), 64)
			} else {
				roundFloats(e)
			}
		}
	}
}

func canonicalSim(t *testing.T, js string) string {
	var d map[string]any
	require.NoError(t, json.Unmarshal([]byte(js), &d))
	roundFloats(d)
	delete(d, "model")
	delete(d, "form")
	r := d["result"].(map[string]any)
	layers := r["layers"].([]any)
	texts := make([]string, len(layers))
	for i, l := range layers {
		delete(l.(map[string]any), "name")
		b, err := json.Marshal(l)
		require.NoError(t, err)
		texts[i] = string(b)
	}
	sort.Strings(texts)
	r["layers"] = texts
	b, err := json.MarshalIndent(d, "", " ")
	require.NoError(t, err)
	return string(b)
}
