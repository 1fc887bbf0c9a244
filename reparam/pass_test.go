package reparam

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/internal/golden"
	"github.com/vggsim/vggsim/ir"
)

// Pass tests in the IR text form: for each small graph, testdata/passes/NAME.ir holds the
// input and then the graph after each pass of the table, every pass run alone on the text
// the previous section holds (parsed back, so a pass sees only what the text carries).
// Refresh with go test -update; review the diff like code.

// trainBlock adds a train-form RepVGG block, as models builds it, its nodes named
// name.rbr_dense.conv and so on (rbr_dense.conv when name is "").
func trainBlock(b *ir.Builder, name string, x *ir.Value, cout, stride, groups int) *ir.Value {
	at := func(node string) string {
		if name == "" {
			return node
		}
		return name + "." + node
	}
	d := b.BatchNorm(at("rbr_dense.bn"), b.Conv(at("rbr_dense.conv"), x, cout, 3, stride, 1, groups, false), 1e-5)
	o := b.BatchNorm(at("rbr_1x1.bn"), b.Conv(at("rbr_1x1.conv"), x, cout, 1, stride, 0, groups, false), 1e-5)
	sum := []*ir.Value{d, o}
	if x.Shape.C == cout && stride == 1 {
		sum = append(sum, b.BatchNorm(at("rbr_identity"), x, 1e-5))
	}
	return b.ReLU(at("relu"), b.Add(at("add"), sum...))
}

// convBN adds torchvision's conv (no bias) + BatchNorm.
func convBN(b *ir.Builder, name string, x *ir.Value, cout, k, stride, pad int) *ir.Value {
	return b.BatchNorm(name+".bn", b.Conv(name+".conv", x, cout, k, stride, pad, 1, false), 1e-5)
}

var passCases = []struct {
	name  string
	build func(b *ir.Builder) *ir.Value
	in    ir.Shape
}{
	{"block_s1_g1", func(b *ir.Builder) *ir.Value { return trainBlock(b, "stage1.1", b.Input(), 8, 1, 1) }, ir.Shape{C: 8, H: 6, W: 6}},
	{"block_s1_g2", func(b *ir.Builder) *ir.Value { return trainBlock(b, "stage1.1", b.Input(), 8, 1, 2) }, ir.Shape{C: 8, H: 6, W: 6}},
	{"block_s2_8to16", func(b *ir.Builder) *ir.Value { return trainBlock(b, "stage2.0", b.Input(), 16, 2, 1) }, ir.Shape{C: 8, H: 7, W: 7}},
	{"resnet_basic", func(b *ir.Builder) *ir.Value {
		// torchvision BasicBlock with the identity shortcut: BN folding only, the add stays.
		x := b.Input()
		y := b.ReLU("layer1.0.relu1", convBN(b, "layer1.0.1", x, 8, 3, 1, 1))
		y = convBN(b, "layer1.0.2", y, 8, 3, 1, 1)
		return b.ReLU("layer1.0.relu", b.Add("layer1.0.add", y, x))
	}, ir.Shape{C: 8, H: 6, W: 6}},
	{"resnet_basic_downsample", func(b *ir.Builder) *ir.Value {
		// BasicBlock with a strided 1x1 shortcut: a conv of another input, so pad-1x1 and
		// merge-branches leave it alone.
		x := b.Input()
		y := b.ReLU("layer2.0.relu1", convBN(b, "layer2.0.1", x, 16, 3, 2, 1))
		y = convBN(b, "layer2.0.2", y, 16, 3, 1, 1)
		s := convBN(b, "layer2.0.downsample", x, 16, 1, 2, 0)
		return b.ReLU("layer2.0.relu", b.Add("layer2.0.add", y, s))
	}, ir.Shape{C: 8, H: 7, W: 7}},
	{"vgg_bn", func(b *ir.Builder) *ir.Value {
		x := b.ReLU("features.2", convBN(b, "features.0", b.Input(), 8, 3, 1, 1))
		x = b.ReLU("features.5", convBN(b, "features.3", x, 8, 3, 1, 1))
		return b.MaxPool("features.6", x, 2, 2, 0)
	}, ir.Shape{C: 3, H: 8, W: 8}},
	{"vgg_bn_adaptive_head", func(b *ir.Builder) *ir.Value {
		// torchvision's VGG head below 224: the BN folds, the adaptive pool (2x2 → 3x3,
		// overlapping windows) passes through every pass unchanged.
		x := b.ReLU("features.2", convBN(b, "features.0", b.Input(), 8, 3, 1, 1))
		x = b.MaxPool("features.3", x, 2, 2, 0)
		x = b.AdaptiveAvgPool("avgpool", x, 3, 3)
		return b.Linear("classifier.0", b.Flatten("flatten", x), 10)
	}, ir.Shape{C: 3, H: 4, W: 4}},
}

func TestPassesGolden(t *testing.T) {
	for _, c := range passCases {
		t.Run(c.name, func(t *testing.T) {
			b := ir.NewBuilder(c.name, c.in)
			g, err := b.Finish(c.build(b))
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			text := g.String()
			fmt.Fprintf(&out, "# input\n%s", text)
			for _, p := range Passes {
				g, err := ir.Parse(c.name+".ir", strings.NewReader(text))
				if err != nil {
					t.Fatalf("before %s: %v", p.Name, err)
				}
				if err := p.Run(NewState(g)); err != nil {
					t.Fatalf("%s: %v", p.Name, err)
				}
				g.Renumber()
				if err := ir.Verify(g); err != nil {
					t.Fatalf("after %s: %v", p.Name, err)
				}
				text = g.String()
				fmt.Fprintf(&out, "\n# after %s: %s\n%s", p.Name, p.Doc, text)
			}
			golden.Check(t, "passes/"+c.name+".ir", []byte(out.String()))

			// The table run by Deploy gives the same final text.
			d, err := Deploy(g, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d.String() != text {
				t.Errorf("Deploy:\n%s\nwant (the passes one by one):\n%s", d, text)
			}
		})
	}
}
