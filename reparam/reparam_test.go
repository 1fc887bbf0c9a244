package reparam

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/internal/testref"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

var goldenDir = testref.Golden()

func readGolden(t *testing.T, path string) *tensor.Tensor {
	t.Helper()
	x, err := npy.ReadFile(filepath.Join(goldenDir, path))
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// goldenBlock builds the train-form block of a golden case and binds its tensors.
func goldenBlock(t *testing.T, dir string, cin, cout, stride, groups, hw int) *ir.Graph {
	t.Helper()
	b := ir.NewBuilder(dir, ir.Shape{C: cin, H: hw, W: hw})
	g, err := b.Finish(trainBlock(b, "", b.Input(), cout, stride, groups))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range g.Nodes {
		for _, s := range n.ParamSpecs() {
			if s.Optional {
				continue
			}
			if n.Params == nil {
				n.Params = map[string]*tensor.Tensor{}
			}
			n.Params[s.Name] = readGolden(t, filepath.Join(dir, n.Key(s.Name)+".npy"))
		}
	}
	if err := ir.Verify(g); err != nil {
		t.Fatal(err)
	}
	return g
}

var goldenCases = []struct {
	dir                       string
	cin, cout, stride, groups int
}{
	{"block_s1_g1", 8, 8, 1, 1},
	{"block_s1_g2", 8, 8, 1, 2},
	{"block_s2_8to16", 8, 16, 2, 1},
}

// bitEqual fails t unless got and want have the same shape and identical bits.
func bitEqual(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	if tensor.Numel(got.Shape) != tensor.Numel(want.Shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, want.Shape)
	}
	diffs := 0
	for i := range want.F32 {
		if math.Float32bits(got.F32[i]) != math.Float32bits(want.F32[i]) {
			if diffs < 3 {
				t.Errorf("%s[%d] = %v (%#08x), want %v (%#08x)", what, i, got.F32[i], math.Float32bits(got.F32[i]), want.F32[i], math.Float32bits(want.F32[i]))
			}
			diffs++
		}
	}
	if diffs > 0 {
		t.Errorf("%s: %d of %d elements differ in bits", what, diffs, len(want.F32))
	}
}

func TestGoldenBlocksBitExact(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.dir, func(t *testing.T) {
			g := goldenBlock(t, c.dir, c.cin, c.cout, c.stride, c.groups, 7)
			// Per-branch tensors after the first passes.
			d := g.Clone()
			for _, p := range Passes[:3] { // identity-to-conv, fold-bn, pad-1x1
				if err := p.Run(NewState(d)); err != nil {
					t.Fatal(err)
				}
				d.Renumber()
			}
			dense, one := d.Node("rbr_dense.conv"), d.Node("rbr_1x1.conv")
			bitEqual(t, "branch.k3", dense.Params["weight"], readGolden(t, c.dir+"/branch.k3.npy"))
			bitEqual(t, "branch.b3", dense.Params["bias"], readGolden(t, c.dir+"/branch.b3.npy"))
			bitEqual(t, "branch.k1_padded", one.Params["weight"], readGolden(t, c.dir+"/branch.k1_padded.npy"))
			bitEqual(t, "branch.b1", one.Params["bias"], readGolden(t, c.dir+"/branch.b1.npy"))
			if id := d.Node("rbr_identity.id_conv"); c.stride == 1 {
				if id == nil {
					t.Fatal("no identity conv")
				}
				bitEqual(t, "branch.kid", id.Params["weight"], readGolden(t, c.dir+"/branch.kid.npy"))
				bitEqual(t, "branch.bid", id.Params["bias"], readGolden(t, c.dir+"/branch.bid.npy"))
			}

			dep, err := Deploy(g, Options{})
			if err != nil {
				t.Fatal(err)
			}
			fused := dep.Node("rbr_reparam")
			if fused == nil || len(dep.Nodes) != 3 {
				t.Fatalf("deploy graph:\n%s", dep)
			}
			bitEqual(t, "fused.weight", fused.Params["weight"], readGolden(t, c.dir+"/fused.weight.npy"))
			bitEqual(t, "fused.bias", fused.Params["bias"], readGolden(t, c.dir+"/fused.bias.npy"))
		})
	}
}

func TestIdentityKernelWithGroups(t *testing.T) {
	// The reference builds id_tensor with k[i, i % (C/g), 1, 1] = 1.
	g := goldenBlock(t, "block_s1_g2", 8, 8, 1, 2, 7)
	if err := identityToConv(NewState(g)); err != nil {
		t.Fatal(err)
	}
	g.Renumber()
	id := g.Node("rbr_identity.id_conv")
	bitEqual(t, "branch.id_tensor", id.Params["weight"], readGolden(t, "block_s1_g2/branch.id_tensor.npy"))
}

func TestDeployStructure(t *testing.T) {
	g := goldenBlock(t, "block_s1_g1", 8, 8, 1, 1, 7)
	for _, n := range g.Nodes {
		n.Params = nil // structure only
	}
	dep, err := Deploy(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `graph "block_s1_g1"
%0 = input : 8x7x7
%1 = conv[k=3x3 s=1 p=1 g=1 bias] %0 @rbr_reparam : 8x7x7
%2 = relu %1 @relu : 8x7x7
return %2
`
	if got := dep.String(); got != want {
		t.Errorf("deploy form:\n%s\nwant:\n%s", got, want)
	}
	if g.Node("rbr_dense.bn") == nil {
		t.Error("Deploy modified its input graph")
	}
}

func TestDumpAfter(t *testing.T) {
	g := goldenBlock(t, "block_s2_8to16", 8, 16, 2, 1, 7)
	var sb strings.Builder
	if _, err := Deploy(g, Options{DumpAfter: "fold-bn", Dump: &sb}); err != nil {
		t.Fatal(err)
	}
	want := `# after fold-bn
graph "block_s2_8to16"
%0 = input : 8x7x7
%1 = conv[k=3x3 s=2 p=1 g=1 bias] %0 @rbr_dense.conv : 16x4x4
%2 = conv[k=1x1 s=2 p=0 g=1 bias] %0 @rbr_1x1.conv : 16x4x4
%3 = add %1, %2 @add : 16x4x4
%4 = relu %3 @relu : 16x4x4
return %4
`
	if sb.String() != want {
		t.Errorf("dump:\n%s\nwant:\n%s", sb.String(), want)
	}
	if _, err := Deploy(g, Options{DumpAfter: "nope"}); err == nil || !strings.Contains(err.Error(), "unknown pass \"nope\"") {
		t.Errorf("err = %v", err)
	}
}

func TestNegativeVariance(t *testing.T) {
	g := goldenBlock(t, "block_s1_g1", 8, 8, 1, 1, 7)
	v := g.Node("rbr_1x1.bn").Params["running_var"].Clone()
	v.F32[3] = -0.5
	g.Node("rbr_1x1.bn").Params["running_var"] = v
	_, err := Deploy(g, Options{})
	if err == nil || !strings.Contains(err.Error(), "rbr_1x1.bn: running_var[3] = -0.5") {
		t.Errorf("err = %v", err)
	}
}

func TestPassOrderConstraints(t *testing.T) {
	pos := map[string]int{}
	for i, p := range Passes {
		pos[p.Name] = i
	}
	for _, c := range After {
		a, okA := pos[c[0]]
		b, okB := pos[c[1]]
		if !okA || !okB || a >= b {
			t.Errorf("constraint %s before %s violated", c[0], c[1])
		}
	}
}
