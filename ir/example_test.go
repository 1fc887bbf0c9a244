package ir_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/vggsim/vggsim/ir"
)

// A train-form RepVGG block (conv3x3+BN ∥ conv1x1+BN ∥ BN, add, ReLU) and a classifier
// head, built with shape inference, counted and printed in the text form.
func ExampleBuilder() {
	b := ir.NewBuilder("block", ir.Shape{C: 8, H: 16, W: 16})
	x := b.Input()
	d := b.BatchNorm("rbr_dense.bn", b.Conv("rbr_dense.conv", x, 8, 3, 1, 1, 2, false), 1e-5)
	o := b.BatchNorm("rbr_1x1.bn", b.Conv("rbr_1x1.conv", x, 8, 1, 1, 0, 2, false), 1e-5)
	id := b.BatchNorm("rbr_identity", x, 1e-5)
	y := b.ReLU("relu", b.Add("add", d, o, id))
	g, err := b.Finish(b.Linear("linear", b.Flatten("flatten", b.GlobalAvgPool("gap", y)), 10))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("params", g.Params(), "MACs", g.MACs())
	ir.Print(os.Stdout, g)
	// Output:
	// params 458 MACs 82000
	// graph "block"
	// %0 = input : 8x16x16
	// %1 = conv[k=3x3 s=1 p=1 g=2] %0 @rbr_dense.conv : 8x16x16
	// %2 = batchnorm[eps=1e-05] %1 @rbr_dense.bn : 8x16x16
	// %3 = conv[k=1x1 s=1 p=0 g=2] %0 @rbr_1x1.conv : 8x16x16
	// %4 = batchnorm[eps=1e-05] %3 @rbr_1x1.bn : 8x16x16
	// %5 = batchnorm[eps=1e-05] %0 @rbr_identity : 8x16x16
	// %6 = add %2, %4, %5 @add : 8x16x16
	// %7 = relu %6 @relu : 8x16x16
	// %8 = gap %7 @gap : 8x1x1
	// %9 = flatten %8 @flatten : 8x1x1
	// %10 = linear %9 @linear : 10x1x1
	// return %10
}

// The builder records the first problem, with the node's name, and Finish returns it.
func ExampleBuilder_Finish() {
	b := ir.NewBuilder("bad", ir.Shape{C: 6, H: 8, W: 8})
	y := b.Conv("conv", b.Input(), 8, 3, 1, 1, 4, false)
	_, err := b.Finish(y)
	fmt.Println(err)
	// Output:
	// graph bad: conv: conv: groups=4 does not divide in=6 and out=8 channels
}

// Parse reads the text form back; errors carry the file, line and column.
func ExampleParse() {
	src := `graph "plain"
%0 = input : 3x32x32
%1 = conv[k=3x3 s=2 p=1 g=1 bias] %0 @stage0.rbr_reparam : 16x16x16
%2 = relu %1 @stage0.relu : 16x16x16
%3 = gap %2 @gap : 16x1x1
%4 = linear %3 @linear : 10x1x1
return %4
`
	g, err := ir.Parse("plain.ir", strings.NewReader(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(g.Name, len(g.Nodes), "nodes,", g.MACs(), "MACs")
	fmt.Println(g.String() == src)

	_, err = ir.Parse("bad.ir", strings.NewReader("graph \"g\"\n%0 = input : 3x4x4\n%1 = relu %9 @r : 3x4x4\n"))
	fmt.Println(err)
	// Output:
	// plain 5 nodes, 110752 MACs
	// true
	// bad.ir:3:13: undefined value %9
}

// IsPlain tells a deploy-form VGG-style stack from anything else, and says why not.
func ExampleIsPlain() {
	b := ir.NewBuilder("net", ir.Shape{C: 3, H: 8, W: 8})
	x := b.ReLU("s0.relu", b.Conv("s0.conv", b.Input(), 8, 3, 2, 1, 1, true))
	plain, _ := b.Finish(b.Linear("fc", b.GlobalAvgPool("gap", x), 10))
	ok, _ := ir.IsPlain(plain)
	fmt.Println(ok)

	b = ir.NewBuilder("net", ir.Shape{C: 3, H: 8, W: 8})
	x = b.ReLU("s0.relu", b.BatchNorm("s0.bn", b.Conv("s0.conv", b.Input(), 8, 3, 2, 1, 1, false), 1e-5))
	train, _ := b.Finish(b.Linear("fc", b.GlobalAvgPool("gap", x), 10))
	fmt.Println(ir.IsPlain(train))
	// Output:
	// true
	// false s0.conv is not a conv3x3 with padding 1 and bias
}

// Verify reports every broken invariant of a graph edited by hand.
func ExampleVerify() {
	b := ir.NewBuilder("net", ir.Shape{C: 4, H: 8, W: 8})
	g, _ := b.Finish(b.ReLU("relu", b.Conv("conv", b.Input(), 8, 3, 1, 1, 2, true)))
	g.Nodes[1].Attrs.Groups = 3
	g.Nodes[2].Out.Shape.H = 7
	fmt.Println(ir.Verify(g))
	// Output:
	// verify net: conv (conv): groups=3 does not divide in=4 and out=8 channels
	// relu (relu): operand shape 8x8x8 != result 8x7x8
}
