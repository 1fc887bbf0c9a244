package interp

import (
	"strings"
	"testing"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

// blockGraph returns a conv(bias)+BN+linear graph with valid parameters, for breaking.
func blockGraph(t *testing.T) *ir.Graph {
	t.Helper()
	b := ir.NewBuilder("g", ir.Shape{C: 2, H: 3, W: 3})
	x := b.BatchNorm("bn", b.Conv("conv", b.Input(), 4, 3, 1, 1, 2, true), 1e-5)
	g, err := b.Finish(b.Linear("fc", b.GlobalAvgPool("gap", x), 3))
	if err != nil {
		t.Fatal(err)
	}
	g.Node("conv").Params = map[string]*tensor.Tensor{"weight": tensor.New(4, 1, 3, 3), "bias": tensor.New(4)}
	g.Node("bn").Params = map[string]*tensor.Tensor{
		"weight": tensor.New(4), "bias": tensor.New(4), "running_mean": tensor.New(4), "running_var": tensor.New(4),
	}
	g.Node("fc").Params = map[string]*tensor.Tensor{"weight": tensor.New(3, 4), "bias": tensor.New(3)}
	return g
}

func TestErrors(t *testing.T) {
	good := tensor.New(2, 2, 3, 3)
	for _, c := range []struct {
		name   string
		mutate func(g *ir.Graph) *ir.Graph
		x      *tensor.Tensor
		want   string
	}{
		{"nil graph", func(*ir.Graph) *ir.Graph { return nil }, good, "nil graph"},
		{"params nil", func(g *ir.Graph) *ir.Graph { g.Node("conv").Params = nil; return g }, good, "conv (conv): parameters not loaded"},
		{"missing weight", func(g *ir.Graph) *ir.Graph { delete(g.Node("fc").Params, "weight"); return g }, good, "missing parameter weight"},
		{"missing conv bias", func(g *ir.Graph) *ir.Graph { delete(g.Node("conv").Params, "bias"); return g }, good, "conv (conv): missing parameter bias"},
		{"missing running_var", func(g *ir.Graph) *ir.Graph { delete(g.Node("bn").Params, "running_var"); return g }, good, "missing parameter running_var"},
		{"stray conv bias", func(g *ir.Graph) *ir.Graph { g.Node("conv").Attrs.Bias = false; return g }, good, "unexpected parameter bias"},
		{"params on gap", func(g *ir.Graph) *ir.Graph {
			g.Node("gap").Params = map[string]*tensor.Tensor{"weight": tensor.New(1)}
			return g
		}, good, "gap (gap): has parameters"},
		{"weight shape", func(g *ir.Graph) *ir.Graph {
			g.Node("conv").Params["weight"] = tensor.New(4, 2, 3, 3) // dense shape for a g=2 conv
			return g
		}, good, "parameter weight has shape"},
		{"weight dtype", func(g *ir.Graph) *ir.Graph {
			g.Node("fc").Params["bias"] = tensor.FromI64(make([]int64, 3), 3)
			return g
		}, good, "parameter bias is int64, want float32"},
		{"weight data length", func(g *ir.Graph) *ir.Graph {
			g.Node("bn").Params["weight"] = &tensor.Tensor{Shape: []int{4}, F32: make([]float32, 3)}
			return g
		}, good, "parameter weight has 3 elements"},
		{"graph fails verify", func(g *ir.Graph) *ir.Graph { g.Node("conv").Attrs.Groups = 3; return g }, good, "groups=3"},
		{"nil input", nil, nil, "nil input"},
		{"input rank", nil, tensor.New(2, 3, 3), "input shape 2x3x3, want Nx2x3x3"},
		{"input channels", nil, tensor.New(1, 3, 3, 3), "input shape 1x3x3x3"},
		{"input size", nil, tensor.New(1, 2, 4, 3), "input shape 1x2x4x3"},
		{"input batch 0", nil, tensor.New(0, 2, 3, 3), "batch size 0"},
		{"input dtype", nil, tensor.FromI64(make([]int64, 18), 1, 2, 3, 3), "input is int64"},
		{"input data length", nil, &tensor.Tensor{Shape: []int{1, 2, 3, 3}, F32: make([]float32, 17)}, "input has 17 elements"},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := blockGraph(t)
			if c.mutate != nil {
				g = c.mutate(g)
			}
			for fn, f := range map[string]func(*ir.Graph, *tensor.Tensor) (any, error){
				"Run":    func(g *ir.Graph, x *tensor.Tensor) (any, error) { return Run(g, x) },
				"RunAll": func(g *ir.Graph, x *tensor.Tensor) (any, error) { return RunAll(g, x) },
			} {
				_, err := f(g, c.x)
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s error = %v, want it to contain %q", fn, err, c.want)
				}
				if err != nil && !strings.HasPrefix(err.Error(), "interp: ") {
					t.Errorf("%s error %q lacks the interp: prefix", fn, err)
				}
			}
		})
	}
	// The unbroken graph runs.
	if _, err := Run(blockGraph(t), good); err != nil {
		t.Fatalf("valid graph: %v", err)
	}
}
