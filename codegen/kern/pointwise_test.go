package kern

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/enum"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pointwiseGrid is the differential grid of 1×1 shapes: channel counts that are not whole
// blocks on either side, a single channel and pixel, stride 2 on odd and even maps, maps
// whose pixels are not a multiple of the tile, and ResNet-50-like layers (shrunk).
func pointwiseGrid() []Conv {
	pw := func(c, h, w, k, s int, relu bool) Conv {
		return Conv{C: c, H: h, W: w, K: k, KH: 1, KW: 1, Stride: s, Groups: 1, ReLU: relu}
	}
	return []Conv{
		pw(1, 1, 1, 1, 1, false),
		pw(17, 23, 11, 64, 1, false),
		pw(64, 14, 14, 256, 1, false),
		pw(256, 14, 14, 64, 1, true),
		pw(24, 9, 9, 40, 1, true),
		pw(40, 7, 7, 200, 1, false),
		pw(64, 15, 13, 128, 2, false),
		pw(48, 14, 14, 96, 2, true),
		pw(3, 5, 6, 20, 2, false),
		pw(33, 3, 1, 17, 1, true),
		pw(512, 7, 7, 48, 1, false),
		pw(96, 12, 12, 320, 1, false),
	}
}

// runPointwise compiles ps into one harness, runs each on seeded data at 1, 2 and 3
// threads and returns each kernel's worst relative error against the interpreter (for a
// Residual kernel: the conv plus a random residual operand, then the activation). The
// padding lanes of the output must be zero.
func runPointwise(t *testing.T, ps []*Pointwise) []float64 {
	t.Helper()
	needClang(t)
	dir := t.TempDir()
	m := ir.NewModule()
	m.TargetTriple = "x86_64-pc-linux-gnu"
	r := rand.New(rand.NewPCG(12, 5))
	var s strings.Builder
	s.WriteString("#include <stdio.h>\n#include <stdlib.h>\n#include <stdint.h>\n")
	s.WriteString("int vggsim_pool_start(int);\nvoid vggsim_parallel(void (*)(float **, int64_t, int64_t), float **, int64_t);\n")
	s.WriteString(`static float *rd(const char *dir, int i, const char *ext, long n) {
	char p[4096]; snprintf(p, sizeof p, "%s/%d.%s", dir, i, ext);
	float *v = aligned_alloc(64, (n * 4 + 63) / 64 * 64);
	FILE *f = fopen(p, "rb"); if (!f || fread(v, 4, n, f) != (size_t)n) { fprintf(stderr, "read %s\n", p); exit(1); }
	fclose(f); return v;
}
static void wr(const char *dir, int i, int threads, float *v, long n) {
	char p[4096]; snprintf(p, sizeof p, "%s/%d.out%d", dir, i, threads);
	FILE *f = fopen(p, "wb"); fwrite(v, 4, n, f); fclose(f);
}
`)
	for _, p := range ps {
		p.Define(m, enum.LinkageExternal)
		fmt.Fprintf(&s, "void %s_range(float**, int64_t, int64_t);\n", p.Name())
	}
	s.WriteString("int main(int argc, char **argv) {\n\tconst char *dir = argv[1];\n\tfor (int threads = 1; threads <= 3; threads++) {\n\tvggsim_pool_start(threads);\n")
	var wants [][]float32
	for i, p := range ps {
		c := p.Conv
		ho, wo := c.Out()
		nOut := BlockedElems(c.K, ho, wo)
		x, w, b := randF32(r, c.C*c.H*c.W), randF32(r, c.K*c.C), randF32(r, c.K)
		cc := c
		cc.ReLU, cc.ReLU6 = false, false
		want := refConv(t, cc, x, w, b)
		if p.Residual {
			res := randF32(r, c.K*ho*wo)
			for j := range want {
				want[j] += res[j]
			}
			writeF32(t, filepath.Join(dir, fmt.Sprintf("%d.res", i)), ToBlocked(res, c.K, ho, wo))
		}
		for j, v := range want {
			if c.ReLU {
				want[j] = max(v, 0)
			}
		}
		wants = append(wants, want)
		pw, pb, err := p.Pack(w, b)
		require.NoError(t, err)
		require.Len(t, pw, p.PackedWeights())
		writeF32(t, filepath.Join(dir, fmt.Sprintf("%d.in", i)), ToBlocked(x, c.C, c.H, c.W))
		writeF32(t, filepath.Join(dir, fmt.Sprintf("%d.w", i)), pw)
		writeF32(t, filepath.Join(dir, fmt.Sprintf("%d.b", i)), pb)
		fmt.Fprintf(&s, "\t{ float *in = rd(dir, %d, \"in\", %d), *w = rd(dir, %d, \"w\", %d), *b = rd(dir, %d, \"b\", %d);\n",
			i, BlockedElems(c.C, c.H, c.W), i, len(pw), i, len(pb))
		fmt.Fprintf(&s, "\t  float *out = aligned_alloc(64, %d); for (long j = 0; j < %d; j++) out[j] = 0.0f / 0.0f;\n", (nOut*4+63)/64*64, nOut)
		if p.Residual {
			// In place, as the planner may arrange: out starts as the residual operand.
			fmt.Fprintf(&s, "\t  float *res = rd(dir, %d, \"res\", %d); for (long j = 0; j < %d; j++) out[j] = res[j];\n", i, nOut, nOut)
			fmt.Fprintf(&s, "\t  float *args[5] = {out, in, threads == 2 ? res : out, w, b};\n")
		} else {
			s.WriteString("\t  float *args[4] = {out, in, w, b};\n")
		}
		fmt.Fprintf(&s, "\t  vggsim_parallel(%s_range, args, %d); wr(dir, %d, threads, out, %d); }\n", p.Name(), p.Items(), i, nOut)
	}
	s.WriteString("\t}\n\treturn 0;\n}\n")
	ll, cfile, pool, exe := filepath.Join(dir, "k.ll"), filepath.Join(dir, "h.c"), filepath.Join(dir, "pool.c"), filepath.Join(dir, "h")
	require.NoError(t, os.WriteFile(ll, []byte(m.String()), 0o644))
	require.NoError(t, os.WriteFile(cfile, []byte(s.String()), 0o644))
	require.NoError(t, os.WriteFile(pool, []byte(PoolC), 0o644))
	require.NoError(t, CompileExe(exe, ll, cfile, pool))
	require.NoError(t, runCmd(exe, dir))
	errs := make([]float64, len(ps))
	for i, p := range ps {
		c := p.Conv
		ho, wo := c.Out()
		for threads := 1; threads <= 3; threads++ {
			got := readF32(t, filepath.Join(dir, fmt.Sprintf("%d.out%d", i, threads)), BlockedElems(c.K, ho, wo))
			errs[i] = max(errs[i], relErr(FromBlocked(got, c.K, ho, wo), wants[i]))
			if p.Residual {
				continue // the residual's padding lanes are the caller's
			}
			for j, v := range got {
				if ch := (j/(ho*wo*Lanes))*Lanes + j%Lanes; ch >= c.K && v != 0 {
					t.Errorf("%s, %d threads: padding lane %d holds %g", p.Name(), threads, ch, v)
					break
				}
			}
		}
	}
	return errs
}

// TestPointwiseMatchesInterp runs the grid with the chosen tiles and splits, with forced
// odd tiles and both item orders, and with the residual add fused (out in place of the
// residual at 1 and 3 threads, separate at 2).
func TestPointwiseMatchesInterp(t *testing.T) {
	var ps []*Pointwise
	for _, c := range pointwiseGrid() {
		p, err := NewPointwise(c)
		require.NoError(t, err, c)
		ps = append(ps, p)
	}
	c := Conv{C: 40, H: 11, W: 13, K: 96, KH: 1, KW: 1, Stride: 1, Groups: 1, ReLU: true}
	for _, f := range []struct{ rk, rp, chunk int }{{1, 1, 3}, {2, 7, 14}, {3, 5, 5}, {6, 3, 300}, {1, 21, 42}} {
		for _, pm := range []bool{false, true} {
			ps = append(ps, &Pointwise{Conv: c, RK: f.rk, RP: f.rp, Chunk: f.chunk, PixelMajor: pm})
		}
	}
	s2 := Conv{C: 32, H: 13, W: 9, K: 48, KH: 1, KW: 1, Stride: 2, Groups: 1}
	ps = append(ps, &Pointwise{Conv: s2, RK: 3, RP: 4, Chunk: 8, PixelMajor: true})
	for _, c := range []Conv{
		{C: 64, H: 14, W: 14, K: 256, KH: 1, KW: 1, Stride: 1, Groups: 1, ReLU: true},
		{C: 24, H: 9, W: 7, K: 40, KH: 1, KW: 1, Stride: 1, Groups: 1},
		{C: 64, H: 15, W: 15, K: 128, KH: 1, KW: 1, Stride: 2, Groups: 1, ReLU: true},
	} {
		p, err := NewPointwise(c)
		require.NoError(t, err)
		p.Residual = true
		assert.Contains(t, p.Name(), "_addres")
		ps = append(ps, p)
	}
	for i, e := range runPointwise(t, ps) {
		assert.LessOrEqual(t, e, tol, "%s", ps[i].Name())
	}
}

func TestCheckPointwise(t *testing.T) {
	assert.NoError(t, CheckPointwise(Conv{C: 3, H: 1, W: 1, K: 5, KH: 1, KW: 1, Stride: 2}))
	assert.ErrorContains(t, CheckPointwise(Conv{C: 16, H: 4, W: 4, K: 16, KH: 3, KW: 3, Stride: 1, Pad: 1}), "not a dense 1x1")
	assert.ErrorContains(t, CheckPointwise(Conv{C: 16, H: 4, W: 4, K: 16, KH: 1, KW: 1, Stride: 1, Pad: 1}), "not a dense 1x1")
	assert.ErrorContains(t, CheckPointwise(Conv{C: 32, H: 4, W: 4, K: 32, KH: 1, KW: 1, Stride: 1, Groups: 2}), "not a dense 1x1")
}

// TestChoosePointwise checks the tile and split invariants over the grid and ResNet-50's
// 1×1 shapes: tiles fit the registers, RK divides the blocks, chunks are whole tiles and
// layers of 56 or more tiles × pixels get at least 48 items.
func TestChoosePointwise(t *testing.T) {
	grid := pointwiseGrid()
	for _, s := range [][4]int{{64, 56, 64, 1}, {256, 56, 64, 1}, {256, 56, 128, 1}, {256, 56, 512, 2}, {512, 28, 128, 1},
		{1024, 14, 256, 1}, {256, 14, 1024, 1}, {2048, 7, 512, 1}, {512, 7, 2048, 1}, {1024, 14, 2048, 2}} {
		grid = append(grid, Conv{C: s[0], H: s[1], W: s[1], K: s[2], KH: 1, KW: 1, Stride: s[3], Groups: 1})
	}
	for _, c := range grid {
		p, err := NewPointwise(c)
		require.NoError(t, err)
		ho, wo := c.Out()
		assert.LessOrEqual(t, p.RK*p.RP, MaxAccumulators, c)
		assert.LessOrEqual(t, p.RP, ho*wo, c)
		assert.Zero(t, c.blocks()%p.RK, c)
		assert.Zero(t, p.Chunk%p.RP, c)
		if c.blocks()/p.RK*((ho*wo+p.RP-1)/p.RP) >= 56 {
			assert.GreaterOrEqual(t, p.Items(), 48, c)
		}
	}
	// ResNet-50's 14×14 layers: 3 blocks × 7 pixels (28 tiles, none partial) where 3 divides
	// the blocks, else 4 × 5 or 2 × 10.
	rk, rp := ChoosePointwiseTile(Conv{C: 1024, H: 14, W: 14, K: 48, KH: 1, KW: 1, Stride: 1, Groups: 1})
	assert.Equal(t, [2]int{3, 7}, [2]int{rk, rp})
}

// TestMeasurePointwise times ResNet-50's 1×1 layers (224²) as the direct kernel and as
// the pointwise kernel, interleaved in one harness (VGGSIM_MEASURE=1; threads from
// VGGSIM_THREADS, default 1). It asserts nothing about time.
func TestMeasurePointwise(t *testing.T) {
	threads := measureGate(t)
	var ks []Kernel
	for _, s := range [][4]int{{64, 56, 64, 1}, {64, 56, 256, 1}, {256, 56, 64, 1}, {256, 56, 128, 1}, {256, 56, 512, 2},
		{128, 28, 512, 1}, {512, 28, 128, 1}, {512, 28, 256, 1}, {512, 28, 1024, 2}, {256, 14, 1024, 1}, {1024, 14, 256, 1},
		{1024, 14, 512, 1}, {1024, 14, 2048, 2}, {512, 7, 2048, 1}, {2048, 7, 512, 1}} {
		c := Conv{C: s[0], H: s[1], W: s[1], K: s[2], KH: 1, KW: 1, Stride: s[3], Groups: 1}
		d, err := NewDirect(c)
		require.NoError(t, err)
		p, err := NewPointwise(c)
		require.NoError(t, err)
		ks = append(ks, d, p)
	}
	res, err := MeasureAll(ks, threads, 21, t.TempDir())
	require.NoError(t, err)
	var sum [2]float64
	for i, l := range res.Layers {
		sum[i%2] += l.Ms
		t.Logf("%-62s %8.3f ms %7.1f GFLOP/s %5.1f%%", l.Kernel, l.Ms, l.GFlops, 100*l.GFlops/res.PeakGFlops)
	}
	t.Logf("peak %.1f GFLOP/s (%d threads); direct %.2f ms, pointwise %.2f ms", res.PeakGFlops, threads, sum[0], sum[1])
}
