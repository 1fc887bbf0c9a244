package codegen_test

import (
	"strings"
	"testing"

	"github.com/llir/llvm/asm"
	"github.com/vggsim/vggsim/codegen"
	"github.com/vggsim/vggsim/internal/golden"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
)

// oneLayer is the smallest interesting net: a 3×3 conv with bias and its fused ReLU.
func oneLayer(t *testing.T) *ir.Graph {
	b := ir.NewBuilder("one-layer", ir.Shape{C: 3, H: 6, W: 6})
	y := b.ReLU("relu", b.Conv("conv", b.Input(), 4, 3, 1, 1, 1, true))
	g, err := b.Finish(y)
	if err != nil {
		t.Fatal(err)
	}
	models.InitWeights(g, 1)
	return g
}

// TestGoldenOneLayer pins the emitted text of a one-layer net (go test -update rewrites
// testdata/one_layer.ll) and checks it compiles and runs.
func TestGoldenOneLayer(t *testing.T) {
	g := oneLayer(t)
	m, err := codegen.Generate(g, genericOnly)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "one_layer.ll", []byte(m.LL))
	golden.Check(t, "one_layer.h", []byte(m.Header()))
	checkAgainstInterp(t, g, genericOnly, 1, 2)
}

// TestParseBack parses the one-layer module with llir's own asm parser (TestZoo parses
// every zoo module).
func TestParseBack(t *testing.T) {
	g := oneLayer(t)
	m, err := codegen.Generate(g, genericOnly)
	if err != nil {
		t.Fatal(err)
	}
	parseBack(t, m)
}

// parseBack parses m.LL with llir's asm package and checks every function is there.
func parseBack(t *testing.T, m *codegen.Module) {
	t.Helper()
	pm, err := asm.ParseString(m.Plan.Symbol+".ll", m.LL)
	if err != nil {
		t.Fatalf("%s: %v", m.Plan.Graph.Name, err)
	}
	want := len(m.Functions) + 6 // kernels, forward, five size queries
	for _, f := range m.Functions {
		if f.Family == "direct" || f.Family == "winograd" {
			want += 2 // a direct or Winograd kernel's _range (pool task) and _body (loop nest)
		}
	}
	defined := 0
	for _, f := range pm.Funcs {
		if len(f.Blocks) > 0 {
			defined++
		}
	}
	if defined != want {
		t.Errorf("%s: parsed %d defined functions, want %d", m.Plan.Graph.Name, defined, want)
	}
	if !strings.Contains(m.LL, "define i32 @vggsim_"+m.Plan.Symbol+"_forward(") {
		t.Errorf("%s: no exported forward", m.Plan.Graph.Name)
	}
}
