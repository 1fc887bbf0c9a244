package kern

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/enum"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vggsim/vggsim/interp"
	vir "github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

// tol is the relative tolerance (max-abs error over max-abs reference) every kernel meets.
const tol = 1e-5

// needClang returns clang or skips; in CI (CI=true) a missing clang fails the test.
func needClang(t *testing.T) {
	t.Helper()
	if _, err := Clang(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// refConv runs c on x (NCHW) through the reference interpreter.
func refConv(t *testing.T, c Conv, x, w, b []float32) []float32 {
	t.Helper()
	require.Equal(t, c.KH, c.KW, "the interpreter's builder takes square kernels")
	bl := vir.NewBuilder("one", vir.Shape{C: c.C, H: c.H, W: c.W})
	y := bl.Conv("conv", bl.Input(), c.K, c.KH, c.Stride, c.Pad, c.groups(), true)
	if c.ReLU {
		y = bl.ReLU("relu", y)
	}
	if c.ReLU6 {
		y = bl.ReLU6("relu6", y)
	}
	g, err := bl.Finish(y)
	require.NoError(t, err)
	cg := c.C / c.groups()
	g.Nodes[1].Params = map[string]*tensor.Tensor{
		"weight": tensor.FromF32(w, c.K, cg, c.KH, c.KW),
		"bias":   tensor.FromF32(b, c.K),
	}
	out, err := interp.Run(g, tensor.FromF32(x, 1, c.C, c.H, c.W))
	require.NoError(t, err)
	return out.F32
}

func randF32(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 2*r.Float32() - 1
	}
	return v
}

func writeF32(t *testing.T, path string, v []float32) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, binary.Write(f, binary.LittleEndian, v))
	require.NoError(t, f.Close())
}

func readF32(t *testing.T, path string, n int) []float32 {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Len(t, data, 4*n, path)
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return v
}

func relErr(got, want []float32) float64 {
	var num, den float64
	for i := range want {
		num = max(num, math.Abs(float64(got[i]-want[i])))
		den = max(den, math.Abs(float64(want[i])))
	}
	if den == 0 {
		return num
	}
	return num / den
}

// harnessCase is one kernel call of a test harness: the function and its array sizes.
type harnessCase struct {
	fn                          string
	nOut, nIn, nW, nBias, items int
}

// harnessC returns a C main that, for 1, 2 and 3 pool threads and every case i, reads
// DIR/i.in, i.w, i.b, runs the kernel's items over the pool into a NaN-filled output and
// writes DIR/i.outT (T threads).
func harnessC(cases []harnessCase) string {
	var s strings.Builder
	s.WriteString("#include <stdio.h>\n#include <stdlib.h>\n#include <stdint.h>\n#include <string.h>\n")
	s.WriteString("int vggsim_pool_start(int);\nvoid vggsim_parallel(void (*)(float **, int64_t, int64_t), float **, int64_t);\n")
	for _, c := range cases {
		fmt.Fprintf(&s, "void %s_range(float**, int64_t, int64_t);\n", c.fn)
	}
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
int main(int argc, char **argv) {
	const char *dir = argv[1];
	for (int threads = 1; threads <= 3; threads++) {
	vggsim_pool_start(threads);
`)
	for i, c := range cases {
		fmt.Fprintf(&s, "\t{ float *in = rd(dir, %d, \"in\", %d), *w = rd(dir, %d, \"w\", %d), *b = rd(dir, %d, \"b\", %d);\n", i, c.nIn, i, c.nW, i, c.nBias)
		fmt.Fprintf(&s, "\t  float *out = aligned_alloc(64, %d); for (long j = 0; j < %d; j++) out[j] = 0.0f / 0.0f;\n", (c.nOut*4+63)/64*64, c.nOut)
		fmt.Fprintf(&s, "\t  float *args[4] = {out, in, w, b}; vggsim_parallel(%s_range, args, %d); wr(dir, %d, threads, out, %d); }\n", c.fn, c.items, i, c.nOut)
	}
	s.WriteString("\t}\n\treturn 0;\n}\n")
	return s.String()
}

// runDirect compiles the direct kernels of convs (with the given tiles, nil: ChooseTile's)
// into one harness, runs it on seeded data at 1, 2 and 3 threads and returns each conv's
// worst relative error against the interpreter.
func runDirect(t *testing.T, convs []Conv, tiles []Tile) []float64 {
	t.Helper()
	var ds []*Direct
	for i, c := range convs {
		d, err := NewDirect(c)
		require.NoError(t, err, c)
		if tiles != nil {
			d.Tile = tiles[i]
		}
		ds = append(ds, d)
	}
	return runDirects(t, ds)
}

// testKernel is a kernel under test: Direct or Depthwise.
type testKernel interface {
	Name() string
	Define(*ir.Module, enum.Linkage) *ir.Func
	Pack(w, b []float32) ([]float32, []float32, error)
	Items() int
}

// runDirects is runDirect for given kernels.
func runDirects(t *testing.T, ds []*Direct) []float64 {
	t.Helper()
	ks := make([]testKernel, len(ds))
	for i, d := range ds {
		ks[i] = d
	}
	return runTestKernels(t, ks)
}

// runTestKernels compiles ks into one harness, runs it on seeded data at 1, 2 and 3 threads
// and returns each kernel's worst relative error against the interpreter.
func runTestKernels(t *testing.T, ds []testKernel) []float64 {
	t.Helper()
	needClang(t)
	dir := t.TempDir()
	m := ir.NewModule()
	m.TargetTriple = "x86_64-pc-linux-gnu"
	r := rand.New(rand.NewPCG(10, 1))
	var cases []harnessCase
	var wants [][]float32
	conv := func(k testKernel) (Conv, bool) {
		switch k := k.(type) {
		case *Direct:
			return k.Conv, k.InPlain
		case *Linear: // a 1×1 conv of a C×1×1 map
			return Conv{C: k.In, H: 1, W: 1, K: k.Out, KH: 1, KW: 1, Stride: 1, Groups: 1, ReLU: k.ReLU}, false
		}
		return k.(*Depthwise).Conv, false
	}
	for i, d := range ds {
		c, plain := conv(d)
		d.Define(m, enum.LinkageExternal)
		x := randF32(r, c.C*c.H*c.W)
		w := randF32(r, c.K*(c.C/c.groups())*c.KH*c.KW)
		b := randF32(r, c.K)
		wants = append(wants, refConv(t, c, x, w, b))
		pw, pb, err := d.Pack(w, b)
		require.NoError(t, err)
		in := ToBlocked(x, c.C, c.H, c.W)
		if plain {
			in = x
		}
		writeF32(t, filepath.Join(dir, fmt.Sprintf("%d.in", i)), in)
		writeF32(t, filepath.Join(dir, fmt.Sprintf("%d.w", i)), pw)
		writeF32(t, filepath.Join(dir, fmt.Sprintf("%d.b", i)), pb)
		ho, wo := c.Out()
		cases = append(cases, harnessCase{fn: d.Name(), nOut: BlockedElems(c.K, ho, wo), nIn: len(in), nW: len(pw), nBias: len(pb), items: d.Items()})
	}
	ll, cfile, pool, exe := filepath.Join(dir, "k.ll"), filepath.Join(dir, "h.c"), filepath.Join(dir, "pool.c"), filepath.Join(dir, "h")
	require.NoError(t, os.WriteFile(ll, []byte(m.String()), 0o644))
	require.NoError(t, os.WriteFile(cfile, []byte(harnessC(cases)), 0o644))
	require.NoError(t, os.WriteFile(pool, []byte(PoolC), 0o644))
	require.NoError(t, CompileExe(exe, ll, cfile, pool))
	require.NoError(t, runCmd(exe, dir))
	errs := make([]float64, len(ds))
	for i, d := range ds {
		c, _ := conv(d)
		ho, wo := c.Out()
		for threads := 1; threads <= 3; threads++ {
			got := readF32(t, filepath.Join(dir, fmt.Sprintf("%d.out%d", i, threads)), cases[i].nOut)
			errs[i] = max(errs[i], relErr(FromBlocked(got, c.K, ho, wo), wants[i]))
			if _, ok := d.(*Linear); ok {
				continue // stored plain: no padding lanes
			}
			// Padding lanes hold zeros.
			for j, v := range got {
				if ch := (j/(ho*wo*Lanes))*Lanes + j%Lanes; ch >= c.K && v != 0 {
					t.Errorf("%s, %d threads: padding lane %d holds %g", c, threads, ch, v)
					break
				}
			}
		}
	}
	return errs
}

// TestDirectPlainInput checks the stem variant that reads NCHW input (no reorder into
// blocks of mostly padding), with chosen and forced tiles.
func TestDirectPlainInput(t *testing.T) {
	var ds []*Direct
	for _, x := range []struct {
		c Conv
		t Tile
	}{
		{Conv{C: 3, H: 17, W: 19, K: 48, KH: 3, KW: 3, Stride: 2, Pad: 1, ReLU: true}, Tile{}},
		{Conv{C: 3, H: 20, W: 23, K: 32, KH: 3, KW: 3, Stride: 1, Pad: 1}, Tile{2, 5}},
		{Conv{C: 1, H: 9, W: 8, K: 16, KH: 5, KW: 5, Stride: 2, Pad: 2, ReLU: true}, Tile{}},
		{Conv{C: 7, H: 11, W: 13, K: 24, KH: 7, KW: 7, Stride: 2, Pad: 3}, Tile{1, 3}},
	} {
		d, err := NewDirect(x.c)
		require.NoError(t, err)
		if x.t.RK > 0 {
			d.Tile = x.t
		}
		d.InPlain = true
		assert.Contains(t, d.Name(), "_in_nchw")
		ds = append(ds, d)
	}
	for i, e := range runDirects(t, ds) {
		assert.LessOrEqual(t, e, tol, "%s tile %+v", ds[i].Conv, ds[i].Tile)
	}
}

// directGrid is the seeded grid of shapes: RepVGG-like layers and degenerate ones (one
// channel, 1×1 maps, odd sizes, K not a multiple of 16, stride 2, kernels 1, 5 and 7,
// groups, maps narrower than the tile).
func directGrid() []Conv {
	cs := []Conv{
		{C: 3, H: 17, W: 19, K: 48, KH: 3, KW: 3, Stride: 2, Pad: 1, ReLU: true},
		{C: 48, H: 14, W: 14, K: 48, KH: 3, KW: 3, Stride: 1, Pad: 1, ReLU: true},
		{C: 48, H: 14, W: 30, K: 96, KH: 3, KW: 3, Stride: 2, Pad: 1, ReLU: true},
		{C: 1, H: 1, W: 1, K: 1, KH: 1, KW: 1, Stride: 1, Pad: 0},
		{C: 1, H: 5, W: 7, K: 5, KH: 3, KW: 3, Stride: 1, Pad: 1, ReLU: true},
		{C: 20, H: 1, W: 1, K: 33, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 16, H: 9, W: 9, K: 32, KH: 5, KW: 5, Stride: 1, Pad: 2, ReLU: true},
		{C: 17, H: 23, W: 11, K: 64, KH: 1, KW: 1, Stride: 1, Pad: 0},
		{C: 8, H: 15, W: 15, K: 16, KH: 7, KW: 7, Stride: 2, Pad: 3, ReLU: true},
		{C: 64, H: 8, W: 8, K: 64, KH: 3, KW: 3, Stride: 1, Pad: 1, Groups: 4, ReLU: true},
		{C: 32, H: 7, W: 9, K: 64, KH: 3, KW: 3, Stride: 2, Pad: 1, Groups: 2},
		{C: 24, H: 6, W: 6, K: 48, KH: 3, KW: 3, Stride: 1, Pad: 1, Groups: 3, ReLU: true},
		{C: 32, H: 4, W: 4, K: 32, KH: 3, KW: 3, Stride: 1, Pad: 0},
	}
	r := rand.New(rand.NewPCG(7, 7))
	for range 6 {
		k := []int{1, 3, 3, 5}[r.IntN(4)]
		s := 1 + r.IntN(2)
		cs = append(cs, Conv{C: 1 + r.IntN(40), H: 1 + r.IntN(20), W: 1 + r.IntN(20), K: 16 * (1 + r.IntN(4)),
			KH: k, KW: k, Stride: s, Pad: r.IntN(k/2 + 1), ReLU: r.IntN(2) == 0})
	}
	return cs
}

func TestDirectMatchesInterp(t *testing.T) {
	grid := directGrid()
	var valid []Conv
	for _, c := range grid {
		if CheckDirect(c) == nil {
			valid = append(valid, c)
		}
	}
	errs := runDirect(t, valid, nil)
	for i, c := range valid {
		assert.LessOrEqual(t, errs[i], tol, "%s (tile %+v)", c, ChooseTile(c))
	}
}

// TestDirectEveryTile forces small and odd tiles so border tiles, interior loops and tails
// of every kind are exercised.
func TestDirectEveryTile(t *testing.T) {
	c := Conv{C: 19, H: 13, W: 29, K: 64, KH: 3, KW: 3, Stride: 1, Pad: 1, ReLU: true}
	var convs []Conv
	var tiles []Tile
	for _, tl := range []Tile{{1, 1}, {1, 5}, {2, 7}, {4, 6}, {2, 14}, {1, 29}} {
		convs, tiles = append(convs, c), append(tiles, tl)
	}
	c2 := Conv{C: 16, H: 12, W: 25, K: 32, KH: 3, KW: 3, Stride: 2, Pad: 1}
	convs, tiles = append(convs, c2, c2), append(tiles, Tile{2, 4}, Tile{1, 13})
	errs := runDirect(t, convs, tiles)
	for i := range convs {
		assert.LessOrEqual(t, errs[i], tol, "%s tile %+v", convs[i], tiles[i])
	}
}

func TestCheckDirect(t *testing.T) {
	assert.NoError(t, CheckDirect(Conv{C: 3, H: 1, W: 1, K: 5, KH: 1, KW: 1, Stride: 1}))
	assert.ErrorContains(t, CheckDirect(Conv{C: 24, H: 4, W: 4, K: 24, KH: 3, KW: 3, Stride: 1, Pad: 1, Groups: 3}), "8 output channels per group")
	assert.ErrorContains(t, CheckDirect(Conv{C: 4, H: 2, W: 2, K: 16, KH: 5, KW: 5, Stride: 1}), "empty output")
	assert.ErrorContains(t, CheckDirect(Conv{C: 6, H: 2, W: 2, K: 16, KH: 1, KW: 1, Stride: 1, Groups: 4}), "do not divide")
}

func TestChooseTile(t *testing.T) {
	for _, c := range directGrid() {
		if CheckDirect(c) != nil {
			continue
		}
		tl := ChooseTile(c)
		_, wo := c.Out()
		kb := c.blocks()
		if c.groups() > 1 {
			kb /= c.groups()
		}
		assert.LessOrEqual(t, tl.RK*tl.RW+tl.RK+1, Registers, c)
		assert.LessOrEqual(t, tl.RK*tl.RW, MaxAccumulators, c)
		assert.LessOrEqual(t, tl.RW, wo, c)
		assert.Zero(t, kb%tl.RK, c)
	}
	// A RepVGG-A0 56×56 layer gets 3 blocks × 7 pixels: 21 accumulators, 8 column tiles.
	assert.Equal(t, Tile{3, 7}, ChooseTile(Conv{C: 48, H: 56, W: 56, K: 48, KH: 3, KW: 3, Stride: 1, Pad: 1}))
}

// TestDirectWideKernels covers kernels of KWLoop taps or more, whose interior column tiles
// loop over the taps: 5×5 and 7×7, stride 1 and 2, NCHW and NCHW16c input, maps wide
// enough for interior tiles, chosen and forced tiles; and the stem's tile choice.
func TestDirectWideKernels(t *testing.T) {
	var ds []*Direct
	for _, x := range []struct {
		c     Conv
		t     Tile
		plain bool
	}{
		{Conv{C: 3, H: 45, W: 61, K: 64, KH: 7, KW: 7, Stride: 2, Pad: 3, ReLU: true}, Tile{}, true},
		{Conv{C: 3, H: 45, W: 61, K: 64, KH: 7, KW: 7, Stride: 2, Pad: 3, ReLU: true}, Tile{1, 16}, true},
		{Conv{C: 5, H: 21, W: 50, K: 32, KH: 5, KW: 5, Stride: 1, Pad: 2}, Tile{2, 7}, true},
		{Conv{C: 20, H: 17, W: 47, K: 48, KH: 5, KW: 5, Stride: 2, Pad: 1, ReLU: true}, Tile{}, false},
		{Conv{C: 17, H: 12, W: 40, K: 32, KH: 7, KW: 7, Stride: 1, Pad: 3}, Tile{2, 5}, false},
	} {
		d, err := NewDirect(x.c)
		require.NoError(t, err)
		if x.t.RK > 0 {
			d.Tile = x.t
		}
		d.InPlain = x.plain
		ds = append(ds, d)
	}
	for i, e := range runDirects(t, ds) {
		assert.LessOrEqual(t, e, tol, "%s tile %+v", ds[i].Conv, ds[i].Tile)
	}
	assert.Equal(t, Tile{4, 4}, ChooseTile(Conv{C: 3, H: 224, W: 224, K: 64, KH: 7, KW: 7, Stride: 2, Pad: 3, Groups: 1}), "ResNet's stem")
}

// TestMeasureStem times ResNet-50's 7×7 stride-2 stem (NCHW input) under several tiles
// (VGGSIM_MEASURE=1).
func TestMeasureStem(t *testing.T) {
	measureGate(t)
	c := Conv{C: 3, H: 224, W: 224, K: 64, KH: 7, KW: 7, Stride: 2, Pad: 3, Groups: 1, ReLU: true}
	var ks []*Direct
	for _, tl := range []Tile{ChooseTile(c), {1, 16}, {2, 8}, {4, 5}, {2, 10}, {4, 4}} {
		ks = append(ks, &Direct{Conv: c, Tile: tl, InPlain: true})
	}
	res, err := MeasureKernels(ks, 1, 21, t.TempDir())
	require.NoError(t, err)
	for _, l := range res.Layers {
		t.Logf("%-60s %8.3f ms %7.1f GFLOP/s %5.1f%%", l.Kernel, l.Ms, l.GFlops, 100*l.GFlops/res.PeakGFlops)
	}
}
