package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

// TestShowModelFile checks `vggsim show FILE.yaml` in both forms against the golden IR of
// the tiny model (models/testdata, refreshed by package models), and that the printed text
// parses back to the same graph.
func TestShowModelFile(t *testing.T) {
	for _, form := range []string{"train", "deploy"} {
		out, errs, code := vggsim(t, "show", tinyYAML, "--form", form)
		if code != exitOK || errs != "" {
			t.Fatalf("show --form %s: exit %d: %s", form, code, errs)
		}
		want, err := os.ReadFile("../../models/testdata/tiny_repvgg." + form + ".ir")
		if err != nil {
			t.Fatal(err)
		}
		if out != string(want) {
			t.Errorf("show %s --form %s differs from models/testdata/tiny_repvgg.%s.ir:\n%s", tinyYAML, form, form, out)
		}
		g, err := ir.Parse("show.ir", strings.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if ok, why := ir.IsPlain(g); ok != (form == "deploy") {
			t.Errorf("%s form: IsPlain = %v (%s)", form, ok, why)
		}
	}
	// Options reach the graph: input size and classes.
	out, _, code := vggsim(t, "show", tinyYAML, "--input-size", "64x48", "--classes", "3")
	if code != exitOK || !strings.Contains(out, "%0 = input : 3x64x48\n") || !strings.HasSuffix(out, "@linear : 3x1x1\nreturn %47\n") {
		t.Errorf("show with options:\n%s", out)
	}
	// Usage errors: no model, two models, a bad form.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"show"}, "vggsim show: missing argument (run 'vggsim show -h' for usage)\n"},
		{[]string{"show", "a0", "b0"}, "vggsim show: too many arguments: a0 b0 (run 'vggsim show -h' for usage)\n"},
		{[]string{"show", "a0", "--form", "fused"}, `vggsim show: --form "fused": want train or deploy` + "\n"},
		{[]string{"show", "a0", "--input-size", "0"}, `vggsim show: bad input size "0"`},
	} {
		out, errs, code := vggsim(t, c.args...)
		if code != exitUsage || out != "" || !strings.HasPrefix(errs, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", c.args, code, out, errs, c.want)
		}
	}
}

// TestInferShapesAndSeeds covers what TestInferFuseRoundTrip does not: a [C, H, W] input
// is one image, a batch gives one row per image, random weights are a pure function of
// --seed, and the summary names the model, the form and the shapes.
func TestInferShapesAndSeeds(t *testing.T) {
	dir := t.TempDir()
	pth := filepath.Join(tinyGolden, "tiny_repvgg_train.pth")
	x, err := npy.ReadFile(filepath.Join(tinyGolden, "input.npy"))
	if err != nil {
		t.Fatalf("golden data: %v", err)
	}
	want, err := npy.ReadFile(filepath.Join(tinyGolden, "train.logits.npy"))
	if err != nil {
		t.Fatal(err)
	}
	chw := filepath.Join(dir, "chw.npy")
	npy.WriteFile(chw, tensor.FromF32(x.F32, 3, 32, 32))
	batch := filepath.Join(dir, "batch.npy")
	npy.WriteFile(batch, tensor.FromF32(append(append([]float32(nil), x.F32...), x.F32...), 2, 3, 32, 32))

	infer := func(t *testing.T, args ...string) (*tensor.Tensor, string) {
		t.Helper()
		y := filepath.Join(dir, "y.npy")
		os.Remove(y)
		out, errs, code := vggsim(t, append([]string{"infer"}, append(args, "-o", y)...)...)
		if code != exitOK {
			t.Fatalf("infer %v: exit %d: %s", args, code, errs)
		}
		r, err := npy.ReadFile(y)
		if err != nil {
			t.Fatal(err)
		}
		return r, out
	}
	closeTo := func(got []float32) float64 {
		d := 0.0
		for i, w := range want.F32 {
			d = math.Max(d, math.Abs(float64(got[i]-w)))
		}
		return d
	}

	y, out := infer(t, tinyYAML, "--weights", pth, "--input", chw)
	if !tensor.SameShape(y.Shape, []int{1, 10}) || closeTo(y.F32) > 1e-5 {
		t.Errorf("CHW input: %v, diff %g", y, closeTo(y.F32))
	}
	if !strings.HasPrefix(out, "tiny_repvgg (train form): "+chw+" [1 3 32 32] -> ") || !strings.Contains(out, " [1 10]\n  image 0: top-1 class ") {
		t.Errorf("summary %q", out)
	}
	y, out = infer(t, tinyYAML, "--weights", pth, "--input", batch)
	if !tensor.SameShape(y.Shape, []int{2, 10}) || closeTo(y.F32[:10]) > 1e-5 || closeTo(y.F32[10:]) > 1e-5 {
		t.Errorf("batch: %v", y)
	}
	if strings.Count(out, "top-1 class") != 2 {
		t.Errorf("batch summary %q", out)
	}

	// Random weights: the same seed gives the same bits, another seed other logits.
	a, _ := infer(t, tinyYAML, "--input", chw, "--seed", "3")
	b, _ := infer(t, tinyYAML, "--input", chw, "--seed", "3")
	c, _ := infer(t, tinyYAML, "--input", chw, "--seed", "4")
	var ab, ac bytes.Buffer
	npy.Write(&ab, a)
	npy.Write(&ac, b)
	if ab.String() != ac.String() {
		t.Error("same seed, different logits")
	}
	if a.F32[0] == c.F32[0] && a.F32[1] == c.F32[1] {
		t.Error("seeds 3 and 4 give the same logits")
	}
	// A zoo model at the array's size, with another classifier width.
	y, out = infer(t, "RepVGG-A0", "--input", chw, "--classes", "5")
	if !tensor.SameShape(y.Shape, []int{1, 5}) || !strings.HasPrefix(out, "RepVGG-A0 (train form): ") {
		t.Errorf("zoo model: %v %q", y, out)
	}

	// --input-size must agree with the array.
	_, errs, code := vggsim(t, "infer", tinyYAML, "--input", chw, "-o", filepath.Join(dir, "z.npy"), "--input-size", "64")
	if code != exitUsage || errs != "vggsim infer: "+chw+" holds 32x32 images, --input-size says 64x64\n" {
		t.Errorf("--input-size mismatch: exit %d %q", code, errs)
	}
	if _, _, code := vggsim(t, "infer", tinyYAML, "--input", chw, "-o", filepath.Join(dir, "z.npy"), "--input-size", "32"); code != exitOK {
		t.Errorf("--input-size matching the array: exit %d", code)
	}
}

// TestEverySubcommandHelp checks `-h`, `--help` and `help CMD` on every subcommand: usage
// on stdout (so `| less` shows it), exit 0, the synopsis first, nothing on stderr.
func TestEverySubcommandHelp(t *testing.T) {
	for _, c := range commands() {
		for _, args := range [][]string{{c.name, "-h"}, {c.name, "--help"}, {c.name, "-help"}, {"help", c.name}} {
			out, errs, code := vggsim(t, args...)
			if code != exitOK || errs != "" || !strings.HasPrefix(out, "usage: vggsim "+c.name) {
				t.Errorf("%v: exit %d, stdout %q, stderr %.80q", args, code, out, errs)
			}
		}
	}
	out, errs, code := vggsim(t, "version", "extra")
	if code != exitUsage || out != "" || errs != "vggsim version: unexpected argument \"extra\" (run 'vggsim version -h' for usage)\n" {
		t.Errorf("version extra: exit %d %q %q", code, out, errs)
	}
	out, _, code = vggsim(t, "version")
	if code != exitOK || !strings.HasPrefix(out, "vggsim ") || strings.Count(out, "\n") != 1 {
		t.Errorf("version: exit %d %q", code, out)
	}
	for _, h := range []string{"help", "-h", "--help"} {
		out, _, code := vggsim(t, h)
		if code != exitOK || !strings.HasPrefix(out, "vggsim: RepVGG from training form to silicon.") {
			t.Errorf("%s: exit %d %.60q", h, code, out)
		}
		for _, c := range commands() {
			if !strings.Contains(out, "\n  "+c.name+" ") {
				t.Errorf("%s does not list %s", h, c.name)
			}
		}
	}
}
