package kern

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/enum"
	"github.com/vggsim/vggsim/codegen/emit"
	vir "github.com/vggsim/vggsim/ir"
)

// GraphConvs returns the shapes of g's conv nodes the family can run (ReLU false), each
// once, in graph order.
func GraphConvs(g *vir.Graph) []Conv {
	seen := map[Conv]bool{}
	var cs []Conv
	for _, n := range g.Nodes {
		if n.Op != vir.Conv || len(n.In) != 1 {
			continue
		}
		c := ConvOf(n, false)
		if CheckDirect(c) == nil && !seen[c] {
			seen[c] = true
			cs = append(cs, c)
		}
	}
	return cs
}

// Tune times the direct and the Winograd kernel of every shape of convs Winograd applies
// to, in one harness (threads pool threads, the median of runs) with their weights read
// from memory as in a whole forward (MeasureCold), and returns the faster per shape, keyed
// with ReLU false (Family.Tuned). dir holds the build.
func Tune(convs []Conv, threads, runs int, dir string) (map[Conv]Choice, error) {
	var ks []Kernel
	var keys []Conv
	for _, c := range convs {
		c.ReLU = false
		if CheckWinograd(c) != nil {
			continue
		}
		c.ReLU = true // time what the networks run
		d, err := NewDirect(c)
		if err != nil {
			return nil, err
		}
		w, err := NewWinograd(c)
		if err != nil {
			return nil, err
		}
		c.ReLU = false
		ks, keys = append(ks, d, w), append(keys, c)
	}
	res := map[Conv]Choice{}
	if len(ks) == 0 {
		return res, nil
	}
	m, err := MeasureCold(ks, threads, runs, dir)
	if err != nil {
		return nil, err
	}
	if len(m.Layers) != len(ks) {
		return nil, fmt.Errorf("kern: tuning harness timed %d kernels, want %d", len(m.Layers), len(ks))
	}
	for i, c := range keys {
		ch := Choice{Algo: AlgoDirect, DirectMs: m.Layers[2*i].Ms, WinoMs: m.Layers[2*i+1].Ms}
		if ch.WinoMs < ch.DirectMs && WinoErrEstimate(c) <= MaxWinoErr {
			ch.Algo = AlgoWinograd
		}
		res[c] = ch
	}
	return res, nil
}

// KernelOf returns the kernel of this package behind a planned step's emit.Kernel, or nil
// when the step runs another family's kernel.
func KernelOf(k emit.Kernel) Kernel {
	switch k := k.(type) {
	case *convKernel:
		return k.d
	case *winoKernel:
		return k.w
	case *pwKernel:
		if !k.p.Residual { // a fused residual add has an operand the harnesses do not pass
			return k.p
		}
	}
	return nil
}

// ConvPartOf returns, for a planned step whose kernel fuses a residual add (and the
// activation after it) into its store, the same kernel — conv, register tile and work
// split — without the add and without the activation, so the harnesses can time the conv
// and check it against the interpreter's value of the conv node; nil for any other step.
// The time leaves out the store epilogue's one extra load and add per output.
func ConvPartOf(k emit.Kernel) Kernel {
	if k, ok := k.(*pwKernel); ok && k.p.Residual {
		p := *k.p
		p.Residual = false
		p.Conv.ReLU, p.Conv.ReLU6 = false, false
		return &p
	}
	return nil
}

// Run runs each kernel once on its input x (one NCHW image) with weights w [K][C/G][KH][KW]
// and bias b (nil: zeros) through a compiled harness on threads pool threads, and returns
// the NCHW outputs. It checks kernels against a reference (vggsim bench's per-layer
// error). dir holds the build.
func Run(ks []Kernel, xs, ws, bs [][]float32, threads int, dir string) ([][]float32, error) {
	m := ir.NewModule()
	m.TargetTriple = "x86_64-pc-linux-gnu"
	seen := map[string]bool{}
	var s strings.Builder
	s.WriteString(`#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
int vggsim_pool_start(int);
void vggsim_parallel(void (*)(float **, int64_t, int64_t), float **, int64_t);
static float *rd(const char *dir, int i, const char *ext, long n) {
	char p[4096]; snprintf(p, sizeof p, "%s/%d.%s", dir, i, ext);
	float *v = aligned_alloc(64, (n * 4 + 63) / 64 * 64);
	FILE *f = fopen(p, "rb"); if (!f || fread(v, 4, n, f) != (size_t)n) { fprintf(stderr, "read %s\n", p); exit(1); }
	fclose(f); return v;
}
static void wr(const char *dir, int i, float *v, long n) {
	char p[4096]; snprintf(p, sizeof p, "%s/%d.out", dir, i);
	FILE *f = fopen(p, "wb"); if (!f || fwrite(v, 4, n, f) != (size_t)n) { fprintf(stderr, "write %s\n", p); exit(1); }
	fclose(f);
}
`)
	for _, k := range ks {
		if !seen[k.Name()] {
			k.Define(m, enum.LinkageExternal)
			seen[k.Name()] = true
			fmt.Fprintf(&s, "void %s_range(float **, int64_t, int64_t);\n", k.Name())
		}
	}
	fmt.Fprintf(&s, "int main(int argc, char **argv) {\n\tconst char *dir = argv[1];\n\tvggsim_pool_start(%d);\n", threads)
	for i, k := range ks {
		c := k.Shape()
		if len(xs[i]) != c.C*c.H*c.W {
			return nil, fmt.Errorf("kern: %s: input of %d floats, want %d", k.Name(), len(xs[i]), c.C*c.H*c.W)
		}
		pw, pb, err := k.Pack(ws[i], bs[i])
		if err != nil {
			return nil, err
		}
		ho, wo := c.Out()
		nOut := BlockedElems(c.K, ho, wo)
		in := ToBlocked(xs[i], c.C, c.H, c.W)
		if d, ok := k.(*Direct); ok && d.InPlain {
			in = xs[i] // the stem reads NCHW
		}
		for ext, v := range map[string][]float32{"in": in, "w": pw, "b": pb} {
			if err := writeFloats(filepath.Join(dir, fmt.Sprintf("%d.%s", i, ext)), v); err != nil {
				return nil, err
			}
		}
		fmt.Fprintf(&s, "\t{ float *a[4] = {aligned_alloc(64, %d), rd(dir, %d, \"in\", %d), rd(dir, %d, \"w\", %d), rd(dir, %d, \"b\", %d)};\n",
			(nOut*4+63)/64*64, i, inElems(k), i, len(pw), i, len(pb))
		fmt.Fprintf(&s, "\t  vggsim_parallel(%s_range, a, %d); wr(dir, %d, a[0], %d); for (int j = 0; j < 4; j++) free(a[j]); }\n", k.Name(), k.Items(), i, nOut)
	}
	s.WriteString("\treturn 0;\n}\n")
	ll, cf, pc, exe := filepath.Join(dir, "run.ll"), filepath.Join(dir, "run.c"), filepath.Join(dir, "pool.c"), filepath.Join(dir, "run")
	for f, text := range map[string]string{ll: m.String(), cf: s.String(), pc: PoolC} {
		if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	if err := CompileExe(exe, ll, cf, pc); err != nil {
		return nil, err
	}
	if err := runCmd(exe, dir); err != nil {
		return nil, err
	}
	outs := make([][]float32, len(ks))
	for i, k := range ks {
		c := k.Shape()
		ho, wo := c.Out()
		data, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.out", i)))
		if err != nil {
			return nil, err
		}
		if len(data) != 4*BlockedElems(c.K, ho, wo) {
			return nil, fmt.Errorf("kern: %s: harness wrote %d bytes", k.Name(), len(data))
		}
		y := make([]float32, len(data)/4)
		for j := range y {
			y[j] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*j:]))
		}
		outs[i] = FromBlocked(y, c.K, ho, wo)
	}
	return outs, nil
}

func writeFloats(path string, v []float32) error {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return os.WriteFile(path, b, 0o644)
}

// TuneRuns is the timed runs per candidate kernel when tuning (the median is kept).
const TuneRuns = 7

// NewFamily returns the family for g with algorithm algo; with tune (and algo auto) it
// first times both algorithms of every shape Winograd applies to on threads pool threads
// (Tune; dir holds the harness) and records the choices in Family.Tuned.
func NewFamily(g *vir.Graph, algo Algo, tune bool, threads int, dir string) (Family, error) {
	f := Family{Algo: algo}
	if !tune || algo != AlgoAuto {
		return f, nil
	}
	t, err := Tune(GraphConvs(g), max(threads, 1), TuneRuns, dir)
	if err != nil {
		return f, err
	}
	f.Tuned = t
	return f, nil
}
