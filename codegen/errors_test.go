package codegen_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/codegen"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

// TestUnsupported: an op outside the table and a non-float32 parameter are one-line
// errors naming the node.
func TestUnsupported(t *testing.T) {
	g := oneLayer(t)
	g.Nodes[1].Op = ir.Op(200)
	_, err := codegen.Generate(g, genericOnly)
	var ce *codegen.Error
	if !errors.As(err, &ce) || err.Error() != "codegen: node conv: unsupported op op(200)" {
		t.Errorf("unknown op: %v", err)
	}

	g = oneLayer(t)
	w := g.Nodes[1].Params["weight"]
	g.Nodes[1].Params["weight"] = &tensor.Tensor{DType: tensor.Int64, Shape: w.Shape, I64: make([]int64, len(w.F32))}
	_, err = codegen.Generate(g, genericOnly)
	if err == nil || !strings.Contains(err.Error(), "conv (conv): parameter weight is int64; code generation supports float32 only") || strings.Contains(err.Error(), "\n") {
		t.Errorf("int64 weight: %v", err)
	}
}

// TestNoClang: a named compiler that does not exist, by --cc or by $VGGSIM_CLANG, is
// ErrNoClang with the install hint; no fallback search.
func TestNoClang(t *testing.T) {
	_, err := codegen.NewToolchain("/nonexistent/clang-99")
	if !errors.Is(err, codegen.ErrNoClang) || !strings.Contains(err.Error(), "apt-get install clang-19") || strings.Contains(err.Error(), "\n") {
		t.Errorf("--cc: %v", err)
	}
	t.Setenv(codegen.ClangEnv, "no-such-clang")
	_, err = codegen.FindClang("")
	if !errors.Is(err, codegen.ErrNoClang) || !strings.Contains(err.Error(), "VGGSIM_CLANG=no-such-clang") {
		t.Errorf("env: %v", err)
	}
	t.Setenv(codegen.ClangEnv, "")
	t.Setenv("PATH", t.TempDir())
	_, err = codegen.FindClang("")
	if !errors.Is(err, codegen.ErrNoClang) || !strings.Contains(err.Error(), "clang-30 … clang-14") {
		t.Errorf("empty PATH: %v", err)
	}
}

// TestBadBlob: the runner rejects a blob of the wrong size, a blob of another model and a
// file that is no blob, each with one line and exit status 2.
func TestBadBlob(t *testing.T) {
	c := checkAgainstInterp(t, oneLayer(t), genericOnly, 1)
	x := randInput(c.Module.Plan.Graph, 1, 1)
	data, err := os.ReadFile(c.Blob)
	if err != nil {
		t.Fatal(err)
	}
	other := append([]byte(nil), data...)
	other[24] ^= 1 // the signature
	for _, tt := range []struct {
		name string
		data []byte
		want string
	}{
		{"short", data[:len(data)-4], "508 bytes of weights, the model wants 512"},
		{"long", append(append([]byte(nil), data...), 0, 0, 0, 0), "516 bytes of weights, the model wants 512"},
		{"other", other, "weights blob was written for another model (signature differs)"},
		{"text", []byte("hello, this is not a blob but it is long enough to have a header of 64 bytes"), "not a vggsim weights blob (bad magic)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(c.Blob, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := c.Run(x)
			var re *codegen.RunError
			if !errors.As(err, &re) || !re.BadInput() || !strings.HasSuffix(re.Msg, tt.want) || strings.Contains(re.Msg, "\n") {
				t.Errorf("got %v, want exit 2 with %q", err, tt.want)
			}
			if err := c.Module.CheckBlob(c.Blob); err == nil {
				t.Error("CheckBlob accepted it")
			}
		})
	}
}

// TestBadInputArray: the runner rejects an input of the wrong shape with exit status 2.
func TestBadInputArray(t *testing.T) {
	c := checkAgainstInterp(t, oneLayer(t), genericOnly, 1)
	_, err := c.Run(tensor.New(1, 3, 5, 6))
	var re *codegen.RunError
	if !errors.As(err, &re) || !re.BadInput() || !strings.Contains(re.Msg, "shape does not match the model's input Nx3x6x6") {
		t.Errorf("got %v", err)
	}
}

// TestCompileError: a clang failure carries clang's message verbatim and the .ll line it
// points at.
func TestCompileError(t *testing.T) {
	tc := *toolchain(t)
	tc.CacheDir = ""
	m, err := codegen.Generate(oneLayer(t), genericOnly)
	if err != nil {
		t.Fatal(err)
	}
	m.LL = strings.Replace(m.LL, "fadd float", "fadd floot", 1)
	_, err = tc.Compile(m)
	var ce *codegen.CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(ce.Output, "error:") || len(ce.Lines) == 0 || !strings.Contains(ce.Lines[0], "fadd floot") {
		t.Errorf("output %q, lines %q", ce.Output, ce.Lines)
	}
}
