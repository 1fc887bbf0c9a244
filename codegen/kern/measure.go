package kern

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/enum"
)

// PoolC is the thread pool runtime (vggsim_pool_start, vggsim_parallel), compiled by the
// driver next to the emitted module.
//
//go:embed runtime/pool.c
var PoolC string

// LayerTime is the measured time of one conv kernel.
type LayerTime struct {
	Conv   Conv
	Kernel string  // function name (family, shape, tile)
	Ms     float64 // median over the runs
	GFlops float64 // 2·MACs / time
}

// Measurement is the result of Measure: per-layer times and the measured FMA peak.
type Measurement struct {
	Threads    int
	PeakGFlops float64 // all threads together
	Layers     []LayerTime
}

// Measure compiles the direct kernels of convs (tiles from ChooseTile) with the FMA-peak loop and the pool into a
// timing harness, runs each kernel runs times on threads threads (median) on arbitrary
// data, and times the peak loop on every thread at once. dir holds the build.
func Measure(convs []Conv, threads, runs int, dir string) (*Measurement, error) {
	var ks []*Direct
	for _, c := range convs {
		d, err := NewDirect(c)
		if err != nil {
			return nil, err
		}
		ks = append(ks, d)
	}
	return MeasureKernels(ks, threads, runs, dir)
}

// MeasureKernels is Measure for given kernels (tiles chosen by the caller).
func MeasureKernels(ks []*Direct, threads, runs int, dir string) (*Measurement, error) {
	all := make([]Kernel, len(ks))
	for i, d := range ks {
		all[i] = d
	}
	return MeasureAll(all, threads, runs, dir)
}

// MeasureAll is Measure for kernels of any algorithm. Each kernel reads the same weights
// on every run, so they are timed with warm caches.
func MeasureAll(ks []Kernel, threads, runs int, dir string) (*Measurement, error) {
	return measureAll(ks, threads, runs, dir, false)
}

// ColdBytes is the weights a kernel cycles through when timed cold (MeasureCold): three
// times a 32 MiB L3, so every run reads its weights from memory, as in a whole forward
// whose weights exceed the caches.
const ColdBytes = 96 << 20

// MeasureCold is MeasureAll with the weights read from memory: every run uses another copy
// of the weights, the copies ColdBytes in all (the input stays warm, as in a network).
func MeasureCold(ks []Kernel, threads, runs int, dir string) (*Measurement, error) {
	return measureAll(ks, threads, runs, dir, true)
}

func measureAll(ks []Kernel, threads, runs int, dir string, cold bool) (*Measurement, error) {
	m := ir.NewModule()
	m.TargetTriple = "x86_64-pc-linux-gnu"
	DefinePeak(m, "vggsim_fma_peak", enum.LinkageExternal)
	seen := map[string]bool{}
	for _, d := range ks {
		if !seen[d.Name()] {
			d.Define(m, enum.LinkageExternal)
			seen[d.Name()] = true
		}
	}
	var s strings.Builder
	s.WriteString(`#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <pthread.h>
#include <time.h>
typedef void (*vggsim_task)(float **, int64_t, int64_t);
int vggsim_pool_start(int);
void vggsim_parallel(vggsim_task, float **, int64_t);
float vggsim_fma_peak(int64_t);
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static float *buf(long n) { float *p = aligned_alloc(64, (n * 4 + 63) / 64 * 64); for (long i = 0; i < n; i++) p[i] = (float)((i * 7919) % 13) * 0.01f; return p; }
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
static volatile float sink;
static void *peak_thread(void *p) { sink += vggsim_fma_peak((int64_t)(intptr_t)p); return 0; }
`)
	for _, d := range ks {
		fmt.Fprintf(&s, "void %s_range(float **, int64_t, int64_t);\n", d.Name())
	}
	fmt.Fprintf(&s, "int main(void) {\n\tint threads = vggsim_pool_start(%d), runs = %d;\n\tdouble *t = malloc(sizeof(double) * runs);\n", threads, runs)
	s.WriteString(`	{ // FMA peak: every thread at once, best of 25 short runs (a shared machine rarely
	  // leaves a long run alone)
		long n = 2000000; double best = 1e30;
		for (int r = 0; r < 25; r++) {
			pthread_t th[64]; double t0 = now();
			for (int i = 1; i < threads; i++) pthread_create(&th[i], 0, peak_thread, (void *)(intptr_t)n);
			peak_thread((void *)(intptr_t)n);
			for (int i = 1; i < threads; i++) pthread_join(th[i], 0);
			double dt = now() - t0; if (dt < best) best = dt;
		}
		printf("peak %.6f %ld\n", best, n);
	}
`)
	for i, d := range ks {
		c := d.Shape()
		ho, wo := c.Out()
		copies := 1
		if cold {
			copies = max(1, ColdBytes/(4*d.PackedWeights()))
		}
		fmt.Fprintf(&s, "\t{ float *a[4] = {buf(%d), buf(%d), 0, buf(%d)}; enum { NW = %d }; float *w[NW];\n", BlockedElems(c.K, ho, wo), inElems(d), c.blocks()*Lanes, copies)
		fmt.Fprintf(&s, "\t  for (int j = 0; j < NW; j++) w[j] = buf(%d);\n", d.PackedWeights())
		fmt.Fprintf(&s, "\t  for (int r = -2; r < runs; r++) { a[2] = w[(r + 2) %% NW]; double t0 = now(); vggsim_parallel(%s_range, a, %d); if (r >= 0) t[r] = now() - t0; }\n", d.Name(), d.Items())
		fmt.Fprintf(&s, "\t  for (int j = 0; j < NW; j++) free(w[j]);\n")
		fmt.Fprintf(&s, "\t  for (int j = 0; j < 4; j++) if (j != 2) free(a[j]);\n")
		fmt.Fprintf(&s, "\t  qsort(t, runs, sizeof *t, cmp); printf(\"layer %d %%.9f\\n\", t[runs / 2]); }\n", i)
	}
	s.WriteString("\treturn 0;\n}\n")
	ll, cf, pc, exe := filepath.Join(dir, "measure.ll"), filepath.Join(dir, "measure.c"), filepath.Join(dir, "pool.c"), filepath.Join(dir, "measure")
	for f, text := range map[string]string{ll: m.String(), cf: s.String(), pc: PoolC} {
		if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	if err := CompileExe(exe, ll, cf, pc); err != nil {
		return nil, err
	}
	out, err := exec.Command(exe).Output()
	if err != nil {
		return nil, fmt.Errorf("kern: %s: %v", exe, err)
	}
	res := &Measurement{Threads: threads}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var i int
		var sec float64
		var n int64
		if _, err := fmt.Sscanf(line, "peak %f %d", &sec, &n); err == nil {
			res.PeakGFlops = PeakFlops(n) * float64(threads) / sec / 1e9
		} else if _, err := fmt.Sscanf(line, "layer %d %f", &i, &sec); err == nil {
			d := ks[i]
			res.Layers = append(res.Layers, LayerTime{Conv: d.Shape(), Kernel: d.Name(), Ms: sec * 1e3, GFlops: 2 * float64(d.Shape().MACs()) / sec / 1e9})
		}
	}
	return res, nil
}

// inElems returns the floats of a kernel's input image in the layout it reads.
func inElems(k Kernel) int {
	if d, ok := k.(*Direct); ok {
		return d.InElems()
	}
	c := k.Shape()
	return BlockedElems(c.C, c.H, c.W)
}
