package interp

import (
	"testing"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

// BenchmarkConv3x3_64to64_56x56 is the dominant layer shape of ResNet/RepVGG stage 1:
// 64·64·9·56·56 = 115.6 M MACs per image.
func BenchmarkConv3x3_64to64_56x56(b *testing.B) {
	g := convGraph(b, 64, 56, 56, 64, 3, 1, 1, 1, randTensor(1, 64, 64, 3, 3), randTensor(2, 64))
	x := randTensor(3, 1, 64, 56, 56)
	for b.Loop() {
		if _, err := Run(g, x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(g.MACs())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
}

// repVGGA0Deploy builds the deploy form of RepVGG-A0 (stages of 1, 2, 4, 14, 1 conv3x3+ReLU
// layers, widths 48, 48, 96, 192, 1280, a stride-2 first layer per stage; GAP; Linear to
// 1000) at 224×224 with random parameters.
func repVGGA0Deploy(tb testing.TB) *ir.Graph {
	tb.Helper()
	b := ir.NewBuilder("RepVGG-A0-deploy", ir.Shape{C: 3, H: 224, W: 224})
	v := b.Input()
	for s, st := range []struct{ blocks, width int }{{1, 48}, {2, 48}, {4, 96}, {14, 192}, {1, 1280}} {
		for i := range st.blocks {
			stride := 1
			if i == 0 {
				stride = 2
			}
			name := "stage" + string(rune('0'+s)) + "." + string(rune('a'+i))
			v = b.ReLU(name+".relu", b.Conv(name+".rbr_reparam", v, st.width, 3, stride, 1, 1, true))
		}
	}
	g, err := b.Finish(b.Linear("linear", b.Flatten("flatten", b.GlobalAvgPool("gap", v)), 1000))
	if err != nil {
		tb.Fatal(err)
	}
	seed := uint64(1)
	for _, n := range g.Nodes {
		if n.Op.HasParams() {
			n.Params = map[string]*tensor.Tensor{}
			for _, s := range n.ParamSpecs() {
				seed++
				p := randTensor(seed, s.Shape...)
				for i := range p.F32 {
					p.F32[i] *= 0.05 // keep activations in range
				}
				n.Params[s.Name] = p
			}
		}
	}
	return g
}

// BenchmarkRepVGGA0Deploy224 runs the whole fused RepVGG-A0 (1.36 G MACs) on one image.
func BenchmarkRepVGGA0Deploy224(b *testing.B) {
	g := repVGGA0Deploy(b)
	x := randTensor(3, 1, 3, 224, 224)
	for b.Loop() {
		if _, err := Run(g, x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(g.MACs())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
}
