package onnx_test

import (
	"fmt"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/onnx"
)

// A graph with weights goes to ONNX bytes and comes back as the same graph.
func Example() {
	b := ir.NewBuilder("tiny", ir.Shape{C: 3, H: 8, W: 8})
	x := b.ReLU("relu", b.Conv("conv", b.Input(), 4, 3, 1, 1, 1, true))
	y := b.Linear("fc", b.Flatten("flatten", b.GlobalAvgPool("gap", x)), 2)
	g, err := b.Finish(y)
	if err != nil {
		panic(err)
	}
	models.InitWeights(g, 1)
	data, err := onnx.Encode(g)
	if err != nil {
		panic(err)
	}
	back, err := onnx.Read(data, onnx.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Print(back)
	fmt.Println(back.String() == g.String())
	// Output:
	// graph "tiny"
	// %0 = input : 3x8x8
	// %1 = conv[k=3x3 s=1 p=1 g=1 bias] %0 @conv : 4x8x8
	// %2 = relu %1 @relu : 4x8x8
	// %3 = gap %2 @gap : 4x1x1
	// %4 = flatten %3 @flatten : 4x1x1
	// %5 = linear %4 @fc : 2x1x1
	// return %5
	// true
}
