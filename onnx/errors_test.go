package onnx_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	. "github.com/vggsim/vggsim/onnx"
)

// tinyModel is a conv+relu model exported by Export, to be edited by the error tests.
func tinyModel(t *testing.T) *Model {
	t.Helper()
	b := ir.NewBuilder("tiny", ir.Shape{C: 2, H: 4, W: 4})
	v := b.Conv("conv", b.Input(), 3, 3, 1, 1, 1, true)
	g, err := b.Finish(b.ReLU("relu", v))
	require.NoError(t, err)
	models.InitWeights(g, 1)
	m, err := Export(g)
	require.NoError(t, err)
	return m
}

func TestImportErrors(t *testing.T) {
	cases := []struct {
		name string
		edit func(m *Model)
		want string
	}{
		{"unsupported op", func(m *Model) { m.Graph.Nodes[1].OpType = "Softmax" },
			`node "relu" (Softmax, opset 13): operator Softmax is not supported`},
		{"other domain", func(m *Model) { m.Graph.Nodes[1].Domain = "com.microsoft" },
			`node "relu" (com.microsoft.Relu, opset 13): operator domain "com.microsoft" is not supported`},
		{"opset too new", func(m *Model) { m.Opsets[0].Version = 22 }, "opset 22 is not supported (11 to 21 are)"},
		{"opset too old", func(m *Model) { m.Opsets[0].Version = 10 }, "opset 10 is not supported"},
		{"no opset", func(m *Model) { m.Opsets = nil }, "no opset import for the default domain"},
		{"dilation", func(m *Model) { m.Graph.Nodes[0].Attrs[0].Ints = []int64{2, 2} },
			`node "conv" (Conv, opset 13): dilations [2 2]: only 1 is supported`},
		{"asymmetric pads", func(m *Model) { m.Graph.Nodes[0].Attrs[3].Ints = []int64{1, 1, 0, 0} },
			`node "conv" (Conv, opset 13): pads [1 1 0 0]: only equal padding on all sides is supported`},
		{"truncated weight", func(m *Model) { m.Graph.Initializers[0].Raw = m.Graph.Initializers[0].Raw[:8] },
			`node "conv" (Conv, opset 13): tensor conv.weight: raw_data has 8 bytes, dims [3 2 3 3] need 216`},
		{"external escapes", func(m *Model) {
			m.Graph.Initializers[0].Raw = nil
			m.Graph.Initializers[0].External = [][2]string{{"location", "../w.bin"}}
		}, `tensor conv.weight: external data location "../w.bin" must be a relative path inside the model's directory`},
		{"two inputs", func(m *Model) { m.Graph.Inputs = append(m.Graph.Inputs, &ValueInfo{Name: "x2"}) },
			`graph inputs "input" and "x2": only single-input models are supported`},
		{"rank-3 input", func(m *Model) { m.Graph.Inputs[0].Dims = m.Graph.Inputs[0].Dims[:3] },
			`graph input "input": want a float tensor [N, C, H, W]`},
		{"pad", func(m *Model) { insertPad(m, 1) },
			`node "pad" (Pad, opset 13): pads [0 0 1 1 0 0 1 1]: only a pad by zero (the identity) is supported`},
		{"missing operand", func(m *Model) { m.Graph.Nodes[1].Inputs[0] = "nowhere" },
			`node "relu" (Relu, opset 13): input 0 (nowhere) is not defined before the node`},
	}
	for _, c := range cases {
		m := tinyModel(t)
		c.edit(m)
		_, err := Read(m.Marshal(), Options{Dir: t.TempDir()})
		require.Error(t, err, c.name)
		assert.Contains(t, err.Error(), c.want, c.name)
	}
}

func TestReadLimits(t *testing.T) {
	b := tinyModel(t).Marshal()
	_, err := Read(b, Options{Limits: Limits{MaxNodes: 2}})
	assert.ErrorContains(t, err, "more than 2 nodes")
	_, err = Read(b, Options{Limits: Limits{MaxTensorElems: 10}})
	assert.ErrorContains(t, err, `tensor "conv.weight": dims [3 2 3 3] exceed 10 elements`)
	_, err = Read(b, Options{Limits: Limits{MaxTotalElems: 50}})
	assert.ErrorContains(t, err, "more than 50 tensor elements")
	_, err = Read(b, Options{Limits: Limits{MaxFileBytes: 100}})
	assert.ErrorContains(t, err, "larger than 100 bytes")
	_, err = Read(b[:len(b)-3], Options{})
	assert.ErrorContains(t, err, "not a valid ONNX model")
}

// TestExternalData: external weights are read from the model's directory, and a symbolic
// link that leaves it is refused.
func TestExternalData(t *testing.T) {
	dir := t.TempDir()
	m := tinyModel(t)
	w := m.Graph.Initializers[0]
	require.NoError(t, os.WriteFile(filepath.Join(dir, "w.bin"), append([]byte("pad!"), w.Raw...), 0o644))
	want := append([]byte(nil), w.Raw...)
	w.Raw = nil
	w.Location = 1
	w.External = [][2]string{{"location", "w.bin"}, {"offset", "4"}, {"length", "216"}}
	path := filepath.Join(dir, "m.onnx")
	require.NoError(t, os.WriteFile(path, m.Marshal(), 0o644))
	g, err := Load(path, Options{})
	require.NoError(t, err)
	assert.Equal(t, LEFloats(want), g.Node("conv").Params["weight"].F32)

	_, err = Read(m.Marshal(), Options{})
	assert.ErrorContains(t, err, "external data is not allowed here")

	outside := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "x.bin"), make([]byte, 300), 0o644))
	require.NoError(t, os.Symlink(filepath.Join(outside, "x.bin"), filepath.Join(dir, "link.bin")))
	w.External = [][2]string{{"location", "link.bin"}}
	require.NoError(t, os.WriteFile(path, m.Marshal(), 0o644))
	_, err = Load(path, Options{})
	assert.ErrorContains(t, err, `external data location "link.bin" leaves the model's directory`)
}

func TestExportErrors(t *testing.T) {
	b := ir.NewBuilder("t", ir.Shape{C: 2, H: 5, W: 5})
	g, err := b.Finish(b.AdaptiveAvgPool("pool", b.Input(), 3, 3))
	require.NoError(t, err)
	_, err = Export(g)
	assert.ErrorContains(t, err, "pool: adaptive pooling of 5x5 to 3x3 has unequal windows")

	b = ir.NewBuilder("t", ir.Shape{C: 2, H: 4, W: 4})
	g, err = b.Finish(b.Conv("conv", b.Input(), 2, 3, 1, 1, 1, false))
	require.NoError(t, err)
	_, err = Export(g)
	assert.ErrorContains(t, err, "conv has no weight; bind weights first")
}

// FuzzRead: no input makes the reader panic or exceed its limits; what it accepts
// exports and reads back to the same graph.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"tiny_repvgg_deploy.onnx", "repvgg_a0_deploy.structure.onnx"} {
		b, err := os.ReadFile(filepath.Join("testdata", "torch", name))
		require.NoError(f, err)
		f.Add(b)
	}
	m := tinyModel(&testing.T{})
	f.Add(m.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		opts := Options{Structure: true, Limits: Limits{MaxNodes: 10000, MaxTensorElems: 1 << 24, MaxTotalElems: 1 << 26}}
		g, err := Read(b, opts)
		if err != nil {
			return
		}
		back, err := Read(mustStructure(t, g), opts)
		require.NoError(t, err)
		assert.Equal(t, g.String(), back.String())
	})
}

func mustStructure(t *testing.T, g *ir.Graph) []byte {
	m, err := ExportStructure(g, true)
	if err != nil {
		t.Skip(err) // graphs ONNX cannot hold (uneven adaptive pooling)
	}
	return m.Marshal()
}

// insertPad puts a Pad by p (on H and W) between the conv and the relu of tinyModel.
func insertPad(m *Model, p int64) {
	pads := &Tensor{Name: "pads", Dims: []int64{8}, DataType: 7, Int64s: []int64{0, 0, p, p, 0, 0, p, p}}
	m.Graph.Initializers = append(m.Graph.Initializers, pads)
	pad := &Node{Name: "pad", OpType: "Pad", Inputs: []string{"conv", "pads"}, Outputs: []string{"padded"}}
	m.Graph.Nodes[1].Inputs[0] = "padded"
	m.Graph.Nodes = append([]*Node{m.Graph.Nodes[0], pad}, m.Graph.Nodes[1:]...)
}

// TestPadByZeroAndFixedBatch: a Pad by zero is the identity, and a Reshape to [2, -1] in a
// model whose input batch is fixed at 2 keeps the batch.
func TestPadByZeroAndFixedBatch(t *testing.T) {
	m := tinyModel(t)
	insertPad(m, 0)
	g, err := Read(m.Marshal(), Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{"input", "conv", "relu"}, nodeNames(g))

	m = tinyModel(t)
	m.Graph.Inputs[0].Dims[0], m.Graph.Inputs[0].DimNames[0] = 2, ""
	m.Graph.Initializers = append(m.Graph.Initializers, &Tensor{Name: "shape", Dims: []int64{2}, DataType: 7, Int64s: []int64{2, -1}})
	m.Graph.Nodes = append(m.Graph.Nodes, &Node{Name: "/Reshape", OpType: "Reshape", Inputs: []string{"relu", "shape"}, Outputs: []string{"flat"}})
	m.Graph.Outputs[0].Name = "flat"
	g, err = Read(m.Marshal(), Options{})
	require.NoError(t, err)
	assert.Equal(t, "%3 = flatten %2 @reshape : 48x1x1", strings.Split(g.String(), "\n")[4])
	m.Graph.Initializers[len(m.Graph.Initializers)-1].Int64s = []int64{3, -1}
	_, err = Read(m.Marshal(), Options{})
	assert.ErrorContains(t, err, `node "/Reshape" (Reshape, opset 13): shape [3 -1]: only reshapes that keep the batch dimension are supported`)
}

func nodeNames(g *ir.Graph) []string {
	var s []string
	for _, n := range g.Nodes {
		s = append(s, n.Name)
	}
	return s
}

// TestMalformedNodes: nodes missing outputs or attributes are errors, never panics.
func TestMalformedNodes(t *testing.T) {
	cases := []struct {
		edit func(m *Model)
		want string
	}{
		{func(m *Model) { m.Graph.Nodes[0].Attrs[2].Ints = []int64{3} }, "kernel_shape [3] does not match weight [3 2 3 3]"},
		{func(m *Model) {
			m.Graph.Nodes = append(m.Graph.Nodes, &Node{Name: "id", OpType: "Identity", Inputs: []string{"conv.bias"}})
		}, `node "id" (Identity, opset 13): want one output`},
		{func(m *Model) {
			m.Graph.Nodes = append(m.Graph.Nodes, &Node{Name: "mm", OpType: "Add", Inputs: []string{"relu", "conv.bias"}, Outputs: []string{"y"}})
			m.Graph.Outputs[0].Name = "y"
		}, `node "mm" (Add, opset 13): input 1 (conv.bias) is a constant; only activations are supported there`},
	}
	for _, c := range cases {
		m := tinyModel(t)
		c.edit(m)
		_, err := Read(m.Marshal(), Options{})
		assert.ErrorContains(t, err, c.want)
	}
}
