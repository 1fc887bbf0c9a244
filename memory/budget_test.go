package memory

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/sim"
)

// randomChain returns a chain of 2–5 windowed layers (3×3 or 1×1 convs with ReLU, stride 1
// or 2, some max pools) on a small random input.
func randomChain(t *testing.T, r *rand.Rand) *ir.Graph {
	h := 16 + r.IntN(49)
	b := ir.NewBuilder("rand", ir.Shape{C: 1 + r.IntN(32), H: h, W: 16 + r.IntN(49)})
	x := b.Input()
	for i := range 2 + r.IntN(4) {
		name := fmt.Sprintf("l%d", i)
		if r.IntN(6) == 0 && x.Shape.H >= 4 {
			x = b.MaxPool(name+".pool", x, 2, 2, 0)
			continue
		}
		k := []int{1, 3, 3}[r.IntN(3)]
		s := 1
		if r.IntN(3) == 0 && x.Shape.H >= 4 {
			s = 2
		}
		x = b.ReLU(name+".relu", b.Conv(name+".conv", x, 1+r.IntN(64), k, s, k/2, 1, r.IntN(2) == 0))
	}
	return finish(t, b, x)
}

// randomArray returns a small random array whose ifmap and ofmap SRAMs range from their
// staging floors to 32 KiB above them.
func randomArray(r *rand.Rand) *hw.Config {
	c := &hw.Config{Name: "rand", Rows: 1 << r.IntN(6), Cols: 1 << r.IntN(6),
		Dataflow: []hw.Dataflow{hw.OutputStationary, hw.WeightStationary, hw.InputStationary}[r.IntN(3)],
		ClockHz:  1e9, DataBits: []int{8, 16}[r.IntN(2)], Energy: hw.FlatEnergy(),
		DRAMBandwidth: float64(1+r.IntN(32)) * 1e9}
	minIf, minF, minOf := c.MinSRAMBytes()
	kib := func(lo int64) int64 { return lo + int64(r.IntN(64))*512 }
	c.IfmapSRAMBytes, c.FilterSRAMBytes, c.OfmapSRAMBytes = kib(minIf), kib(minF), kib(minOf)
	return c
}

// TestFusionOneBudget is the one-SRAM-budget property of fusion on hardware, over random
// chains and arrays, with the mapper and the plan both minimizing DRAM bytes:
//
//   - no byte counted twice: every fused segment of every plan that fits holds SRAMBytes of
//     the ifmap and ofmap SRAMs and leaves its layers exactly the rest to stage operands in
//     (SRAMBytes + StagingBytes = ifmap + ofmap SRAM, sim.StagingBytes of the engine);
//   - more SRAM never more traffic: the best plan's DRAM bytes never grow with the budget,
//     nor when the ifmap or ofmap SRAM doubles (at the whole ifmap+ofmap budget).
func TestFusionOneBudget(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 1))
	opts := func(cfg *hw.Config, budget int64) FusionOptions {
		return FusionOptions{Bits: cfg.DataBits, SRAMBytes: budget, MaxDepth: 4, Hardware: cfg, Mapper: sim.ObjectiveDRAM}
	}
	const cases = 60
	fused, grew := 0, 0
	for it := range cases {
		g := randomChain(t, r)
		cfg := randomArray(r)
		a := ActivationSRAM(cfg)
		what := fmt.Sprintf("it %d (%s, %dx%d %s, SRAM %d/%d)", it, g.Input().Shape, cfg.Rows, cfg.Cols, cfg.Dataflow,
			cfg.IfmapSRAMBytes, cfg.OfmapSRAMBytes)
		prev := int64(-1)
		var last *FusionReport
		for _, budget := range append(ActivationBudgets(cfg), a) {
			fr, err := Fusion(g, opts(cfg, budget))
			require.NoError(t, err, what)
			for _, p := range append([]FusionPlan{fr.Best}, fr.Depths...) {
				for _, s := range p.Segments {
					if s.Depth < 2 || !s.Fits {
						continue
					}
					fused++
					ifB, ofB := sim.StagingBytes(cfg, s.SRAMBytes)
					assert.Equal(t, ifB+ofB, s.StagingBytes, "%s budget %d: staging", what, budget)
					assert.Equal(t, a, s.SRAMBytes+s.StagingBytes, "%s budget %d: held %d + staging %d", what, budget, s.SRAMBytes, s.StagingBytes)
					assert.LessOrEqual(t, s.SRAMBytes, budget, "%s: segment holds more than the budget", what)
				}
			}
			if prev >= 0 {
				assert.LessOrEqual(t, fr.Best.DRAMBytes, prev, "%s: budget %d moved more than a smaller one", what, budget)
			}
			prev, last = fr.Best.DRAMBytes, fr
		}
		big := cfg.Clone()
		if r.IntN(2) == 0 {
			big.IfmapSRAMBytes *= 2
		} else {
			big.OfmapSRAMBytes *= 2
		}
		fb, err := Fusion(g, opts(big, ActivationSRAM(big)))
		require.NoError(t, err, what)
		assert.LessOrEqual(t, fb.Best.DRAMBytes, last.Best.DRAMBytes, "%s: a larger SRAM moved more", what)
		if fb.Best.DRAMBytes < last.Best.DRAMBytes {
			grew++
		}
	}
	t.Logf("%d fused segments, a larger SRAM saved traffic in %d of %d cases", fused, grew, cases)
	assert.Greater(t, fused, 100, "too few fused segments to test")
	assert.Greater(t, grew, 5, "a larger SRAM must save traffic somewhere")
}

// TestSimulateNeverCountsTwice: on every zoo model's deploy form and every preset, at every
// activation budget Report.Simulate searches, no layer's resident activations plus the
// staging room the engine gives it exceed the ifmap+ofmap SRAM. (sim.StagingBytes keeps the
// fold floors even when residents leave less, so this is a property of the budgets the spill
// model hands out, not of the engine.)
func TestSimulateNeverCountsTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("zoo-wide")
	}
	runs := 0
	for _, name := range models.Names() {
		_, deploy := zooPair(t, name, models.Options{})
		for _, cfg := range hw.Presets() {
			r, err := Analyze(deploy, Options{Bits: cfg.DataBits})
			require.NoError(t, err)
			a := ActivationSRAM(cfg)
			for _, b := range ActivationBudgets(cfg) {
				ls, err := r.Layers(b)
				require.NoError(t, err)
				for _, l := range ls {
					runs++
					ifB, ofB := sim.StagingBytes(cfg, l.ResidentBytes)
					if l.ResidentBytes+ifB+ofB > a {
						t.Errorf("%s on %s at budget %d: %s holds %d and stages in %d of %d bytes", name, cfg.Name, b, l.Name,
							l.ResidentBytes, ifB+ofB, a)
					}
				}
			}
		}
	}
	assert.Greater(t, runs, 10000)
}
