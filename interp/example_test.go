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

// Run takes a batch of any size: here two 1×2×2 images through a BatchNorm, a ReLU and a
// 2×2 max pool. BatchNorm computes (x − mean) / sqrt(var + eps) · gamma + beta.
func ExampleRun() {
	b := ir.NewBuilder("bn-relu-pool", ir.Shape{C: 1, H: 2, W: 2})
	y := b.MaxPool("pool", b.ReLU("relu", b.BatchNorm("bn", b.Input(), 1e-5)), 2, 2, 0)
	g, err := b.Finish(y)
	if err != nil {
		fmt.Println(err)
		return
	}
	g.Node("bn").Params = map[string]*tensor.Tensor{
		"weight":       tensor.FromF32([]float32{2}, 1),
		"bias":         tensor.FromF32([]float32{1}, 1),
		"running_mean": tensor.FromF32([]float32{0.5}, 1),
		"running_var":  tensor.FromF32([]float32{4 - 1e-5}, 1),
	}
	x := tensor.FromF32([]float32{-3, 0.5, 1.5, 2.5, 4.5, -1, 0, 0}, 2, 1, 2, 2)
	out, err := interp.Run(g, x)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.Shape, out.F32)

	_, err = interp.Run(g, tensor.New(1, 3, 2, 2))
	fmt.Println(err)
	// Output:
	// [2 1 1 1] [3 5]
	// interp: graph bn-relu-pool: input shape 1x3x2x2, want Nx1x2x2
}
