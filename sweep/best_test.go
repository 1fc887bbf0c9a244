package sweep

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/memory"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/sim"
)

// TestBudgetSearchMatchesMemory: the sweep's activation-budget search (sim.Engine.Best,
// which skips budgets that cannot win) gives what memory.Report.Simulate's exhaustive search
// gives — cycles, energy and DRAM bytes exactly — on random hardware points for several
// models in both forms, one engine reused throughout as a sweep worker uses it; and it
// skipped some budgets' layers.
func TestBudgetSearchMatchesMemory(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	var e sim.Engine
	var skipped int64
	for _, w := range []Workload{
		{Model: ModelRef{Arg: "RepVGG-A0", Path: "RepVGG-A0"}, Form: "deploy", Input: [2]int{224, 224}, Batch: 1},
		{Model: ModelRef{Arg: "RepVGG-A0", Path: "RepVGG-A0"}, Form: "train", Input: [2]int{96, 96}, Batch: 2},
		{Model: ModelRef{Arg: "ResNet-18", Path: "ResNet-18"}, Form: "deploy", Input: [2]int{128, 128}, Batch: 1},
		{Model: ModelRef{Arg: "MobileNetV2", Path: "MobileNetV2"}, Form: "deploy", Input: [2]int{160, 160}, Batch: 1},
	} {
		ws, err := newWorkloadSim(w)
		require.NoError(t, err)
		g, err := models.Resolve(w.Model.Path, models.Options{InputH: w.Input[0], InputW: w.Input[1], Deploy: w.Form == "deploy"})
		require.NoError(t, err)
		reps := map[int]*memory.Report{}
		for it := 0; it < 40; {
			cfg := hw.Default().Clone()
			cfg.Rows, cfg.Cols = 4+r.IntN(120), 4+r.IntN(120)
			cfg.Dataflow = []hw.Dataflow{hw.OutputStationary, hw.WeightStationary, hw.InputStationary}[r.IntN(3)]
			cfg.DataBits = []int{8, 16}[r.IntN(2)]
			cfg.IfmapSRAMBytes = int64(16+r.IntN(1024)) << 10
			cfg.OfmapSRAMBytes = int64(16+r.IntN(512)) << 10
			cfg.FilterSRAMBytes = int64(16+r.IntN(512)) << 10
			cfg.DRAMBandwidth = float64(1+r.IntN(64)) * 1e9
			if cfg.Validate() != nil {
				continue
			}
			it++
			before := e.LayerSims()
			m, layers, err := ws.simulate(&e, cfg)
			require.NoError(t, err)
			n, err := ws.prepared(cfg)
			require.NoError(t, err)
			skipped += int64(n.Distinct()) - (e.LayerSims() - before)
			rep := reps[cfg.DataBits]
			if rep == nil {
				rep, err = memory.Analyze(g, memory.Options{Bits: cfg.DataBits, Batch: w.Batch})
				require.NoError(t, err)
				reps[cfg.DataBits] = rep
			}
			h, err := rep.Simulate(cfg, -1)
			require.NoError(t, err)
			assert.Equal(t, h.Cycles, m.Cycles, "%s %s on %s", w.Model.Arg, w.Form, cfg)
			assert.Equal(t, h.EnergyPerImageJ, m.EnergyPerImageJ, "%s %s", w.Model.Arg, w.Form)
			assert.Equal(t, h.DRAMBytesPerImage, m.DRAMBytesPerImage, "%s %s", w.Model.Arg, w.Form)
			assert.Positive(t, layers)
		}
	}
	assert.Positive(t, skipped, "no budget was ever skipped: the test proves nothing about pruning")
}
