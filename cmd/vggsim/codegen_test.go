package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llir/llvm/asm"
	"github.com/vggsim/vggsim/codegen"
	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/tensor"
)

// needClang skips without clang, except in CI (CI=true), where it fails.
func needClang(t *testing.T) {
	t.Helper()
	if _, err := codegen.FindClang(""); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v", err)
		}
		t.Skip(err)
	}
}

func writeRandNPY(t *testing.T, path string, shape ...int) {
	t.Helper()
	x := tensor.New(shape...)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range x.F32 {
		x.F32[i] = float32(r.NormFloat64())
	}
	if err := npy.WriteFile(path, x); err != nil {
		t.Fatal(err)
	}
}

func TestCodegenCommand(t *testing.T) {
	ll := filepath.Join(t.TempDir(), "a0.ll")
	out := runLine(t, "codegen RepVGG-A0 --input-size 32 -o "+ll)
	if !strings.Contains(out, "RepVGG-A0 (deploy form): "+ll+", 11 kernel functions for 25 steps") {
		t.Errorf("output: %s", out)
	}
	text, err := os.ReadFile(ll)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := asm.ParseBytes(ll, text); err != nil {
		t.Errorf("emitted module does not parse: %v", err)
	}
	out = runLine(t, "codegen A0 --input-size 32 --plan")
	for _, want := range []string{
		// The stem reads the NCHW input as it is (no reorder step).
		"0     stage0.rbr_reparam+relu        direct_c3x32x32_k48_3x3s2p1g1_relu_t1x16_in_nchw  direct   in:nchw         @0:nchw16c      5376\n",
		// On 8×8 maps reading Winograd's 4× larger weights from memory costs more than
		// the multiplies it saves: the cost model keeps direct.
		"2     stage1.1.rbr_reparam+relu      direct_c48x8x8_k48_3x3s1p1g1_relu_t3x4            direct   @49152:nchw16c  @0:nchw16c      83136\n",
		"23    linear                         fc_1280_to_1000                                   fc       @5120:nchw      @0:nchw         5164992\n",
		"25 steps; scratch 61440 bytes in 25 buffers; weights 33278528 bytes in 46 arrays\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--plan lacks %q:\n%s", want, out)
		}
	}
	// Without -o the module goes to stdout; the train form has BN and add kernels.
	out = runLine(t, "codegen A0 --form train --input-size 32")
	for _, want := range []string{"define internal void @batchnorm_", "define internal void @elt_add3_", "define i32 @vggsim_repvgg_a0_forward("} {
		if !strings.Contains(out, want) {
			t.Errorf("train-form module lacks %q", want)
		}
	}
}

// TestBuildAndInfer builds A0, runs the runner directly, and checks infer --backend llvm
// against infer --backend interp.
func TestBuildAndInfer(t *testing.T) {
	needClang(t)
	dir := t.TempDir()
	build := filepath.Join(dir, "build")
	out := runLine(t, "build RepVGG-A0 --input-size 32 -o "+build)
	for _, f := range []string{"repvgg_a0.ll", "repvgg_a0.h", "main.c", "librepvgg_a0.so", "repvgg_a0", "repvgg_a0.weights"} {
		if _, err := os.Stat(filepath.Join(build, f)); err != nil {
			t.Errorf("build did not write %s: %v", f, err)
		}
	}
	if !strings.Contains(out, "scratch (activation arena) 60.00 KiB; the train form needs 96.00 KiB") {
		t.Errorf("build output: %s", out)
	}
	x := filepath.Join(dir, "x.npy")
	writeRandNPY(t, x, 2, 3, 32, 32)
	yr := filepath.Join(dir, "runner.npy")
	cmd := exec.Command(filepath.Join(build, "repvgg_a0"), filepath.Join(build, "repvgg_a0.weights"), x, yr)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("runner: %v: %s", err, b)
	}
	yi, yl := filepath.Join(dir, "interp.npy"), filepath.Join(dir, "llvm.npy")
	runLine(t, "infer A0 --form deploy --input "+x+" -o "+yi)
	out = runLine(t, "infer A0 --form deploy --backend llvm --input "+x+" -o "+yl)
	if !strings.Contains(out, "(deploy form, llvm)") {
		t.Errorf("infer output: %s", out)
	}
	want, err := npy.ReadFile(yi)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{yr, yl} {
		got, err := npy.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.SameShape(got.Shape, want.Shape) {
			t.Fatalf("%s: shape %v, interp %v", p, got.Shape, want.Shape)
		}
		var d, m float64
		for i, w := range want.F32 {
			d = math.Max(d, math.Abs(float64(got.F32[i]-w)))
			m = math.Max(m, math.Abs(float64(w)))
		}
		if !(d/m <= 1e-4) {
			t.Errorf("%s: relative error %.3g", p, d/m)
		}
	}
	// A truncated blob: the runner says so in one line, exit status 2.
	blob := filepath.Join(build, "repvgg_a0.weights")
	data, _ := os.ReadFile(blob)
	os.WriteFile(blob, data[:len(data)-64], 0o644)
	cmd = exec.Command(filepath.Join(build, "repvgg_a0"), blob, x, yr)
	b, err := cmd.CombinedOutput()
	msg := strings.TrimSpace(string(b))
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || strings.Contains(msg, "\n") || !strings.HasSuffix(msg, fmt.Sprintf("bytes of weights, the model wants %d", len(data)-64)) {
		t.Errorf("truncated blob: %v: %q", err, msg)
	}
}

// TestCodegenCLIErrors: bad input is one line and exit status 2.
func TestCodegenCLIErrors(t *testing.T) {
	dir := t.TempDir()
	x := filepath.Join(dir, "x.npy")
	writeRandNPY(t, x, 1, 3, 32, 32)
	x64 := filepath.Join(dir, "x64.npy")
	if err := npy.WriteFile(x64, tensor.FromI64(make([]int64, 3*32*32), 1, 3, 32, 32)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args string
		want string
	}{
		{"build RepVGG-A0 --input-size 32 --cc /nonexistent/clang -o " + dir + "/b", "no clang found: --cc=/nonexistent/clang is not an executable"},
		{"infer A0 --backend llvm --cc /nonexistent/clang --input " + x + " -o " + dir + "/y.npy", "apt-get install clang-19"},
		{"infer A0 --backend tpu --input " + x + " -o " + dir + "/y.npy", `--backend "tpu": want interp or llvm`},
		{"infer A0 --backend llvm --input " + x64 + " -o " + dir + "/y.npy", "dtype int64, want float32"},
		{"codegen NoSuchNet", "NoSuchNet"},
		{"build A0 -o " + x, "is a file, want a directory"},
	} {
		_, stderr, code := vggsim(t, strings.Fields(tt.args)...)
		if code != exitUsage || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, tt.want) {
			t.Errorf("vggsim %s: exit %d, stderr %q; want exit 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}
