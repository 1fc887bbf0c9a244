package codegen_test

import (
	"hash/fnv"
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

// fastWeights gives g seeded parameters with the scales of models.InitWeights (Kaiming
// variance for conv weights, PyTorch's bounds for biases and Linear, BN γ scaled by 1/√k
// before a k-way Add, non-trivial BN statistics), drawn uniformly from a xorshift stream
// per node: ~20× cheaper than InitWeights's normals, which matters for the zoo's 2.6 G
// parameters. Values depend only on the seed, the node's name and its shape.
func fastWeights(g *ir.Graph, seed uint64) {
	users := g.Users()
	for _, n := range g.Nodes {
		specs := n.ParamSpecs()
		if len(specs) == 0 {
			continue
		}
		gammaScale := float32(1)
		if u := users[n.Out.ID]; n.Op == ir.BatchNorm && len(u) == 1 && u[0].Op == ir.Add {
			gammaScale = float32(1 / math.Sqrt(float64(len(u[0].In))))
		}
		h := fnv.New64a()
		h.Write([]byte(n.Name))
		s := seed*0x9E3779B97F4A7C15 ^ h.Sum64() | 1
		next := func() float32 { // uniform in [0, 1)
			s ^= s << 13
			s ^= s >> 7
			s ^= s << 17
			return float32(s>>40) / (1 << 24)
		}
		fanIn := 1
		switch n.Op {
		case ir.Conv:
			fanIn = n.In[0].Shape.C / max(n.Attrs.Groups, 1) * n.Attrs.KH * n.Attrs.KW
		case ir.Linear:
			fanIn = n.In[0].Shape.C
		}
		bound := float32(1 / math.Sqrt(float64(max(fanIn, 1))))
		n.Params = map[string]*tensor.Tensor{}
		for _, sp := range specs {
			if sp.DType == tensor.Int64 {
				n.Params[sp.Name] = tensor.FromI64(make([]int64, tensor.Numel(sp.Shape)), sp.Shape...)
				continue
			}
			lo, hi := -bound, bound
			switch {
			case n.Op == ir.Conv && sp.Name == "weight":
				a := float32(math.Sqrt(6 / float64(max(fanIn, 1))))
				lo, hi = -a, a
			case n.Op == ir.BatchNorm && sp.Name == "weight":
				lo, hi = 0.5*gammaScale, 1.5*gammaScale
			case n.Op == ir.BatchNorm && sp.Name == "running_var":
				lo, hi = 0.5, 1.5
			case n.Op == ir.BatchNorm:
				lo, hi = -0.17, 0.17 // the variance of N(0, 0.1²)
			}
			t := tensor.New(sp.Shape...)
			for i := range t.F32 {
				t.F32[i] = lo + (hi-lo)*next()
			}
			n.Params[sp.Name] = t
		}
	}
}
