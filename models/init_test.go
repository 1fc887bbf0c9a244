package models_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vggsim/vggsim/interp"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/tensor"
)

// TestInitWeightsScale checks that seeded random weights give activations near unit scale
// through a whole RepVGG: before gamma was scaled by 1/√(branches), RepVGG-A0's logits
// reached ~3e5 and B3's ~3e7 on a unit-normal input.
func TestInitWeightsScale(t *testing.T) {
	for _, name := range []string{"RepVGG-A0", "RepVGG-B1g2"} {
		g, err := models.Build(name, models.Options{InputH: 32, NumClasses: 10})
		if err != nil {
			t.Fatal(err)
		}
		models.InitWeights(g, 1)
		x := tensor.New(1, 3, 32, 32)
		r := rand.New(rand.NewPCG(1, 2))
		for i := range x.F32 {
			x.F32[i] = float32(r.NormFloat64())
		}
		all, err := interp.RunAll(g, x)
		if err != nil {
			t.Fatal(err)
		}
		var peak float64
		for _, n := range g.Nodes {
			if n.Op.String() != "relu" {
				continue
			}
			var ss float64
			for _, v := range all[n.Out.ID].F32 {
				ss += float64(v) * float64(v)
			}
			peak = math.Max(peak, math.Sqrt(ss/float64(len(all[n.Out.ID].F32))))
		}
		if peak > 100 || peak < 0.01 {
			t.Errorf("%s: largest RMS block activation %.3g, want within [0.01, 100]", name, peak)
		}
		t.Logf("%s: largest RMS block activation %.3g", name, peak)
	}
}
