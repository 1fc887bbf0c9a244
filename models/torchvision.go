package models

import (
	"fmt"

	"github.com/vggsim/vggsim/ir"
)

// convBN adds torchvision's conv (no bias) + BatchNorm pair, or in the deploy form one conv
// with bias under the conv's name (the BN folded into it).
func convBN(b *ir.Builder, conv, bn string, x *ir.Value, cout, k, stride, pad int, deploy bool) *ir.Value {
	if deploy {
		return b.Conv(conv, x, cout, k, stride, pad, 1, true)
	}
	return b.BatchNorm(bn, b.Conv(conv, x, cout, k, stride, pad, 1, false), bnEps)
}

// resnetBuilder returns the builder of torchvision's resnet18/34 (BasicBlock) or
// resnet50/101/152 (Bottleneck, "ResNet v1.5": stride on the 3x3 conv) with the given
// blocks per layer. Node names are torchvision's module names (conv1, bn1, layer1.0.conv1,
// layer1.0.downsample.0/1, fc) plus relu, maxpool, layerK.i.{relu1,relu2,add,relu}, avgpool
// and flatten for the parameter-free steps.
func resnetBuilder(name string, bottleneck bool, layers [4]int) func(Options) (*ir.Graph, error) {
	return func(opts Options) (*ir.Graph, error) {
		if err := opts.check(name); err != nil {
			return nil, err
		}
		o := opts.resolved(0, 0, 0)
		if err := checkOptions(name, o); err != nil {
			return nil, err
		}
		expansion := 1
		if bottleneck {
			expansion = 4
		}
		b := ir.NewBuilder(name, ir.Shape{C: 3, H: o.InputH, W: o.InputW})
		x := convBN(b, "conv1", "bn1", b.Input(), 64, 7, 2, 3, o.Deploy)
		x = b.ReLU("relu", x)
		x = b.MaxPool("maxpool", x, 3, 2, 1)
		inplanes := 64
		for l, n := range layers {
			planes := 64 << l
			for i := range n {
				stride := 1
				if i == 0 && l > 0 {
					stride = 2
				}
				p := fmt.Sprintf("layer%d.%d.", l+1, i)
				in := x
				var y *ir.Value
				if bottleneck {
					y = b.ReLU(p+"relu1", convBN(b, p+"conv1", p+"bn1", in, planes, 1, 1, 0, o.Deploy))
					y = b.ReLU(p+"relu2", convBN(b, p+"conv2", p+"bn2", y, planes, 3, stride, 1, o.Deploy))
					y = convBN(b, p+"conv3", p+"bn3", y, planes*expansion, 1, 1, 0, o.Deploy)
				} else {
					y = b.ReLU(p+"relu1", convBN(b, p+"conv1", p+"bn1", in, planes, 3, stride, 1, o.Deploy))
					y = convBN(b, p+"conv2", p+"bn2", y, planes, 3, 1, 1, o.Deploy)
				}
				identity := in
				if stride != 1 || inplanes != planes*expansion {
					identity = convBN(b, p+"downsample.0", p+"downsample.1", in, planes*expansion, 1, stride, 0, o.Deploy)
				}
				x = b.ReLU(p+"relu", b.Add(p+"add", y, identity))
				inplanes = planes * expansion
			}
		}
		x = b.GlobalAvgPool("avgpool", x)
		x = b.Flatten("flatten", x)
		return b.Finish(b.Linear("fc", x, o.NumClasses))
	}
}

// vgg16Config is torchvision's cfgs["D"]: conv widths, 0 for a 2x2 max pool.
var vgg16Config = []int{64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0}

const (
	vgg16Pool     = 7  // the output size of torchvision VGG's AdaptiveAvgPool2d
	vgg16MinInput = 32 // 2^5: the smallest side the five 2x2 max pools reduce to one pixel
)

// buildVGG16 builds torchvision's vgg16 (no batch norm, so its train and deploy forms are the
// same graph). Node names are the module indices: features.0 (conv), features.1 (relu),
// features.4 (maxpool), …, avgpool, flatten, classifier.0/1 (linear, relu), classifier.3/4,
// classifier.6; the dropouts (classifier.2, .5) are identities in eval and omitted.
// torchvision's AdaptiveAvgPool2d((7, 7)) is the identity when the last feature map is 7×7
// (inputs of 224–255 pixels per side) and is then omitted; at any other size it is an
// AdaptiveAvgPool to 7×7, so the classifier always reads 512·7·7 = 25088 features and the
// parameters do not depend on the input size. The five 2×2 max pools need at least 32
// pixels per side.
func buildVGG16(opts Options) (*ir.Graph, error) {
	const name = "VGG-16"
	if err := opts.check(name); err != nil {
		return nil, err
	}
	o := opts.resolved(0, 0, 0)
	if err := checkOptions(name, o); err != nil {
		return nil, err
	}
	if o.InputH < vgg16MinInput || o.InputW < vgg16MinInput {
		return nil, fmt.Errorf("model %s: input %dx%d too small: its five 2x2 max pools need at least %d pixels per side",
			name, o.InputH, o.InputW, vgg16MinInput)
	}
	b := ir.NewBuilder(name, ir.Shape{C: 3, H: o.InputH, W: o.InputW})
	x := b.Input()
	idx := 0
	for _, c := range vgg16Config {
		if c == 0 {
			x = b.MaxPool(fmt.Sprintf("features.%d", idx), x, 2, 2, 0)
			idx++
			continue
		}
		x = b.Conv(fmt.Sprintf("features.%d", idx), x, c, 3, 1, 1, 1, true)
		x = b.ReLU(fmt.Sprintf("features.%d", idx+1), x)
		idx += 2
	}
	if x.Shape.H != vgg16Pool || x.Shape.W != vgg16Pool {
		x = b.AdaptiveAvgPool("avgpool", x, vgg16Pool, vgg16Pool)
	}
	x = b.Flatten("flatten", x)
	x = b.ReLU("classifier.1", b.Linear("classifier.0", x, 4096))
	x = b.ReLU("classifier.4", b.Linear("classifier.3", x, 4096))
	return b.Finish(b.Linear("classifier.6", x, o.NumClasses))
}
