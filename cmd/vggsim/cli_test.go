package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/checkpoint"
	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/internal/testref/tinygolden"
)

// The tiny golden case (internal/testref/tinygolden): its directory and its spec.
var (
	tinyGolden = tinygolden.Path()
	tinyYAML   = tinygolden.Spec
)

func TestHelpAndVersion(t *testing.T) {
	out, _, code := vggsim(t, "help")
	if code != exitOK || !strings.Contains(out, "simulate") || !strings.Contains(out, "fuse") {
		t.Errorf("help: exit %d\n%s", code, out)
	}
	out, _, code = vggsim(t, "version")
	if code != exitOK || !strings.HasPrefix(out, "vggsim ") {
		t.Errorf("version: exit %d %q", code, out)
	}
	_, errs, code := vggsim(t, "frobnicate")
	if code != exitUsage || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d %q", code, errs)
	}
	// Every subcommand's -h: TestEverySubcommandHelp.
}

func TestShow(t *testing.T) {
	out, errs, code := vggsim(t, "show", "RepVGG-A0")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.HasPrefix(out, "graph \"RepVGG-A0\"\n%0 = input : 3x224x224\n%1 = conv[k=3x3 s=2 p=1 g=1] %0 @stage0.rbr_dense.conv : 48x112x112\n") {
		t.Errorf("show A0 train:\n%.400s", out)
	}
	out, _, code = vggsim(t, "show", "a0", "--form", "deploy", "--input-size", "64")
	if code != exitOK || !strings.Contains(out, "%1 = conv[k=3x3 s=2 p=1 g=1 bias] %0 @stage0.rbr_reparam : 48x32x32") {
		t.Errorf("show deploy:\n%.400s", out)
	}
	out, _, code = vggsim(t, "show", "RepVGG-B1g4", "--dump-after", "fold-bn")
	if code != exitOK || !strings.HasPrefix(out, "# after fold-bn\n") || strings.Contains(out, "batchnorm") {
		t.Errorf("dump-after fold-bn:\n%.400s", out)
	}
	_, errs, code = vggsim(t, "show", "RepVGG-A9")
	if code != exitUsage || !strings.Contains(errs, "RepVGG-A0") {
		t.Errorf("unknown model: exit %d %q", code, errs)
	}
	_, errs, code = vggsim(t, "show", "a0", "--dump-after", "fold")
	if code != exitUsage || !strings.Contains(errs, `unknown pass "fold"`) {
		t.Errorf("unknown pass: exit %d %q", code, errs)
	}
}

func readNPY(t *testing.T, path string) []float32 {
	t.Helper()
	x, err := npy.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return x.F32
}

func maxDiff(a, b []float32) float64 {
	d := math.Inf(1)
	if len(a) == len(b) {
		d = 0
		for i := range a {
			d = math.Max(d, math.Abs(float64(a[i]-b[i])))
		}
	}
	return d
}

func TestInferFuseRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(tinyGolden, "input.npy")
	want := readNPY(t, filepath.Join(tinyGolden, "train.logits.npy"))
	y := filepath.Join(dir, "y.npy")
	if _, errs, code := vggsim(t, "infer", tinyYAML, "--weights", filepath.Join(tinyGolden, "tiny_repvgg_train.pth"), "--input", in, "-o", y); code != exitOK {
		t.Fatalf("infer train: exit %d: %s", code, errs)
	}
	if d := maxDiff(readNPY(t, y), want); d > 1e-5 {
		t.Errorf("train logits differ from the reference by %g", d)
	}
	// Fused on the fly, from the reference's deploy checkpoint, and from our own fuse
	// output in every format: all agree with the reference deploy logits.
	wantDeploy := readNPY(t, filepath.Join(tinyGolden, "deploy.logits.npy"))
	weights := []string{filepath.Join(tinyGolden, "tiny_repvgg_train.pth"), filepath.Join(tinyGolden, "tiny_repvgg_deploy.pth")}
	for _, ext := range []string{".pth", ".safetensors", ".npz"} {
		out := filepath.Join(dir, "deploy"+ext)
		if o, errs, code := vggsim(t, "fuse", tinyYAML, "--weights", weights[0], "-o", out); code != exitOK || !strings.Contains(o, "wrote 16 deploy tensors") {
			t.Fatalf("fuse %s: exit %d: %s%s", ext, code, o, errs)
		}
		weights = append(weights, out)
	}
	for _, w := range weights {
		if _, errs, code := vggsim(t, "infer", tinyYAML, "--weights", w, "--form", "deploy", "--input", in, "-o", y); code != exitOK {
			t.Fatalf("infer deploy %s: exit %d: %s", w, code, errs)
		}
		if d := maxDiff(readNPY(t, y), wantDeploy); d > 1e-5 {
			t.Errorf("deploy logits from %s differ from the reference by %g", w, d)
		}
	}
	// Our .pth holds exactly the reference deploy tensors, bit for bit.
	ours, err := checkpoint.Load(filepath.Join(dir, "deploy.pth"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := checkpoint.Load(filepath.Join(tinyGolden, "tiny_repvgg_deploy.pth"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ours.Keys, ",") != strings.Join(ref.Keys, ",") {
		t.Errorf("keys %v, want %v", ours.Keys, ref.Keys)
	}
	for _, k := range ref.Keys {
		a, b := ours.Tensors[k].F32, ref.Tensors[k].F32
		for i := range b {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Errorf("%s[%d]: %v, reference %v", k, i, a[i], b[i])
				break
			}
		}
	}
}

func TestInferBadInput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(tinyGolden, "input.npy")
	notZip := filepath.Join(dir, "notzip.pth")
	os.WriteFile(notZip, []byte("hello, not a zip"), 0o644)
	trunc := filepath.Join(dir, "trunc.pth")
	data, _ := os.ReadFile(filepath.Join(tinyGolden, "tiny_repvgg_train.pth"))
	os.WriteFile(trunc, data[:len(data)/2], 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{tinyYAML, "--weights", filepath.Join(dir, "missing.pth")}, "missing.pth"},
		{[]string{tinyYAML, "--weights", notZip}, "notzip.pth"},
		{[]string{tinyYAML, "--weights", trunc}, "trunc.pth"},
		{[]string{tinyYAML, "--weights", filepath.Join(tinyGolden, "tiny_repvgg_deploy.pth"), "--form", "train"}, "--form deploy"},
		{[]string{"RepVGG-A0", "--weights", filepath.Join(tinyGolden, "tiny_repvgg_train.pth")}, "mis-shaped"},
		{[]string{"RepVGG-A7", "--weights", filepath.Join(tinyGolden, "tiny_repvgg_train.pth")}, "RepVGG-A0"},
	}
	for _, c := range cases {
		args := append([]string{"infer"}, c.args...)
		args = append(args, "--input", in, "-o", filepath.Join(dir, "y.npy"))
		_, errs, code := vggsim(t, args...)
		if code != exitUsage || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
	if _, errs, code := vggsim(t, "infer", "a0"); code != exitUsage || !strings.Contains(errs, "--input and -o are required") {
		t.Errorf("missing flags: exit %d %q", code, errs)
	}
}

func TestQuant(t *testing.T) {
	out, errs, code := vggsim(t, "quant", tinyYAML, "--weights", filepath.Join(tinyGolden, "tiny_repvgg_train.pth"),
		"--input", filepath.Join(tinyGolden, "input.npy"), "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r struct {
		Bits   int `json:"bits"`
		Layers []struct {
			Layer    string `json:"layer"`
			Branches []struct {
				Name string `json:"name"`
			} `json:"branches"`
			Activation *struct {
				SQNR float64 `json:"sqnr_per_tensor_db"`
			} `json:"activation"`
			Weights struct {
				Tensor  float64 `json:"sqnr_per_tensor_db"`
				Channel float64 `json:"sqnr_per_channel_db"`
			} `json:"weights"`
		} `json:"layers"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Bits != 8 || len(r.Layers) != 8 { // 7 fused convs + the linear
		t.Fatalf("bits %d, %d layers", r.Bits, len(r.Layers))
	}
	// The last layer with all three branches (dense, 1x1, identity).
	l := r.Layers[0]
	for _, x := range r.Layers {
		if len(x.Branches) == 3 {
			l = x
		}
	}
	if len(l.Branches) != 3 || l.Branches[0].Name != "rbr_dense" || l.Branches[2].Name != "rbr_identity" {
		t.Errorf("branches of %s: %+v", l.Layer, l.Branches)
	}
	if l.Activation == nil || l.Weights.Tensor <= 0 || l.Weights.Tensor > 60 {
		t.Errorf("layer %s: %+v", l.Layer, l)
	}
	if _, errs, code := vggsim(t, "quant", tinyYAML, "--bits", "3"); code != exitUsage || !strings.Contains(errs, "--bits 3") {
		t.Errorf("bad bits: exit %d %q", code, errs)
	}
}

// TestInferDeployCheckpointImpliesDeploy: without --form, a deploy-form checkpoint runs the
// deploy form and reproduces the reference deploy logits.
func TestInferDeployCheckpointImpliesDeploy(t *testing.T) {
	y := filepath.Join(t.TempDir(), "y.npy")
	out, errs, code := vggsim(t, "infer", tinyYAML, "--weights", filepath.Join(tinyGolden, "tiny_repvgg_deploy.pth"),
		"--input", filepath.Join(tinyGolden, "input.npy"), "-o", y)
	if code != exitOK || !strings.Contains(out, "(deploy form)") {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	if d := maxDiff(readNPY(t, y), readNPY(t, filepath.Join(tinyGolden, "deploy.logits.npy"))); d > 1e-5 {
		t.Errorf("logits differ from the reference deploy logits by %g", d)
	}
}
