package reparam_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/checkpoint"
	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/internal/testref"
	"github.com/vggsim/vggsim/internal/testref/tinygolden"
	"github.com/vggsim/vggsim/interp"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/reparam"
	"github.com/vggsim/vggsim/tensor"
)

// TestTinyFromPTH fuses the golden train checkpoint as a user's file reaches Deploy: the
// real tiny_repvgg_train.pth written by torch.save, through checkpoint.Load and
// models.Bind. Every deploy tensor must equal the reference's deploy_sd.* bit for bit and
// the reference's own tiny_repvgg_deploy.pth too, with the same keys in the same order.
func TestTinyFromPTH(t *testing.T) {
	g, err := models.Resolve(tinygolden.Spec, models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := checkpoint.Load(tinygolden.Path(tinygolden.TrainPTH))
	if err != nil {
		t.Fatal(err)
	}
	if err := models.Bind(g, sd.Keys, sd.Tensors); err != nil {
		t.Fatal(err)
	}
	d, err := reparam.Deploy(g, reparam.Options{})
	if err != nil {
		t.Fatal(err)
	}
	keys, got := models.Unbind(d)
	ref, err := checkpoint.Load(tinygolden.Path(tinygolden.DeployPTH))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, " ") != strings.Join(ref.Keys, " ") {
		t.Fatalf("deploy keys\n%v\nwant (tiny_repvgg_deploy.pth)\n%v", keys, ref.Keys)
	}
	_, npys := tinygolden.StateDict(t, true)
	fused := 0
	for _, k := range keys {
		for _, want := range []*tensor.Tensor{ref.Tensors[k], npys[k]} {
			sameBits(t, k, got[k], want)
		}
		if strings.HasSuffix(k, ".rbr_reparam.weight") {
			fused++
		}
	}
	if fused != 7 {
		t.Errorf("%d fused layers, want 7", fused)
	}
}

// TestResNet18Deploy checks the deploy form BN folding gives a ResNet: conv+bias
// everywhere, no BatchNorm left, the 8 residual adds kept, the reference parameter names,
// and the same logits as the train form.
func TestResNet18Deploy(t *testing.T) {
	g, err := models.Build("ResNet-18", models.Options{InputH: 32, InputW: 32, NumClasses: 10})
	if err != nil {
		t.Fatal(err)
	}
	models.InitWeights(g, 3)
	d, err := reparam.Deploy(g, reparam.Options{})
	if err != nil {
		t.Fatal(err)
	}
	count := func(g *ir.Graph, op ir.Op) int {
		n := 0
		for _, nd := range g.Nodes {
			if nd.Op == op {
				n++
			}
		}
		return n
	}
	if n := count(d, ir.BatchNorm); n != 0 {
		t.Errorf("%d BatchNorms left", n)
	}
	if a, b := count(g, ir.Add), count(d, ir.Add); a != 8 || b != 8 {
		t.Errorf("adds: train %d, deploy %d; want 8 and 8", a, b)
	}
	if a, b := count(g, ir.Conv), count(d, ir.Conv); a != 20 || b != 20 {
		t.Errorf("convs: train %d, deploy %d; want 20 and 20", a, b)
	}
	for _, n := range d.Nodes {
		if n.Op == ir.Conv && (!n.Attrs.Bias || n.Params["bias"] == nil) {
			t.Errorf("%s has no bias", n.Name)
		}
	}
	keys, _ := models.Unbind(d)
	want := "conv1.weight conv1.bias layer1.0.conv1.weight layer1.0.conv1.bias"
	if got := strings.Join(keys[:4], " "); got != want {
		t.Errorf("first keys %q, want %q", got, want)
	}
	if !strings.Contains(strings.Join(keys, " "), "layer2.0.downsample.0.bias") {
		t.Errorf("no layer2.0.downsample.0.bias in %v", keys)
	}
	if ok, _ := ir.IsPlain(d); ok {
		t.Error("a ResNet's deploy form is plain")
	}
	// Parameters: the train count less every BN's gamma and beta, plus one bias per conv.
	var bn, bias int64
	for _, n := range g.Nodes {
		switch n.Op {
		case ir.BatchNorm:
			bn += 2 * int64(n.Out.Shape.C)
		case ir.Conv:
			bias += int64(n.Out.Shape.C)
		}
	}
	if d.Params() != g.Params()-bn+bias {
		t.Errorf("deploy params %d, want %d", d.Params(), g.Params()-bn+bias)
	}
	if r := formsDiff(t, g, d, randomInput(2, 3, 32, 32)); r > 1e-5 {
		t.Errorf("interp(deploy) vs interp(train): max relative diff %g > 1e-5", r)
	}
}

// TestGoldenBlockOutputs runs the three golden blocks through the interpreter in both
// forms and compares with the reference's train.output and fused.output.
func TestGoldenBlockOutputs(t *testing.T) {
	for _, c := range []struct {
		dir                       string
		cin, cout, stride, groups int
	}{{"block_s1_g1", 8, 8, 1, 1}, {"block_s1_g2", 8, 8, 1, 2}, {"block_s2_8to16", 8, 16, 2, 1}} {
		t.Run(c.dir, func(t *testing.T) {
			dir := testref.Golden(c.dir)
			x, err := npy.ReadFile(filepath.Join(dir, "input.npy"))
			if err != nil {
				t.Fatal(err)
			}
			b := ir.NewBuilder(c.dir, ir.Shape{C: c.cin, H: x.Shape[2], W: x.Shape[3]})
			in := b.Input()
			sum := []*ir.Value{
				b.BatchNorm("rbr_dense.bn", b.Conv("rbr_dense.conv", in, c.cout, 3, c.stride, 1, c.groups, false), 1e-5),
				b.BatchNorm("rbr_1x1.bn", b.Conv("rbr_1x1.conv", in, c.cout, 1, c.stride, 0, c.groups, false), 1e-5),
			}
			if c.cin == c.cout && c.stride == 1 {
				sum = append(sum, b.BatchNorm("rbr_identity", in, 1e-5))
			}
			g, err := b.Finish(b.ReLU("relu", b.Add("add", sum...)))
			if err != nil {
				t.Fatal(err)
			}
			tensors := map[string]*tensor.Tensor{}
			for _, k := range models.Keys(g) {
				if strings.HasSuffix(k, "num_batches_tracked") {
					continue
				}
				if tensors[k], err = npy.ReadFile(filepath.Join(dir, k+".npy")); err != nil {
					t.Fatal(err)
				}
			}
			if err := models.Bind(g, nil, tensors); err != nil {
				t.Fatal(err)
			}
			d, err := reparam.Deploy(g, reparam.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				g    *ir.Graph
				file string
			}{{g, "train.output.npy"}, {d, "fused.output.npy"}} {
				y, want := runAndRead(t, f.g, x, filepath.Join(dir, f.file))
				if r := relDiff(y.F32, want.F32); r > 1e-6 {
					t.Errorf("%s: max relative diff %g > 1e-6", f.file, r)
				}
			}
		})
	}
}

// TestDeployBadGraphs: errors, not panics, for graphs a checkpoint or a hand-written IR
// file can produce.
func TestDeployBadGraphs(t *testing.T) {
	g, err := models.Resolve(tinygolden.Spec, models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	models.InitWeights(g, 1)
	half := g.Clone()
	half.Node("stage2.1.rbr_identity").Params = nil
	if _, err := reparam.Deploy(half, reparam.Options{}); err == nil || !strings.Contains(err.Error(), "stage2.1.rbr_identity has none") {
		t.Errorf("partially bound graph: %v", err)
	}
	for _, v := range []float32{-1e-3, float32(math.NaN()), float32(math.Inf(1))} {
		bad := g.Clone()
		bn := bad.Node("stage3.0.rbr_dense.bn")
		vr := bn.Params["running_var"].Clone()
		vr.F32[5] = v
		bn.Params["running_var"] = vr
		_, err := reparam.Deploy(bad, reparam.Options{})
		if want := fmt.Sprintf("stage3.0.rbr_dense.bn: running_var[5] = %g", v); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("running_var %g: err = %v, want %q", v, err, want)
		}
	}
	// A block from hand-written IR text, structure only; then with a 5x5 dense branch
	// (the 1x1 and the identity pad to 5x5) and random weights: the same numbers.
	text := `graph "block5"
%0 = input : 4x6x6
%1 = conv[k=3x3 s=1 p=1 g=2] %0 @a.conv : 4x6x6
%2 = batchnorm[eps=1e-05] %1 @a.bn : 4x6x6
%3 = conv[k=1x1 s=1 p=0 g=2] %0 @b.conv : 4x6x6
%4 = batchnorm[eps=1e-05] %3 @b.bn : 4x6x6
%5 = batchnorm[eps=1e-05] %0 @id : 4x6x6
%6 = add %2, %4, %5 @add : 4x6x6
return %6
`
	pg, err := ir.Parse("block.ir", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	d, err := reparam.Deploy(pg, reparam.Options{})
	if err != nil || len(d.Nodes) != 2 || d.Nodes[1].Name != "rbr_reparam" {
		t.Fatalf("structure-only block: %v\n%v", err, d)
	}
	a := pg.Node("a.conv")
	a.Attrs.KH, a.Attrs.KW, a.Attrs.Pad = 5, 5, 2
	models.InitWeights(pg, 5)
	d, err = reparam.Deploy(pg, reparam.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Nodes) != 2 || !strings.Contains(d.String(), "conv[k=5x5 s=1 p=2 g=2 bias] %0 @rbr_reparam") {
		t.Fatalf("5x5 block deploy form:\n%s", d)
	}
	if r := formsDiff(t, pg, d, randomInput(1, 4, 6, 6)); r > 1e-6 {
		t.Errorf("5x5 block: max relative diff %g", r)
	}
}

// trainParamBytes returns the bytes of g's float32 parameters.
func trainParamBytes(g *ir.Graph) int64 {
	var n int64
	for _, nd := range g.Nodes {
		for _, t := range nd.Params {
			n += int64(4 * len(t.F32))
		}
	}
	return n
}

// TestDeployAllocationsLinear bounds the bytes Deploy allocates by a small constant times
// the train-form parameter bytes: fusion streams over the parameters once, with no
// quadratic copies. Measured: 2.1× on A0 and 2.4× on B1g4 (the identity kernel and the
// padded 1x1 kernel of each block are the transients); the bound leaves room for noise.
func TestDeployAllocationsLinear(t *testing.T) {
	for _, name := range []string{"RepVGG-A0", "RepVGG-B0", "ResNet-18"} {
		g, err := models.Build(name, models.Options{InputH: 32, InputW: 32})
		if err != nil {
			t.Fatal(err)
		}
		models.InitWeights(g, 1)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		d, err := reparam.Deploy(g, reparam.Options{})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		alloc := int64(after.TotalAlloc - before.TotalAlloc)
		ratio := float64(alloc) / float64(trainParamBytes(g))
		t.Logf("%s: train params %.1f MB, deploy %.1f MB, allocated %.1f MB (%.2f×)", name,
			float64(trainParamBytes(g))/1e6, float64(trainParamBytes(d))/1e6, float64(alloc)/1e6, ratio)
		if ratio > 2.5 {
			t.Errorf("%s: Deploy allocated %.2f× the train parameter bytes, want ≤ 2.5×", name, ratio)
		}
	}
}

// TestDeployDeepChainLinear runs Deploy on the deepest spec models accepts, 4×128 blocks of
// one channel (4,100 nodes): a pass that scanned the graph per rewrite would do 10⁷ steps.
func TestDeployDeepChainLinear(t *testing.T) {
	spec := &models.Spec{Name: "deep", NumBlocks: [4]int{128, 128, 128, 128},
		WidthMultiplier: [4]float64{1.0 / 64, 1.0 / 128, 1.0 / 256, 1.0 / 512}, NumClasses: 2}
	g, err := spec.Build(models.Options{InputH: 16, InputW: 16})
	if err != nil {
		t.Fatal(err)
	}
	models.InitWeights(g, 1)
	d, err := reparam.Deploy(g, reparam.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := ir.IsPlain(d); !ok {
		t.Errorf("deep chain not plain: %s", why)
	}
	if got, want := len(d.Nodes), 1+2*513+3; got != want {
		t.Errorf("%d deploy nodes, want %d", got, want)
	}
}

// BenchmarkDeployB3 fuses RepVGG-B3 (123 M train parameters, 28 blocks). Allocated bytes
// per op are the measure of interest: a small constant times the 492 MB of train weights.
func BenchmarkDeployB3(b *testing.B) {
	g, err := models.Build("RepVGG-B3", models.Options{})
	if err != nil {
		b.Fatal(err)
	}
	models.InitWeights(g, 1)
	b.SetBytes(trainParamBytes(g))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reparam.Deploy(g, reparam.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// randomInput returns a tensor of the shape filled with seeded standard normal values.
func randomInput(shape ...int) *tensor.Tensor {
	x := tensor.New(shape...)
	r := rand.New(rand.NewPCG(7, 7))
	for i := range x.F32 {
		x.F32[i] = float32(r.NormFloat64())
	}
	return x
}

// formsDiff runs the train form g and the deploy form d on x and returns the relative
// difference of their outputs, relDiff(deploy, train).
func formsDiff(t *testing.T, g, d *ir.Graph, x *tensor.Tensor) float64 {
	t.Helper()
	yt, err := interp.Run(g, x)
	if err != nil {
		t.Fatal(err)
	}
	yd, err := interp.Run(d, x)
	if err != nil {
		t.Fatal(err)
	}
	return relDiff(yd.F32, yt.F32)
}

// relDiff returns max|a-b| / max|b|.
func relDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d, m float64
	for i := range b {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
		m = math.Max(m, math.Abs(float64(b[i])))
	}
	return d / m
}
