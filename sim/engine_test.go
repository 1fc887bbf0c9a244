package sim

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vggsim/vggsim/hw"
)

// totalOnly is r without its per-layer results, its total's loop order cleared: what
// Engine.Total returns.
func totalOnly(r *Result) Result {
	t := *r
	t.Layers = nil
	t.Total.Order = ""
	return t
}

// TestEngineMatchesSimulate checks Engine.Total against Simulate, field for field and bit for
// bit, over random layers (with on-chip flags and repeated shapes), hardware, batches and
// objectives, one Engine reused throughout.
func TestEngineMatchesSimulate(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	var e Engine
	var got Result
	for it := range 300 {
		cfg := randomHW(r)
		ls := randomLayers(r)
		for i := range ls {
			ls[i].OutputOnChip = r.IntN(3) == 0
			if r.IntN(3) == 0 {
				ls[i].InputsOnChip = []bool{true}
			}
		}
		ls = append(ls, ls...) // repeated shapes: simulated once by the engine
		opts := Options{Batch: 1 + r.IntN(4), Objective: Objective(it % 4), Serial: it%7 == 0}
		want, err := Simulate(cfg, ls, opts)
		require.NoError(t, err)
		n, err := Prepare(ls, opts)
		require.NoError(t, err)
		require.Less(t, n.Distinct(), n.Len())
		require.NoError(t, e.Total(cfg, n, &got))
		if !assert.Equal(t, totalOnly(want), got, "it %d", it) {
			return
		}
		// The same point with another DRAM bandwidth, clock and energy table: the engine
		// re-scores the mapspace it kept, and must still agree.
		for v := range 3 {
			c := cfg.Clone()
			c.DRAMBandwidth *= []float64{0.25, 4, 0}[v]
			c.ClockHz *= 1 + float64(v)
			c.Energy.DRAMpJPerByte *= 0.1 * float64(v+1)
			c.Energy.LeakageW = float64(v) * 0.5
			want, err := Simulate(c, ls, opts)
			require.NoError(t, err)
			require.NoError(t, e.Total(c, n, &got))
			if !assert.Equal(t, totalOnly(want), got, "it %d variant %d", it, v) {
				return
			}
		}
	}
}

// TestEngineA0Distinct: RepVGG-A0's 24 layers are 10 distinct shapes (5 stride-2 convs, one
// stride-1 conv per stage 1–3, the pooling and the classifier), and the engine's totals are
// Simulate's.
func TestEngineA0Distinct(t *testing.T) {
	n, err := Prepare(a0Deploy(), Options{})
	require.NoError(t, err)
	assert.Equal(t, 24, n.Len())
	assert.Equal(t, 10, n.Distinct())
	want, err := Simulate(edgeConfig(), a0Deploy(), Options{})
	require.NoError(t, err)
	var e Engine
	var got Result
	require.NoError(t, e.Total(edgeConfig(), n, &got))
	assert.Equal(t, totalOnly(want), got)
}

// TestPrepareErrors: Prepare refuses what Simulate refuses, and ChainResidency.
func TestPrepareErrors(t *testing.T) {
	_, err := Prepare([]Layer{{Name: "c", Kind: Conv, InH: 4, InW: 4, InC: 3}}, Options{})
	assert.ErrorContains(t, err, "layer 0 (c): OutC must be between 1")
	_, err = Prepare(a0Deploy(), Options{Batch: -1})
	assert.ErrorContains(t, err, "Batch must be in [0, 2^20]")
	_, err = Prepare(a0Deploy(), Options{ChainResidency: true})
	assert.ErrorContains(t, err, "ChainResidency")
	n, err := Prepare(a0Deploy(), Options{})
	require.NoError(t, err)
	var e Engine
	assert.Error(t, e.Total(&hw.Config{Rows: 0, Cols: 4, Dataflow: hw.OutputStationary, ClockHz: 1}, n, &Result{}))
}

// TestEngineNoAllocs: once warm, an Engine allocates nothing per point, in Total and in
// Best.
func TestEngineNoAllocs(t *testing.T) {
	n, err := Prepare(a0Deploy(), Options{})
	require.NoError(t, err)
	cfgs := sweepConfigs()
	var e Engine
	var r Result
	for range 3 { // warm up: every kept mapspace slot grown to the largest it holds
		for _, c := range cfgs {
			require.NoError(t, e.Total(c, n, &r))
		}
	}
	i := 0
	allocs := testing.AllocsPerRun(2*len(cfgs), func() {
		if err := e.Total(cfgs[i%len(cfgs)], n, &r); err != nil {
			t.Fatal(err)
		}
		i++
	})
	assert.Zero(t, allocs)

	// Best over variants (the activation-budget search) allocates nothing either.
	a := a0Deploy()
	b := append([]Layer(nil), a...)
	for i := range b {
		b[i].OutputOnChip = i%3 == 0
	}
	nv, err := PrepareVariants([][]Layer{a, b}, Options{})
	require.NoError(t, err)
	for range 3 {
		for _, c := range cfgs {
			_, err := e.Best(c, nv, ObjectiveLatency, &r)
			require.NoError(t, err)
		}
	}
	allocs = testing.AllocsPerRun(2*len(cfgs), func() {
		if _, err := e.Best(cfgs[i%len(cfgs)], nv, ObjectiveLatency, &r); err != nil {
			t.Fatal(err)
		}
		i++
	})
	assert.Zero(t, allocs)
}

// sweepConfigs is a small grid of edge-32 variants: array shapes, DRAM bandwidths and ifmap
// SRAM sizes, as a sweep visits them.
func sweepConfigs() []*hw.Config {
	var cfgs []*hw.Config
	for _, rows := range []int{8, 16, 32, 64, 128} {
		for _, cols := range []int{8, 32, 128} {
			for _, bw := range []float64{4e9, 16e9} {
				for _, sram := range []int64{64 << 10, 512 << 10} {
					c := edgeConfig()
					c.Rows, c.Cols, c.DRAMBandwidth, c.IfmapSRAMBytes = rows, cols, bw, sram
					cfgs = append(cfgs, c)
				}
			}
		}
	}
	return cfgs
}

// BenchmarkEngineA0 simulates RepVGG-A0 on a grid of hardware points on every core, one
// Engine per goroutine as a sweep does, and reports layer simulations per second (every
// layer of the network counts; distinct ones are simulated once per point) and the distinct
// layer simulations actually run per second.
func BenchmarkEngineA0(b *testing.B) {
	n, err := Prepare(a0Deploy(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	cfgs := sweepConfigs()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var e Engine
		var r Result
		i := 0
		for pb.Next() {
			if err := e.Total(cfgs[i%len(cfgs)], n, &r); err != nil {
				b.Error(err)
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N*n.Len())/b.Elapsed().Seconds(), "layersims/s")
	b.ReportMetric(float64(b.N*n.Distinct())/b.Elapsed().Seconds(), "distinct/s")
}

// TestEngineTotalsMatchSimulate checks Engine.Totals against Simulate on each variant alone,
// bit for bit: variants of one workload with other on-chip flags and resident bytes (as the
// activation-budget search makes them), the layers they share simulated once.
func TestEngineTotalsMatchSimulate(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	var e Engine
	for it := range 100 {
		cfg := randomHW(r)
		base := randomLayers(r)
		vs := make([][]Layer, 1+r.IntN(4))
		for v := range vs {
			ls := make([]Layer, len(base))
			copy(ls, base)
			for i := range ls {
				if r.IntN(2) == 0 { // a variant changes some layers only
					ls[i].OutputOnChip = r.IntN(2) == 0
					ls[i].ResidentBytes = r.Int64N(cfg.IfmapSRAMBytes + 1)
				}
			}
			vs[v] = ls
		}
		opts := Options{Batch: 1 + r.IntN(3), Objective: Objective(it % 4)}
		n, err := PrepareVariants(vs, opts)
		require.NoError(t, err)
		require.Equal(t, len(vs), n.Variants())
		got := make([]Result, len(vs))
		require.NoError(t, e.Totals(cfg, n, got))
		for v, ls := range vs {
			assert.Equal(t, len(ls), n.VariantLen(v))
			want, err := Simulate(cfg, ls, opts)
			require.NoError(t, err)
			if !assert.Equal(t, totalOnly(want), got[v], "it %d variant %d", it, v) {
				return
			}
		}
	}
	_, err := PrepareVariants(nil, Options{})
	assert.Error(t, err)
	n, err := Prepare(a0Deploy(), Options{})
	require.NoError(t, err)
	assert.Equal(t, 1, n.Variants())
	assert.Error(t, e.Totals(edgeConfig(), n, make([]Result, 2)), "one result per variant")
}
