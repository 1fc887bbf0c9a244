package codegen

import (
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	llvmir "github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/types"
	"github.com/vggsim/vggsim/codegen/emit"
	"github.com/vggsim/vggsim/interp"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/tensor"
)

// blockedFamily stands in for a fast family: it takes every conv (and, with all, every
// op it may), reads its operands in NCHW{b}c and writes NCHW{b}c unless the plan fixes
// the result's layout. Its kernels are the generic ones, so the test checks the planner's
// reorders, in-place layouts, padding lanes and the Flatten constraint, not new math.
type blockedFamily struct {
	block int
	all   bool
}

func (f blockedFamily) Name() string { return "blocked-test" }

func (f blockedFamily) Choose(req emit.Request) emit.Kernel {
	if req.Node.Op != ir.Conv && !f.all {
		return nil
	}
	k, _ := Generic{}.Choose(req).(*genericKernel)
	if k == nil {
		return nil
	}
	if elementwise(req.Node.Op) && req.OutFixed {
		return k // in place: keep the operand's layout as given
	}
	b := emit.Blocked(f.block)
	for i := range k.in {
		k.in[i] = b
	}
	if !req.OutFixed {
		k.out = b
	}
	return k
}

// mixedGraph uses every op: conv (grouped, strided), BN, ReLU, ReLU6 (fused into a conv
// and alone), SE (GAP, Sigmoid, broadcast Mul), Add with a skip, MaxPool, AdaptiveAvgPool, Flatten, Linear; 20 channels
// so blocks of 16 and 8 have padding lanes.
func mixedGraph(t *testing.T) *ir.Graph {
	b := ir.NewBuilder("mixed", ir.Shape{C: 3, H: 9, W: 11})
	x := b.Conv("stem", b.Input(), 20, 3, 2, 1, 1, false)
	x = b.ReLU("stem.relu", b.BatchNorm("stem.bn", x, 1e-5))
	y := b.Conv("body", x, 20, 3, 1, 1, 4, true)
	y = b.ReLU("body.relu", y)
	s := b.GlobalAvgPool("se.gap", y)
	s = b.ReLU6("se.relu6", b.Conv("se.down", s, 5, 1, 1, 0, 1, true))
	s = b.Sigmoid("se.sig", b.Conv("se.up", s, 20, 1, 1, 0, 1, true))
	y = b.Mul("se.mul", y, s)
	z := b.ReLU6("add.relu6", b.Add("add", x, y))
	z = b.MaxPool("pool", z, 3, 2, 1)
	z = b.AdaptiveAvgPool("adapt", z, 2, 3)
	out := b.Linear("fc", b.Flatten("flat", z), 7)
	g, err := b.Finish(out)
	if err != nil {
		t.Fatal(err)
	}
	models.InitWeights(g, 4)
	return g
}

// TestBlockedLayouts runs the mixed graph with the generic family alone and with blocked
// families of 16 and 8 lanes (for convs only, and for every op), against interp.
func TestBlockedLayouts(t *testing.T) {
	tc, err := NewToolchain("")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	g := mixedGraph(t)
	x := tensor.New(2, 3, 9, 11)
	r := rand.New(rand.NewPCG(1, 1))
	for i := range x.F32 {
		x.F32[i] = float32(r.NormFloat64())
	}
	want, err := interp.Run(g, x)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		fams     []emit.Family
		reorders bool
	}{
		{"generic", []emit.Family{}, false},
		{"conv16", []emit.Family{blockedFamily{16, false}}, true},
		{"all8", []emit.Family{blockedFamily{8, true}}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Compile(g, Options{Families: tt.fams}, tc)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			n := 0
			for _, st := range c.Module.Plan.Steps {
				if _, ok := st.Kernel.(*reorderKernel); ok && len(st.Nodes) == 0 && st.Out.Buffer >= 0 {
					n++
				}
			}
			if (n > 0) != tt.reorders {
				t.Errorf("%d reorder steps", n)
			}
			got, err := c.Run(x)
			if err != nil {
				t.Fatal(err)
			}
			var d, m float64
			for i, w := range want.F32 {
				d = math.Max(d, math.Abs(float64(got.F32[i]-w)))
				m = math.Max(m, math.Abs(float64(w)))
			}
			if !(d/m <= 1e-4) {
				t.Errorf("relative error %.3g", d/m)
			}
		})
	}
}

// runtimeFamily runs ReLU through a C function it adds to the build, to check that a
// kernel's C runtime is compiled, linked and called.
type runtimeFamily struct{}

func (runtimeFamily) Name() string { return "c-runtime-test" }

func (runtimeFamily) Choose(req emit.Request) emit.Kernel {
	if req.Node.Op != ir.ReLU || !req.Have[0].Plain() {
		return nil
	}
	return &cReLU{n: req.Node}
}

type cReLU struct{ n *ir.Node }

func (k *cReLU) Name() string                  { return "c_relu_" + k.n.Out.Shape.String() }
func (k *cReLU) Family() string                { return "c-runtime-test" }
func (k *cReLU) In() []emit.Layout             { return []emit.Layout{emit.NCHW} }
func (k *cReLU) Out() emit.Layout              { return emit.NCHW }
func (k *cReLU) Weights() ([][]float32, error) { return nil, nil }
func (k *cReLU) Define(m *emit.Module) *llvmir.Func {
	m.AddCSource("test_relu.c", "void vggsim_test_relu(float *y, const float *x, long n) {\n"+
		"\tfor (long i = 0; i < n; i++) y[i] = x[i] < 0 ? 0 : x[i];\n}\n")
	fn := m.Declare("vggsim_test_relu", types.Void, emit.F32Ptr, emit.F32Ptr, types.I64)
	f := emit.NewKernelFunc(m, k.Name(), []string{"out", "in0"}, false)
	f.B.NewCall(fn, f.Param(0), f.Param(1), f.I64(k.n.Out.Shape.Elems()))
	f.Ret()
	return f.F
}

// TestCRuntime builds the mixed graph with ReLUs run by a C runtime function.
func TestCRuntime(t *testing.T) {
	tc, err := NewToolchain("")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	g := mixedGraph(t)
	c, err := Compile(g, Options{Families: []emit.Family{runtimeFamily{}}}, tc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if len(c.Module.CSources) != 1 || !strings.Contains(c.Module.LL, "call void @vggsim_test_relu(") {
		t.Fatalf("C runtime not used: %d sources", len(c.Module.CSources))
	}
	x := tensor.New(1, 3, 9, 11)
	for i := range x.F32 {
		x.F32[i] = float32(i%7) - 3
	}
	want, err := interp.Run(g, x)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want.F32 {
		if math.Abs(float64(got.F32[i]-w)) > 1e-4*math.Abs(float64(w))+1e-5 {
			t.Fatalf("output %d: %g, interp %g", i, got.F32[i], w)
		}
	}
}
