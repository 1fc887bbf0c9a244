package onnx_test

import (
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/interp"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	. "github.com/vggsim/vggsim/onnx"
	"github.com/vggsim/vggsim/reparam"
	"github.com/vggsim/vggsim/tensor"
)

// roundTrip exports g and reads it back.
func roundTrip(t *testing.T, g *ir.Graph, structure bool) *ir.Graph {
	t.Helper()
	m, err := ExportStructure(g, structure)
	require.NoError(t, err)
	back, err := Read(m.Marshal(), Options{Structure: structure})
	require.NoError(t, err)
	return back
}

// TestRoundTripZooStructure: every zoo model in both forms at its default input comes back
// from ONNX with the same graph text (names, attributes, shapes, value numbering).
func TestRoundTripZooStructure(t *testing.T) {
	for _, name := range models.Names() {
		for _, deploy := range []bool{false, true} {
			g, err := models.Build(name, models.Options{Deploy: deploy})
			require.NoError(t, err)
			back := roundTrip(t, g, true)
			assert.Equal(t, g.String(), back.String(), "%s deploy=%v", name, deploy)
		}
	}
}

func randInput(shape ir.Shape, n int, seed uint64) *tensor.Tensor {
	x := tensor.New(n, shape.C, shape.H, shape.W)
	s := seed
	for i := range x.F32 {
		s = s*6364136223846793005 + 1442695040888963407
		x.F32[i] = float32(int64(s>>40)%2001-1000) / 1000
	}
	return x
}

// TestRoundTripWeights: with weights, the round-tripped graph has bit-identical parameters
// and interp outputs, in both forms. The models are those whose weights are small enough
// for a unit test; every operator and pattern of the zoo occurs in them (SE blocks in
// se_small, groups in tiny_repvgg, bottlenecks in ResNet-50's smaller sibling structure
// checked above).
func TestRoundTripWeights(t *testing.T) {
	cases := []struct {
		model string
		opts  models.Options
	}{
		{"RepVGG-A0", models.Options{InputH: 32}},
		{"ResNet-18", models.Options{InputH: 32}},
		{"MobileNetV2", models.Options{InputH: 32}}, // ReLU6 as Clip(0, 6), depthwise convs
		{"../models/testdata/tiny_repvgg.yaml", models.Options{}},
		{"../models/testdata/se_small.yaml", models.Options{}},
	}
	for _, c := range cases {
		g, err := models.Resolve(c.model, c.opts)
		require.NoError(t, err)
		models.InitWeights(g, 3)
		d, err := reparam.Deploy(g, reparam.Options{})
		require.NoError(t, err)
		for _, g := range []*ir.Graph{g, d} {
			back := roundTrip(t, g, false)
			require.Equal(t, g.String(), back.String(), c.model)
			for i, n := range g.Nodes {
				for _, s := range n.ParamSpecs() {
					if s.DType != tensor.Float32 {
						continue
					}
					assert.Equal(t, n.Params[s.Name].F32, back.Nodes[i].Params[s.Name].F32, "%s %s", n.Name, s.Name)
				}
			}
			x := randInput(g.Input().Shape, 2, 1)
			y1, err := interp.Run(g, x)
			require.NoError(t, err)
			y2, err := interp.Run(back, x)
			require.NoError(t, err)
			assert.Equal(t, y1.F32, y2.F32, c.model)
		}
	}
}

var nameRE = regexp.MustCompile(` @\S+`)

// stripNames removes node names and the graph name from a graph's text.
func stripNames(s string) string {
	s = nameRE.ReplaceAllString(s, "")
	return s[strings.Index(s, "\n")+1:]
}

// TestPyTorchStructure: the full-size models exported by PyTorch (weights dropped, see
// tools/onnxgen) import to the zoo's graphs up to the names of parameterless nodes:
// RepVGG-A0 deploy and VGG-16 directly, ResNet-18 (whose BatchNorms the exporter folded into
// the convs) as the zoo's deploy form, and RepVGG-A0 train (whose blocks PyTorch orders
// identity branch first) after reparam as the zoo's deploy form. Nodes with parameters keep
// their state_dict names.
func TestPyTorchStructure(t *testing.T) {
	cases := []struct {
		file, model string
		deploy      bool // compare with the zoo's deploy form
		reparam     bool // run reparam on the import first
	}{
		{"repvgg_a0_deploy", "RepVGG-A0", true, false},
		{"repvgg_a0_train", "RepVGG-A0", true, true},
		{"resnet18", "ResNet-18", true, false},
		{"vgg16", "VGG-16", false, false},
	}
	for _, c := range cases {
		g, err := Load(filepath.Join("testdata", "torch", c.file+".structure.onnx"), Options{Structure: true})
		require.NoError(t, err, c.file)
		zoo, err := models.Build(c.model, models.Options{})
		require.NoError(t, err)
		want, err := models.Build(c.model, models.Options{Deploy: c.deploy})
		require.NoError(t, err)
		if c.reparam {
			assert.Equal(t, zoo.MACs(), g.MACs(), c.file)
			assert.Equal(t, zoo.Params(), g.Params(), c.file)
			g, err = reparam.Deploy(g, reparam.Options{})
			require.NoError(t, err, c.file)
		}
		assert.Equal(t, stripNames(want.String()), stripNames(g.String()), c.file)
		for i, n := range want.Nodes {
			if n.Op.HasParams() {
				assert.Equal(t, n.Name, g.Nodes[i].Name, c.file)
			}
		}
	}
}

// TestPyTorchStructureMissingWeights: without Structure, the dropped external weights are
// an error naming the tensor.
func TestPyTorchStructureMissingWeights(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "torch", "vgg16.structure.onnx"), Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "features.0.weight")
	assert.Contains(t, err.Error(), "external data")
}

// TestPyTorchOutputs: the scaled-down models PyTorch exported run in interp within 1e-5
// of PyTorch's own outputs (relative to the largest output), and the train-form RepVGG goes
// through reparam to the same numbers as the deploy-form file.
func TestPyTorchOutputs(t *testing.T) {
	for _, name := range []string{"tiny_repvgg_train", "tiny_repvgg_deploy", "se_small_train", "resnet18_small", "vgg16_small"} {
		dir := filepath.Join("testdata", "torch")
		g, err := Load(filepath.Join(dir, name+".onnx"), Options{})
		require.NoError(t, err, name)
		x, err := npy.ReadFile(filepath.Join(dir, name+".input.npy"))
		require.NoError(t, err)
		want, err := npy.ReadFile(filepath.Join(dir, name+".output.npy"))
		require.NoError(t, err)
		graphs := []*ir.Graph{g}
		if strings.HasSuffix(name, "_train") {
			d, err := reparam.Deploy(g, reparam.Options{})
			require.NoError(t, err)
			if ok, why := ir.IsPlain(d); name == "tiny_repvgg_train" { // SE blocks are not plain
				require.True(t, ok, why)
			}
			graphs = append(graphs, d)
		}
		for _, g := range graphs {
			y, err := interp.Run(g, x)
			require.NoError(t, err, name)
			got := interp.Flat2D(y)
			require.Equal(t, want.Shape, got.Shape, name)
			e := relErr(got.F32, want.F32)
			t.Logf("%s (%d nodes): max |interp - PyTorch| / max |PyTorch| = %.2e", name, len(g.Nodes), e)
			assert.LessOrEqual(t, e, 1e-5, name)
		}
	}
}

func relErr(got, want []float32) float64 {
	var d, m float64
	for i := range want {
		d = max(d, math.Abs(float64(got[i])-float64(want[i])))
		m = max(m, math.Abs(float64(want[i])))
	}
	return d / m
}

// TestClipBounds: a Clip other than [0, 6] or [0, none] is refused naming the node and its
// bounds; [0, none] imports as ReLU.
func TestClipBounds(t *testing.T) {
	b := ir.NewBuilder("clip", ir.Shape{C: 2, H: 3, W: 3})
	g, err := b.Finish(b.ReLU6("act", b.Input()))
	require.NoError(t, err)
	m, err := Export(g)
	require.NoError(t, err)
	bound := func(name string) *Tensor {
		for _, t := range m.Graph.Initializers {
			if t.Name == name {
				return t
			}
		}
		return nil
	}
	bound("act/max").Raw = []byte{0, 0, 0x80, 0x40} // 4.0
	_, err = Read(m.Marshal(), Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `node "act" (Clip, opset 13)`)
	assert.Contains(t, err.Error(), "bounds [0, 4]")

	n := m.Graph.Nodes[0]
	n.Inputs = n.Inputs[:2]
	back, err := Read(m.Marshal(), Options{})
	require.NoError(t, err)
	assert.Equal(t, ir.ReLU, back.Nodes[1].Op)
}
