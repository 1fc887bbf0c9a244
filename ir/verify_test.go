package ir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/tensor"
)

// TestParseGoldenFiles parses every golden .ir file (this package's and the model zoo's)
// and prints it back: the text must come out byte for byte the same.
func TestParseGoldenFiles(t *testing.T) {
	files := goldenIRFiles()
	if len(files) < 4 {
		t.Fatalf("found only %d golden .ir files: %v", len(files), files)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		g, err := Parse(file, strings.NewReader(string(b)))
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if got := g.String(); got != string(b) {
			t.Errorf("%s: parse+print changed the text:\n%s", file, got)
		}
	}
}

// goldenIRFiles returns the golden .ir files of this package and of the model zoo.
func goldenIRFiles() []string {
	var files []string
	for _, pat := range []string{"testdata/*.ir", "../models/testdata/*.ir"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	return files
}

// wantParseErrors fails t unless Parse("x.ir", src) fails with an error containing want,
// for every case.
func wantParseErrors(t *testing.T, cases []struct{ src, want string }) {
	t.Helper()
	for _, c := range cases {
		_, err := Parse("x.ir", strings.NewReader(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want %q", c.src, err, c.want)
		}
	}
}

// wantVerify fails t unless Verify(g) fails with every fragment in want.
func wantVerify(t *testing.T, what string, g *Graph, want ...string) {
	t.Helper()
	err := Verify(g)
	if err == nil {
		t.Errorf("%s: Verify passed", what)
		return
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q lacks %q", what, err, w)
		}
	}
}

// TestVerifyChecks exercises each check of the verifier on a small plain net with one
// defect each.
func TestVerifyChecks(t *testing.T) {
	if err := Verify(plainNet(t)); err != nil {
		t.Fatalf("plain net: %v", err)
	}

	// One producer per value: two nodes claim the same result.
	g := plainNet(t)
	g.Nodes[2].Out = g.Nodes[1].Out
	wantVerify(t, "shared result", g, "stage0.relu (relu): value id %1 at position 2", "output %1 has another producer", "value %1 defined twice")

	// Operand used before its definition (not topological).
	g = plainNet(t)
	g.Nodes[1].In[0] = g.Nodes[3].Out
	wantVerify(t, "use before def", g, "stage0.rbr_reparam (conv): operand used before definition or not in graph")

	// An operand that is not in the graph at all, and a nil one: errors, no panic.
	g = plainNet(t)
	g.Nodes[2].In[0] = &Value{ID: 99, Shape: Shape{8, 8, 8}}
	wantVerify(t, "foreign operand", g, "stage0.relu (relu): operand used before definition or not in graph")
	g = plainNet(t)
	g.Nodes[2].In[0] = nil
	wantVerify(t, "nil operand", g, "stage0.relu (relu): operand used before definition or not in graph")

	// Dangling value.
	g = plainNet(t)
	n := &Node{Op: ReLU, Name: "extra", In: []*Value{g.Nodes[2].Out}}
	n.Out = &Value{ID: len(g.Nodes), Shape: Shape{8, 8, 8}, Producer: n}
	g.Nodes = append(g.Nodes, n)
	wantVerify(t, "dangling", g, "extra (relu): dangling: result %7 never reaches the output")

	// Groups must divide both channel counts.
	g = plainNet(t)
	g.Nodes[3].Attrs.Groups = 3
	wantVerify(t, "groups", g, "stage1.0.rbr_reparam (conv): groups=3 does not divide in=8 and out=8 channels")
	g = plainNet(t)
	g.Nodes[3].Attrs.Groups = 0
	wantVerify(t, "groups 0", g, "groups=0 does not divide")

	// Shapes: conv output, elementwise mismatch, add of different shapes, linear of a map.
	g = plainNet(t)
	g.Nodes[1].Out.Shape.H = 9
	wantVerify(t, "conv shape", g, "stage0.rbr_reparam (conv): result 8x9x8, want 8x8x8")
	g = plainNet(t)
	g.Nodes[2].Out.Shape = Shape{8, 4, 4}
	wantVerify(t, "relu shape", g, "stage0.relu (relu): operand shape 8x8x8 != result 8x4x4")
	g = plainNet(t)
	g.Nodes[5].Out.Shape = Shape{8, 2, 2}
	wantVerify(t, "gap shape", g, "gap (gap): result 8x2x2")
	g = plainNet(t)
	g.Nodes[1].Attrs.Stride = 0
	wantVerify(t, "stride 0", g, "stage0.rbr_reparam (conv): bad window k=3x3 s=0 p=1")

	// Operand counts.
	g = plainNet(t)
	g.Nodes[2].In = append(g.Nodes[2].In, g.Nodes[1].Out)
	wantVerify(t, "arity", g, "stage0.relu (relu): 2 operands")

	// Duplicate names; BatchNorm eps; an op outside the closed set.
	g = plainNet(t)
	g.Nodes[2].Name = "stage0.rbr_reparam"
	wantVerify(t, "duplicate name", g, "node name empty or duplicate")
	g = plainNet(t)
	g.Nodes[2].Op = Op(200)
	wantVerify(t, "unknown op", g, "unknown op")

	// Parameters of the wrong shape, and missing ones.
	g = plainNet(t)
	g.Nodes[1].Params = map[string]*tensor.Tensor{"weight": tensor.New(8, 3, 3, 3), "bias": tensor.New(7)}
	wantVerify(t, "param shape", g, "stage0.rbr_reparam (conv): parameter bias has shape [7], want [8]")
	g.Nodes[1].Params = map[string]*tensor.Tensor{"weight": tensor.New(8, 3, 3, 3)}
	wantVerify(t, "missing param", g, "missing parameter bias")

	// The output must be a value of the graph.
	g = plainNet(t)
	g.Output = &Value{ID: 3}
	wantVerify(t, "output", g, "graph plain: output not defined by a node")

	// Every problem is reported, not only the first.
	g = plainNet(t)
	g.Nodes[1].Attrs.Groups = 3
	g.Nodes[5].Out.Shape = Shape{8, 2, 2}
	if err := Verify(g); err == nil || strings.Count(err.Error(), "\n") < 1 {
		t.Errorf("two defects, error %v", err)
	}
}

// TestMulAndBatchNormChecks covers the squeeze-and-excitation Mul broadcast and eps.
func TestMulAndBatchNormChecks(t *testing.T) {
	b := NewBuilder("se", Shape{16, 4, 4})
	x := b.BatchNorm("bn", b.Input(), 1e-5)
	s := b.Sigmoid("sig", b.GlobalAvgPool("gap", x))
	g, err := b.Finish(b.Mul("mul", x, s))
	if err != nil {
		t.Fatal(err)
	}
	g.Node("bn").Attrs.Eps = 0
	wantVerify(t, "eps", g, "bn (batchnorm): eps 0 must be positive")
	g.Node("bn").Attrs.Eps = 1e-5
	g.Node("sig").Out.Shape = Shape{8, 1, 1}
	g.Node("gap").Out.Shape = Shape{8, 1, 1}
	wantVerify(t, "mul broadcast", g, "mul (mul): operands 16x4x4, 8x1x1 do not give 16x4x4")

	b = NewBuilder("se", Shape{16, 4, 4})
	b.Mul("mul", b.Input(), b.GlobalAvgPool("gap", b.ReLU("r", b.Input())))
	if err := b.Err(); err != nil {
		t.Errorf("C×1×1 broadcast rejected: %v", err)
	}
	b = NewBuilder("se", Shape{16, 4, 4})
	b.Mul("mul", b.Input(), b.Conv("c", b.Input(), 8, 1, 4, 0, 1, false))
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "mul: shape 8x1x1 does not broadcast to 16x4x4") {
		t.Errorf("bad broadcast: %v", err)
	}
}

// TestIsPlainRejects checks that each way of breaking the conv3x3+bias+ReLU chain is
// reported with the offending node.
func TestIsPlainRejects(t *testing.T) {
	build := func(f func(b *Builder, x *Value) *Value) *Graph {
		t.Helper()
		b := NewBuilder("p", Shape{3, 8, 8})
		x := b.ReLU("s0.relu", b.Conv("s0.conv", b.Input(), 8, 3, 1, 1, 1, true))
		x = f(b, x)
		g, err := b.Finish(b.Linear("linear", b.Flatten("flatten", b.GlobalAvgPool("gap", x)), 4))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	for _, c := range []struct {
		name string
		f    func(b *Builder, x *Value) *Value
		why  string
	}{
		{"no bias", func(b *Builder, x *Value) *Value {
			return b.ReLU("r", b.Conv("c", x, 8, 3, 1, 1, 1, false))
		}, "c is not a conv3x3 with padding 1 and bias"},
		{"1x1", func(b *Builder, x *Value) *Value {
			return b.ReLU("r", b.Conv("c", x, 8, 1, 1, 0, 1, true))
		}, "c is not a conv3x3"},
		{"no relu", func(b *Builder, x *Value) *Value {
			return b.Sigmoid("s", b.Conv("c", x, 8, 3, 1, 1, 1, true))
		}, "c is not followed by exactly one ReLU"},
		{"branch", func(b *Builder, x *Value) *Value {
			y := b.ReLU("r", b.Conv("c", x, 8, 3, 1, 1, 1, true))
			return b.Add("add", x, y)
		}, "add: expected conv3x3+ReLU or the GlobalAvgPool head"},
		{"maxpool", func(b *Builder, x *Value) *Value {
			return b.MaxPool("pool", x, 2, 2, 0)
		}, "pool: expected conv3x3+ReLU or the GlobalAvgPool head"},
		{"batchnorm", func(b *Builder, x *Value) *Value {
			return b.BatchNorm("bn", x, 1e-5)
		}, "bn: expected conv3x3+ReLU"},
	} {
		ok, why := IsPlain(build(c.f))
		if ok || !strings.Contains(why, c.why) {
			t.Errorf("%s: IsPlain = %v, %q; want false, %q", c.name, ok, why, c.why)
		}
	}
	if ok, why := IsPlain(build(func(b *Builder, x *Value) *Value {
		return b.ReLU("r", b.Conv("c", x, 16, 3, 2, 1, 4, true)) // strided and grouped is still plain
	})); !ok {
		t.Errorf("strided grouped conv3x3: %s", why)
	}
	// A head with a second Linear is not plain.
	b := NewBuilder("p", Shape{3, 8, 8})
	x := b.ReLU("s0.relu", b.Conv("s0.conv", b.Input(), 8, 3, 1, 1, 1, true))
	g, err := b.Finish(b.Linear("fc2", b.Linear("fc1", b.GlobalAvgPool("gap", x), 6), 4))
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := IsPlain(g); ok || !strings.Contains(why, "expected a final Linear") {
		t.Errorf("two linears: %v %q", ok, why)
	}
}

// TestCloneIndependent checks that Clone copies structure: editing the copy leaves the
// original unchanged and both verify.
func TestCloneIndependent(t *testing.T) {
	g := tinyTrain(t)
	c := g.Clone()
	if c.String() != g.String() {
		t.Fatal("clone prints differently")
	}
	c.Nodes[1].Attrs.Groups = 8
	c.Nodes[1].Name = "renamed"
	if g.Nodes[1].Attrs.Groups != 1 || g.Nodes[1].Name != "stage0.rbr_dense.conv" {
		t.Error("editing the clone changed the original")
	}
	if err := Verify(g); err != nil {
		t.Error(err)
	}
	if c.Output.Producer != c.Nodes[len(c.Nodes)-1] || c.Input() == g.Input() {
		t.Error("clone shares values with the original")
	}
}

// TestParseErrorsPositions pins line and column of more malformed inputs.
func TestParseErrorsPositions(t *testing.T) {
	hdr := "graph \"g\"\n%0 = input : 3x4x4\n"
	wantParseErrors(t, []struct{ src, want string }{
		{"graf \"g\"\n", "x.ir:1:5: expected \"graph NAME\" header"},
		{hdr + "%2 = relu %0 @r : 3x4x4\n", "x.ir:3:3: value %2 out of order, want %1"},
		{hdr + "%1 = relu %0 r : 3x4x4\n", "x.ir:3:14: expected '@'"},
		{hdr + "%1 = conv[k=3 s=1] %0 @c : 3x4x4\n", "x.ir:3:11: bad kernel \"3\", want HxW"},
		{hdr + "%1 = conv[q=1] %0 @c : 3x4x4\n", "x.ir:3:11: unknown attribute \"q\" for conv"},
		{hdr + "%1 = relu[k=3x3] %0 @r : 3x4x4\n", "x.ir:3:11: unknown attribute \"k\" for relu"},
		{hdr + "%1 = relu %0 @r : 3x4x4\nreturn %1\n%2 = relu %1 @s : 3x4x4\n", "x.ir:5:1: statement after return"},
		{hdr + "return %1\n", "x.ir:3:10: undefined value %1"},
		{hdr + "%1 = relu %0 @r : 3x0x4\n", "bad shape \"3x0x4\""},
		{hdr + "%1 = relu %0 @r : 3x4x4 junk\n", "x.ir:3:25: unexpected \"junk\""},
		{hdr + "%1 = relu %0 @r : 3x4x4\n%2 = relu %0 @r : 3x4x4\nreturn %2\n", "node name empty or duplicate"},
	})
}
