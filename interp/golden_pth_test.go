package interp_test

import (
	"math"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/checkpoint"
	"github.com/vggsim/vggsim/internal/testref/tinygolden"
	"github.com/vggsim/vggsim/interp"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/tensor"
)

// The end-to-end golden check of issue 2: the reference's own torch.save checkpoint,
// loaded by package checkpoint into the custom model of models/testdata/tiny_repvgg.yaml
// (strict binding), run by the interpreter, reproduces every block activation and the
// logits of the official code within 1e-5 absolute.

// goldenTol is the absolute tolerance against PyTorch (see the package doc, Arithmetic).
const goldenTol = 1e-5

func readGolden(t *testing.T, name string) *tensor.Tensor {
	t.Helper()
	return tinygolden.Tensor(t, strings.TrimSuffix(name, ".npy"))
}

// within fails t unless got and want have the same number of elements and differ by at
// most goldenTol everywhere; it returns the largest difference.
func within(t *testing.T, what string, got, want *tensor.Tensor) float64 {
	t.Helper()
	if got.Len() != want.Len() {
		t.Fatalf("%s: %v, golden %v", what, got, want)
	}
	var d float64
	for i := range want.F32 {
		d = math.Max(d, math.Abs(float64(got.F32[i])-float64(want.F32[i])))
	}
	if !(d <= goldenTol) {
		t.Errorf("%s: max abs diff %.3g > %g", what, d, goldenTol)
	}
	return d
}

func TestGoldenTinyFromPTH(t *testing.T) {
	x := readGolden(t, "input.npy")
	for _, form := range []struct {
		name   string
		deploy bool
		pth    string
		logits string
	}{
		{"train", false, "tiny_repvgg_train.pth", "train.logits.npy"},
		{"deploy", true, "tiny_repvgg_deploy.pth", "deploy.logits.npy"},
	} {
		t.Run(form.name, func(t *testing.T) {
			g, err := models.Resolve(tinygolden.Spec, models.Options{Deploy: form.deploy})
			if err != nil {
				t.Fatal(err)
			}
			sd, err := checkpoint.Load(tinygolden.Path(form.pth))
			if err != nil {
				t.Fatal(err)
			}
			if err := models.Bind(g, sd.Keys, sd.Tensors); err != nil {
				t.Fatal(err)
			}
			all, err := interp.RunAll(g, x)
			if err != nil {
				t.Fatal(err)
			}
			if !form.deploy {
				blocks := []string{"stage0", "stage1.0", "stage2.0", "stage2.1", "stage3.0", "stage3.1", "stage4.0"}
				for _, b := range blocks {
					n := g.Node(b + ".relu")
					if n == nil {
						t.Fatalf("no node %s.relu", b)
					}
					d := within(t, "train_act."+b, all[n.Out.ID], readGolden(t, "train_act."+b+".npy"))
					t.Logf("train_act.%s: max abs diff %.2g", b, d)
				}
			}
			y := interp.Flat2D(all[g.Output.ID])
			if !tensor.SameShape(y.Shape, []int{1, 10}) {
				t.Fatalf("logits shape %v", y.Shape)
			}
			d := within(t, form.logits, y, readGolden(t, form.logits))
			t.Logf("%s: max abs diff %.2g", form.logits, d)
		})
	}
}

// TestGoldenTinyBatch runs the golden image in a batch of three (itself, its negation,
// itself again): every image's logits equal the single-image run bit for bit, so batch
// size never changes results.
func TestGoldenTinyBatch(t *testing.T) {
	x := readGolden(t, "input.npy")
	g, err := models.Resolve(tinygolden.Spec, models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := checkpoint.Load(tinygolden.Path(tinygolden.TrainPTH))
	if err != nil {
		t.Fatal(err)
	}
	if err := models.Bind(g, sd.Keys, sd.Tensors); err != nil {
		t.Fatal(err)
	}
	neg := x.Clone()
	for i := range neg.F32 {
		neg.F32[i] = -neg.F32[i]
	}
	n := x.Len()
	batch := tensor.New(3, 3, 32, 32)
	copy(batch.F32, x.F32)
	copy(batch.F32[n:], neg.F32)
	copy(batch.F32[2*n:], x.F32)
	yb, err := interp.Run(g, batch)
	if err != nil {
		t.Fatal(err)
	}
	y1, err := interp.Run(g, x)
	if err != nil {
		t.Fatal(err)
	}
	yn, err := interp.Run(g, neg)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]float32{y1.F32, yn.F32, y1.F32} {
		for j, w := range want {
			if got := yb.F32[i*10+j]; math.Float32bits(got) != math.Float32bits(w) {
				t.Fatalf("image %d logit %d: %v in the batch, %v alone", i, j, got, w)
			}
		}
	}
	within(t, "train.logits (batch image 2)", tensor.FromF32(yb.F32[20:30], 1, 10), readGolden(t, "train.logits.npy"))
}
