package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/hw"
)

// bigConfig is an array with SRAM and accumulators so large that everything fits and a DRAM
// so fast it never stalls: its cycles are pure compute.
func bigConfig(df hw.Dataflow, R, C int) *hw.Config {
	return &hw.Config{Name: "big", Rows: R, Cols: C, Dataflow: df, ClockHz: 1e9, DataBits: 8,
		IfmapSRAMBytes: 1 << 30, FilterSRAMBytes: 1 << 30, OfmapSRAMBytes: 1 << 30, AccumBytes: 1 << 30,
		Energy: hw.FlatEnergy()}
}

// TestNativeComputeMatchesStepper checks the native engine's compute cycles against the
// cycle-stepped engine: pipelined by default, SCALE-Sim's serial folds with Options.Serial.
func TestNativeComputeMatchesStepper(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, arr := range stepArrays {
		R, C := arr[0], arr[1]
		for _, df := range dataflows {
			cfg := bigConfig(df, R, C)
			for _, sh := range stepShapes() {
				M, N, K := sh[0], sh[1], sh[2]
				a, b := randMatrix(r, M*K), randMatrix(r, K*N)
				layer := []Layer{{Name: "g", Kind: GEMM, Rows: M, InC: K, OutC: N}}
				for _, mode := range []StepMode{StepPipelined, StepSerial} {
					st, err := StepGEMM(df, R, C, M, N, K, a, b, mode)
					if err != nil {
						t.Fatal(err)
					}
					res, err := Simulate(cfg, layer, Options{Serial: mode == StepSerial})
					if err != nil {
						t.Fatal(err)
					}
					l := res.Layers[0]
					if l.ComputeCycles != st.Cycles || l.MACs != st.MACs || l.StallCycles != 0 {
						t.Errorf("%s %dx%d M%d N%d K%d %s: native %d cycles %d MACs, stepped %d, %d",
							df, R, C, M, N, K, mode, l.ComputeCycles, l.MACs, st.Cycles, st.MACs)
					}
				}
			}
		}
	}
}

// TestPipelineMatchesFoldGrid checks the native engine's fold-sequence arithmetic against
// FoldGrid's closed form (itself checked against the stepper) on larger shapes and groups.
func TestPipelineMatchesFoldGrid(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		df := dataflows[r.IntN(3)]
		R, C := 1+r.IntN(40), 1+r.IntN(40)
		M, N, K := 1+r.IntN(300), 1+r.IntN(300), 1+r.IntN(300)
		g := 1 + r.IntN(3)
		cfg := bigConfig(df, R, C)
		l := Layer{Kind: Conv, InH: M, InW: 1, InC: K * g, OutC: N * g, Groups: g}
		res, err := Simulate(cfg, []Layer{l}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		grid := MapGEMM(df, R, C, M, N, K)
		// g identical group GEMMs back to back: the pattern repeats with period Folds().
		var want int64
		if df == hw.OutputStationary {
			span := grid.FoldStart(grid.Folds())
			want = int64(g-1)*span + grid.PipelinedCycles()
		} else {
			want = int64(g-1)*grid.Folds()*int64(max(grid.T, R)) + grid.PipelinedCycles()
		}
		// A packed-group mapping (checked against the stepper in pack_test.go) is only chosen
		// when it is faster than the groups one after another.
		got := res.Layers[0].ComputeCycles
		if packed := strings.HasPrefix(res.Layers[0].Order, "packed"); packed && got > want || !packed && got != want {
			t.Fatalf("%s %dx%d M%d N%d K%d g%d (%s): %d cycles, want %d", df, R, C, M, N, K, g, res.Layers[0].Order, got, want)
		}
	}
}

// randomHW returns a random but sane accelerator.
func randomHW(r *rand.Rand) *hw.Config {
	kib := func(lo, hi int) int64 { return int64(lo+r.IntN(hi-lo+1)) * 1024 }
	c := &hw.Config{Name: "rand", Rows: 1 << r.IntN(7), Cols: 1 << r.IntN(7),
		Dataflow: dataflows[r.IntN(3)], ClockHz: 1e9, DataBits: []int{4, 8, 16}[r.IntN(3)],
		AccBits:        []int{0, 24, 32}[r.IntN(3)],
		IfmapSRAMBytes: kib(1, 512), FilterSRAMBytes: kib(1, 512), OfmapSRAMBytes: kib(1, 512),
		DRAMBandwidth: float64(1+r.IntN(64)) * 1e9, Energy: hw.FlatEnergy()}
	if r.IntN(2) == 0 {
		c.AccumBytes = kib(0, 1024)
	}
	if r.IntN(4) == 0 { // starved of partial-sum room: tiles shrink, or partial sums spill
		c.OfmapSRAMBytes, c.AccumBytes = int64(64+r.IntN(1024)), 0
	}
	return c
}

// randomLayers returns a short chain of random layers of every kind.
func randomLayers(r *rand.Rand) []Layer {
	var ls []Layer
	for i := range 1 + r.IntN(4) {
		h := 1 + r.IntN(40)
		c := 1 + r.IntN(64)
		g := 1
		if r.IntN(4) == 0 {
			g = c
		}
		switch r.IntN(6) {
		case 0, 1, 2:
			k := []int{1, 3, 5}[r.IntN(3)]
			pad := r.IntN(k/2 + 1)
			if h+2*pad < k {
				h = k
			}
			ls = append(ls, Layer{Name: fmt.Sprint("conv", i), Kind: Conv, InH: h, InW: h + r.IntN(3),
				InC: c, OutC: g * (1 + r.IntN(64/g+1)), KH: k, KW: k, StrideH: 1 + r.IntN(3),
				StrideW: 1 + r.IntN(3), PadH: pad, PadW: pad, Groups: g, Bias: r.IntN(2) == 0})
		case 3:
			ls = append(ls, Layer{Name: fmt.Sprint("fc", i), Kind: GEMM, Rows: 1 + r.IntN(3), InC: 1 + r.IntN(2000), OutC: 1 + r.IntN(1000)})
		case 4:
			ls = append(ls, Layer{Name: fmt.Sprint("pool", i), Kind: Pool, InH: h + 2, InW: h + 2, InC: c, KH: 2, KW: 2, StrideH: 2, StrideW: 2})
		default:
			kind := []LayerKind{Add, ReLU, GlobalPool, BatchNorm, Mul, Sigmoid}[r.IntN(6)]
			ls = append(ls, Layer{Name: fmt.Sprint("v", i), Kind: kind, InH: h, InW: h, InC: c, NumInputs: 0})
		}
	}
	return ls
}

// TestNativeProperties checks the native model's invariants over random shapes and hardware.
func TestNativeProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	orders := map[string]int{}
	defer func() {
		// The random hardware reaches every kind of mapping.
		for _, o := range []string{"os n-outer", "os m-outer", "os k-chunk", "ws n-outer", "ws m-outer", "ws spill",
			"is n-outer", "is m-outer", "is spill"} {
			if orders[o] == 0 {
				t.Errorf("no layer was mapped %s: %v", o, orders)
			}
		}
	}()
	for it := range 1500 {
		cfg := randomHW(r)
		ls := randomLayers(r)
		batch := 1 + r.IntN(4)
		chain := r.IntN(2) == 0
		// Latency (the default) and DRAM alternate: each has its own monotonicity below.
		obj := []Objective{ObjectiveLatency, ObjectiveDRAM}[it%2]
		opts := Options{Batch: batch, ChainResidency: chain, Objective: obj}
		res, err := Simulate(cfg, ls, opts)
		if err != nil {
			t.Fatalf("it %d: %v", it, err)
		}
		pes := int64(cfg.Rows * cfg.Cols)
		for i, l := range res.Layers {
			in := ls[i]
			name := fmt.Sprintf("it %d layer %d (%s on %s)", it, i, in.Kind, cfg.Dataflow)
			for _, o := range []string{"n-outer", "m-outer", "k-chunk", "spill"} {
				if strings.Contains(l.Order, o) {
					orders[string(cfg.Dataflow)+" "+o]++
				}
			}
			// MACs exact, computed independently from the convolution's definition.
			var macs int64
			switch in.Kind {
			case Conv:
				oh := (in.InH+2*in.PadH-in.KH)/in.StrideH + 1
				ow := (in.InW+2*in.PadW-in.KW)/in.StrideW + 1
				macs = int64(batch * oh * ow * in.OutC * in.KH * in.KW * in.InC / or1(in.Groups))
			case GEMM:
				macs = int64(batch * or1(in.Rows) * in.InC * in.OutC)
			}
			if l.MACs != macs {
				t.Errorf("%s: %d MACs, want %d", name, l.MACs, macs)
			}
			if l.Cycles < ceilDiv64(l.MACs, pes) || l.Cycles < l.ComputeCycles {
				t.Errorf("%s: %d cycles for %d MACs on %d PEs", name, l.Cycles, l.MACs, pes)
			}
			if l.Utilization > 1 || l.MappingEfficiency > 1 || l.Utilization < 0 {
				t.Errorf("%s: utilization %v, mapping efficiency %v", name, l.Utilization, l.MappingEfficiency)
			}
			if !l.InputOnChip && l.DRAMIfmapReadBytes < l.UniqueIfmapBytes {
				t.Errorf("%s: ifmap DRAM reads %d < unique %d", name, l.DRAMIfmapReadBytes, l.UniqueIfmapBytes)
			}
			if l.DRAMFilterReadBytes < l.UniqueFilterBytes {
				t.Errorf("%s: filter DRAM reads %d < unique %d", name, l.DRAMFilterReadBytes, l.UniqueFilterBytes)
			}
			if !l.OutputOnChip && l.DRAMOfmapWriteBytes < l.UniqueOfmapBytes {
				t.Errorf("%s: ofmap DRAM writes %d < unique %d", name, l.DRAMOfmapWriteBytes, l.UniqueOfmapBytes)
			}
			if l.EnergyJ <= 0 && (l.MACs > 0 || l.VectorOps > 0) {
				t.Errorf("%s: energy %v", name, l.EnergyJ)
			}
		}
		// More bandwidth is never slower.
		fast := *cfg
		fast.DRAMBandwidth *= 1 + float64(r.IntN(8))
		resFast, err := Simulate(&fast, ls, opts)
		if err != nil {
			t.Fatal(err)
		}
		for i := range res.Layers {
			if resFast.Layers[i].Cycles > res.Layers[i].Cycles {
				t.Errorf("it %d layer %d: %d cycles at %g B/s, %d at %g B/s", it, i,
					resFast.Layers[i].Cycles, fast.DRAMBandwidth, res.Layers[i].Cycles, cfg.DRAMBandwidth)
			}
		}
		// More SRAM (any one buffer, or the accumulator) never adds DRAM traffic when the
		// mapper minimizes traffic.
		for _, grow := range []func(c *hw.Config){
			func(c *hw.Config) { c.IfmapSRAMBytes *= 2 },
			func(c *hw.Config) { c.FilterSRAMBytes *= 2 },
			func(c *hw.Config) { c.OfmapSRAMBytes *= 2 },
			func(c *hw.Config) { c.AccumBytes = c.AccumBytes*2 + 1024 },
		} {
			big := *cfg
			grow(&big)
			resBig, err := Simulate(&big, ls, opts)
			if err != nil {
				t.Fatal(err)
			}
			for i := range res.Layers {
				a, b := res.Layers[i], resBig.Layers[i]
				if obj == ObjectiveLatency {
					continue // a faster mapping may move more bytes (docs/simulator.md §4.4)
				}
				if b.DRAMReadBytes+b.DRAMWriteBytes > a.DRAMReadBytes+a.DRAMWriteBytes {
					t.Errorf("it %d layer %d (%s %s): more SRAM, DRAM %d → %d bytes", it, i, ls[i].Kind,
						cfg.Dataflow, a.DRAMReadBytes+a.DRAMWriteBytes, b.DRAMReadBytes+b.DRAMWriteBytes)
				}
			}
		}
	}
}

// TestChainResidency checks the plain-chain rule: an output that fits stays on chip.
func TestChainResidency(t *testing.T) {
	cfg := bigConfig(hw.OutputStationary, 8, 8)
	cfg.IfmapSRAMBytes, cfg.OfmapSRAMBytes = 16*16*8, 16*16*8 // exactly one 8×16×16 map
	cfg.DRAMBandwidth = 1e9
	ls := []Layer{
		{Name: "a", Kind: Conv, InH: 16, InW: 16, InC: 4, OutC: 8, KH: 3, KW: 3, PadH: 1, PadW: 1},
		{Name: "b", Kind: Conv, InH: 16, InW: 16, InC: 8, OutC: 16, KH: 3, KW: 3, PadH: 1, PadW: 1},
		{Name: "c", Kind: Conv, InH: 16, InW: 16, InC: 16, OutC: 4, KH: 3, KW: 3, PadH: 1, PadW: 1},
	}
	res, err := Simulate(cfg, ls, Options{ChainResidency: true})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := res.Layers[0], res.Layers[1], res.Layers[2]
	if !a.OutputOnChip || a.DRAMOfmapWriteBytes != 0 || !b.InputOnChip || b.DRAMIfmapReadBytes != 0 {
		t.Errorf("a→b should stay on chip: %+v / %+v", a, b)
	}
	if b.OutputOnChip || b.DRAMOfmapWriteBytes != 16*16*16 || c.InputOnChip || c.DRAMIfmapReadBytes == 0 {
		t.Errorf("b's 16-channel output does not fit and must go through DRAM: %+v / %+v", b, c)
	}
	plain, err := Simulate(cfg, ls, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Total.DRAMReadBytes+plain.Total.DRAMWriteBytes <= res.Total.DRAMReadBytes+res.Total.DRAMWriteBytes {
		t.Error("residency did not save DRAM traffic")
	}
}

// a0Deploy is RepVGG-A0 in deploy form at 224×224: 22 3×3 convs (pad 1), GAP and the FC.
func a0Deploy() []Layer {
	var ls []Layer
	h, c := 224, 3
	widths := []int{48, 48, 96, 192, 1280}
	blocks := []int{1, 2, 4, 14, 1}
	for s := range widths {
		for b := range blocks[s] {
			stride := 1
			if b == 0 {
				stride = 2
			}
			ls = append(ls, Layer{Name: fmt.Sprintf("stage%d.%d", s, b), Kind: Conv, InH: h, InW: h,
				InC: c, OutC: widths[s], KH: 3, KW: 3, StrideH: stride, StrideW: stride, PadH: 1, PadW: 1,
				Bias: true, FusedReLU: true})
			h = (h+2-3)/stride + 1
			c = widths[s]
		}
	}
	ls = append(ls, Layer{Name: "gap", Kind: GlobalPool, InH: h, InW: h, InC: c})
	ls = append(ls, Layer{Name: "fc", Kind: GEMM, InC: c, OutC: 1000, Bias: true})
	return ls
}

func edgeConfig() *hw.Config {
	return &hw.Config{Name: "edge-32", Rows: 32, Cols: 32, Dataflow: hw.OutputStationary, ClockHz: 1e9,
		DataBits: 8, AccBits: 32, IfmapSRAMBytes: 64 << 10, FilterSRAMBytes: 64 << 10,
		OfmapSRAMBytes: 64 << 10, DRAMBandwidth: 16e9, Energy: hw.FlatEnergy()}
}

func TestNativeA0(t *testing.T) {
	ls := a0Deploy()
	res, err := Simulate(edgeConfig(), ls, Options{ChainResidency: true})
	if err != nil {
		t.Fatal(err)
	}
	// RepVGG-A0 has 1.36 G multiply-accumulates at 224×224 (paper: 1.4 GFLOPs as MACs).
	if res.Total.MACs < 1.3e9 || res.Total.MACs > 1.45e9 {
		t.Errorf("A0 MACs %d", res.Total.MACs)
	}
	if res.Utilization <= 0 || res.Utilization > 1 || res.ThroughputIPS <= 0 || res.EnergyJ <= 0 {
		t.Errorf("totals: %+v", res)
	}
}

func BenchmarkNativeA0(b *testing.B) {
	ls := a0Deploy()
	cfg := edgeConfig()
	for b.Loop() {
		if _, err := Simulate(cfg, ls, Options{ChainResidency: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNativeA0Parallel simulates RepVGG-A0 on every core at once and reports layer
// simulations per second, the rate a sweep sees (mappings come from the result cache after
// the first run).
func BenchmarkNativeA0Parallel(b *testing.B) {
	ls := a0Deploy()
	cfg := edgeConfig()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := Simulate(cfg, ls, Options{ChainResidency: true}); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N*len(ls))/b.Elapsed().Seconds(), "layers/s")
}

// TestPresetsA0 runs RepVGG-A0 on every embedded hardware preset.
func TestPresetsA0(t *testing.T) {
	for _, cfg := range hw.Presets() {
		for _, batch := range []int{1, 8} {
			res, err := Simulate(cfg, a0Deploy(), Options{Batch: batch, ChainResidency: true})
			if err != nil {
				t.Fatalf("%s: %v", cfg.Name, err)
			}
			var macs int64
			for _, l := range a0Deploy() {
				macs += l.MACs(batch)
			}
			if res.Total.MACs != macs || res.Utilization <= 0 || res.Utilization > 1 || res.ThroughputIPS <= 0 {
				t.Errorf("%s batch %d: %+v", cfg.Name, batch, res.Total)
			}
			// Energy is positive, the sum of its components, and per image is per run / batch.
			tt := res.Total
			parts := tt.EnergyMACJ + tt.EnergySRAMJ + tt.EnergyDRAMJ + tt.EnergyLeakageJ
			if res.EnergyJ <= 0 || math.Abs(parts-res.EnergyJ) > 1e-12*res.EnergyJ ||
				math.Abs(res.EnergyPerImageJ*float64(batch)-res.EnergyJ) > 1e-12*res.EnergyJ {
				t.Errorf("%s batch %d: energy %v, components sum %v, per image %v", cfg.Name, batch, res.EnergyJ, parts, res.EnergyPerImageJ)
			}
		}
	}
}

// TestBranchAdd checks a train-form branch add: three inputs, one of them kept on chip.
func TestBranchAdd(t *testing.T) {
	cfg := edgeConfig()
	l := Layer{Name: "add", Kind: Add, InH: 8, InW: 8, InC: 16, NumInputs: 3, InputsOnChip: []bool{false, true, false}}
	res, err := Simulate(cfg, []Layer{l}, Options{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Layers[0]
	words := int64(2 * 8 * 8 * 16)
	if r.VectorOps != 2*words || r.DRAMIfmapReadBytes != 2*words || r.DRAMOfmapWriteBytes != words ||
		r.SRAMIfmapReadBytes != 3*words || r.MACs != 0 || r.ComputeCycles != ceilDiv64(2*words, 32) {
		t.Errorf("%+v", r)
	}
	bad := l
	bad.NumInputs = 1
	if _, err := Simulate(cfg, []Layer{bad}, Options{}); err == nil {
		t.Error("an Add of one input was accepted")
	}
}
