package sim

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTimingsKeptMatchBuilt checks the kept timings (model.time) against trees built afresh:
// one model simulates random layers on random hardware from a few array shapes (so its kept
// timings are hit across SRAM sizes, on-chip flags, batches and dataflows), and every
// mapping of every Conv and GEMM layer, and the layer's result, must equal those of a model
// that keeps no timings (keepTree builds every tree).
func TestTimingsKeptMatchBuilt(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	warm := new(model)
	// Shapes seen again on other hardware; a depthwise convolution and a one-channel one have
	// the same per-group GEMM, run 8 times and once.
	pool := []Layer{
		{Name: "dw", Kind: Conv, InH: 12, InW: 12, InC: 8, OutC: 8, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Groups: 8},
		{Name: "one", Kind: Conv, InH: 12, InW: 12, InC: 1, OutC: 1, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Groups: 1},
	}
	for len(pool) < 40 {
		for _, l := range randomLayers(r) {
			if l.Kind.OnArray() {
				pool = append(pool, l)
			}
		}
	}
	var hits, total int
	for it := range 2000 {
		cfg := randomHW(r)
		cfg.Rows, cfg.Cols = []int{4, 8, 16}[r.IntN(3)], []int{4, 16, 32}[r.IntN(3)]
		opts := Options{Batch: 1 + r.IntN(3), Objective: Objective(it % 4), Serial: it%5 == 0}
		for range 3 {
			l := pool[r.IntN(len(pool))]
			l.OutputOnChip = r.IntN(3) == 0
			if r.IntN(3) == 0 {
				l.InputsOnChip = []bool{true}
			}
			if r.IntN(3) == 0 {
				l.ResidentBytes = r.Int64N(cfg.IfmapSRAMBytes + cfg.OfmapSRAMBytes)
			}
			require.NoError(t, checkLayers([]Layer{l}, opts))
			ref := new(model)
			ref.reset(cfg, opts)
			ref.keepTree = true
			warm.reset(cfg, opts)
			before := warm.timingHits
			want := ref.layer(&l)
			got := warm.layer(&l)
			require.Equal(t, want, got, "it %d layer %+v", it, l)
			wantC, gotC := ref.last, warm.last
			require.Len(t, gotC, len(wantC))
			for i := range wantC {
				w, g := wantC[i], gotC[i]
				require.Equal(t, [3]int64{w.cycles, w.stream, w.folds}, [3]int64{g.cycles, g.stream, g.folds},
					"it %d mapping %d (%s)", it, i, w.describe())
			}
			total += len(gotC)
			hits += warm.timingHits - before
		}
	}
	require.Greater(t, hits, total/10, "the kept timings are hardly ever used: the test proves little")
	t.Logf("%d of %d mappings timed from kept timings", hits, total)
}
