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

// TestAlgosInNetworks compiles RepVGG-A0 and the grouped B1g4 (deploy forms, 32×32) with
// each algorithm forced — Winograd on every 3×3 stride-1 conv, direct on every conv — runs
// them at 1, 2 and 3 pool threads, batch 1 and 2, and compares with the interpreter
// (max |Δ| / max |ref| ≤ 1e-4, the zoo's bound).
func TestAlgosInNetworks(t *testing.T) {
	tc, err := codegen.NewToolchain("")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	for _, name := range []string{"RepVGG-A0", "RepVGG-B1g4"} {
		g, err := models.Build(name, models.Options{InputH: 32, InputW: 32})
		require.NoError(t, err)
		models.InitWeights(g, 3)
		g, err = reparam.Deploy(g, reparam.Options{})
		require.NoError(t, err)
		want := map[int]*tensor.Tensor{}
		xs := map[int]*tensor.Tensor{}
		for _, batch := range []int{1, 2} {
			x := tensor.New(batch, 3, 32, 32)
			r := rand.New(rand.NewPCG(uint64(batch), 9))
			for i := range x.F32 {
				x.F32[i] = float32(r.NormFloat64())
			}
			xs[batch] = x
			want[batch], err = interp.Run(g, x)
			require.NoError(t, err)
		}
		for _, algo := range []kern.Algo{kern.AlgoWinograd, kern.AlgoDirect} {
			c, err := codegen.Compile(g, codegen.Options{Families: []emit.Family{kern.Family{Algo: algo}}}, tc)
			require.NoError(t, err, name)
			fams := map[string]int{}
			for _, f := range c.Module.Functions {
				fams[f.Family]++
			}
			if algo == kern.AlgoWinograd {
				assert.Positive(t, fams["winograd"], "%s: no winograd kernel", name)
			} else {
				assert.Zero(t, fams["winograd"], name)
				assert.Positive(t, fams["direct"], name)
			}
			for threads := 1; threads <= 3; threads++ {
				t.Setenv("VGGSIM_THREADS", strconv.Itoa(threads))
				for _, batch := range []int{1, 2} {
					got, err := c.Run(xs[batch])
					require.NoError(t, err)
					assert.LessOrEqual(t, maxRel(got.F32, want[batch].F32), 1e-4, "%s %s threads %d batch %d", name, algo, threads, batch)
				}
			}
			c.Close()
		}
	}
}

func maxRel(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var num, den float64
	for i, w := range want {
		d := math.Abs(float64(got[i] - w))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		num = math.Max(num, d)
		den = math.Max(den, math.Abs(float64(w)))
	}
	return num / den
}

// TestChooseAlgo checks the cost model on RepVGG-A0's layers at 224²: Winograd for every
// 3×3 stride-1 layer (the measured speed-ups are 1.4–2.5×, docs/codegen.md), direct for
// stride 2 and where Winograd does not apply, and for ResNet-50's 7×7×512 layers (the
// transformed weights' memory traffic); and never Winograd when its error estimate exceeds
// MaxWinoErr.
func TestChooseAlgo(t *testing.T) {
	c3 := func(c, h, k, s int) kern.Conv {
		return kern.Conv{C: c, H: h, W: h, K: k, KH: 3, KW: 3, Stride: s, Pad: 1, ReLU: true}
	}
	for _, c := range []kern.Conv{c3(48, 56, 48, 1), c3(96, 28, 96, 1), c3(192, 14, 192, 1)} {
		a, why := kern.ChooseAlgo(c)
		assert.Equal(t, kern.AlgoWinograd, a, "%s: %s", c, why)
		assert.Less(t, kern.EstimateCycles(c, kern.AlgoWinograd, 1), kern.EstimateCycles(c, kern.AlgoDirect, 1)/1.2, c)
	}
	for _, c := range []kern.Conv{c3(48, 112, 48, 2), c3(3, 224, 48, 2), {C: 64, H: 8, W: 8, K: 64, KH: 1, KW: 1, Stride: 1}} {
		a, why := kern.ChooseAlgo(c)
		assert.Equal(t, kern.AlgoDirect, a, "%s: %s", c, why)
	}
	// A 1×1 map: Winograd computes a whole 6×6 patch for one output pixel.
	a, _ := kern.ChooseAlgo(c3(64, 1, 64, 1))
	assert.Equal(t, kern.AlgoDirect, a)
	// ResNet-50's 7×7×512 layers: four tiles cannot hide reading 36 MiB of transformed
	// weights from memory (direct reads 9 MiB).
	a, why := kern.ChooseAlgo(c3(512, 7, 512, 1))
	assert.Equal(t, kern.AlgoDirect, a, why)
	// Two threads halve direct's time; Winograd on 14×14×192 is bound by its weights'
	// memory traffic there, so it gains less from the second thread.
	c := c3(192, 14, 192, 1)
	d1, d2 := kern.EstimateCycles(c, kern.AlgoDirect, 1), kern.EstimateCycles(c, kern.AlgoDirect, 2)
	w1, w2 := kern.EstimateCycles(c, kern.AlgoWinograd, 1), kern.EstimateCycles(c, kern.AlgoWinograd, 2)
	assert.Less(t, d2, 0.6*d1)
	assert.Greater(t, w2, 0.6*w1)
	// An enormous reduction: the error estimate exceeds the bound.
	huge := c3(4<<20, 4, 16, 1)
	require.Greater(t, kern.WinoErrEstimate(huge), kern.MaxWinoErr)
	a, why = kern.ChooseAlgo(huge)
	assert.Equal(t, kern.AlgoDirect, a)
	assert.Contains(t, why, "error estimate")
}

func TestParseAlgo(t *testing.T) {
	for _, a := range []kern.Algo{kern.AlgoAuto, kern.AlgoDirect, kern.AlgoWinograd} {
		b, err := kern.ParseAlgo(a.String())
		require.NoError(t, err)
		assert.Equal(t, a, b)
	}
	_, err := kern.ParseAlgo("fft")
	assert.ErrorContains(t, err, `unknown algorithm "fft"`)
}

// TestTune times both algorithms of two shapes and checks the choice is the faster, the
// family honours it, and the module comment records it.
func TestTune(t *testing.T) {
	if _, err := kern.Clang(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	b := ir.NewBuilder("tune", ir.Shape{C: 16, H: 12, W: 12})
	y := b.ReLU("r1", b.Conv("c1", b.Input(), 32, 3, 1, 1, 1, true))
	y = b.ReLU("r2", b.Conv("c2", y, 32, 3, 1, 1, 1, true))
	y = b.Conv("c3", y, 32, 3, 2, 1, 1, true)
	g, err := b.Finish(y)
	require.NoError(t, err)
	models.InitWeights(g, 1)
	convs := kern.GraphConvs(g)
	require.Len(t, convs, 3) // c1, c2 (16→32 and 32→32) and the stride-2 c3
	f, err := kern.NewFamily(g, kern.AlgoAuto, true, 1, t.TempDir())
	require.NoError(t, err)
	require.Len(t, f.Tuned, 2, "stride 2 is not tuned")
	for c, ch := range f.Tuned {
		assert.False(t, c.ReLU)
		assert.Positive(t, ch.DirectMs, c)
		assert.Positive(t, ch.WinoMs, c)
		want := kern.AlgoDirect
		if ch.WinoMs < ch.DirectMs {
			want = kern.AlgoWinograd
		}
		assert.Equal(t, want, ch.Algo, c)
	}
	m, err := codegen.Generate(g, codegen.Options{Families: []emit.Family{f}})
	require.NoError(t, err)
	wino := 0
	for _, st := range m.Plan.Steps {
		if len(st.Nodes) == 0 || st.Nodes[0].Op != ir.Conv {
			continue
		}
		c := kern.ConvOf(st.Nodes[0], false)
		want := "direct"
		if ch, ok := f.Tuned[c]; ok && ch.Algo == kern.AlgoWinograd {
			want = "winograd"
			wino++
		}
		assert.Equal(t, want, st.Kernel.Family(), st.Nodes[0].Name)
	}
	if wino > 0 {
		assert.Contains(t, m.LL, "tuned: winograd")
	}
}
