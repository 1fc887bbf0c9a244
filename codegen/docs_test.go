package codegen_test

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/codegen"
	"github.com/vggsim/vggsim/interp"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/tensor"
)

// docExample returns the C program of docs/codegen.md (the ```c block after the
// "example: main.c" marker).
func docExample(t *testing.T) string {
	doc, err := os.ReadFile("../docs/codegen.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- example: main.c -->\n```c\n")
	if !ok {
		t.Fatal("docs/codegen.md: no example marker")
	}
	code, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("docs/codegen.md: unterminated example")
	}
	return code
}

// TestDocExample compiles the documentation's C program against a RepVGG-A0 build (as
// `vggsim build RepVGG-A0 --input-size 32 -o build` makes it), runs it, and checks its
// classes and logits against interp on the same input.
func TestDocExample(t *testing.T) {
	tc := toolchain(t)
	g, err := models.BuildDeploy("RepVGG-A0", models.Options{InputH: 32, InputW: 32})
	if err != nil {
		t.Fatal(err)
	}
	models.InitWeights(g, 1)
	m, err := codegen.Generate(g, codegen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := tc.Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	build := filepath.Join(dir, "build")
	if _, err := codegen.Install(m, a, build); err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(build, "repvgg_a0.weights")
	if err := m.WriteWeightsFile(blob); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "main.c")
	if err := os.WriteFile(src, []byte(docExample(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "classify")
	cc := exec.Command(tc.CC, "-O2", "-Wall", "-Werror", "-std=c11", "-I", build, src, "-L", build, "-lrepvgg_a0", "-Wl,-rpath,"+build, "-o", exe)
	if b, err := cc.CombinedOutput(); err != nil {
		t.Fatalf("compiling the example: %v\n%s", err, b)
	}
	out, err := exec.Command(exe, blob).Output()
	if err != nil {
		t.Fatalf("running the example: %v", err)
	}

	x := tensor.New(2, 3, 32, 32)
	for i := range x.F32 {
		x.F32[i] = float32(i%251)/125 - 1
	}
	y, err := interp.Run(g, x)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		t.Fatalf("output %q", out)
	}
	for n, line := range lines {
		var img, class int
		var logit float64
		if _, err := fmt.Sscanf(line, "image %d: class %d logit %g", &img, &class, &logit); err != nil || img != n {
			t.Fatalf("line %q: %v", line, err)
		}
		row := y.F32[n*1000 : (n+1)*1000]
		best := 0
		for i, v := range row {
			if v > row[best] {
				best = i
			}
		}
		if class != best || math.Abs(logit-float64(row[best])) > 1e-4*math.Abs(float64(row[best]))+1e-5 {
			t.Errorf("image %d: class %d logit %g, interp class %d logit %g", n, class, logit, best, row[best])
		}
	}
}
