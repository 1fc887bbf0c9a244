package models_test

import (
	"fmt"

	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/tensor"
)

// The counts of RepVGG-A0 in both forms at 224×224: the deploy row is the paper's
// 8.30 M params and 1.4 G FLOPs (multiply-accumulates).
func ExampleCount() {
	train, _ := models.Build("RepVGG-A0", models.Options{})
	deploy, _ := models.BuildDeploy("a0", models.Options{})
	for _, g := range []struct {
		form string
		c    models.Counts
	}{{"train", models.Count(train)}, {"deploy", models.Count(deploy)}} {
		fmt.Printf("%-6s params %d, MACs %d, convs %d\n", g.form, g.c.Params, g.c.MACs, g.c.ConvLayers)
	}
	// Output:
	// train  params 9108968, MACs 1512581120, convs 44
	// deploy params 8309384, MACs 1361451008, convs 22
}

func ExampleBuild() {
	g, _ := models.Build("resnet18", models.Options{InputH: 32, NumClasses: 10})
	fmt.Println(g.Name, g.Input().Shape, "→", g.Output.Shape.C, "classes")
	fmt.Println(g.Node("layer2.0.downsample.0").Attrs.Stride)
	_, err := models.Build("RepVGG-B4", models.Options{})
	fmt.Println(err)
	// Output:
	// ResNet-18 3x32x32 → 10 classes
	// 2
	// unknown model "RepVGG-B4" (did you mean RepVGG-B0? run `vggsim models` for the list, or give a .yaml model file)
}

func ExampleParseSpec() {
	src := []byte(`num_blocks: [1, 2, 2, 1]
width_multiplier: [0.125, 0.125, 0.125, 0.0625]
override_groups_map: {2: 2, 3: 2, 7: 2}
num_classes: 10
`)
	_, err := models.ParseSpec("tiny.yaml", src)
	fmt.Println(err)
	// Output:
	// tiny.yaml:3:35: override_groups_map[7]: block 7 does not exist; valid indices are 1..6 (stage1 1, stage2 2..3, stage3 4..5, stage4 6)
}

func ExampleBind() {
	g, _ := models.Resolve("testdata/tiny_repvgg.yaml", models.Options{})
	src, _ := models.Resolve("testdata/tiny_repvgg.yaml", models.Options{})
	models.InitWeights(src, 1)
	keys, tensors := models.Unbind(src)
	fmt.Println(len(keys), keys[0], models.Bind(g, keys, tensors))

	tensors["stage0.rbr_dense.conv.weight"] = tensor.New(6, 3, 3, 3)
	fmt.Println(models.BindWith(g, keys[1:], tensors, models.BindOptions{Source: "ckpt.pth"}))
	// Output:
	// 96 stage0.rbr_dense.conv.weight <nil>
	// checkpoint ckpt.pth does not match tiny_repvgg: 1 missing (stage0.rbr_dense.conv.weight)
}

// Zoo names match case-insensitively, with or without the "RepVGG-" prefix.
func ExampleCanonicalName() {
	for _, n := range []string{"a0", "repvgg_b1g4", "ResNet50", "vgg16"} {
		c, _ := models.CanonicalName(n)
		fmt.Println(n, "→", c)
	}
	// Output:
	// a0 → RepVGG-A0
	// repvgg_b1g4 → RepVGG-B1g4
	// ResNet50 → ResNet-50
	// vgg16 → VGG-16
}

// A custom RepVGG from the YAML of the reference constructor's arguments, in both forms.
func ExampleSpec_Build() {
	spec, err := models.ParseSpec("mine.yaml", []byte(`family: repvgg
num_blocks: [2, 1, 3, 1]
width_multiplier: [0.25, 0.25, 0.25, 0.125]
override_groups_map: {2: 4, 5: 4}
num_classes: 7
use_se: false
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	train, _ := spec.Build(models.Options{InputH: 64})
	deploy, _ := spec.BuildDeploy(models.Options{InputH: 64})
	fmt.Println(train.Name, train.Input().Shape, "→", train.Output.Shape.C, "classes")
	fmt.Println(train.Node("stage1.1.rbr_dense.conv").Attrs.Groups, train.Node("stage3.1.rbr_dense.conv").Attrs.Groups)
	fmt.Println("train", models.Count(train).Params, "params; deploy", models.Count(deploy).Params)
	// Output:
	// mine 3x64x64 → 7 classes
	// 4 4
	// train 123527 params; deploy 110087
}

// InitWeights fills every parameter from a seed, reproducibly; Unbind lists them as a
// state dict in the reference's key order.
func ExampleInitWeights() {
	g, _ := models.Build("RepVGG-A0", models.Options{InputH: 32, NumClasses: 10})
	models.InitWeights(g, 42)
	keys, tensors := models.Unbind(g)
	fmt.Println(len(keys), "tensors; first", keys[0], tensors[keys[0]])
	fmt.Println(keys[len(keys)-2], tensors[keys[len(keys)-2]])
	// Output:
	// 351 tensors; first stage0.rbr_dense.conv.weight float32[48x3x3x3]
	// linear.weight float32[10x1280]
}
