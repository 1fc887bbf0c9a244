package sim

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exhaustiveBest is the search Best must equal: every variant simulated (Totals), ranked on
// obj's figure first and the others breaking ties, the first of equal runs kept.
func exhaustiveBest(t *testing.T, rs []Result, obj Objective) int {
	t.Helper()
	key := func(r *Result) [3]float64 {
		c, en, d := float64(r.Total.Cycles), r.EnergyJ, float64(r.Total.DRAMReadBytes+r.Total.DRAMWriteBytes)
		switch obj {
		case ObjectiveEnergy:
			return [3]float64{en, c, d}
		case ObjectiveEDP:
			return [3]float64{en * c, c, d}
		case ObjectiveDRAM:
			return [3]float64{d, c, en}
		}
		return [3]float64{c, en, d}
	}
	best := 0
	for v := 1; v < len(rs); v++ {
		a, b := key(&rs[v]), key(&rs[best])
		for i := range a {
			if a[i] != b[i] {
				if a[i] < b[i] {
					best = v
				}
				break
			}
		}
	}
	return best
}

// TestBestMatchesExhaustive checks Best against the exhaustive search over Totals' results
// on random variants of random layers (on-chip flags and resident bytes as the budget search
// makes them), random hardware and every objective: the same variant and, bit for bit, the
// same figures. It also checks every bound Best uses against the layer's simulated figures,
// and that Best skipped some layer simulations (else it proves nothing about pruning).
func TestBestMatchesExhaustive(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	var e, ex, bnd Engine
	var skipped, total int64
	for it := range 600 {
		cfg := randomHW(r)
		if it%3 == 0 {
			cfg.DRAMBandwidth = float64(1+r.IntN(4)) * 1e8 // memory-bound: bounds bite
		}
		base := randomLayers(r)
		vs := make([][]Layer, 2+r.IntN(5))
		for v := range vs {
			ls := make([]Layer, len(base))
			copy(ls, base)
			for i := range ls {
				if r.IntN(2) == 0 {
					ls[i].OutputOnChip = r.IntN(2) == 0
					if r.IntN(2) == 0 {
						ls[i].InputsOnChip = []bool{true}
					}
					ls[i].ResidentBytes = r.Int64N(cfg.IfmapSRAMBytes + 1)
				}
			}
			vs[v] = ls
		}
		obj := Objective(it % 4)
		opts := Options{Batch: 1 + r.IntN(3), Objective: Objective(r.IntN(4))}
		n, err := PrepareVariants(vs, opts)
		require.NoError(t, err)
		rs := make([]Result, len(vs))
		require.NoError(t, ex.Totals(cfg, n, rs))
		want := exhaustiveBest(t, rs, obj)

		before := e.LayerSims()
		var got Result
		v, err := e.Best(cfg, n, obj, &got)
		require.NoError(t, err)
		if !assert.Equal(t, want, v, "it %d: variant", it) || !assert.Equal(t, rs[want], got, "it %d", it) {
			return
		}
		skipped += int64(n.Distinct()) - (e.LayerSims() - before)
		total += int64(n.Distinct())

		// Every bound is below the figures it bounds.
		require.NoError(t, bnd.point(cfg, n))
		for d := range n.distinct {
			b := bnd.bound(n, d)
			x := &ex.results[d]
			if b.cycles > x.Cycles || b.dram > x.DRAMReadBytes+x.DRAMWriteBytes || b.energy > x.EnergyJ {
				t.Fatalf("it %d layer %d: bound %+v above cycles %d, DRAM %d, energy %g", it, d, b,
					x.Cycles, x.DRAMReadBytes+x.DRAMWriteBytes, x.EnergyJ)
			}
		}
	}
	require.Positive(t, skipped, "Best never skipped a layer: the test proves nothing about pruning")
	t.Logf("Best simulated %d of %d distinct layers", total-skipped, total)
}
