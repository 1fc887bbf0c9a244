package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/enum"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// winoTol is the Winograd F(4×4,3×3) tolerance: max |Δ| / max |ref| ≤ 1e-4 against the
// interpreter on inputs and weights uniform in [−1, 1]. The transforms amplify float32
// rounding by their coefficients (up to 8 and 5 in Aᵀ and Bᵀ, G's 1/6, 1/24): the measured
// error is 1e-6…2e-5 over these shapes, 10–100× the direct kernels'; the bound leaves
// 5× headroom and is 10× tighter than the 1e-3 the family's cost model accepts (MaxWinoErr).
const winoTol = 1e-4

// runKernels compiles ks into one harness, runs each on seeded data at 1, 2 and 3 threads
// and returns each kernel's worst relative error against the interpreter.
func runKernels(t *testing.T, ks []Kernel) []float64 {
	t.Helper()
	needClang(t)
	dir := t.TempDir()
	m := ir.NewModule()
	m.TargetTriple = "x86_64-pc-linux-gnu"
	r := rand.New(rand.NewPCG(11, 3))
	var cases []harnessCase
	var wants [][]float32
	seen := map[string]bool{}
	for i, k := range ks {
		c := k.Shape()
		if !seen[k.Name()] {
			k.Define(m, enum.LinkageExternal)
			seen[k.Name()] = true
		}
		x := randF32(r, c.C*c.H*c.W)
		w := randF32(r, c.K*(c.C/c.groups())*c.KH*c.KW)
		b := randF32(r, c.K)
		wants = append(wants, refConv(t, c, x, w, b))
		pw, pb, err := k.Pack(w, b)
		require.NoError(t, err)
		require.Len(t, pw, k.PackedWeights())
		writeF32(t, filepath.Join(dir, fmt.Sprintf("%d.in", i)), ToBlocked(x, c.C, c.H, c.W))
		writeF32(t, filepath.Join(dir, fmt.Sprintf("%d.w", i)), pw)
		writeF32(t, filepath.Join(dir, fmt.Sprintf("%d.b", i)), pb)
		ho, wo := c.Out()
		cases = append(cases, harnessCase{fn: k.Name(), nOut: BlockedElems(c.K, ho, wo), nIn: BlockedElems(c.C, c.H, c.W), nW: len(pw), nBias: len(pb), items: k.Items()})
	}
	ll, cfile, pool, exe := filepath.Join(dir, "k.ll"), filepath.Join(dir, "h.c"), filepath.Join(dir, "pool.c"), filepath.Join(dir, "h")
	require.NoError(t, os.WriteFile(ll, []byte(m.String()), 0o644))
	require.NoError(t, os.WriteFile(cfile, []byte(harnessC(cases)), 0o644))
	require.NoError(t, os.WriteFile(pool, []byte(PoolC), 0o644))
	require.NoError(t, CompileExe(exe, ll, cfile, pool))
	require.NoError(t, runCmd(exe, dir))
	errs := make([]float64, len(ks))
	for i, k := range ks {
		c := k.Shape()
		ho, wo := c.Out()
		for threads := 1; threads <= 3; threads++ {
			got := readF32(t, filepath.Join(dir, fmt.Sprintf("%d.out%d", i, threads)), cases[i].nOut)
			e := relErr(FromBlocked(got, c.K, ho, wo), wants[i])
			if math.IsNaN(e) {
				e = math.Inf(1)
			}
			errs[i] = max(errs[i], e)
			for j, v := range got {
				if ch := (j/(ho*wo*Lanes))*Lanes + j%Lanes; ch >= c.K && v != 0 {
					t.Errorf("%s, %d threads: padding lane %d holds %g", k.Name(), threads, ch, v)
					break
				}
			}
		}
	}
	return errs
}

// winoGrid is the differential grid of Winograd shapes: odd sizes, 1×1, 2×2 and 5×5 maps,
// 16/32/48 channels, channel counts that are not whole blocks (dense), groups with whole
// blocks per group, RepVGG-like layers, and ReLU6 fused (dense and grouped).
func winoGrid() []Conv {
	c3 := func(c, h, w, k, g int, relu bool) Conv {
		return Conv{C: c, H: h, W: w, K: k, KH: 3, KW: 3, Stride: 1, Pad: 1, Groups: g, ReLU: relu}
	}
	return []Conv{
		c3(16, 1, 1, 16, 1, false),
		c3(32, 2, 2, 32, 1, true),
		c3(48, 5, 5, 48, 1, true),
		c3(16, 7, 9, 48, 1, false),
		c3(48, 13, 11, 32, 1, true),
		c3(3, 9, 6, 16, 1, true),
		c3(20, 6, 10, 33, 1, false),
		c3(32, 8, 8, 32, 2, true),
		c3(64, 9, 7, 64, 4, false),
		c3(48, 3, 17, 96, 3, true),
		c3(48, 28, 28, 48, 1, true),
		c3(96, 14, 14, 96, 1, true),
		c3(192, 7, 7, 192, 1, true),
		relu6(c3(96, 10, 9, 48, 1, false)),
		relu6(c3(64, 6, 7, 64, 2, false)),
	}
}

// relu6 returns c with ReLU6 fused instead of ReLU (the outputs of a grid layer with ≥ 64
// input channels spread well beyond 6, so the clamp is exercised on both sides).
func relu6(c Conv) Conv { c.ReLU, c.ReLU6 = false, true; return c }

func TestWinogradMatchesInterp(t *testing.T) {
	var ks []Kernel
	for _, c := range winoGrid() {
		w, err := NewWinograd(c)
		require.NoError(t, err, c)
		ks = append(ks, w)
	}
	// Forced blockings: one tile per item and register tile, several chunks of channels
	// (each a contiguous part of the chunk-major weights, the last prefetching past its
	// end), a register tile of all 16 tiles, two tile groups each streaming all weights.
	ks = append(ks, &Winograd{Conv: winoGrid()[4], RK: 1, RT: 1, T: 1, KC: 1},
		&Winograd{Conv: winoGrid()[9], RK: 2, RT: 3, T: 6, KC: 2},
		&Winograd{Conv: winoGrid()[12], RK: 2, RT: 2, T: 4, KC: 4},
		&Winograd{Conv: winoGrid()[11], RK: 1, RT: 16, T: 16, KC: 3},
		&Winograd{Conv: winoGrid()[11], RK: 2, RT: 8, T: 8, KC: 6},
		&Winograd{Conv: winoGrid()[13], RK: 1, RT: 9, T: 9, KC: 1})
	for _, k := range ks {
		require.NoError(t, k.(*Winograd).Validate())
	}
	errs := runKernels(t, ks)
	for i, k := range ks {
		assert.LessOrEqual(t, errs[i], winoTol, k.Name())
		t.Logf("%-60s items %3d relerr %.2g", k.Name(), k.Items(), errs[i])
	}
}

func TestCheckWinograd(t *testing.T) {
	ok := Conv{C: 16, H: 4, W: 4, K: 16, KH: 3, KW: 3, Stride: 1, Pad: 1}
	assert.NoError(t, CheckWinograd(ok))
	s2 := ok
	s2.Stride = 2
	assert.ErrorContains(t, CheckWinograd(s2), "3x3 stride-1 pad-1")
	k5 := ok
	k5.KH, k5.KW, k5.Pad = 5, 5, 2
	assert.ErrorContains(t, CheckWinograd(k5), "3x3 stride-1 pad-1")
	g := Conv{C: 24, H: 4, W: 4, K: 32, KH: 3, KW: 3, Stride: 1, Pad: 1, Groups: 2}
	assert.ErrorContains(t, CheckWinograd(g), "12 input channels per group")
}

// TestWinoFilter checks G g Gᵀ against its definition for a filter with one tap: the
// transformed filter of tap (i, j) is the outer product of G's columns i and j.
func TestWinoFilter(t *testing.T) {
	for i := range 3 {
		for j := range 3 {
			var g [3][3]float64
			g[i][j] = 1
			u := winoFilter(g)
			for a := range WinoAlpha {
				for b := range WinoAlpha {
					assert.InDelta(t, winoG[a][i]*winoG[b][j], u[a][b], 1e-15)
				}
			}
		}
	}
}
