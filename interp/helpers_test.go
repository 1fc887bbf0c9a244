package interp

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

// tol is the absolute tolerance against PyTorch-produced golden data.
const tol = 1e-5

// randTensor returns a tensor of the given shape with values uniform in [-1, 1), from a
// fixed seed.
func randTensor(seed uint64, shape ...int) *tensor.Tensor {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	t := tensor.New(shape...)
	for i := range t.F32 {
		t.F32[i] = float32(r.Float64()*2 - 1)
	}
	return t
}

// convGraph returns a graph with one Conv node named "conv" over a cin×h×w input, with the
// given weight and optional bias (nil for none).
func convGraph(t testing.TB, cin, h, w, cout, k, stride, pad, groups int, weight, bias *tensor.Tensor) *ir.Graph {
	t.Helper()
	b := ir.NewBuilder("conv", ir.Shape{C: cin, H: h, W: w})
	out := b.Conv("conv", b.Input(), cout, k, stride, pad, groups, bias != nil)
	g, err := b.Finish(out)
	if err != nil {
		t.Fatal(err)
	}
	n := g.Node("conv")
	n.Params = map[string]*tensor.Tensor{"weight": weight}
	if bias != nil {
		n.Params["bias"] = bias
	}
	return g
}

// run is Run that fails the test on error.
func run(t testing.TB, g *ir.Graph, x *tensor.Tensor) *tensor.Tensor {
	t.Helper()
	y, err := Run(g, x)
	if err != nil {
		t.Fatal(err)
	}
	return y
}

// wantExact fails t unless got has the given shape and is bitwise equal to want.
func wantExact(t *testing.T, what string, got *tensor.Tensor, shape []int, want []float32) {
	t.Helper()
	if !tensor.SameShape(got.Shape, shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, shape)
	}
	for i := range want {
		if math.Float32bits(got.F32[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d = %v, want %v (all: %v)", what, i, got.F32[i], want[i], got.F32)
		}
	}
}

// maxAbsDiff returns max |a−b| over two same-length slices.
func maxAbsDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// wantClose fails t unless got and want have equal shapes and differ by at most tol.
func wantClose(t *testing.T, what string, got, want *tensor.Tensor, tol float64) {
	t.Helper()
	if !tensor.SameShape(got.Shape, want.Shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, want.Shape)
	}
	if d := maxAbsDiff(got.F32, want.F32); !(d <= tol) {
		t.Errorf("%s: max abs diff %.3g > %.3g", what, d, tol)
	} else {
		var peak float64
		for _, v := range want.F32 {
			peak = max(peak, math.Abs(float64(v)))
		}
		t.Logf("%s: max abs diff %.3g (max |want| %.3g)", what, d, peak)
	}
}

// mustNpy reads a .npy file with internal/npy or fails t.
func mustNpy(t testing.TB, path string) *tensor.Tensor {
	t.Helper()
	x, err := npy.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return x
}
