package codegen_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/vggsim/vggsim/checkpoint"
	"github.com/vggsim/vggsim/codegen"
	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/internal/testref"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/reparam"
)

// TestGoldenTinyRepVGG runs the official RepVGG code's tiny model as generated code: the
// reference's train checkpoint in the train form, fused by reparam into the deploy form,
// and the reference's own deploy checkpoint, each against the reference logits (1e-4
// relative, as against interp) and, for the reference checkpoints, 1e-5 absolute.
func TestGoldenTinyRepVGG(t *testing.T) {
	read := func(name string) []float32 {
		x, err := npy.ReadFile(testref.TinyRepVGG(name))
		if err != nil {
			t.Fatalf("golden data (testdata/golden): %v", err)
		}
		return x.F32
	}
	x, err := npy.ReadFile(testref.TinyRepVGG("input.npy"))
	if err != nil {
		t.Fatalf("golden data (testdata/golden): %v", err)
	}
	spec := filepath.Join("..", "models", "testdata", "tiny_repvgg.yaml")
	load := func(pth string, deploy bool) *codegen.Compiled {
		g, err := models.Resolve(spec, models.Options{Deploy: deploy})
		if err != nil {
			t.Fatal(err)
		}
		sd, err := checkpoint.Load(testref.TinyRepVGG(pth))
		if err != nil {
			t.Fatal(err)
		}
		if err := models.Bind(g, sd.Keys, sd.Tensors); err != nil {
			t.Fatal(err)
		}
		c, err := codegen.Compile(g, codegen.Options{}, toolchain(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	train := load("tiny_repvgg_train.pth", false)
	fusedGraph, err := reparam.Deploy(train.Module.Plan.Graph, reparam.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fused, err := codegen.Compile(fusedGraph, codegen.Options{}, toolchain(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fused.Close()
	for _, tt := range []struct {
		name   string
		c      *codegen.Compiled
		logits string
	}{
		{"train", train, "train.logits.npy"},
		{"deploy-checkpoint", load("tiny_repvgg_deploy.pth", true), "deploy.logits.npy"},
		{"fused-by-reparam", fused, "deploy.logits.npy"},
	} {
		y, err := tt.c.Run(x)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		want := read(tt.logits)
		if len(y.F32) != len(want) {
			t.Fatalf("%s: %d logits, golden %d", tt.name, len(y.F32), len(want))
		}
		var d, m float64
		for i, w := range want {
			d = math.Max(d, math.Abs(float64(y.F32[i]-w)))
			m = math.Max(m, math.Abs(float64(w)))
		}
		if !(d <= 1e-5) || !(d/m <= tol) {
			t.Errorf("%s: max abs diff %.3g (relative %.3g) from the reference logits", tt.name, d, d/m)
		}
	}
}
