package models_test

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
)

func mustBuild(t testing.TB, name string, o models.Options) *ir.Graph {
	t.Helper()
	g, err := models.Build(name, o)
	if err != nil {
		t.Fatalf("Build(%q): %v", name, err)
	}
	return g
}

// exact pins the integer counts of every zoo model at 224×224, 1000 classes. They were
// derived by this package and cross-checked against the RepVGG paper (TestPaperTable) and
// torchvision's published numbers (TestTorchvisionPublished).
var exact = []struct {
	name                      string
	paramsTrain, paramsDeploy int64
	macsTrain, macsDeploy     int64
	convsTrain, convsDeploy   int
	actTrain, actDeploy       int64
	nodesTrain                int
}{
	{"RepVGG-A0", 9108968, 8309384, 1512581120, 1361451008, 44, 22, 11630568, 3589864, 153},
	{"RepVGG-A1", 14092264, 12789864, 2626488320, 2363967488, 44, 22, 15381224, 4743912, 153},
	{"RepVGG-A2", 28210600, 25499944, 5685345280, 5116951552, 44, 22, 20511848, 6261864, 153},
	{"RepVGG-B0", 15817960, 14339048, 3397191680, 3057600512, 56, 28, 20298472, 6148840, 195},
	{"RepVGG-B1", 57415016, 51829480, 13128089600, 11815485440, 56, 28, 35628008, 10640360, 195},
	{"RepVGG-B1g2", 45782376, 41360104, 9788375040, 8809742336, 56, 28, 35628008, 10640360, 195},
	{"RepVGG-B1g4", 39966056, 36125416, 8118517760, 7306870784, 56, 28, 35628008, 10640360, 195},
	{"RepVGG-B2", 89022376, 80315112, 20418170880, 18376609792, 56, 28, 43330536, 12898792, 195},
	{"RepVGG-B2g2", 70846376, 63956712, 15199866880, 13680136192, 56, 28, 43330536, 12898792, 195},
	{"RepVGG-B2g4", 61758376, 55777512, 12590714880, 11331899392, 56, 28, 43330536, 12898792, 195},
	{"RepVGG-B3", 123085288, 110960872, 29120696320, 26208882688, 56, 28, 50882024, 15106536, 195},
	{"RepVGG-B3g2", 96911848, 87404776, 21606338560, 19445960704, 56, 28, 50882024, 15106536, 195},
	{"RepVGG-B3g4", 83825128, 75626728, 17849159680, 16064499712, 56, 28, 50882024, 15106536, 195},
	{"RepVGG-D2se", 133334836, 120387572, 36476744192, 32829551104, 192, 144, 89993152, 34473408, 623},
	{"ResNet-18", 11689512, 11684712, 1814073344, 1814073344, 20, 20, 8230376, 5746664, 70},
	{"ResNet-34", 21797672, 21789160, 3663761408, 3663761408, 36, 36, 12620776, 8882664, 126},
	{"ResNet-50", 25557032, 25530472, 4089184256, 4089184256, 53, 53, 37559784, 26445800, 176},
	{"ResNet-101", 44549160, 44496488, 7801405440, 7801405440, 104, 104, 56325608, 40093672, 346},
	{"ResNet-152", 60192808, 60117096, 11513626624, 11513626624, 155, 155, 79506920, 56952808, 516},
	{"VGG-16", 138357544, 138357544, 15470264320, 15470264320, 13, 13, 28642792, 28642792, 38},
	{"MobileNetV2", 3504872, 3487816, 300774272, 300774272, 52, 52, 19680680, 13002568, 153},
}

func TestExactCounts(t *testing.T) {
	if len(exact) != len(models.Names()) {
		t.Fatalf("table has %d rows, zoo %d models", len(exact), len(models.Names()))
	}
	for i, w := range exact {
		if models.Names()[i] != w.name {
			t.Errorf("Names()[%d] = %s, table %s", i, models.Names()[i], w.name)
		}
		g := mustBuild(t, w.name, models.Options{})
		d, err := models.BuildDeploy(w.name, models.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ct, cd := models.Count(g), models.Count(d)
		got := [...]int64{ct.Params, cd.Params, ct.MACs, cd.MACs, int64(ct.ConvLayers), int64(cd.ConvLayers), ct.ActivationElems, cd.ActivationElems, int64(len(g.Nodes))}
		want := [...]int64{w.paramsTrain, w.paramsDeploy, w.macsTrain, w.macsDeploy, int64(w.convsTrain), int64(w.convsDeploy), w.actTrain, w.actDeploy, int64(w.nodesTrain)}
		if got != want {
			t.Errorf("%s: counts %v, want %v", w.name, got, want)
		}
		// Counts.Params, computed from the attributes, must agree with ir's count from the
		// parameter specs. (Count's MACs are ir's Node.MACs summed, so there is nothing to
		// cross-check there.)
		if ct.Params != g.Params() || cd.Params != d.Params() {
			t.Errorf("%s: Count params %d/%d, ir Graph.Params %d/%d", w.name, ct.Params, cd.Params, g.Params(), d.Params())
		}
		if dc, err := models.DeployCounts(w.name, models.Options{}); err != nil || dc != cd {
			t.Errorf("%s: DeployCounts = %+v, %v", w.name, dc, err)
		}
	}
}

// truncM is the paper's "Params (M)": the exact count truncated to two decimals.
func truncM(n int64) float64 { return math.Floor(float64(n)/1e4) / 100 }

// roundG is the paper's FLOPs: MACs rounded to 0.1 G.
func roundG(n int64) float64 { return math.Round(float64(n)/1e8) / 10 }

// TestPaperTable reproduces every RepVGG row of the paper's Table (deploy form, 224×224).
func TestPaperTable(t *testing.T) {
	paper := []struct {
		name   string
		params float64
		flops  float64
	}{
		{"A0", 8.30, 1.4}, {"A1", 12.78, 2.4}, {"A2", 25.49, 5.1}, {"B0", 14.33, 3.1},
		{"B1", 51.82, 11.8}, {"B1g2", 41.36, 8.8}, {"B1g4", 36.12, 7.3}, {"B2", 80.31, 18.4},
		{"B2g4", 55.77, 11.3}, {"B3", 110.96, 26.2}, {"B3g4", 75.62, 16.1},
	}
	for _, p := range paper {
		c, err := models.DeployCounts(p.name, models.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := truncM(c.Params); got != p.params {
			t.Errorf("RepVGG-%s params %.2f M (%d), paper %.2f", p.name, got, c.Params, p.params)
		}
		if got := roundG(c.MACs); got != p.flops {
			t.Errorf("RepVGG-%s FLOPs %.1f G (%d), paper %.1f", p.name, got, c.MACs, p.flops)
		}
	}
	// The paper's baselines: its ResNet params are the BN-folded (deploy) counts, truncated.
	// Its ResNet-50/101/152 FLOPs (3.9, 7.6, 11.3) are 0.23 G below torchvision's because
	// they are ResNet v1 (stride on the first 1x1 conv); torchvision's v1.5 puts it on the
	// 3x3, which is what the zoo builds. ResNet-18/34 and VGG-16 agree.
	baselines := []struct {
		name   string
		params float64
		flops  float64 // 0: not comparable
	}{
		{"ResNet-18", 11.68, 1.8}, {"ResNet-34", 21.78, 3.7}, {"ResNet-50", 25.53, 0},
		{"ResNet-101", 44.49, 0}, {"ResNet-152", 60.11, 0}, {"VGG-16", 138.35, 15.5},
	}
	for _, p := range baselines {
		c, err := models.DeployCounts(p.name, models.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := truncM(c.Params); got != p.params {
			t.Errorf("%s params %.2f M, paper %.2f", p.name, got, p.params)
		}
		if got := roundG(c.MACs); p.flops != 0 && got != p.flops {
			t.Errorf("%s FLOPs %.1f G, paper %.1f", p.name, got, p.flops)
		}
	}
}

// TestTorchvisionPublished checks torchvision's published parameter counts (nn.Parameters
// of the BN model) and GFLOPS (MACs, two decimals).
func TestTorchvisionPublished(t *testing.T) {
	for _, p := range []struct {
		name   string
		params int64
		gflops float64
	}{
		{"ResNet-18", 11689512, 1.81}, {"ResNet-34", 21797672, 3.66}, {"ResNet-50", 25557032, 4.09},
		{"ResNet-101", 44549160, 7.80}, {"ResNet-152", 60192808, 11.51}, {"VGG-16", 138357544, 15.47},
	} {
		c := models.Count(mustBuild(t, p.name, models.Options{}))
		if c.Params != p.params {
			t.Errorf("%s params %d, torchvision %d", p.name, c.Params, p.params)
		}
		if got := math.Round(float64(c.MACs)/1e7) / 100; got != p.gflops {
			t.Errorf("%s GFLOPS %.2f, torchvision %.2f", p.name, got, p.gflops)
		}
	}
}

func TestNames(t *testing.T) {
	for in, want := range map[string]string{
		"a0": "RepVGG-A0", "A0": "RepVGG-A0", "RepVGG-A0": "RepVGG-A0", "repvgg-a0": "RepVGG-A0",
		"b1g4": "RepVGG-B1g4", "RepVGG-B1g4": "RepVGG-B1g4", "REPVGG_B1G4": "RepVGG-B1g4",
		"d2se": "RepVGG-D2se", "resnet18": "ResNet-18", "ResNet-18": "ResNet-18", "resnet_50": "ResNet-50",
		"vgg16": "VGG-16", "VGG-16": "VGG-16", " b3 ": "RepVGG-B3",
	} {
		got, err := models.CanonicalName(in)
		if err != nil || got != want {
			t.Errorf("CanonicalName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, near := range map[string]string{
		"resnet19": "ResNet-18", "vgg19": "VGG-16", "b1g3": "RepVGG-B1g2", "RepVGG-A3": "RepVGG-A0",
		"d2": "RepVGG-D2se", "resnet-15": "ResNet-152", "RepVGG-B4": "RepVGG-B0",
	} {
		_, err := models.Build(in, models.Options{})
		if err == nil || !strings.Contains(err.Error(), "did you mean "+near+"?") || !strings.Contains(err.Error(), "unknown model") {
			t.Errorf("Build(%q) error = %v; want a suggestion of %s", in, err, near)
		}
	}
	if _, err := models.Build("", models.Options{}); err == nil || !strings.HasPrefix(err.Error(), "empty model name") {
		t.Errorf("empty name: %v", err)
	}
	if _, err := models.Build("efficientnet", models.Options{}); err == nil || !strings.Contains(err.Error(), "known models: RepVGG-A0, RepVGG-A1,") {
		t.Errorf("far name: %v", err)
	}
	seen := map[string]bool{}
	for _, n := range models.Names() {
		if seen[n] {
			t.Errorf("duplicate name %s", n)
		}
		seen[n] = true
	}
}

// TestRepVGGStructure checks every RepVGG model against the reference's rules: widths,
// strides, identity branches, the grouped-layer map, SE, and the deploy form's
// correspondence with the train form.
func TestRepVGGStructure(t *testing.T) {
	type cfg struct {
		blocks [4]int
		a, b   float64
		groups int
		se     bool
	}
	cfgs := map[string]cfg{
		"RepVGG-A0": {[4]int{2, 4, 14, 1}, 0.75, 2.5, 1, false}, "RepVGG-A1": {[4]int{2, 4, 14, 1}, 1, 2.5, 1, false},
		"RepVGG-A2": {[4]int{2, 4, 14, 1}, 1.5, 2.75, 1, false}, "RepVGG-B0": {[4]int{4, 6, 16, 1}, 1, 2.5, 1, false},
		"RepVGG-B1": {[4]int{4, 6, 16, 1}, 2, 4, 1, false}, "RepVGG-B1g2": {[4]int{4, 6, 16, 1}, 2, 4, 2, false},
		"RepVGG-B1g4": {[4]int{4, 6, 16, 1}, 2, 4, 4, false}, "RepVGG-B2": {[4]int{4, 6, 16, 1}, 2.5, 5, 1, false},
		"RepVGG-B2g2": {[4]int{4, 6, 16, 1}, 2.5, 5, 2, false}, "RepVGG-B2g4": {[4]int{4, 6, 16, 1}, 2.5, 5, 4, false},
		"RepVGG-B3": {[4]int{4, 6, 16, 1}, 3, 5, 1, false}, "RepVGG-B3g2": {[4]int{4, 6, 16, 1}, 3, 5, 2, false},
		"RepVGG-B3g4": {[4]int{4, 6, 16, 1}, 3, 5, 4, false}, "RepVGG-D2se": {[4]int{8, 14, 24, 1}, 2.5, 5, 1, true},
	}
	for name, c := range cfgs {
		g := mustBuild(t, name, models.Options{})
		d, err := models.BuildDeploy(name, models.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if ok, why := ir.IsPlain(d); ok == c.se {
			t.Errorf("%s deploy IsPlain = %v (%s)", name, ok, why)
		}
		mult := [4]float64{c.a, c.a, c.a, c.b}
		in := min(64, int(64*c.a))
		check := func(block string, cin, cout, stride, groups int) {
			conv := g.Node(block + ".rbr_dense.conv")
			one := g.Node(block + ".rbr_1x1.conv")
			rep := d.Node(block + ".rbr_reparam")
			if conv == nil || one == nil || rep == nil {
				t.Fatalf("%s: block %s missing", name, block)
			}
			for _, n := range []*ir.Node{conv, one, rep} {
				a := n.Attrs
				if n.In[0].Shape.C != cin || n.Out.Shape.C != cout || a.Stride != stride || a.Groups != groups {
					t.Errorf("%s %s: %d→%d s%d g%d, want %d→%d s%d g%d", name, n.Name, n.In[0].Shape.C, n.Out.Shape.C, a.Stride, a.Groups, cin, cout, stride, groups)
				}
			}
			if conv.Attrs.KH != 3 || conv.Attrs.Pad != 1 || conv.Attrs.Bias || one.Attrs.KH != 1 || one.Attrs.Pad != 0 || one.Attrs.Bias || rep.Attrs.KH != 3 || rep.Attrs.Pad != 1 || !rep.Attrs.Bias {
				t.Errorf("%s %s: wrong kernel/pad/bias", name, block)
			}
			if hasID := g.Node(block+".rbr_identity") != nil; hasID != (cin == cout && stride == 1) {
				t.Errorf("%s %s: identity branch %v", name, block, hasID)
			}
			for _, gr := range []*ir.Graph{g, d} {
				if se := gr.Node(block+".se.down") != nil; se != c.se {
					t.Errorf("%s %s: SE %v", name, block, se)
				}
			}
			if c.se {
				down, up := g.Node(block+".se.down"), g.Node(block+".se.up")
				if down.Out.Shape.C != cout/16 || up.Out.Shape.C != cout || !down.Attrs.Bias || !up.Attrs.Bias {
					t.Errorf("%s %s: SE shapes %v %v", name, block, down.Out.Shape, up.Out.Shape)
				}
				// SE sits between the add and the ReLU.
				if r := g.Node(block + ".relu"); r.In[0].Producer.Name != block+".se.mul" || g.Node(block + ".se.gap").In[0].Producer.Name != block+".add" {
					t.Errorf("%s %s: SE not between add and relu", name, block)
				}
			}
		}
		check("stage0", 3, in, 2, 1)
		idx := 1
		for st := range 4 {
			planes := int(float64([]int{64, 128, 256, 512}[st]) * mult[st])
			for i := range c.blocks[st] {
				stride, groups := 1, 1
				if i == 0 {
					stride = 2
				}
				if c.groups > 1 && idx%2 == 0 && idx <= 26 {
					groups = c.groups
				}
				check(fmt.Sprintf("stage%d.%d", st+1, i), in, planes, stride, groups)
				in = planes
				idx++
			}
		}
		if lin := g.Node("linear"); lin.In[0].Shape.C != in || lin.Out.Shape.C != 1000 {
			t.Errorf("%s linear %v→%v", name, lin.In[0].Shape, lin.Out.Shape)
		}
		if out := g.Output.Producer; out.Name != "linear" || g.Node("gap") == nil || g.Node("flatten") == nil {
			t.Errorf("%s: head is not gap, flatten, linear", name)
		}
	}
}

// TestVGG16AnySize checks VGG-16 away from 224: torchvision's AdaptiveAvgPool2d((7, 7)) is
// in the graph exactly when the last feature map is not 7×7, the classifier always reads
// 512·7·7 = 25088 features, so parameters and state_dict keys (with their shapes) never
// change, and the MACs are the hand-computed ones.
//
// Conv MACs at 32×32 (padding 1, so each conv keeps its input's size), H·W·Cout·Cin·9:
//
//	32×32: 1024·64·3·9 + 1024·64·64·9                = 1,769,472 + 37,748,736   =  39,518,208
//	16×16: 256·128·64·9 + 256·128·128·9              = 18,874,368 + 37,748,736  =  56,623,104
//	 8×8:  64·256·128·9 + 2·64·256·256·9             = 18,874,368 + 75,497,472  =  94,371,840
//	 4×4:  16·512·256·9 + 2·16·512·512·9             = 18,874,368 + 75,497,472  =  94,371,840
//	 2×2:  3·4·512·512·9                                                         =  28,311,552
//	                                                                       total = 313,196,544
//
// and the classifier 25088·4096 + 4096·4096 + 4096·1000 = 102,760,448 + 16,777,216 +
// 4,096,000 = 123,633,664, whatever the input. For a side of 32·k every conv sees k² times
// the pixels, so conv MACs are k²·313,196,544: at 224 (k = 7) that gives torchvision's
// 15,470,264,320.
func TestVGG16AnySize(t *testing.T) {
	const convMACs32, fcMACs = 313_196_544, 123_633_664
	ref := mustBuild(t, "vgg16", models.Options{})
	for _, c := range []struct {
		h, w  int
		pool  bool  // the adaptive pool is in the graph
		last  int   // side of the last feature map
		macs  int64 // 0: not checked
		scale int64
	}{
		{32, 32, true, 1, 436_830_208, 1},
		{64, 64, true, 2, 1_376_419_840, 4},
		{320, 320, true, 10, 31_443_288_064, 100},
		{224, 224, false, 7, 15_470_264_320, 49},
		{255, 255, false, 7, 0, 0},
		{256, 256, true, 8, 0, 64},
		{32, 320, true, 0, 0, 10},
	} {
		g := mustBuild(t, "vgg16", models.Options{InputH: c.h, InputW: c.w})
		if got := g.Params(); got != 138_357_544 {
			t.Errorf("%dx%d: params %d, want 138,357,544", c.h, c.w, got)
		}
		pool := g.Node("avgpool")
		if (pool != nil) != c.pool {
			t.Errorf("%dx%d: avgpool present = %v, want %v", c.h, c.w, pool != nil, c.pool)
		}
		if pool != nil {
			if pool.Op != ir.AdaptiveAvgPool || pool.Out.Shape != (ir.Shape{C: 512, H: 7, W: 7}) || pool.In[0].Producer.Name != "features.30" {
				t.Errorf("%dx%d: avgpool %s %v after %s", c.h, c.w, pool.Op, pool.Out.Shape, pool.In[0].Producer.Name)
			}
		}
		if s := g.Node("features.30").Out.Shape; c.last > 0 && s != (ir.Shape{C: 512, H: c.last, W: c.last}) {
			t.Errorf("%dx%d: last feature map %v, want %dx%d", c.h, c.w, s, c.last, c.last)
		}
		if in := g.Node("classifier.0").In[0].Shape; in != (ir.Shape{C: 25088, H: 1, W: 1}) {
			t.Errorf("%dx%d: classifier input %v", c.h, c.w, in)
		}
		if c.macs != 0 && g.MACs() != c.macs {
			t.Errorf("%dx%d: MACs %d, want %d", c.h, c.w, g.MACs(), c.macs)
		}
		if c.scale != 0 && g.MACs() != c.scale*convMACs32+fcMACs {
			t.Errorf("%dx%d: MACs %d, want %d·%d + %d", c.h, c.w, g.MACs(), c.scale, convMACs32, fcMACs)
		}
		// Checkpoints load at any size: the same keys with the same shapes as at 224.
		if !slices.Equal(models.Keys(g), models.Keys(ref)) {
			t.Errorf("%dx%d: keys differ from 224's", c.h, c.w)
		}
		for _, n := range ref.Nodes {
			if m := g.Node(n.Name); m == nil || !reflect.DeepEqual(m.ParamSpecs(), n.ParamSpecs()) {
				t.Errorf("%dx%d: %s's parameters differ from 224's", c.h, c.w, n.Name)
			}
		}
		// Both forms are the same graph.
		if d, err := models.BuildDeploy("vgg16", models.Options{InputH: c.h, InputW: c.w}); err != nil || d.String() != g.String() {
			t.Errorf("%dx%d: deploy form differs: %v", c.h, c.w, err)
		}
	}
}

// TestDeployMatchesTrain checks the structural oracle: the deploy graph is the train graph
// with every RepVGG block's branches (or every conv+BN pair) collapsed to one conv with
// bias, in the same order and with the same shapes.
func TestDeployMatchesTrain(t *testing.T) {
	for _, name := range models.Names() {
		g := mustBuild(t, name, models.Options{InputH: 64, InputW: 96, NumClasses: 10})
		d, err := models.Build(name, models.Options{InputH: g.Input().Shape.H, InputW: g.Input().Shape.W, NumClasses: 10, Deploy: true})
		if err != nil {
			t.Fatal(err)
		}
		var collapsed []string
		for _, n := range g.Nodes {
			switch {
			case n.Op == ir.BatchNorm, strings.Contains(n.Name, ".rbr_1x1."), strings.HasSuffix(n.Name, ".add") && strings.HasPrefix(n.Name, "stage"):
				continue
			case strings.HasSuffix(n.Name, ".rbr_dense.conv"):
				a := n.Attrs
				a.Bias = true
				collapsed = append(collapsed, strings.TrimSuffix(n.Name, ".rbr_dense.conv")+".rbr_reparam "+describeNode(n.Op, a, n.Out.Shape))
			case n.Op == ir.Conv:
				a := n.Attrs
				a.Bias = true
				collapsed = append(collapsed, n.Name+" "+describeNode(n.Op, a, n.Out.Shape))
			default:
				collapsed = append(collapsed, n.Name+" "+describeNode(n.Op, n.Attrs, n.Out.Shape))
			}
		}
		var got []string
		for _, n := range d.Nodes {
			got = append(got, n.Name+" "+describeNode(n.Op, n.Attrs, n.Out.Shape))
		}
		if strings.Join(got, "\n") != strings.Join(collapsed, "\n") {
			t.Errorf("%s: deploy graph is not the collapsed train graph:\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(collapsed, "\n"))
		}
	}
}

func describeNode(op ir.Op, a ir.Attrs, s ir.Shape) string {
	return fmt.Sprintf("%s %s %+v", op, s, a)
}

// TestResNetStructure spot-checks torchvision's layout.
func TestResNetStructure(t *testing.T) {
	g := mustBuild(t, "ResNet-50", models.Options{})
	for name, want := range map[string]string{
		"conv1":                 "3→64 k7 s2 p3",
		"layer1.0.conv1":        "64→64 k1 s1 p0",
		"layer1.0.conv3":        "64→256 k1 s1 p0",
		"layer1.0.downsample.0": "64→256 k1 s1 p0",
		"layer2.0.conv1":        "256→128 k1 s1 p0",
		"layer2.0.conv2":        "128→128 k3 s2 p1", // v1.5: stride on the 3x3
		"layer2.0.downsample.0": "256→512 k1 s2 p0",
		"layer4.2.conv3":        "512→2048 k1 s1 p0",
	} {
		n := g.Node(name)
		if n == nil {
			t.Errorf("no node %s", name)
			continue
		}
		a := n.Attrs
		got := fmt.Sprintf("%d→%d k%d s%d p%d", n.In[0].Shape.C, n.Out.Shape.C, a.KH, a.Stride, a.Pad)
		if got != want || a.Bias {
			t.Errorf("%s: %s bias=%v, want %s", name, got, a.Bias, want)
		}
	}
	if g.Node("layer1.1.downsample.0") != nil || g.Node("maxpool").Out.Shape != (ir.Shape{C: 64, H: 56, W: 56}) {
		t.Error("wrong downsample placement or maxpool shape")
	}
	r18 := mustBuild(t, "resnet18", models.Options{})
	if r18.Node("layer1.0.downsample.0") != nil || r18.Node("layer2.0.downsample.0") == nil {
		t.Error("ResNet-18 downsample placement")
	}
	if s := r18.Node("fc").In[0].Shape; s.C != 512 {
		t.Errorf("ResNet-18 fc input %v", s)
	}
}

func TestOptions(t *testing.T) {
	g := mustBuild(t, "a0", models.Options{InputH: 320, NumClasses: 7})
	if s := g.Input().Shape; s != (ir.Shape{C: 3, H: 320, W: 320}) {
		t.Errorf("input %v", s)
	}
	if g.Output.Shape.C != 7 {
		t.Errorf("classes %d", g.Output.Shape.C)
	}
	g = mustBuild(t, "resnet34", models.Options{InputH: 33, InputW: 65})
	if s := g.Node("layer4.2.relu").Out.Shape; s != (ir.Shape{C: 512, H: 2, W: 3}) {
		t.Errorf("odd input: layer4 %v", s)
	}
	for _, o := range []models.Options{{InputH: 31}, {InputH: 32, InputW: 31}, {InputH: 1}} {
		if _, err := models.Build("vgg16", o); err == nil || !strings.Contains(err.Error(), "too small: its five 2x2 max pools need at least 32 pixels per side") {
			t.Errorf("VGG-16 at %dx%d: %v", o.InputH, o.InputW, err)
		}
	}
	if _, err := models.Build("vgg16", models.Options{InputH: 255, InputW: 224}); err != nil {
		t.Errorf("VGG-16 at 255x224: %v", err)
	}
	for _, n := range []string{"a0", "resnet18", "vgg16"} {
		for _, o := range []models.Options{{InputH: 100000}, {InputW: -3}, {NumClasses: -1}, {NumClasses: 1 << 30}} {
			if _, err := models.Build(n, o); err == nil {
				t.Errorf("%s: options %+v accepted", n, o)
			}
		}
	}
	// Tiny inputs still give a valid graph: every stride-2 conv with padding 1 keeps ≥ 1 pixel.
	mustBuild(t, "b1g4", models.Options{InputH: 1, InputW: 1})
	mustBuild(t, "resnet152", models.Options{InputH: 1, InputW: 1})
}

// TestZooBuildsWithoutWeights checks that building the whole zoo in both forms allocates no
// weights (speed is measured by BenchmarkBuildZoo, not asserted).
func TestZooBuildsWithoutWeights(t *testing.T) {
	for _, n := range models.Names() {
		for _, dep := range []bool{false, true} {
			g := mustBuild(t, n, models.Options{Deploy: dep})
			for _, nd := range g.Nodes {
				if nd.Params != nil {
					t.Fatalf("%s: %s has parameters", n, nd.Name)
				}
			}
		}
	}
}

func BenchmarkBuildZoo(b *testing.B) {
	for b.Loop() {
		for _, n := range models.Names() {
			if _, err := models.Build(n, models.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}
