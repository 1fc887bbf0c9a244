package reparam_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/internal/testref"
	"github.com/vggsim/vggsim/interp"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/reparam"
	"github.com/vggsim/vggsim/tensor"
)

// goldenDir holds the reference outputs of the official RepVGG code (testdata);
// tinyDir the tiny RepVGG case.
var (
	goldenDir = testref.Golden()
	tinyDir   = testref.TinyRepVGG()
)

// readStateDict reads every prefix.*.npy file of the tiny golden case.
func readStateDict(t *testing.T, prefix string) ([]string, map[string]*tensor.Tensor) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(tinyDir, prefix+".*.npy"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s files in %s: %v", prefix, tinyDir, err)
	}
	var keys []string
	tensors := map[string]*tensor.Tensor{}
	for _, f := range files {
		key := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), prefix+"."), ".npy")
		x, err := npy.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
		tensors[key] = x
	}
	return keys, tensors
}

func TestTinyRepVGGBitExact(t *testing.T) {
	g, err := models.Resolve("../models/testdata/tiny_repvgg.yaml", models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	keys, tensors := readStateDict(t, "train_sd")
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
	wantKeys, want := readStateDict(t, "deploy_sd")
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
	x, err := npy.ReadFile(filepath.Join(tinyDir, "input.npy"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		g    *ir.Graph
		file string
	}{{g, "train.logits.npy"}, {d, "deploy.logits.npy"}} {
		y, ref := runAndRead(t, c.g, x, filepath.Join(tinyDir, c.file))
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
	if _, err := os.Stat(tinyDir); err != nil {
		// The golden data is part of the repository; without it the golden tests cannot
		// run, and that must fail loudly rather than skip.
		panic("golden data missing: " + err.Error())
	}
	os.Exit(m.Run())
}
