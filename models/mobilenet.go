package models

import (
	"fmt"

	"github.com/vggsim/vggsim/ir"
)

// mobileNetV2Config is torchvision's inverted_residual_setting for width 1.0: expansion t,
// output channels c, repeats n, first stride s.
var mobileNetV2Config = [][4]int{
	{1, 16, 1, 1},
	{6, 24, 2, 2},
	{6, 32, 3, 2},
	{6, 64, 4, 2},
	{6, 96, 3, 1},
	{6, 160, 3, 2},
	{6, 320, 1, 1},
}

// convBNAct adds torchvision's Conv2dNormActivation with ReLU6 under prefix p: the conv
// p.0 (no bias), the BatchNorm p.1 and the ReLU6 p.2; in the deploy form the conv p.0 has a
// bias and the BatchNorm is gone. Padding is (k−1)/2, as torchvision computes it.
func convBNAct(b *ir.Builder, p string, x *ir.Value, cout, k, stride, groups int, deploy bool) *ir.Value {
	pad := (k - 1) / 2
	var y *ir.Value
	if deploy {
		y = b.Conv(p+".0", x, cout, k, stride, pad, groups, true)
	} else {
		y = b.BatchNorm(p+".1", b.Conv(p+".0", x, cout, k, stride, pad, groups, false), bnEps)
	}
	return b.ReLU6(p+".2", y)
}

// buildMobileNetV2 builds torchvision's mobilenet_v2 (width 1.0): a 3×3 stride-2 stem of 32
// channels, 17 inverted residual blocks (1×1 expansion with ReLU6 unless t = 1, 3×3
// depthwise with ReLU6, linear 1×1 projection; a residual add when the stride is 1 and the
// channels agree), a 1×1 conv to 1280 channels, global average pooling and the classifier.
// Node names are torchvision's module names (features.0.0, features.3.conv.1.0,
// classifier.1, …) plus features.N.add, avgpool and flatten for the parameter-free steps;
// the dropout before the classifier is an identity in eval and omitted. At 224×224 it has
// 3,504,872 parameters and 300,774,272 multiply-accumulates (torchvision: 3.5 M, 0.30 GMAC).
func buildMobileNetV2(opts Options) (*ir.Graph, error) {
	const name = "MobileNetV2"
	if err := opts.check(name); err != nil {
		return nil, err
	}
	o := opts.resolved(0, 0, 0)
	if err := checkOptions(name, o); err != nil {
		return nil, err
	}
	b := ir.NewBuilder(name, ir.Shape{C: 3, H: o.InputH, W: o.InputW})
	x := convBNAct(b, "features.0", b.Input(), 32, 3, 2, 1, o.Deploy)
	in, idx := 32, 1
	for _, st := range mobileNetV2Config {
		t, c, n, s := st[0], st[1], st[2], st[3]
		for i := range n {
			stride := 1
			if i == 0 {
				stride = s
			}
			p := fmt.Sprintf("features.%d.", idx)
			hidden := in * t
			y := x
			j := 0
			if t != 1 {
				y = convBNAct(b, fmt.Sprintf("%sconv.%d", p, j), y, hidden, 1, 1, 1, o.Deploy)
				j++
			}
			y = convBNAct(b, fmt.Sprintf("%sconv.%d", p, j), y, hidden, 3, stride, hidden, o.Deploy)
			j++
			if o.Deploy {
				y = b.Conv(fmt.Sprintf("%sconv.%d", p, j), y, c, 1, 1, 0, 1, true)
			} else {
				y = b.Conv(fmt.Sprintf("%sconv.%d", p, j), y, c, 1, 1, 0, 1, false)
				y = b.BatchNorm(fmt.Sprintf("%sconv.%d", p, j+1), y, bnEps)
			}
			if stride == 1 && in == c {
				y = b.Add(p+"add", x, y)
			}
			x, in = y, c
			idx++
		}
	}
	x = convBNAct(b, fmt.Sprintf("features.%d", idx), x, 1280, 1, 1, 1, o.Deploy)
	x = b.GlobalAvgPool("avgpool", x)
	x = b.Flatten("flatten", x)
	return b.Finish(b.Linear("classifier.1", x, o.NumClasses))
}
