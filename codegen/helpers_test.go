package codegen_test

import (
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/vggsim/vggsim/codegen"
	"github.com/vggsim/vggsim/interp"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

// tol is the agreement asked of generated code with interp: max |got − want| over
// max |want| (float32 sums in another order against interp's float64 ones).
const tol = 1e-4

var (
	tcOnce sync.Once
	tc     *codegen.Toolchain
	tcErr  error
)

// toolchain returns the shared toolchain. Without clang the test is skipped — except in CI
// (CI=true), where .ci/run installs clang and its absence is a failure.
func toolchain(t testing.TB) *codegen.Toolchain {
	t.Helper()
	tcOnce.Do(func() { tc, tcErr = codegen.NewToolchain("") })
	if tcErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v", tcErr)
		}
		t.Skip(tcErr)
	}
	return tc
}

// randInput returns a seeded standard-normal batch of g's input shape.
func randInput(g *ir.Graph, batch int, seed uint64) *tensor.Tensor {
	s := g.Input().Shape
	x := tensor.New(batch, s.C, s.H, s.W)
	r := rand.New(rand.NewPCG(seed, 7))
	for i := range x.F32 {
		x.F32[i] = float32(r.NormFloat64())
	}
	return x
}

// relErr returns max |got − want| / max |want|: NaN on a length mismatch, +Inf when want
// is all zeros (a degenerate reference that would let anything pass).
func relErr(got, want *tensor.Tensor) float64 {
	if got.Len() != want.Len() {
		return math.NaN()
	}
	var d, m float64
	for i, w := range want.F32 {
		d = math.Max(d, math.Abs(float64(got.F32[i])-float64(w)))
		m = math.Max(m, math.Abs(float64(w)))
	}
	if m == 0 {
		return math.Inf(1)
	}
	return d / m
}

// checkAgainstInterp compiles g, runs it on a seeded batch and compares with interp.
func checkAgainstInterp(t *testing.T, g *ir.Graph, opts codegen.Options, batches ...int) *codegen.Compiled {
	t.Helper()
	c, err := codegen.Compile(g, opts, toolchain(t))
	if err != nil {
		t.Fatalf("%s: %v", g.Name, err)
	}
	t.Cleanup(func() { c.Close() })
	for _, b := range batches {
		x := randInput(g, b, uint64(b))
		got, err := c.Run(x)
		if err != nil {
			t.Fatalf("%s batch %d: %v", g.Name, b, err)
		}
		want, err := interp.Run(g, x)
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.SameShape(got.Shape, want.Shape) {
			t.Fatalf("%s batch %d: shape %v, interp %v", g.Name, b, got.Shape, want.Shape)
		}
		if e := relErr(got, want); !(e <= tol) {
			t.Errorf("%s batch %d: relative error %.3g > %g", g.Name, b, e, tol)
		}
	}
	return c
}
