package kern_test

import (
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vggsim/vggsim/codegen"
	"github.com/vggsim/vggsim/codegen/emit"
	"github.com/vggsim/vggsim/codegen/kern"
	"github.com/vggsim/vggsim/interp"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/reparam"
	"github.com/vggsim/vggsim/tensor"
)

// TestFamilyInNetworks compiles whole networks with the kern family (RepVGG-A0, the
// grouped B1g4 and MobileNetV2, with its depthwise convs and ReLU6, deploy forms at 1, 2
// and 3 pool threads; A0's train form, with unfused BN, at 1) and A0 with the family forced off (generic kernels only), runs them at batch 1 and
// 2 and compares every run with the interpreter.
func TestFamilyInNetworks(t *testing.T) {
	tc, err := codegen.NewToolchain("")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	build := func(name string, deploy bool) *ir.Graph {
		g, err := models.Build(name, models.Options{InputH: 32, InputW: 32})
		require.NoError(t, err)
		models.InitWeights(g, 3)
		if deploy {
			g, err = reparam.Deploy(g, reparam.Options{})
			require.NoError(t, err)
		}
		return g
	}
	nets := []*ir.Graph{build("RepVGG-A0", true), build("RepVGG-B1g4", true), build("RepVGG-A0", false), build("MobileNetV2", true)}
	for ni, g := range nets {
		for _, fams := range []struct {
			name string
			f    []emit.Family
		}{{"direct", []emit.Family{kern.Family{}}}, {"generic", []emit.Family{}}} {
			if fams.name == "generic" && ni > 0 {
				continue // forcing generic once is enough; codegen's own tests cover it
			}
			c, err := codegen.Compile(g, codegen.Options{Families: fams.f}, tc)
			require.NoError(t, err, g.Name)
			direct := 0
			seen := map[string]bool{}
			for _, f := range c.Module.Functions {
				seen[f.Family] = true
				if f.Family == "direct" {
					direct++
				}
			}
			if fams.name == "direct" {
				assert.True(t, seen["fc"], "%s: the classifier is not on the fc kernel", g.Name)
				if g.Name == "MobileNetV2" {
					assert.True(t, seen["depthwise"], "MobileNetV2: no depthwise kernel chosen")
				}
			}
			if fams.name == "direct" {
				assert.Positive(t, direct, "%s: no direct kernel chosen", g.Name)
			} else {
				assert.Zero(t, direct, g.Name)
			}
			for threads := 1; threads <= 3; threads++ {
				if (fams.name == "generic" || ni == 2) && threads > 1 {
					break // the generic family does not use the pool; the train form once
				}
				t.Setenv("VGGSIM_THREADS", strconv.Itoa(threads))
				for _, batch := range []int{1, 2} {
					x := tensor.New(batch, 3, 32, 32)
					r := rand.New(rand.NewPCG(uint64(batch), 5))
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
					assert.LessOrEqual(t, num/den, 1e-4, "%s %s threads %d batch %d", g.Name, fams.name, threads, batch)
				}
			}
			c.Close()
		}
	}
}

// TestPooledOpsInGraph compiles a small graph whose max-pool, residual adds (two and
// three operands), ReLU and ReLU6 land on the pooled kern kernels, at 1, 2 and 3 threads,
// odd sizes and channels that are not whole blocks, and compares it with the interpreter.
func TestPooledOpsInGraph(t *testing.T) {
	tc, err := codegen.NewToolchain("")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	b := ir.NewBuilder("pooled", ir.Shape{C: 5, H: 19, W: 23})
	x := b.ReLU("c0.relu", b.Conv("c0", b.Input(), 24, 3, 1, 1, 1, true))
	p := b.MaxPool("pool", x, 3, 2, 1)
	y := b.Conv("c1", p, 24, 3, 1, 1, 1, true)
	z := b.Conv("c2", p, 24, 1, 1, 0, 1, true)
	s := b.ReLU("relu", b.Add("add", p, y))
	s = b.ReLU6("relu6", b.Add("add3", s, z, y))
	out := b.Linear("fc", b.Flatten("flat", b.GlobalAvgPool("gap", s)), 10)
	g, err := b.Finish(out)
	require.NoError(t, err)
	models.InitWeights(g, 4)
	c, err := codegen.Compile(g, codegen.Options{}, tc)
	require.NoError(t, err)
	defer c.Close()
	seen := map[string]int{}
	for _, f := range c.Module.Functions {
		seen[f.Family]++
	}
	assert.Equal(t, 1, seen["maxpool"], "%v", seen)
	assert.Equal(t, 4, seen["eltwise"], "add2, add3, relu, relu6: %v", seen)
	for threads := 1; threads <= 3; threads++ {
		t.Setenv("VGGSIM_THREADS", strconv.Itoa(threads))
		x := tensor.New(2, 5, 19, 23)
		r := rand.New(rand.NewPCG(9, uint64(threads)))
		for i := range x.F32 {
			x.F32[i] = float32(r.NormFloat64())
		}
		got, err := c.Run(x)
		require.NoError(t, err)
		want, err := interp.Run(g, x)
		require.NoError(t, err)
		var num, den float64
		for i, w := range want.F32 {
			num = math.Max(num, math.Abs(float64(got.F32[i]-w)))
			den = math.Max(den, math.Abs(float64(w)))
		}
		assert.LessOrEqual(t, num/den, 1e-5, "threads %d", threads)
	}
}
