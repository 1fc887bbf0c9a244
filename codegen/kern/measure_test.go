package kern

import (
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// A0Convs are RepVGG-A0's conv layers at 224×224 (deploy form).
func a0Convs() []Conv {
	var cs []Conv
	add := func(c, h, k, s int) {
		cs = append(cs, Conv{C: c, H: h, W: h, K: k, KH: 3, KW: 3, Stride: s, Pad: 1, ReLU: true})
	}
	add(3, 224, 48, 2)
	stages := []struct{ n, k int }{{2, 48}, {4, 96}, {14, 192}, {1, 1280}}
	c, h := 48, 112
	for _, st := range stages {
		for i := 0; i < st.n; i++ {
			if i == 0 {
				add(c, h, st.k, 2)
				h /= 2
			} else {
				add(st.k, h, st.k, 1)
			}
			c = st.k
		}
	}
	return cs
}

// measureGate skips a measurement test unless VGGSIM_MEASURE is set, fails or skips it
// without clang, and returns the thread count from VGGSIM_THREADS (default 1).
func measureGate(t *testing.T) int {
	t.Helper()
	if os.Getenv("VGGSIM_MEASURE") == "" {
		t.Skip("set VGGSIM_MEASURE=1 to measure")
	}
	needClang(t)
	threads := 1
	if v := os.Getenv("VGGSIM_THREADS"); v != "" {
		fmt.Sscan(v, &threads)
	}
	return threads
}

// measureRounds times ks interleaved over n rounds in one harness (MeasureCold when
// VGGSIM_COLD is set, else MeasureAll) and returns the result and each kernel's n times,
// sorted.
func measureRounds(t *testing.T, ks []Kernel, threads, runs, n int) (*Measurement, [][]float64) {
	t.Helper()
	var all []Kernel
	for range n {
		all = append(all, ks...)
	}
	measure := MeasureAll
	if os.Getenv("VGGSIM_COLD") != "" {
		measure = MeasureCold
	}
	res, err := measure(all, threads, runs, t.TempDir())
	require.NoError(t, err)
	times := make([][]float64, len(ks))
	for i := range ks {
		for r := range n {
			times[i] = append(times[i], res.Layers[r*len(ks)+i].Ms)
		}
		slices.Sort(times[i])
	}
	return res, times
}

// TestMeasureA0 prints GFLOP/s per A0 layer against the FMA peak. It times nothing it
// asserts on; run it with VGGSIM_MEASURE=1 (threads from VGGSIM_THREADS, default 1).
func TestMeasureA0(t *testing.T) {
	threads := measureGate(t)
	res, err := Measure(a0Convs(), threads, 21, t.TempDir())
	require.NoError(t, err)
	var ms, flops float64
	for _, l := range res.Layers {
		t.Logf("%-60s %8.3f ms %7.1f GFLOP/s %5.1f%%", l.Kernel, l.Ms, l.GFlops, 100*l.GFlops/res.PeakGFlops)
		ms += l.Ms
		flops += 2 * float64(l.Conv.MACs())
	}
	t.Logf("peak %.1f GFLOP/s (%d threads); convs %.2f ms, %.1f GFLOP/s, %.1f%% of peak", res.PeakGFlops, threads, ms, flops/ms/1e6, 100*flops/ms/1e6/res.PeakGFlops)
}

// TestMeasureTiles times one layer under several tiles (VGGSIM_MEASURE=1).
func TestMeasureTiles(t *testing.T) {
	measureGate(t)
	var ks []*Direct
	for _, c := range []Conv{
		{C: 48, H: 56, W: 56, K: 48, KH: 3, KW: 3, Stride: 1, Pad: 1, ReLU: true},
		{C: 96, H: 28, W: 28, K: 96, KH: 3, KW: 3, Stride: 1, Pad: 1, ReLU: true},
	} {
		for _, tl := range []Tile{ChooseTile(c), {1, 28}, {3, 8}, {3, 7}, {2, 12}, {2, 14}, {6, 4}, {1, 14}, {3, 6}} {
			if (c.K/16)%tl.RK == 0 {
				ks = append(ks, &Direct{Conv: c, Tile: tl})
			}
		}
	}
	res, err := MeasureKernels(ks, 1, 31, t.TempDir())
	require.NoError(t, err)
	for _, l := range res.Layers {
		t.Logf("%-60s %8.3f ms %7.1f GFLOP/s %5.1f%%", l.Kernel, l.Ms, l.GFlops, 100*l.GFlops/res.PeakGFlops)
	}
	t.Logf("peak %.1f", res.PeakGFlops)
}

// TestMeasureWinogradA0 times A0's stride-1 3×3 layers at 224² with the direct and the
// Winograd kernel side by side in one harness (VGGSIM_MEASURE=1; threads from
// VGGSIM_THREADS, default 1). GFLOP/s are direct-equivalent: 2·MACs of the direct
// convolution over the time, so the two columns compare as speeds.
func TestMeasureWinogradA0(t *testing.T) {
	threads := measureGate(t)
	seen := map[Conv]bool{}
	var ks []Kernel
	for _, c := range a0Convs() {
		if CheckWinograd(c) != nil || seen[c] {
			continue
		}
		seen[c] = true
		d, err := NewDirect(c)
		require.NoError(t, err)
		w, err := NewWinograd(c)
		require.NoError(t, err)
		ks = append(ks, d, w)
	}
	res, err := MeasureAll(ks, threads, 21, t.TempDir())
	require.NoError(t, err)
	for i := 0; i+1 < len(res.Layers); i += 2 {
		d, w := res.Layers[i], res.Layers[i+1]
		t.Logf("%-36s direct %7.3f ms %6.1f GFLOP/s | winograd %7.3f ms %6.1f GFLOP/s (%s) | %.2fx", d.Conv, d.Ms, d.GFlops, w.Ms, w.GFlops, w.Kernel, d.Ms/w.Ms)
	}
	t.Logf("peak %.1f GFLOP/s (%d threads)", res.PeakGFlops, threads)
}

// TestMeasureWinoBlockings times A0's Winograd layers under several blockings, direct
// beside them, interleaved over rounds (VGGSIM_MEASURE=1; VGGSIM_THREADS, default 1;
// VGGSIM_COLD=1 reads the weights from memory on every run, as a whole forward does).
func TestMeasureWinoBlockings(t *testing.T) {
	threads := measureGate(t)
	c3 := func(c, h int) Conv {
		return Conv{C: c, H: h, W: h, K: c, KH: 3, KW: 3, Stride: 1, Pad: 1, ReLU: true}
	}
	var ks []Kernel
	for _, b := range []struct {
		c             Conv
		rk, rt, t, kc int
	}{
		{c3(48, 56), 0, 0, 0, 0},
		{c3(48, 56), 3, 7, 35, 3},
		{c3(96, 28), 0, 0, 0, 0},
		{c3(96, 28), 3, 7, 21, 3},
		{c3(96, 28), 3, 7, 49, 3},
		{c3(96, 28), 1, 13, 13, 6},
		{c3(192, 14), 0, 0, 0, 0},
		{c3(192, 14), 4, 4, 8, 4},
		{c3(192, 14), 2, 8, 8, 12},
	} {
		if b.rk == 0 {
			d, err := NewDirect(b.c)
			require.NoError(t, err)
			w, err := NewWinograd(b.c)
			require.NoError(t, err)
			ks = append(ks, d, w)
			continue
		}
		w := &Winograd{Conv: b.c, RK: b.rk, RT: b.rt, T: b.t, KC: b.kc}
		require.NoError(t, w.Validate())
		ks = append(ks, w)
	}
	res, times := measureRounds(t, ks, threads, 15, 3)
	for i, k := range ks {
		ms := times[i]
		mid := ms[len(ms)/2]
		t.Logf("%-56s items %3d  %7.3f ms (rounds %.3f..%.3f)", k.Name(), k.Items(), mid, ms[0], ms[len(ms)-1])
	}
	t.Logf("peak %.1f GFLOP/s (%d threads)", res.PeakGFlops, threads)
}

// TestMeasureStride2Tiles times A0's stride-2 layers under several direct register tiles,
// interleaved over rounds (VGGSIM_MEASURE=1; VGGSIM_THREADS; VGGSIM_COLD=1 for weights read
// from memory). The first tile of each layer is ChooseTile's.
func TestMeasureStride2Tiles(t *testing.T) {
	threads := measureGate(t)
	var ks []Kernel
	for _, c := range a0Convs() {
		if c.Stride != 2 {
			continue
		}
		_, wo := c.Out()
		seen := map[Tile]bool{}
		for _, tl := range []Tile{ChooseTile(c), {3, 7}, {1, 14}, {2, 7}, {2, 8}, {4, 4}, {1, 16}, {3, 4}, {2, 10}, {4, 5}} {
			if seen[tl] || c.blocks()%tl.RK != 0 || tl.RW > wo {
				continue
			}
			seen[tl] = true
			ks = append(ks, &Direct{Conv: c, Tile: tl, InPlain: c.C < Lanes})
		}
	}
	res, times := measureRounds(t, ks, threads, 11, 3)
	for i, k := range ks {
		ms := times[i]
		mid := ms[len(ms)/2]
		gf := 2 * float64(k.Shape().MACs()) / mid / 1e6
		t.Logf("%-56s %7.3f ms %6.1f GFLOP/s (rounds %.3f..%.3f)", k.Name(), mid, gf, ms[0], ms[len(ms)-1])
	}
	t.Logf("peak %.1f GFLOP/s (%d threads)", res.PeakGFlops, threads)
}
