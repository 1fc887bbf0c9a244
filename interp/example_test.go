package interp_test

import (
	"fmt"

	"github.com/vggsim/vggsim/interp"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

// A 3×3 box-sum convolution, ReLU, global average pool and a two-output linear layer on a
// batch of one 1×3×3 image.
func Example() {
	b := ir.NewBuilder("example", ir.Shape{C: 1, H: 3, W: 3})
	conv := b.Conv("conv", b.Input(), 1, 3, 1, 1, 1, false)
	act := b.ReLU("relu", conv)
	logits := b.Linear("fc", b.Flatten("flatten", b.GlobalAvgPool("gap", act)), 2)
	g, err := b.Finish(logits)
	if err != nil {
		fmt.Println(err)
		return
	}
	ones := tensor.New(1, 1, 3, 3)
	for i := range ones.F32 {
		ones.F32[i] = 1
	}
	g.Node("conv").Params = map[string]*tensor.Tensor{"weight": ones}
	g.Node("fc").Params = map[string]*tensor.Tensor{
		"weight": tensor.FromF32([]float32{1, -1}, 2, 1),
		"bias":   tensor.FromF32([]float32{0, 0.5}, 2),
	}

	x := tensor.FromF32([]float32{-4, -3, -2, -1, 0, 1, 2, 3, 4}, 1, 1, 3, 3)
	vals, err := interp.RunAll(g, x)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("conv:", vals[conv.ID].F32)
	fmt.Println("relu:", vals[act.ID].F32)
	y := interp.Flat2D(vals[logits.ID]) // [1, 2, 1, 1] viewed as [1, 2]
	fmt.Printf("logits %v: %.4f\n", y.Shape, y.F32)
	// Output:
	// conv: [-8 -9 -4 -3 0 3 4 9 8]
	// relu: [0 0 0 0 0 3 4 9 8]
	// logits [1 2]: [2.6667 -2.1667]
}
