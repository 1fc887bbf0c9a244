// Package bench times vggsim's generated code on this CPU: a model is generated, compiled
// (codegen, with the direct kernels of codegen/kern on the thread pool), run N times after
// warm-up, checked against the reference interpreter, and compared with the FMA peak that
// a loop vggsim emits measures on the same threads. The peer baselines (oneDNN, ONNX
// Runtime, PyTorch) live beside this package as scripts; see bench/README.md.
package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vggsim/vggsim/codegen"
	"github.com/vggsim/vggsim/codegen/emit"
	"github.com/vggsim/vggsim/codegen/kern"
	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/interp"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

// Options configures a benchmark.
type Options struct {
	Threads int // pool threads (≥ 1)
	Runs    int // timed forwards
	Warmup  int // untimed forwards before them
	// LayerRuns times every conv layer of the fast family on its own this many times
	// (0: skip), and checks each against the interpreter on the network's own activations.
	LayerRuns int
	// Algo forces the conv algorithm (kern.AlgoAuto: the cost model); Tune times both
	// per layer shape at build time and keeps the faster (with AlgoAuto).
	Algo kern.Algo
	Tune bool
}

// Layer is one conv layer of the model as generated: its kernel and, when timed alone,
// its time.
type Layer struct {
	Name   string  `json:"name"`
	Kernel string  `json:"kernel"`
	Family string  `json:"algorithm"`
	MACs   int64   `json:"macs"`
	Ms     float64 `json:"ms,omitempty"`
	GFlops float64 `json:"gflops,omitempty"` // 2·MACs (of the direct convolution) / ms
	// RelErr is the layer's error against the interpreter, max |Δ| / max |ref|, run alone
	// on the network's own input activation (with LayerRuns > 0).
	RelErr *float64 `json:"relerr,omitempty"`
	// Timed says what Ms and RelErr cover when it is not the whole step: "conv" for a conv
	// whose store also adds a residual operand (the conv is timed and checked alone,
	// against the interpreter's conv output).
	Timed string `json:"timed,omitempty"`
}

// Result is the timing of one model form.
type Result struct {
	Model      string    `json:"model"`
	Threads    int       `json:"threads"`
	MedianMs   float64   `json:"median_ms"`
	MinMs      float64   `json:"min_ms"`
	SpreadPct  float64   `json:"spread_pct"` // (p90 − p10) / median
	GFlops     float64   `json:"gflops"`     // 2·MACs / median
	PeakGFlops float64   `json:"peak_gflops"`
	PctPeak    float64   `json:"pct_peak"`
	RelErr     float64   `json:"relerr"` // vs interp, max-abs over max-abs
	TimesMs    []float64 `json:"times_ms"`
	Layers     []Layer   `json:"layers"`
	MACs       int64     `json:"macs"`
}

// Peak returns the FMA peak in GFLOP/s on threads threads, measured with the loop of
// kern.DefinePeak.
func Peak(threads int, dir string) (float64, error) {
	m, err := kern.Measure(nil, threads, 1, dir)
	if err != nil {
		return 0, err
	}
	return m.PeakGFlops, nil
}

// Run compiles g with tc, times it and checks it against the interpreter on a seeded
// input. peak (GFLOP/s) is the measured peak the result is compared with.
func Run(g *ir.Graph, tc *codegen.Toolchain, o Options, peak float64) (*Result, error) {
	dir, err := os.MkdirTemp("", "vggsim-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fam, err := kern.NewFamily(g, o.Algo, o.Tune, o.Threads, dir)
	if err != nil {
		return nil, err
	}
	c, err := codegen.Compile(g, codegen.Options{Families: []emit.Family{fam}}, tc)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	s := g.Input().Shape
	x := tensor.New(1, s.C, s.H, s.W)
	r := rand.New(rand.NewPCG(1, 0xbe))
	for i := range x.F32 {
		x.F32[i] = 2*r.Float32() - 1
	}
	in, out := filepath.Join(dir, "in.npy"), filepath.Join(dir, "out.npy")
	if err := npy.WriteFile(in, x); err != nil {
		return nil, err
	}
	// The runner's pool reads its thread count from the environment it inherits.
	os.Setenv("VGGSIM_THREADS", strconv.Itoa(max(o.Threads, 1)))
	defer os.Unsetenv("VGGSIM_THREADS")
	stderr, err := c.Artifacts.Exec(c.Blob, in, out, "-r", strconv.Itoa(o.Warmup+o.Runs))
	if err != nil {
		return nil, err
	}
	var times []float64
	for _, line := range strings.Split(stderr, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "time_ms" {
			for _, v := range f[1:] {
				t, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return nil, fmt.Errorf("bench: runner printed %q", line)
				}
				times = append(times, t)
			}
		}
	}
	if len(times) != o.Warmup+o.Runs {
		return nil, fmt.Errorf("bench: runner printed %d times, want %d", len(times), o.Warmup+o.Runs)
	}
	times = times[o.Warmup:]
	y, err := npy.ReadFile(out)
	if err != nil {
		return nil, err
	}
	want, err := interp.Run(g, x)
	if err != nil {
		return nil, err
	}
	res := &Result{Model: g.Name, Threads: o.Threads, TimesMs: times, PeakGFlops: peak, RelErr: relErr(y.F32, want.F32)}
	sorted := slices.Sorted(slices.Values(times))
	res.MedianMs = sorted[len(sorted)/2]
	res.MinMs = sorted[0]
	res.SpreadPct = 100 * (sorted[len(sorted)*9/10] - sorted[len(sorted)/10]) / res.MedianMs
	var ks []kern.Kernel
	var kNodes [][]*ir.Node
	var convLayer []int
	var convOnly []int // indexes into ks of the kernels timed without their fused residual add
	for _, st := range c.Module.Plan.Steps {
		if len(st.Nodes) == 0 {
			continue
		}
		n := st.Nodes[0]
		res.MACs += n.MACs()
		if n.Op != ir.Conv && n.Op != ir.Linear {
			continue
		}
		res.Layers = append(res.Layers, Layer{Name: n.Name, Kernel: st.Kernel.Name(), Family: st.Kernel.Family(), MACs: n.MACs()})
		if k := kern.KernelOf(st.Kernel); k != nil {
			ks, kNodes = append(ks, k), append(kNodes, st.Nodes)
			convLayer = append(convLayer, len(res.Layers)-1)
		} else if k := kern.ConvPartOf(st.Kernel); k != nil {
			ks, kNodes = append(ks, k), append(kNodes, st.Nodes[:1])
			convLayer = append(convLayer, len(res.Layers)-1)
			convOnly = append(convOnly, len(ks)-1)
		}
	}
	res.GFlops = 2 * float64(res.MACs) / res.MedianMs / 1e6
	if peak > 0 {
		res.PctPeak = 100 * res.GFlops / peak
	}
	if o.LayerRuns > 0 && len(ks) > 0 {
		m, err := kern.MeasureAll(ks, o.Threads, o.LayerRuns, dir)
		if err != nil {
			return nil, err
		}
		for i, l := range m.Layers {
			res.Layers[convLayer[i]].Ms = l.Ms
			res.Layers[convLayer[i]].GFlops = l.GFlops
		}
		for _, i := range convOnly {
			res.Layers[convLayer[i]].Timed = "conv"
		}
		errs, err := layerErrors(g, x, ks, kNodes, o.Threads, dir)
		if err != nil {
			return nil, err
		}
		for i, e := range errs {
			res.Layers[convLayer[i]].RelErr = &e
		}
	}
	return res, nil
}

// layerErrors runs each kernel alone on the interpreter's activation of its input (image
// 0 of x) and returns its error against the interpreter's value of the step's last node
// (the conv, or the ReLU fused into it).
func layerErrors(g *ir.Graph, x *tensor.Tensor, ks []kern.Kernel, nodes [][]*ir.Node, threads int, dir string) ([]float64, error) {
	vals, err := interp.RunAll(g, x)
	if err != nil {
		return nil, err
	}
	var xs, ws, bs [][]float32
	for _, ns := range nodes {
		n := ns[0]
		xs = append(xs, vals[n.In[0].ID].F32)
		ws = append(ws, n.Params["weight"].F32)
		var b []float32
		if n.Attrs.Bias {
			b = n.Params["bias"].F32
		}
		bs = append(bs, b)
	}
	outs, err := kern.Run(ks, xs, ws, bs, threads, dir)
	if err != nil {
		return nil, err
	}
	errs := make([]float64, len(ks))
	for i, ns := range nodes {
		errs[i] = relErr(outs[i], vals[ns[len(ns)-1].Out.ID].F32)
	}
	return errs, nil
}

func relErr(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.NaN()
	}
	var num, den float64
	for i, w := range want {
		num = math.Max(num, math.Abs(float64(got[i]-w)))
		den = math.Max(den, math.Abs(float64(w)))
	}
	if den == 0 {
		return num
	}
	return num / den
}
