package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/memory"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/sim"
)

func TestSimulateDefault(t *testing.T) {
	out, errs, code := vggsim(t)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"RepVGG-A0 (deploy form, 224x224, batch 1) on edge-32", "stage3.13.rbr_reparam", "latency", "energy", "MACs 1361451008"} {
		if !strings.Contains(out, want) {
			t.Errorf("default simulate output lacks %q:\n%s", want, out)
		}
	}
}

func simJSON(t *testing.T, args ...string) memory.Simulation {
	t.Helper()
	out, errs, code := vggsim(t, append([]string{"simulate", "--format", "json"}, args...)...)
	if code != exitOK {
		t.Fatalf("%v: exit %d: %s", args, code, errs)
	}
	var s memory.Simulation
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSimulateJSON(t *testing.T) {
	s := simJSON(t, "RepVGG-B1g4", "--hw", "tpu-v1", "--batch", "8")
	r := s.Result
	if s.Model != "RepVGG-B1g4" || r.Batch != 8 || r.Hardware != "tpu-v1" {
		t.Errorf("setup: %+v", s)
	}
	// MACs are exact: batch × the deploy-form count of the zoo.
	if want := int64(8 * 7306870784); r.Total.MACs != want {
		t.Errorf("MACs = %d, want %d", r.Total.MACs, want)
	}
	if r.Total.Cycles*int64(256*256) < r.Total.MACs || r.Utilization > 1 || r.LatencyS <= 0 || r.EnergyJ <= 0 {
		t.Errorf("implausible totals: %+v", r.Total)
	}

	// Train form on the same chip: more MACs (the 1x1 branches), more traffic, more time.
	tr := simJSON(t, "RepVGG-A0", "--form", "train")
	de := simJSON(t, "RepVGG-A0")
	if tr.Result.Total.MACs != 1512581120 || de.Result.Total.MACs != 1361451008 {
		t.Errorf("MACs train %d deploy %d", tr.Result.Total.MACs, de.Result.Total.MACs)
	}
	if tr.Result.Total.Cycles <= de.Result.Total.Cycles || tr.DRAMBytesPerImage <= de.DRAMBytesPerImage {
		t.Errorf("train form not costlier: cycles %d vs %d, DRAM %g vs %g", tr.Result.Total.Cycles, de.Result.Total.Cycles, tr.DRAMBytesPerImage, de.DRAMBytesPerImage)
	}
	// The train form runs every branch: each block's 3×3 and 1×1 convs as GEMMs of their own
	// (K = 9·C and C), its BNs, and an add of 2 or 3 inputs (the identity branch reads the
	// block input, kept alive until then) — 22 blocks in RepVGG-A0.
	var dense, pointwise, adds, addOps int64
	for _, l := range tr.Result.Layers {
		switch {
		case strings.HasSuffix(l.Name, ".rbr_dense.conv"):
			dense++
			if l.K%9 != 0 {
				t.Errorf("%s: K = %d", l.Name, l.K)
			}
		case strings.HasSuffix(l.Name, ".rbr_1x1.conv"):
			pointwise++
		case l.Kind == "add":
			adds++
			addOps += l.VectorOps
		}
	}
	if dense != 22 || pointwise != 22 || adds != 22 {
		t.Errorf("train form: %d dense convs, %d 1x1 convs, %d adds; want 22 each", dense, pointwise, adds)
	}
	// Output elements of the 22 blocks, times one op per extra input: 2 inputs in the 5
	// stride-2 blocks, 3 in the 17 others.
	var want int64
	for _, st := range []struct{ n, hw, c, in int64 }{{1, 112, 48, 2}, {1, 56, 48, 2}, {1, 56, 48, 3}, {1, 28, 96, 2}, {3, 28, 96, 3},
		{1, 14, 192, 2}, {13, 14, 192, 3}, {1, 7, 1280, 2}} {
		want += st.n * st.hw * st.hw * st.c * (st.in - 1)
	}
	if addOps != want {
		t.Errorf("train form: %d add ops, want %d", addOps, want)
	}
}

func TestSimulateCSV(t *testing.T) {
	out, errs, code := vggsim(t, "simulate", "a0", "--format", "csv", "--input-size", "64")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != strings.Join(sim.CSVHeader(), ",") || !strings.HasPrefix(lines[len(lines)-1], "total,") || len(lines) != 1+24+1 {
		t.Errorf("csv:\n%s", out)
	}
}

// TestSimulateBadHardware: a hardware file with every kind of mistake — zero and negative
// sizes, an unknown dataflow, a bandwidth unit on a size, a size on the bandwidth, SRAM too
// small for one fold, an unknown key — gets every problem listed with file:line:col and the
// field, and exit status 2.
func TestSimulateBadHardware(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "chip.yaml")
	os.WriteFile(bad, []byte(`name: bad
array: {rows: 0, cols: -4}
dataflow: rs
clock: 700
data_bits: 8
sram:
  ifmap: 64KB/s
  filter: 0B
  ofmap: -1KiB
dram: {bandwidth: 16GiB}
energy: {mac: 0.2pJ, sram_pj: 1}
`), 0o644)
	_, errs, code := vggsim(t, "simulate", "--hw", bad)
	if code != exitUsage {
		t.Errorf("exit %d, want 2", code)
	}
	for _, want := range []string{
		"chip.yaml:2:15: array.rows: must be between 1 and 65536, got 0",
		"chip.yaml:2:24: array.cols: must be between 1 and 65536, got -4",
		`chip.yaml:3:11: dataflow: unknown dataflow "rs", want one of os, ws, is (row stationary is not modelled`,
		`chip.yaml:4:8: clock: "700" has no unit, want a frequency like 700MHz`,
		`chip.yaml:7:10: sram.ifmap: "64KB/s" is a bandwidth, want a size like 64KiB`,
		"chip.yaml:8:11: sram.filter: must be positive, got 0B",
		"chip.yaml:9:10: sram.ofmap: must be positive, got -1KiB",
		`chip.yaml:10:19: dram.bandwidth: "16GiB" is a size, want a bandwidth like 16GB/s`,
		"chip.yaml:11:22: energy.sram_pj: unknown field",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	// SRAM too small to hold one fold: a 256×256 ws array with a 64 KiB filter SRAM.
	os.WriteFile(bad, []byte("name: small\narray: {rows: 256, cols: 256}\ndataflow: ws\nclock: 700MHz\ndata_bits: 8\n"+
		"sram: {ifmap: 256B, filter: 64KiB, ofmap: 12MiB}\ndram: {bandwidth: 34GB/s}\n"), 0o644)
	_, errs, code = vggsim(t, "simulate", "RepVGG-A0", "--hw", bad)
	if code != exitUsage ||
		!strings.Contains(errs, "chip.yaml:6:15: sram.ifmap: 256B is too small: each half of the double buffer must hold one array edge of 256 ifmap words (1 byte each), want at least 512B") ||
		!strings.Contains(errs, "chip.yaml:6:29: sram.filter: 64KiB is too small: each half of the double buffer must hold one 256x256 ws fold of 65536 filter words (1 byte each), want at least 128KiB") {
		t.Errorf("exit %d:\n%s", code, errs)
	}
	for _, args := range [][]string{{"simulate", "--hw", "tpu-v9"}, {"simulate", "ResNet-1"}, {"simulate", "--batch", "0"}, {"simulate", "--format", "xml"}} {
		if _, errs, code := vggsim(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errs)
		}
	}
}

// zooGraphs builds every zoo model in both forms at its default input size.
func zooGraphs(t testing.TB) []*ir.Graph {
	t.Helper()
	var gs []*ir.Graph
	for _, name := range models.Names() {
		for _, deploy := range []bool{false, true} {
			g, err := models.Build(name, models.Options{Deploy: deploy})
			if err != nil {
				t.Fatal(err)
			}
			gs = append(gs, g)
		}
	}
	return gs
}

// randomValidHW returns a random accelerator that hw.Config.Validate accepts: arrays from
// 1×1 to 128×128, any dataflow, 4-, 8- or 16-bit words, SRAMs from the fold minimum up to a
// few MiB, sometimes an accumulator.
func randomValidHW(r *rand.Rand) *hw.Config {
	c := &hw.Config{Name: "rand", Rows: 1 << r.IntN(8), Cols: 1 << r.IntN(8),
		Dataflow: hw.Dataflows()[r.IntN(3)], ClockHz: float64(200+r.IntN(1000)) * 1e6,
		DataBits: []int{4, 8, 16}[r.IntN(3)], AccBits: 32,
		DRAMBandwidth: float64(1+r.IntN(64)) * 1e9, Energy: hw.FlatEnergy()}
	mi, mf, mo := c.MinSRAMBytes()
	grow := func(min int64) int64 { return min + int64(r.IntN(4<<20)) }
	c.IfmapSRAMBytes, c.FilterSRAMBytes, c.OfmapSRAMBytes = grow(mi), grow(mf), grow(mo)
	if r.IntN(2) == 0 {
		c.AccumBytes = int64(r.IntN(2 << 20))
	}
	return c
}

// checkRun checks the per-layer and total invariants of one lowered run.
func checkRun(t *testing.T, name string, g *ir.Graph, cfg *hw.Config, batch int, res *sim.Result) {
	t.Helper()
	if want := int64(batch) * g.MACs(); res.Total.MACs != want {
		t.Errorf("%s: %d MACs, want batch × the graph's %d = %d", name, res.Total.MACs, g.MACs(), want)
	}
	pes := int64(cfg.PEs())
	var macs int64
	for _, l := range res.Layers {
		macs += l.MACs
		if l.Cycles < (l.MACs+pes-1)/pes || l.Cycles < l.ComputeCycles || l.StallCycles != l.Cycles-l.ComputeCycles {
			t.Errorf("%s %s: %d cycles (%d compute) for %d MACs on %d PEs", name, l.Name, l.Cycles, l.ComputeCycles, l.MACs, pes)
		}
		if l.Utilization < 0 || l.Utilization > 1 || l.MappingEfficiency > 1 {
			t.Errorf("%s %s: utilization %v, mapping efficiency %v", name, l.Name, l.Utilization, l.MappingEfficiency)
		}
		if l.EnergyJ <= 0 {
			t.Errorf("%s %s: energy %v", name, l.Name, l.EnergyJ)
		}
	}
	if macs != res.Total.MACs || res.Utilization > 1 || res.Total.Cycles < (macs+pes-1)/pes {
		t.Errorf("%s: totals %+v", name, res.Total)
	}
}

// TestZooProperties runs every zoo model, train and deploy form, through the real lowering
// (memory.Analyze, then Report.Simulate with the liveness model's residency, as `vggsim
// simulate` does) on every preset and on random hardware (fixed seed), and checks the
// native model's invariants at the graph level: MACs exact (batch × the graph's count);
// cycles ≥ MACs/(R·C) and ≥ the compute cycles in every layer; utilization ≤ 100%; with
// nothing resident every layer reads at least the unique bytes of each operand from DRAM and
// writes its whole output; more DRAM bandwidth never makes a layer slower; more SRAM (any
// buffer) never adds DRAM traffic, with the residency re-planned and with none.
func TestZooProperties(t *testing.T) {
	if testing.Short() {
		t.Skip("zoo-wide")
	}
	r := rand.New(rand.NewPCG(2024, 4))
	cfgs := hw.Presets()
	for range 3 {
		cfgs = append(cfgs, randomValidHW(r))
	}
	for _, g := range zooGraphs(t) {
		for ci, cfg0 := range cfgs {
			if err := cfg0.Validate(); err != nil {
				t.Fatal(err)
			}
			batch := 1 + r.IntN(3)
			rep, err := memory.Analyze(g, memory.Options{Bits: cfg0.DataBits, Batch: batch})
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("%s (%d nodes) on %s#%d batch %d", g.Name, len(g.Nodes), cfg0.Name, ci, batch)
			var budget int64 // the activation budget of the last simulate
			simulate := func(cfg *hw.Config, act int64) *sim.Result {
				t.Helper()
				h, err := rep.Simulate(cfg, act)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				budget = h.ActivationSRAMBytes
				return h.Sim
			}
			base := simulate(cfg0, -1)
			checkRun(t, name, g, cfg0, batch, base)
			baseBudget := budget

			// Nothing resident: every operand comes from DRAM at least once.
			cold := simulate(cfg0, 0)
			checkRun(t, name+" cold", g, cfg0, batch, cold)
			for _, l := range cold.Layers {
				if !l.InputOnChip && l.MACs > 0 && l.DRAMIfmapReadBytes < l.UniqueIfmapBytes {
					t.Errorf("%s cold %s: ifmap DRAM reads %d < unique %d", name, l.Name, l.DRAMIfmapReadBytes, l.UniqueIfmapBytes)
				}
				if l.DRAMFilterReadBytes < l.UniqueFilterBytes {
					t.Errorf("%s cold %s: filter DRAM reads %d < unique %d", name, l.Name, l.DRAMFilterReadBytes, l.UniqueFilterBytes)
				}
				if !l.OutputOnChip && l.DRAMOfmapWriteBytes < l.UniqueOfmapBytes {
					t.Errorf("%s cold %s: ofmap DRAM writes %d < unique %d", name, l.Name, l.DRAMOfmapWriteBytes, l.UniqueOfmapBytes)
				}
			}

			// More bandwidth is never slower: in all, with the activation budget searched
			// (each budget's run is no slower, so neither is the best), and layer by layer at
			// the budget the search chose.
			fast := cfg0.Clone()
			fast.DRAMBandwidth *= 1.5 + 3*r.Float64()
			if got := simulate(fast, -1).Total.Cycles; got > base.Total.Cycles {
				t.Errorf("%s: %d cycles at %s, %d at %s", name, got, hw.FormatBandwidth(fast.DRAMBandwidth),
					base.Total.Cycles, hw.FormatBandwidth(cfg0.DRAMBandwidth))
			}
			base = simulate(cfg0, baseBudget)
			quick := simulate(fast, baseBudget)
			for i := range base.Layers {
				if quick.Layers[i].Cycles > base.Layers[i].Cycles {
					t.Errorf("%s %s: %d cycles at %s, %d at %s", name, base.Layers[i].Name, quick.Layers[i].Cycles,
						hw.FormatBandwidth(fast.DRAMBandwidth), base.Layers[i].Cycles, hw.FormatBandwidth(cfg0.DRAMBandwidth))
				}
			}

			// More SRAM never adds DRAM traffic when the mapper minimizes it (the default,
			// latency, may trade bytes for cycles).
			repD, err := memory.Analyze(g, memory.Options{Bits: cfg0.DataBits, Batch: batch, Objective: sim.ObjectiveDRAM})
			if err != nil {
				t.Fatal(err)
			}
			simulate = func(cfg *hw.Config, act int64) *sim.Result {
				t.Helper()
				h, err := repD.Simulate(cfg, act)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				return h.Sim
			}
			base, cold = simulate(cfg0, -1), simulate(cfg0, 0)
			traffic := func(res *sim.Result) int64 { return res.Total.DRAMReadBytes + res.Total.DRAMWriteBytes }
			for _, grow := range []struct {
				what string
				f    func(c *hw.Config)
			}{
				{"ifmap", func(c *hw.Config) { c.IfmapSRAMBytes *= 2 }},
				{"filter", func(c *hw.Config) { c.FilterSRAMBytes *= 2 }},
				{"ofmap", func(c *hw.Config) { c.OfmapSRAMBytes *= 2 }},
				{"accumulator", func(c *hw.Config) { c.AccumBytes = 2*c.AccumBytes + 64<<10 }},
			} {
				big := cfg0.Clone()
				grow.f(big)
				if got, was := traffic(simulate(big, -1)), traffic(base); got > was {
					t.Errorf("%s: a larger %s SRAM moves %d DRAM bytes, %d before", name, grow.what, got, was)
				}
				coldBig := simulate(big, 0)
				for i := range cold.Layers {
					a, b := cold.Layers[i], coldBig.Layers[i]
					if b.DRAMReadBytes+b.DRAMWriteBytes > a.DRAMReadBytes+a.DRAMWriteBytes {
						t.Errorf("%s %s: a larger %s SRAM moves %d DRAM bytes, %d before", name, a.Name, grow.what,
							b.DRAMReadBytes+b.DRAMWriteBytes, a.DRAMReadBytes+a.DRAMWriteBytes)
					}
				}
			}
		}
	}
}

// BenchmarkSimulateGraphA0 times what `vggsim simulate` does for RepVGG-A0 (deploy form,
// 224×224, edge-32) once the graph is built: the liveness analysis, the lowering to sim
// layers with on-chip residency, and the native engine.
func BenchmarkSimulateGraphA0(b *testing.B) {
	g, err := models.BuildDeploy("RepVGG-A0", models.Options{})
	if err != nil {
		b.Fatal(err)
	}
	cfg := hw.Default()
	for b.Loop() {
		if _, err := memory.SimulateGraph(g, "deploy", cfg, 1, sim.ObjectiveLatency); err != nil {
			b.Fatal(err)
		}
	}
}

// benchZoo times simulateGraph over every zoo model in one form; one op is the whole zoo.
func benchZoo(b *testing.B, deploy bool) {
	var gs []*ir.Graph
	for _, name := range models.Names() {
		g, err := models.Build(name, models.Options{Deploy: deploy})
		if err != nil {
			b.Fatal(err)
		}
		gs = append(gs, g)
	}
	cfg := hw.Default()
	for b.Loop() {
		for _, g := range gs {
			if _, err := memory.SimulateGraph(g, "", cfg, 1, sim.ObjectiveLatency); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkZoo: the 20 zoo models in deploy form (VGG-16 and ResNet-152 included), as
// `vggsim simulate` runs them on edge-32.
func BenchmarkZoo(b *testing.B) { benchZoo(b, true) }

// BenchmarkZooTrain: the same in the train form (branch convs, BNs and adds).
func BenchmarkZooTrain(b *testing.B) { benchZoo(b, false) }

// TestVGG16AwayFrom224 runs VGG-16 at CIFAR's 32×32, where torchvision's
// AdaptiveAvgPool2d((7, 7)) replicates the 512×1×1 last feature map (a vector layer of
// 512·49 operations), and at 64×64 through the memory analysis.
func TestVGG16AwayFrom224(t *testing.T) {
	s := simJSON(t, "VGG-16", "--input-size", "32")
	if s.Input != [2]int{32, 32} || s.Result.Total.MACs != 436830208 { // see models.TestVGG16AnySize
		t.Errorf("input %v, MACs %d", s.Input, s.Result.Total.MACs)
	}
	found := false
	for _, l := range s.Result.Layers {
		if l.Name == "avgpool" {
			found = true
			if l.Kind != "adaptive_pool" || l.VectorOps != 512*49 || l.MACs != 0 {
				t.Errorf("avgpool %+v", l)
			}
		}
	}
	if !found {
		t.Error("no avgpool layer at 32x32")
	}
	if out := runLine(t, "simulate VGG-16 --input-size 32"); !strings.Contains(out, "avgpool  adaptive_pool") {
		t.Errorf("table lacks the adaptive pool:\n%s", out)
	}
	if out := runLine(t, "memory VGG-16 --input-size 64 --hw edge-32"); !strings.Contains(out, "VGG-16, 64x64, 8-bit, batch 1") ||
		!strings.Contains(out, "simulated on edge-32") {
		t.Errorf("memory VGG-16 --input-size 64:\n%s", out)
	}
	if _, errs, code := vggsim(t, "simulate", "VGG-16", "--input-size", "16"); code != exitUsage || !strings.Contains(errs, "at least 32 pixels per side") {
		t.Errorf("VGG-16 at 16: exit %d, %q", code, errs)
	}
}

// TestSimulateObjective checks --objective: latency (the default) is never slower than dram
// on the whole run, dram never moves more bytes than latency, and a bad name is bad usage.
func TestSimulateObjective(t *testing.T) {
	run := func(obj string) (cycles, dram int64) {
		t.Helper()
		out, errs, code := vggsim(t, "simulate", "RepVGG-A0", "--hw", "edge-32", "--objective", obj, "--format", "json")
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", obj, code, errs)
		}
		var doc struct {
			Result struct {
				Total struct {
					Cycles         int64 `json:"cycles"`
					DRAMReadBytes  int64 `json:"dram_read_bytes"`
					DRAMWriteBytes int64 `json:"dram_write_bytes"`
				} `json:"total"`
			} `json:"result"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Result.Total.Cycles, doc.Result.Total.DRAMReadBytes + doc.Result.Total.DRAMWriteBytes
	}
	lc, ld := run("latency")
	dc, dd := run("dram")
	if lc > dc || dd > ld || lc == 0 {
		t.Errorf("latency: %d cycles %d bytes; dram: %d cycles %d bytes", lc, ld, dc, dd)
	}
	if _, errs, code := vggsim(t, "simulate", "RepVGG-A0", "--objective", "speed"); code != exitUsage || !strings.Contains(errs, "--objective") {
		t.Errorf("bad objective: exit %d, %s", code, errs)
	}
}
