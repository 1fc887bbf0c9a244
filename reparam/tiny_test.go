package reparam_test

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/internal/testref/tinygolden"
	"github.com/vggsim/vggsim/interp"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/reparam"
	"github.com/vggsim/vggsim/tensor"
)

func TestTinyRepVGGBitExact(t *testing.T) {
	g, err := models.Resolve(tinygolden.Spec, models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	keys, tensors := tinygolden.StateDict(t, false)
	if err := models.Bind(g, keys, tensors); err != nil {
		t.Fatal(err)
	}
	d, err := reparam.Deploy(g, reparam.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := ir.IsPlain(d); !ok {
		t.Errorf("tiny deploy not plain: %s", why)
	}
	gotKeys, got := models.Unbind(d)
	wantKeys, want := tinygolden.StateDict(t, true)
	if len(gotKeys) != len(wantKeys) {
		t.Fatalf("deploy keys %v, want %v", gotKeys, wantKeys)
	}
	layers := 0
	for _, k := range wantKeys {
		g, ok := got[k]
		if !ok {
			t.Errorf("deploy form lacks %s", k)
			continue
		}
		if !sameBits(t, k, g, want[k]) {
			continue
		}
		if strings.HasSuffix(k, "rbr_reparam.weight") {
			layers++
		}
	}
	if layers != 7 {
		t.Errorf("%d fused layers compared, want 7", layers)
	}

	// Logits of both forms against the reference within 1e-5.
	x := tinygolden.Input(t)
	for _, c := range []struct {
		g      *ir.Graph
		deploy bool
		file   string
	}{{g, false, "train.logits"}, {d, true, "deploy.logits"}} {
		y, err := interp.Run(c.g, x)
		if err != nil {
			t.Fatal(err)
		}
		ref := tinygolden.Logits(t, c.deploy)
		for i := range ref.F32 {
			if d := math.Abs(float64(y.F32[i] - ref.F32[i])); d > 1e-5 {
				t.Errorf("%s[%d] = %v, want %v (|diff| %g > 1e-5)", c.file, i, y.F32[i], ref.F32[i], d)
				break
			}
		}
	}
}

// sameBits reports whether got has want's shape and the same bits in every element; when not,
// it fails t, naming the first element that differs.
func sameBits(t *testing.T, name string, got, want *tensor.Tensor) bool {
	t.Helper()
	if !tensor.SameShape(got.Shape, want.Shape) {
		t.Errorf("%s: shape %v, want %v", name, got.Shape, want.Shape)
		return false
	}
	for i := range want.F32 {
		if math.Float32bits(got.F32[i]) != math.Float32bits(want.F32[i]) {
			t.Errorf("%s[%d] = %v, want %v (bits differ)", name, i, got.F32[i], want.F32[i])
			return false
		}
	}
	return true
}

// runAndRead runs g on x and reads the reference output it is compared with from the .npy
// file ref.
func runAndRead(t *testing.T, g *ir.Graph, x *tensor.Tensor, ref string) (got, want *tensor.Tensor) {
	t.Helper()
	got, err := interp.Run(g, x)
	if err != nil {
		t.Fatal(err)
	}
	if want, err = npy.ReadFile(ref); err != nil {
		t.Fatal(err)
	}
	return got, want
}

func TestMain(m *testing.M) {
	if _, err := os.Stat(tinygolden.Path()); err != nil {
		// The golden data is part of the repository; without it the golden tests cannot
		// run, and that must fail loudly rather than skip.
		panic("golden data missing: " + err.Error())
	}
	os.Exit(m.Run())
}
