package codegen_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vggsim/vggsim/codegen"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
)

// convCase is one convolution of the differential grid.
type convCase struct {
	cin, cout, h, w, k, stride, pad, groups int
	bias                                    bool
	act                                     string // "", "relu" or "relu6", fused into the conv
}

func (c convCase) String() string {
	return fmt.Sprintf("in%d_out%d_%dx%d_k%d_s%d_p%d_g%d_bias%v_%s", c.cin, c.cout, c.h, c.w, c.k, c.stride, c.pad, c.groups, c.bias, cmp.Or(c.act, "noact"))
}

// gridCases draws n seeded convolutions over the degenerate corners the kernels must
// handle: one channel, odd sizes, 1×1 maps, stride 2, kernels 1/3/5 with and without
// padding, groups 2 and 4 and depthwise, with or without bias, ReLU or ReLU6 fused.
func gridCases(seed uint64, n int) []convCase {
	r := rand.New(rand.NewPCG(seed, 11))
	pick := func(xs ...int) int { return xs[r.IntN(len(xs))] }
	var cs []convCase
	for len(cs) < n {
		c := convCase{k: pick(1, 3, 5), stride: pick(1, 2), h: pick(1, 2, 5, 7, 8, 13), bias: r.IntN(2) == 0, act: []string{"", "relu", "relu6"}[r.IntN(3)]}
		c.w = pick(c.h, 1, 6, 9)
		c.pad = pick(0, c.k/2)
		switch r.IntN(5) {
		case 0: // dense, one channel in or out
			c.groups, c.cin, c.cout = 1, pick(1, 3), pick(1, 5, 16)
		case 1: // depthwise
			c.cin = pick(1, 4, 17)
			c.groups, c.cout = c.cin, c.cin*pick(1, 2)
		case 2, 3: // grouped
			c.groups = pick(2, 4)
			c.cin, c.cout = c.groups*pick(1, 3), c.groups*pick(1, 2, 5)
		default:
			c.groups, c.cin, c.cout = 1, pick(2, 8, 19), pick(3, 8, 33)
		}
		if ir.ConvOut(c.h, c.k, c.stride, c.pad) < 1 || ir.ConvOut(c.w, c.k, c.stride, c.pad) < 1 {
			continue
		}
		cs = append(cs, c)
	}
	return cs
}

// gridGraph is one module holding every case: each case's conv reads its own slice of a
// shared input through a 1×1 conv, and their globally pooled results are summed, so one
// compile covers the grid and a wrong case moves the output.
func gridGraph(t *testing.T, cs []convCase, h, w int) *ir.Graph {
	b := ir.NewBuilder("grid", ir.Shape{C: 3, H: h, W: w})
	var outs []*ir.Value
	for i, c := range cs {
		x := b.Input()
		if c.h != h || c.w != w || c.cin != 3 {
			// Bring the shared input to the case's shape: a 1×1 conv to cin channels and
			// a max pool or strided conv is avoided; a conv with the right geometry does it.
			x = b.Conv(fmt.Sprintf("adapt%d", i), x, c.cin, 1, 1, 0, 1, false)
			x = b.AdaptiveAvgPool(fmt.Sprintf("resize%d", i), x, c.h, c.w)
		}
		y := b.Conv(fmt.Sprintf("case%d.%s", i, c), x, c.cout, c.k, c.stride, c.pad, c.groups, c.bias)
		y = activate(b, c.act, fmt.Sprintf("act%d", i), y)
		y = b.Conv(fmt.Sprintf("mix%d", i), y, 8, 1, 1, 0, 1, false)
		outs = append(outs, b.GlobalAvgPool(fmt.Sprintf("gap%d", i), y))
	}
	out := outs[0]
	if len(outs) > 1 {
		out = b.Add("sum", outs...)
	}
	g, err := b.Finish(out)
	if err != nil {
		t.Fatal(err)
	}
	models.InitWeights(g, 5)
	return g
}

// TestConvGrid is the differential test over a seeded grid of conv shapes.
func TestConvGrid(t *testing.T) {
	cs := gridCases(1, 24)
	for i := 0; i < len(cs); i += 12 {
		part := cs[i:min(i+12, len(cs))]
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			g := gridGraph(t, part, 11, 9)
			checkAgainstInterp(t, g, codegen.Options{}, 1, 2)
		})
	}
}

// TestConvGridEach checks a few cases alone (a conv straight off the input, its output
// the graph's), where an error is not averaged by pooling.
func TestConvGridEach(t *testing.T) {
	for _, c := range gridCases(2, 6) {
		t.Run(c.String(), func(t *testing.T) {
			b := ir.NewBuilder("one", ir.Shape{C: c.cin, H: c.h, W: c.w})
			y := b.Conv("conv", b.Input(), c.cout, c.k, c.stride, c.pad, c.groups, c.bias)
			y = activate(b, c.act, "act", y)
			g, err := b.Finish(y)
			if err != nil {
				t.Fatal(err)
			}
			models.InitWeights(g, 3)
			checkAgainstInterp(t, g, codegen.Options{}, 1, 3)
		})
	}
}

// activate applies the named activation ("" for none).
func activate(b *ir.Builder, act, name string, y *ir.Value) *ir.Value {
	switch act {
	case "relu":
		return b.ReLU(name, y)
	case "relu6":
		return b.ReLU6(name, y)
	}
	return y
}
