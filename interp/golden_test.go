package interp

import (
	"path/filepath"
	"testing"

	"github.com/vggsim/vggsim/internal/testref"
	"github.com/vggsim/vggsim/internal/testref/tinygolden"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

// goldenDir holds data produced by the official RepVGG code under PyTorch 1.13 (see
// manifest.json there). The data lives in testdata/golden.
var goldenDir = testref.Golden()

// trainBlock builds one train-form RepVGG block on x with the official branch names under
// prefix (prefix "" gives the bare names of the single-block golden cases). It returns the
// pre-activation sum and the block output.
func trainBlock(b *ir.Builder, prefix string, x *ir.Value, cout, stride, groups int) (preact, out *ir.Value) {
	d := b.Conv(prefix+"rbr_dense.conv", x, cout, 3, stride, 1, groups, false)
	d = b.BatchNorm(prefix+"rbr_dense.bn", d, 1e-5)
	o := b.Conv(prefix+"rbr_1x1.conv", x, cout, 1, stride, 0, groups, false)
	o = b.BatchNorm(prefix+"rbr_1x1.bn", o, 1e-5)
	sum := []*ir.Value{d, o}
	if x.Shape.C == cout && stride == 1 {
		sum = append(sum, b.BatchNorm(prefix+"rbr_identity", x, 1e-5))
	}
	preact = b.Add(prefix+"add", sum...)
	return preact, b.ReLU(prefix+"relu", preact)
}

// loadParams sets the parameters of every Conv, BatchNorm and Linear node of g from the
// files dir/<filePrefix><node>.<param>.npy, skipping the optional ones.
func loadParams(t *testing.T, g *ir.Graph, dir, filePrefix string) {
	t.Helper()
	bindParams(g, func(key string) *tensor.Tensor { return mustNpy(t, filepath.Join(dir, filePrefix+key+".npy")) })
}

// bindParams gives every node with parameters its required ones, get(key) for each.
func bindParams(g *ir.Graph, get func(key string) *tensor.Tensor) {
	for _, n := range g.Nodes {
		if !n.Op.HasParams() {
			continue
		}
		n.Params = map[string]*tensor.Tensor{}
		for _, s := range n.ParamSpecs() {
			if s.Optional {
				continue
			}
			n.Params[s.Name] = get(n.Key(s.Name))
		}
	}
}

func TestGoldenBlocks(t *testing.T) {
	for _, c := range []struct {
		name                 string
		cin, cout, s, groups int
	}{
		{"block_s1_g1", 8, 8, 1, 1},
		{"block_s1_g2", 8, 8, 1, 2},
		{"block_s2_8to16", 8, 16, 2, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(goldenDir, c.name)
			x := mustNpy(t, filepath.Join(dir, "input.npy"))
			if !tensor.SameShape(x.Shape, []int{1, c.cin, 7, 7}) {
				t.Fatalf("input shape %v", x.Shape)
			}

			// Train form: three (or two) branches, add, ReLU.
			b := ir.NewBuilder(c.name, ir.Shape{C: c.cin, H: 7, W: 7})
			preact, out := trainBlock(b, "", b.Input(), c.cout, c.s, c.groups)
			g, err := b.Finish(out)
			if err != nil {
				t.Fatal(err)
			}
			loadParams(t, g, dir, "")
			all, err := RunAll(g, x)
			if err != nil {
				t.Fatal(err)
			}
			wantClose(t, "train.preact", all[preact.ID], mustNpy(t, filepath.Join(dir, "train.preact.npy")), tol)
			wantClose(t, "train.output", all[out.ID], mustNpy(t, filepath.Join(dir, "train.output.npy")), tol)

			// Deploy form: the official fused kernel and bias in one conv3x3.
			b = ir.NewBuilder(c.name+"-fused", ir.Shape{C: c.cin, H: 7, W: 7})
			fpre := b.Conv("fused", b.Input(), c.cout, 3, c.s, 1, c.groups, true)
			fout := b.ReLU("relu", fpre)
			fg, err := b.Finish(fout)
			if err != nil {
				t.Fatal(err)
			}
			fg.Node("fused").Params = map[string]*tensor.Tensor{
				"weight": mustNpy(t, filepath.Join(dir, "fused.weight.npy")),
				"bias":   mustNpy(t, filepath.Join(dir, "fused.bias.npy")),
			}
			fall, err := RunAll(fg, x)
			if err != nil {
				t.Fatal(err)
			}
			wantClose(t, "fused.preact", fall[fpre.ID], mustNpy(t, filepath.Join(dir, "fused.preact.npy")), tol)
			wantClose(t, "fused.output", fall[fout.ID], mustNpy(t, filepath.Join(dir, "fused.output.npy")), tol)
		})
	}
}

func TestGoldenTinyRepVGG(t *testing.T) {
	x := tinygolden.Input(t)
	tinyLayers := tinygolden.Manifest(t).Config.Blocks
	bind := func(g *ir.Graph, deploy bool) {
		_, sd := tinygolden.StateDict(t, deploy)
		bindParams(g, func(key string) *tensor.Tensor { return sd[key] })
	}
	in := ir.Shape{C: 3, H: 32, W: 32}

	t.Run("train", func(t *testing.T) {
		b := ir.NewBuilder("tiny_repvgg", in)
		v := b.Input()
		acts := map[string]*ir.Value{}
		for _, l := range tinyLayers {
			_, v = trainBlock(b, l.Name+".", v, l.Out, l.Stride, l.Groups)
			acts[l.Name] = v
		}
		logits := b.Linear("linear", b.Flatten("flatten", b.GlobalAvgPool("gap", v)), 10)
		g, err := b.Finish(logits)
		if err != nil {
			t.Fatal(err)
		}
		bind(g, false)
		all, err := RunAll(g, x)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range tinyLayers {
			wantClose(t, "train_act."+l.Name, all[acts[l.Name].ID], tinygolden.Activation(t, l.Name), tol)
		}
		wantClose(t, "train.logits", Flat2D(all[logits.ID]), tinygolden.Logits(t, false), tol)
	})

	t.Run("deploy", func(t *testing.T) {
		b := ir.NewBuilder("tiny_repvgg-deploy", in)
		v := b.Input()
		for _, l := range tinyLayers {
			v = b.ReLU(l.Name+".relu", b.Conv(l.Name+".rbr_reparam", v, l.Out, 3, l.Stride, 1, l.Groups, true))
		}
		g, err := b.Finish(b.Linear("linear", b.Flatten("flatten", b.GlobalAvgPool("gap", v)), 10))
		if err != nil {
			t.Fatal(err)
		}
		bind(g, true)
		y, err := Run(g, x)
		if err != nil {
			t.Fatal(err)
		}
		wantClose(t, "deploy.logits", Flat2D(y), tinygolden.Logits(t, true), tol)
	})
}
