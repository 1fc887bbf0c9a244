package sim

import (
	"math/rand/v2"
	"testing"

	"github.com/vggsim/vggsim/hw"
)

// TestObjectiveNeverWorse checks that the mapper, for each objective, picks a mapping no worse
// on that objective than the DRAM-first heuristic of earlier versions (ObjectiveDRAM), layer by
// layer, over random layers and hardware.
func TestObjectiveNeverWorse(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	improved := map[Objective]int{}
	for it := range 400 {
		cfg := randomHW(r)
		cfg.Energy.LeakageW = []float64{0, 0.5}[r.IntN(2)]
		ls := randomLayers(r)
		batch := 1 + r.IntN(3)
		old, err := Simulate(cfg, ls, Options{Batch: batch, Objective: ObjectiveDRAM})
		if err != nil {
			t.Fatal(err)
		}
		for _, obj := range []Objective{ObjectiveLatency, ObjectiveEnergy, ObjectiveEDP} {
			res, err := Simulate(cfg, ls, Options{Batch: batch, Objective: obj})
			if err != nil {
				t.Fatal(err)
			}
			for i := range ls {
				a, b := res.Layers[i], old.Layers[i]
				va, vb := float64(a.Cycles), float64(b.Cycles)
				switch obj {
				case ObjectiveEnergy:
					va, vb = a.EnergyJ, b.EnergyJ
				case ObjectiveEDP:
					va, vb = a.EnergyJ*float64(a.Cycles), b.EnergyJ*float64(b.Cycles)
				}
				if va > vb*(1+1e-9) {
					t.Errorf("it %d layer %d (%s on %s %dx%d): %s %g with %q, the DRAM-first mapping %q has %g",
						it, i, ls[i].Kind, cfg.Dataflow, cfg.Rows, cfg.Cols, obj, va, a.Order, b.Order, vb)
				}
				if va < vb*(1-1e-9) {
					improved[obj]++
				}
			}
		}
	}
	// The objectives matter: each one finds better mappings than DRAM-first on some layers.
	for _, obj := range []Objective{ObjectiveLatency, ObjectiveEnergy, ObjectiveEDP} {
		if improved[obj] == 0 {
			t.Errorf("%s never improved on the DRAM-first mapping", obj)
		}
	}
}

// TestUnlimitedBandwidthNeverSlowerThanSerial checks the case and random ones: with
// unlimited DRAM bandwidth the latency mapper is never slower than SCALE-Sim's own serial
// schedule of the same GEMM (column folds outer, each fold paying SCALE-Sim's per-fold cycles),
// because that schedule is in the mapspace and the pipelined timing never exceeds the serial.
func TestUnlimitedBandwidthNeverSlowerThanSerial(t *testing.T) {
	check := func(name string, cfg *hw.Config, ls []Layer, batch int) {
		t.Helper()
		res, err := Simulate(cfg, ls, Options{Batch: batch})
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range ls {
			if !l.Kind.OnArray() {
				continue
			}
			M, N, K, g := l.GEMMShape(batch)
			serial := MapGEMM(cfg.Dataflow, cfg.Rows, cfg.Cols, M, N, K).ScaleSimCycles() * int64(g)
			if res.Layers[i].Cycles > serial+int64(g) {
				t.Errorf("%s layer %d (%s): %d cycles with %q, SCALE-Sim's serial schedule %d", name, i,
					l.Name, res.Layers[i].Cycles, res.Layers[i].Order, serial)
			}
		}
	}
	// The case: A0 on a 32×32 is array with 64 KiB SRAMs.
	cfg := edgeConfig()
	cfg.Dataflow, cfg.DRAMBandwidth = hw.InputStationary, 0
	check("A0 32x32 is", cfg, a0Deploy(), 1)
	r := rand.New(rand.NewPCG(5, 6))
	for it := range 300 {
		cfg := randomHW(r)
		cfg.DRAMBandwidth = 0
		check("random", cfg, randomLayers(r), 1+r.IntN(3))
		_ = it
	}
}
