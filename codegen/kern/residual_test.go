package kern_test

import (
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vggsim/vggsim/codegen"
	"github.com/vggsim/vggsim/interp"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/reparam"
	"github.com/vggsim/vggsim/tensor"
)

// bottleneckGraph is a small ResNet-like graph with channel counts that are not whole
// blocks: an identity bottleneck (add + ReLU fused into its last 1×1 conv), a strided
// one with a 1×1 stride-2 projection (the add fused into the projection, the later
// operand), an add without a ReLU, an add whose other operand is the conv's own input
// (x + conv1x1(x), in place of x: not fused, the conv would overwrite its input), an add of a 3×3 conv (not fused: falls back to the eltwise kernel),
// and a global average pool over 40 channels.
func bottleneckGraph(t *testing.T) *ir.Graph {
	b := ir.NewBuilder("bottleneck", ir.Shape{C: 5, H: 19, W: 23})
	x := b.ReLU("stem.relu", b.Conv("stem", b.Input(), 24, 3, 1, 1, 1, true))
	y := b.ReLU("a.1.relu", b.Conv("a.1", x, 20, 1, 1, 0, 1, true))
	y = b.ReLU("a.2.relu", b.Conv("a.2", y, 20, 3, 1, 1, 1, true))
	x = b.ReLU("a.relu", b.Add("a.add", b.Conv("a.3", y, 24, 1, 1, 0, 1, true), x))
	y = b.ReLU("b.1.relu", b.Conv("b.1", x, 12, 1, 1, 0, 1, true))
	y = b.ReLU("b.2.relu", b.Conv("b.2", y, 12, 3, 2, 1, 1, true))
	y = b.Conv("b.3", y, 40, 1, 1, 0, 1, true)
	x = b.ReLU("b.relu", b.Add("b.add", y, b.Conv("b.down", x, 40, 1, 2, 0, 1, true)))
	x = b.Add("c.add", x, b.Conv("c.1", x, 40, 1, 1, 0, 1, true))
	x = b.ReLU("d.relu", b.Add("d.add", x, b.Conv("d.2", b.Conv("d.1", x, 40, 3, 1, 1, 1, true), 40, 3, 1, 1, 1, true)))
	out := b.Linear("fc", b.Flatten("flat", b.GlobalAvgPool("gap", x)), 10)
	g, err := b.Finish(out)
	require.NoError(t, err)
	models.InitWeights(g, 6)
	return g
}

// TestResidualFusionInNetworks compiles bottleneckGraph and ResNet-50 (deploy form, 32²)
// with the default families, checks which adds were fused into a conv's store, and
// compares runs at batch 1 and 2 on 1, 2 and 3 pool threads with the interpreter.
func TestResidualFusionInNetworks(t *testing.T) {
	tc, err := codegen.NewToolchain("")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	r50, err := models.Build("ResNet-50", models.Options{InputH: 32, InputW: 32})
	require.NoError(t, err)
	models.InitWeights(r50, 8)
	r50, err = reparam.Deploy(r50, reparam.Options{})
	require.NoError(t, err)
	for _, g := range []*ir.Graph{bottleneckGraph(t), r50} {
		c, err := codegen.Compile(g, codegen.Options{}, tc)
		require.NoError(t, err, g.Name)
		var fused []string
		adds, families := 0, map[string]int{}
		for _, st := range c.Module.Plan.Steps {
			for _, n := range st.Nodes {
				if n.Op == ir.Add {
					adds++
					if st.Nodes[0].Op == ir.Conv {
						fused = append(fused, st.Label)
					}
				}
			}
			families[st.Kernel.Family()]++
		}
		if g.Name == "bottleneck" {
			assert.Equal(t, []string{"a.3+add+relu", "b.down+add+relu"}, fused)
			assert.Equal(t, 3, families["eltwise"], "c.add (in place of c.1's input), d.add (a 3x3 conv's: the direct, Winograd and generic kernels do not fuse it) and d.relu stay passes: %v", families)
		} else {
			assert.Len(t, fused, 16, "every ResNet-50 bottleneck's add: %v", fused)
			assert.Zero(t, families["eltwise"], "%v", families)
			assert.Equal(t, 36, families["pointwise"], "every 1x1 conv: %v", families)
		}
		assert.Equal(t, 1, families["gap"], "%v", families)
		for _, l := range fused {
			assert.True(t, strings.Contains(l, "+add"), l)
		}
		for threads := 1; threads <= 3; threads++ {
			t.Setenv("VGGSIM_THREADS", strconv.Itoa(threads))
			for _, batch := range []int{1, 2} {
				s := g.Input().Shape
				x := tensor.New(batch, s.C, s.H, s.W)
				r := rand.New(rand.NewPCG(uint64(batch), uint64(threads)))
				for i := range x.F32 {
					x.F32[i] = float32(r.NormFloat64())
				}
				got, err := c.Run(x)
				require.NoError(t, err)
				want, err := interp.Run(g, x)
				require.NoError(t, err)
				require.Equal(t, want.Len(), got.Len())
				var num, den float64
				for i, w := range want.F32 {
					num = math.Max(num, math.Abs(float64(got.F32[i]-w)))
					den = math.Max(den, math.Abs(float64(w)))
				}
				assert.LessOrEqual(t, num/den, 1e-4, "%s threads %d batch %d", g.Name, threads, batch)
			}
		}
		c.Close()
	}
}
