package sim_test

import (
	"fmt"

	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/sim"
)

// SCALE-Sim's worked example: RepVGG-A0's first layer (stride 2, padding folded into the
// 225×225 input) on a 32×32 output-stationary array.
func ExampleSimulateScaleSim() {
	cfg := sim.ScaleSimConfig{ArrayHeight: 32, ArrayWidth: 32, IfmapSRAMkB: 64, FilterSRAMkB: 64,
		OfmapSRAMkB: 64, Dataflow: hw.OutputStationary}
	layer := sim.ScaleSimLayer{Name: "stage0", IfmapH: 225, IfmapW: 225, FilterH: 3, FilterW: 3,
		Channels: 3, NumFilters: 48, StrideH: 2, StrideW: 2}
	reps, err := sim.SimulateScaleSim(cfg, []sim.ScaleSimLayer{layer})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := reps[0]
	fmt.Println("M N K:", r.M, r.N, r.K, "folds:", r.Folds)
	fmt.Println("cycles:", r.TotalCycles, "util %:", r.OverallUtilPct)
	fmt.Println("DRAM ifmap reads:", r.IfmapDRAM.Count, "from cycle", r.IfmapDRAM.StartCycle, "to", r.IfmapDRAM.StopCycle)
	// Output:
	// M N K: 12544 48 27 folds: 784
	// cycles: 69775 util %: 22.75313507703332
	// DRAM ifmap reads: 309315 from cycle -3275 to 66534
}

// The cycle-stepped engine and the two analytical conventions on a small GEMM.
func ExampleStepGEMM() {
	const M, N, K = 5, 3, 4
	a := make([]float64, M*K)
	b := make([]float64, K*N)
	for i := range a {
		a[i] = float64(i % 3)
	}
	for i := range b {
		b[i] = float64(i%2 + 1)
	}
	g := sim.MapGEMM(hw.WeightStationary, 2, 2, M, N, K)
	for _, mode := range []sim.StepMode{sim.StepSerial, sim.StepPipelined} {
		r, err := sim.StepGEMM(hw.WeightStationary, 2, 2, M, N, K, a, b, mode)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(mode, "cycles:", r.Cycles, "MACs:", r.MACs, "out[0]:", r.Out[0])
	}
	fmt.Println("SCALE-Sim formula:", g.ScaleSimCycles(), "pipelined formula:", g.PipelinedCycles())
	// Output:
	// serial cycles: 36 MACs: 60 out[0]: 4
	// pipelined cycles: 23 MACs: 60 out[0]: 4
	// SCALE-Sim formula: 35 pipelined formula: 23
}

// A two-layer plain chain on a small edge accelerator: the first layer's output fits in the
// SRAM and never goes to DRAM.
func ExampleSimulate() {
	cfg := &hw.Config{Name: "tiny", Rows: 16, Cols: 16, Dataflow: hw.OutputStationary, ClockHz: 500e6,
		DataBits: 8, IfmapSRAMBytes: 32 << 10, FilterSRAMBytes: 32 << 10, OfmapSRAMBytes: 32 << 10,
		DRAMBandwidth: 4e9, Energy: hw.FlatEnergy()}
	layers := []sim.Layer{
		{Name: "conv1", Kind: sim.Conv, InH: 32, InW: 32, InC: 3, OutC: 16, KH: 3, KW: 3, PadH: 1, PadW: 1},
		{Name: "conv2", Kind: sim.Conv, InH: 32, InW: 32, InC: 16, OutC: 16, KH: 3, KW: 3, PadH: 1, PadW: 1, StrideH: 2, StrideW: 2},
	}
	res, err := sim.Simulate(cfg, layers, sim.Options{ChainResidency: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range res.Layers {
		fmt.Printf("%s: %d MACs, %d cycles (%d stall), DRAM read %d B, write %d B\n",
			l.Name, l.MACs, l.Cycles, l.StallCycles, l.DRAMReadBytes, l.DRAMWriteBytes)
	}
	// Output:
	// conv1: 442368 MACs, 1822 cycles (64 stall), DRAM read 3504 B, write 0 B
	// conv2: 589824 MACs, 2398 cycles (64 stall), DRAM read 2304 B, write 4096 B
}
