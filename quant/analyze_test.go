package quant_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/quant"
	"github.com/vggsim/vggsim/reparam"
	"github.com/vggsim/vggsim/tensor"
)

func randomBatch(n, c, h, w int) *tensor.Tensor {
	x := tensor.New(n, c, h, w)
	r := rand.New(rand.NewPCG(11, 11))
	for i := range x.F32 {
		x.F32[i] = float32(r.NormFloat64())
	}
	return x
}

// TestA0Widening is the realistic case: RepVGG-A0 with seeded random weights (random BN
// statistics) and a random calibration batch at 64x64. Fusion must show as widening in
// every block with an identity branch: the fused kernel spans more than any branch, and
// its per-tensor SQNR is below every branch's.
func TestA0Widening(t *testing.T) {
	g, err := models.Build("RepVGG-A0", models.Options{InputH: 64, InputW: 64})
	if err != nil {
		t.Fatal(err)
	}
	models.InitWeights(g, 1)
	r, err := quant.Analyze(g, randomBatch(1, 3, 64, 64), quant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Bits != 8 || r.ThresholdDB != 30 || len(r.Layers) != 23 { // 22 blocks + linear
		t.Fatalf("bits %d, threshold %v, %d layers", r.Bits, r.ThresholdDB, len(r.Layers))
	}
	withID := 0
	for _, l := range r.Layers {
		if l.Activation == nil || math.IsNaN(l.Activation.SQNRTensorDB) || l.Activation.Max <= 0 {
			t.Errorf("%s: activation %+v", l.Name, l.Activation)
		}
		if w := l.Weights; !(w.SQNRChanDB > w.SQNRTensorDB) || w.Min >= 0 || w.Max <= 0 {
			t.Errorf("%s: weights %+v: per-channel SQNR must beat per-tensor", l.Name, w)
		}
		if l.Name == "linear" {
			if len(l.Branches) != 0 || l.Widening != 0 {
				t.Errorf("linear: %+v", l)
			}
			continue
		}
		if len(l.Branches) < 2 || l.Branches[0].Name != "rbr_dense" || l.Branches[1].Name != "rbr_1x1" {
			t.Fatalf("%s: branches %+v", l.Name, l.Branches)
		}
		if len(l.Branches) < 3 {
			continue
		}
		withID++
		if l.Branches[2].Name != "rbr_identity" || l.Widening < 1.2 || l.SQNRLossDB < 5 {
			t.Errorf("%s: widening %.2f, SQNR loss %.1f dB; want ≥ 1.2 and ≥ 5 dB beside an identity", l.Name, l.Widening, l.SQNRLossDB)
		}
		for _, b := range l.Branches {
			if b.Stats.Max-b.Stats.Min >= l.Weights.Max-l.Weights.Min || b.Stats.SQNRTensorDB <= l.Weights.SQNRTensorDB {
				t.Errorf("%s: branch %s %+v not narrower than the fused %+v", l.Name, b.Name, b.Stats, l.Weights)
			}
		}
		if !l.Flagged || l.FlaggedBy[0] != "weights" {
			t.Errorf("%s: per-tensor SQNR %.1f dB not flagged", l.Name, l.Weights.SQNRTensorDB)
		}
	}
	if withID != 17 { // 22 blocks less stage0 and the four stride-2 stage heads
		t.Errorf("%d layers with an identity branch, want 17", withID)
	}

	// At 16 bits nothing is at risk; the deploy-form graph reports the same fused layers.
	r16, err := quant.Analyze(g, nil, quant.Options{Bits: 16})
	if err != nil {
		t.Fatal(err)
	}
	if r16.Flagged != 0 || r16.Layers[5].Activation != nil {
		t.Errorf("16 bits: %d flagged", r16.Flagged)
	}
	d, err := reparam.Deploy(g, reparam.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rd, err := quant.Analyze(d, nil, quant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range rd.Layers {
		if len(l.Branches) != 0 || l.Weights != r.Layers[i].Weights {
			t.Errorf("deploy-form %s: %+v, want the fused weights %+v and no branches", l.Name, l, r.Layers[i].Weights)
		}
	}
	if _, err := quant.Analyze(g, nil, quant.Options{Bits: 17}); err == nil || !strings.Contains(err.Error(), "bits = 17") {
		t.Errorf("bits 17: %v", err)
	}
	unbound, _ := models.Build("RepVGG-A0", models.Options{InputH: 64, InputW: 64})
	if _, err := quant.Analyze(unbound, nil, quant.Options{}); err == nil || !strings.Contains(err.Error(), "no parameters") {
		t.Errorf("no weights: %v", err)
	}
}

// Analyze reports, per fused layer of a small RepVGG with seeded random weights, the int8
// SQNR of the fused kernel per tensor and per output channel, and how much wider it is than
// its branches. Blocks with an identity branch widen most.
func ExampleAnalyze() {
	spec := &models.Spec{Name: "small", NumBlocks: [4]int{1, 3, 1, 1},
		WidthMultiplier: [4]float64{0.5, 0.5, 0.5, 0.25}, NumClasses: 10}
	g, err := spec.Build(models.Options{InputH: 32, InputW: 32})
	if err != nil {
		panic(err)
	}
	models.InitWeights(g, 1)
	r, err := quant.Analyze(g, nil, quant.Options{Bits: 8, ThresholdDB: 30})
	if err != nil {
		panic(err)
	}
	for _, l := range r.Layers {
		flag := ""
		if l.Flagged {
			flag = "  LOW"
		}
		fmt.Printf("%-20s %d branches  per-tensor %4.1f dB  per-channel %4.1f dB", l.Name, len(l.Branches), l.Weights.SQNRTensorDB, l.Weights.SQNRChanDB)
		if len(l.Branches) > 0 {
			fmt.Printf("  widening %.2fx  loss %4.1f dB", l.Widening, l.SQNRLossDB)
		}
		fmt.Println(flag)
	}
	fmt.Printf("%d of %d layers below %.0f dB at %d bits\n", r.Flagged, len(r.Layers), r.ThresholdDB, r.Bits)
	// Output:
	// stage0.rbr_reparam   2 branches  per-tensor 36.5 dB  per-channel 42.4 dB  widening 1.04x  loss  3.2 dB
	// stage1.0.rbr_reparam 2 branches  per-tensor 34.1 dB  per-channel 38.2 dB  widening 1.04x  loss  5.2 dB
	// stage2.0.rbr_reparam 2 branches  per-tensor 31.5 dB  per-channel 38.4 dB  widening 1.02x  loss  6.3 dB
	// stage2.1.rbr_reparam 3 branches  per-tensor 27.0 dB  per-channel 31.9 dB  widening 1.45x  loss  8.9 dB  LOW
	// stage2.2.rbr_reparam 3 branches  per-tensor 26.5 dB  per-channel 31.9 dB  widening 1.60x  loss 10.3 dB  LOW
	// stage3.0.rbr_reparam 2 branches  per-tensor 31.7 dB  per-channel 37.1 dB  widening 0.99x  loss  5.2 dB
	// stage4.0.rbr_reparam 2 branches  per-tensor 29.4 dB  per-channel 36.5 dB  widening 0.99x  loss  6.7 dB  LOW
	// linear               0 branches  per-tensor 47.8 dB  per-channel 48.2 dB
	// 3 of 8 layers below 30 dB at 8 bits
}

// TestAnalyzeProgress: the progress callback sees the stages in order and one count per
// layer, ending at total of total.
func TestAnalyzeProgress(t *testing.T) {
	g, err := models.Build("RepVGG-A0", models.Options{InputH: 32, InputW: 32})
	if err != nil {
		t.Fatal(err)
	}
	models.InitWeights(g, 1)
	var stages []string
	var counts []int
	_, err = quant.Analyze(g, randomBatch(1, 3, 32, 32), quant.Options{Progress: func(stage string, done, total int) {
		if len(stages) == 0 || stages[len(stages)-1] != stage {
			stages = append(stages, stage)
		}
		if stage == "measuring layers" {
			if total != 23 {
				t.Errorf("total %d, want 23", total)
			}
			counts = append(counts, done)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(stages, ", "); got != "fusing, running the batch, measuring layers" {
		t.Errorf("stages %s", got)
	}
	if len(counts) != 24 || counts[0] != 0 || counts[23] != 23 {
		t.Errorf("counts %v", counts)
	}
}
