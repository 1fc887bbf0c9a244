package interp

import (
	"math"
	"testing"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

// Hand-computed cases, one (or more) per operator. Every expected number below was worked
// out by hand in the comment next to it.

// seq returns 1, 2, …, n as float32.
func seq(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(i + 1)
	}
	return s
}

func TestConvHand(t *testing.T) {
	// Input 1×4×4 = 1…16 row-major, kernel 1…9, stride 2, padding 1, bias 0.5 → 2×2.
	//   x:  1  2  3  4     w: 1 2 3
	//       5  6  7  8        4 5 6
	//       9 10 11 12        7 8 9
	//      13 14 15 16
	// out(0,0): window rows −1…1, cols −1…1: 1·5 + 2·6 + 5·8 + 6·9            = 111
	// out(0,1): rows −1…1, cols 1…3: 2·4+3·5+4·6 + 6·7+7·8+8·9               = 217
	// out(1,0): rows 1…3, cols −1…1: 5·2+6·3 + 9·5+10·6 + 13·8+14·9          = 363
	// out(1,1): rows 1…3, cols 1…3: 6+14+24 + 40+55+72 + 98+120+144          = 573
	w := tensor.FromF32(seq(9), 1, 1, 3, 3)
	g := convGraph(t, 1, 4, 4, 1, 3, 2, 1, 1, w, tensor.FromF32([]float32{0.5}, 1))
	y := run(t, g, tensor.FromF32(seq(16), 1, 1, 4, 4))
	wantExact(t, "conv3x3 s2 p1", y, []int{1, 1, 2, 2}, []float32{111.5, 217.5, 363.5, 573.5})

	// The same without bias, stride 1, no padding: one 2×2 output of valid windows.
	// out(0,0) = 1·1+2·2+3·3 + 5·4+6·5+7·6 + 9·7+10·8+11·9 = 14+92+242 = 348; each step right
	// adds Σw = 45, each step down adds 4·45 = 180.
	g = convGraph(t, 1, 4, 4, 1, 3, 1, 0, 1, w, nil)
	y = run(t, g, tensor.FromF32(seq(16), 1, 1, 4, 4))
	wantExact(t, "conv3x3 s1 p0", y, []int{1, 1, 2, 2}, []float32{348, 393, 528, 573})
}

func TestConvGroupedHand(t *testing.T) {
	// 4 input channels, 2 output channels, groups 2, 1×1 kernel on a 1×2 image.
	// Group 0 (out 0) reads in 0,1 with weights (1, 10); group 1 (out 1) reads in 2,3 with
	// weights (100, 1000). Input channel c holds (c+1, −(c+1)).
	// out0 = 1·1 + 2·10 = 21 (and −21); out1 = 3·100 + 4·1000 = 4300 (and −4300).
	w := tensor.FromF32([]float32{1, 10, 100, 1000}, 2, 2, 1, 1)
	x := tensor.FromF32([]float32{1, -1, 2, -2, 3, -3, 4, -4}, 1, 4, 1, 2)
	y := run(t, convGraph(t, 4, 1, 2, 2, 1, 1, 0, 2, w, nil), x)
	wantExact(t, "grouped conv1x1", y, []int{1, 2, 1, 2}, []float32{21, -21, 4300, -4300})
}

func TestBatchNormHand(t *testing.T) {
	// eps 0.25 so that var+eps is a perfect square: channel 0 var 3.75 → std 2,
	// gamma 3, beta 1, mean 2: y = (x−2)/2·3+1 → x = 0, 2, 6, 3 gives −2, 1, 7, 2.5.
	// Channel 1 var 0.75 → std 1, gamma −1, beta 0, mean −1: y = −(x+1) → −1, −3, −7, −4.
	b := ir.NewBuilder("bn", ir.Shape{C: 2, H: 2, W: 2})
	g, err := b.Finish(b.BatchNorm("bn", b.Input(), 0.25))
	if err != nil {
		t.Fatal(err)
	}
	g.Node("bn").Params = map[string]*tensor.Tensor{
		"weight":              tensor.FromF32([]float32{3, -1}, 2),
		"bias":                tensor.FromF32([]float32{1, 0}, 2),
		"running_mean":        tensor.FromF32([]float32{2, -1}, 2),
		"running_var":         tensor.FromF32([]float32{3.75, 0.75}, 2),
		"num_batches_tracked": tensor.FromI64([]int64{7}), // present, ignored
	}
	x := tensor.FromF32([]float32{0, 2, 6, 3, 0, 2, 6, 3}, 1, 2, 2, 2)
	wantExact(t, "batchnorm", run(t, g, x), []int{1, 2, 2, 2}, []float32{-2, 1, 7, 2.5, -1, -3, -7, -4})
}

func TestBatchNormEps(t *testing.T) {
	// With eps 1e-5 the result is, bit for bit, the float32 evaluation of the documented
	// formula ((x − mean) / sqrt(var + eps)) · gamma + beta, and within 1e-6 relative of the
	// exact value. Many random inputs, so that another evaluation order (e.g. folding
	// gamma/std first) would show up.
	const c, hw = 3, 500
	b := ir.NewBuilder("bn", ir.Shape{C: c, H: 1, W: hw})
	g, err := b.Finish(b.BatchNorm("bn", b.Input(), 1e-5))
	if err != nil {
		t.Fatal(err)
	}
	gamma, beta, mean := randTensor(11, c), randTensor(12, c), randTensor(13, c)
	variance := randTensor(14, c)
	for i := range variance.F32 {
		variance.F32[i] = variance.F32[i]*variance.F32[i] + 1e-3
	}
	g.Node("bn").Params = map[string]*tensor.Tensor{"weight": gamma, "bias": beta, "running_mean": mean, "running_var": variance}
	x := randTensor(15, 1, c, 1, hw)
	for i := range x.F32 {
		x.F32[i] *= 4
	}
	y := run(t, g, x)
	for ch := range c {
		std := float32(math.Sqrt(float64(variance.F32[ch] + float32(1e-5))))
		for i := range hw {
			v := x.F32[ch*hw+i]
			want := float32(((v-mean.F32[ch])/std)*gamma.F32[ch]) + beta.F32[ch]
			exact := (float64(v)-float64(mean.F32[ch]))/math.Sqrt(float64(variance.F32[ch])+1e-5)*float64(gamma.F32[ch]) + float64(beta.F32[ch])
			got := y.F32[ch*hw+i]
			if got != want || math.Abs(float64(got)-exact) > 1e-6*max(1, math.Abs(exact)) {
				t.Fatalf("bn channel %d of %v = %v, want %v (exact %v)", ch, v, got, want, exact)
			}
		}
	}
}

// unaryGraph builds a graph applying one parameterless op to a c×h×w input.
func unaryGraph(t *testing.T, s ir.Shape, op func(b *ir.Builder, x *ir.Value) *ir.Value) *ir.Graph {
	t.Helper()
	b := ir.NewBuilder("unary", s)
	g, err := b.Finish(op(b, b.Input()))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestReLUHand(t *testing.T) {
	g := unaryGraph(t, ir.Shape{C: 1, H: 1, W: 4}, func(b *ir.Builder, x *ir.Value) *ir.Value { return b.ReLU("relu", x) })
	y := run(t, g, tensor.FromF32([]float32{-1, 0, 2.5, -0.001}, 1, 1, 1, 4))
	wantExact(t, "relu", y, []int{1, 1, 1, 4}, []float32{0, 0, 2.5, 0})
	y = run(t, g, tensor.FromF32([]float32{float32(math.NaN()), 1, -1, 0}, 1, 1, 1, 4))
	if !math.IsNaN(float64(y.F32[0])) {
		t.Errorf("relu(NaN) = %v, want NaN", y.F32[0])
	}
}

func TestSigmoidHand(t *testing.T) {
	// sigmoid(0) = 0.5 exactly; sigmoid(±ln 3) = 3/4 and 1/4 (1/(1+1/3), 1/(1+3)).
	g := unaryGraph(t, ir.Shape{C: 1, H: 1, W: 3}, func(b *ir.Builder, x *ir.Value) *ir.Value { return b.Sigmoid("sig", x) })
	ln3 := float32(math.Log(3))
	y := run(t, g, tensor.FromF32([]float32{0, ln3, -ln3}, 1, 1, 1, 3))
	want := []float64{0.5, 0.75, 0.25}
	for i, w := range want {
		if math.Abs(float64(y.F32[i])-w) > 1e-7 {
			t.Errorf("sigmoid element %d = %v, want %v", i, y.F32[i], w)
		}
	}
	if y.F32[0] != 0.5 {
		t.Errorf("sigmoid(0) = %v, want exactly 0.5", y.F32[0])
	}
}

func TestAddHand(t *testing.T) {
	// Three operands: the input and two ReLUs of it.
	// x = (−2, 3): relu = (0, 3); x + relu + relu = (−2, 9).
	b := ir.NewBuilder("add", ir.Shape{C: 1, H: 1, W: 2})
	r1 := b.ReLU("r1", b.Input())
	r2 := b.ReLU("r2", b.Input())
	g, err := b.Finish(b.Add("add", b.Input(), r1, r2))
	if err != nil {
		t.Fatal(err)
	}
	wantExact(t, "add", run(t, g, tensor.FromF32([]float32{-2, 3}, 1, 1, 1, 2)), []int{1, 1, 1, 2}, []float32{-2, 9})

	// Left-to-right float32: with x = 1e8, (1 + x) + (−x) = 1e8 + (−1e8) = 0, because
	// 1e8 + 1 rounds back to 1e8 in float32 (spacing 8 there). Right to left, or in float64,
	// the sum would be 1. The constant 1 and −x come from 1×1 convs.
	b = ir.NewBuilder("order", ir.Shape{C: 1, H: 1, W: 1})
	one := b.Conv("one", b.Input(), 1, 1, 1, 0, 1, true)  // w=0, bias=1 → 1
	neg := b.Conv("neg", b.Input(), 1, 1, 1, 0, 1, false) // w=−1 → −x
	g, err = b.Finish(b.Add("add", one, b.Input(), neg))
	if err != nil {
		t.Fatal(err)
	}
	g.Node("one").Params = map[string]*tensor.Tensor{"weight": tensor.FromF32([]float32{0}, 1, 1, 1, 1), "bias": tensor.FromF32([]float32{1}, 1)}
	g.Node("neg").Params = map[string]*tensor.Tensor{"weight": tensor.FromF32([]float32{-1}, 1, 1, 1, 1)}
	wantExact(t, "add order", run(t, g, tensor.FromF32([]float32{1e8}, 1, 1, 1, 1)), []int{1, 1, 1, 1}, []float32{0})
}

func TestMulHand(t *testing.T) {
	// x 2×1×2 = (1, 2 | 3, 4); s = GAP(x) = (1.5 | 3.5), broadcast: (1.5, 3 | 10.5, 14).
	b := ir.NewBuilder("mul", ir.Shape{C: 2, H: 1, W: 2})
	s := b.GlobalAvgPool("gap", b.Input())
	g, err := b.Finish(b.Mul("mul", b.Input(), s))
	if err != nil {
		t.Fatal(err)
	}
	y := run(t, g, tensor.FromF32([]float32{1, 2, 3, 4}, 1, 2, 1, 2))
	wantExact(t, "mul broadcast", y, []int{1, 2, 1, 2}, []float32{1.5, 3, 10.5, 14})

	// Same-shape operands: x·relu(x) with x = (−1, 3) → (0·−1, 9) = (−0, 9).
	b = ir.NewBuilder("mul2", ir.Shape{C: 1, H: 1, W: 2})
	g, err = b.Finish(b.Mul("mul", b.Input(), b.ReLU("relu", b.Input())))
	if err != nil {
		t.Fatal(err)
	}
	y = run(t, g, tensor.FromF32([]float32{-1, 3}, 1, 1, 1, 2))
	if y.F32[0] != 0 || y.F32[1] != 9 {
		t.Errorf("mul same shape = %v, want [0 9]", y.F32)
	}
}

func TestMaxPoolHand(t *testing.T) {
	// x 1×3×3 = −1 … −9 (all negative, so zero padding would give 0 everywhere).
	// k 3, stride 2, pad 1 → 2×2:
	//   (0,0): max(−1, −2, −4, −5) = −1    (0,1): max(−2, −3, −5, −6) = −2
	//   (1,0): max(−4, −5, −7, −8) = −4    (1,1): max(−5, −6, −8, −9) = −5
	x := make([]float32, 9)
	for i := range x {
		x[i] = -float32(i + 1)
	}
	g := unaryGraph(t, ir.Shape{C: 1, H: 3, W: 3}, func(b *ir.Builder, v *ir.Value) *ir.Value { return b.MaxPool("pool", v, 3, 2, 1) })
	wantExact(t, "maxpool", run(t, g, tensor.FromF32(x, 1, 1, 3, 3)), []int{1, 1, 2, 2}, []float32{-1, -2, -4, -5})

	// A NaN in a window propagates to that window's output only.
	x[8] = float32(math.NaN()) // bottom-right, only in window (1,1)
	y := run(t, g, tensor.FromF32(x, 1, 1, 3, 3))
	if y.F32[0] != -1 || y.F32[1] != -2 || y.F32[2] != -4 || !math.IsNaN(float64(y.F32[3])) {
		t.Errorf("maxpool with NaN = %v, want [-1 -2 -4 NaN]", y.F32)
	}
}

func TestGlobalAvgPoolFlattenHand(t *testing.T) {
	// x 2×2×2 = (1 2 3 4 | 5 6 7 8) → means (2.5, 6.5), flatten keeps the order.
	g := unaryGraph(t, ir.Shape{C: 2, H: 2, W: 2}, func(b *ir.Builder, v *ir.Value) *ir.Value { return b.GlobalAvgPool("gap", v) })
	wantExact(t, "gap", run(t, g, tensor.FromF32(seq(8), 1, 2, 2, 2)), []int{1, 2, 1, 1}, []float32{2.5, 6.5})

	g = unaryGraph(t, ir.Shape{C: 2, H: 1, W: 3}, func(b *ir.Builder, v *ir.Value) *ir.Value { return b.Flatten("flat", v) })
	wantExact(t, "flatten", run(t, g, tensor.FromF32(seq(12), 2, 2, 1, 3)), []int{2, 6, 1, 1}, seq(12))
}

func TestAdaptiveAvgPoolHand(t *testing.T) {
	pool := func(s ir.Shape, oh, ow int) *ir.Graph {
		return unaryGraph(t, s, func(b *ir.Builder, v *ir.Value) *ir.Value { return b.AdaptiveAvgPool("avgpool", v, oh, ow) })
	}
	// In = Out: every window is one pixel, the identity (bit for bit).
	x := tensor.FromF32([]float32{1.25, -2, 3e-7, 4, float32(math.Inf(1)), -6}, 1, 1, 2, 3)
	wantExact(t, "identity", run(t, pool(ir.Shape{C: 1, H: 2, W: 3}, 2, 3), x), []int{1, 1, 2, 3}, x.F32)

	// In = 1 → Out = 7 (torchvision's VGG at 32x32): every window is [0, 1), so the pixel
	// is replicated to all 49 outputs, per channel and per image.
	y := run(t, pool(ir.Shape{C: 2, H: 1, W: 1}, 7, 7), tensor.FromF32([]float32{1.5, -3, 7, 0.1}, 2, 2, 1, 1))
	want := make([]float32, 0, 4*49)
	for _, v := range []float32{1.5, -3, 7, 0.1} {
		for range 49 {
			want = append(want, v)
		}
	}
	wantExact(t, "1x1 to 7x7", y, []int{2, 2, 7, 7}, want)

	// In = 5 → Out = 3: windows [0, 2), [1, 4), [3, 5) (⌊i·5/3⌋ … ⌈(i+1)·5/3⌉), overlapping
	// and of sizes 2, 3, 2. x = 1 … 25 row-major, x[y][x] = 5y + x + 1:
	//   (0,0) rows 0–1, cols 0–1: (1+2+6+7)/4                      = 16/4  = 4
	//   (0,1) rows 0–1, cols 1–3: (2+3+4 + 7+8+9)/6                = 33/6  = 5.5
	//   (0,2) rows 0–1, cols 3–4: (4+5+9+10)/4                     = 28/4  = 7
	//   (1,0) rows 1–3, cols 0–1: (6+7 + 11+12 + 16+17)/6          = 69/6  = 11.5
	//   (1,1) rows 1–3, cols 1–3: (7+8+9 + 12+13+14 + 17+18+19)/9  = 117/9 = 13
	//   (1,2) rows 1–3, cols 3–4: (9+10 + 14+15 + 19+20)/6         = 87/6  = 14.5
	//   (2,0) rows 3–4, cols 0–1: (16+17+21+22)/4                  = 76/4  = 19
	//   (2,1) rows 3–4, cols 1–3: (17+18+19 + 22+23+24)/6          = 123/6 = 20.5
	//   (2,2) rows 3–4, cols 3–4: (19+20+24+25)/4                  = 88/4  = 22
	y = run(t, pool(ir.Shape{C: 1, H: 5, W: 5}, 3, 3), tensor.FromF32(seq(25), 1, 1, 5, 5))
	wantExact(t, "5 to 3", y, []int{1, 1, 3, 3}, []float32{4, 5.5, 7, 11.5, 13, 14.5, 19, 20.5, 22})

	// Non-square, up in H and down in W: 2×4 → 3×2. Rows 2→3: [0,1), [0,2), [1,2); columns
	// 4→2: [0,2), [2,4). x = (1 2 3 4 | 5 6 7 8):
	//   row 0:       (1+2)/2 = 1.5,          (3+4)/2 = 3.5
	//   rows 0–1:    (1+2+5+6)/4 = 3.5,      (3+4+7+8)/4 = 5.5
	//   row 1:       (5+6)/2 = 5.5,          (7+8)/2 = 7.5
	y = run(t, pool(ir.Shape{C: 1, H: 2, W: 4}, 3, 2), tensor.FromF32(seq(8), 1, 1, 2, 4))
	wantExact(t, "2x4 to 3x2", y, []int{1, 1, 3, 2}, []float32{1.5, 3.5, 3.5, 5.5, 5.5, 7.5})

	// The sum is float64, rounded once: (1e8 + 1 − 1e8)/3 = 1/3, where a float32 sum would
	// lose the 1 (1e8 + 1 rounds to 1e8 in float32) and give 0.
	y = run(t, pool(ir.Shape{C: 1, H: 1, W: 3}, 1, 1), tensor.FromF32([]float32{1e8, 1, -1e8}, 1, 1, 1, 3))
	wantExact(t, "float64 sum", y, []int{1, 1, 1, 1}, []float32{float32(1.0 / 3)})

	// Out = 1×1 is GlobalAvgPool, bit for bit.
	r := randTensor(3, 2, 3, 5, 7)
	a := run(t, pool(ir.Shape{C: 3, H: 5, W: 7}, 1, 1), r)
	gap := run(t, unaryGraph(t, ir.Shape{C: 3, H: 5, W: 7}, func(b *ir.Builder, v *ir.Value) *ir.Value { return b.GlobalAvgPool("gap", v) }), r)
	wantExact(t, "1x1 = gap", a, []int{2, 3, 1, 1}, gap.F32)
}

func TestLinearHand(t *testing.T) {
	// W = [[1 2] [3 4] [5 6]], b = (0.5, −1, 0).
	// x = (1, −1): (1−2+0.5, 3−4−1, 5−6+0) = (−0.5, −2, −1)
	// x = (2, 3):  (2+6+0.5, 6+12−1, 10+18) = (8.5, 17, 28)
	b := ir.NewBuilder("fc", ir.Shape{C: 2, H: 1, W: 1})
	g, err := b.Finish(b.Linear("fc", b.Input(), 3))
	if err != nil {
		t.Fatal(err)
	}
	g.Node("fc").Params = map[string]*tensor.Tensor{
		"weight": tensor.FromF32([]float32{1, 2, 3, 4, 5, 6}, 3, 2),
		"bias":   tensor.FromF32([]float32{0.5, -1, 0}, 3),
	}
	y := run(t, g, tensor.FromF32([]float32{1, -1, 2, 3}, 2, 2, 1, 1))
	want := []float32{-0.5, -2, -1, 8.5, 17, 28}
	wantExact(t, "linear", y, []int{2, 3, 1, 1}, want)
	wantExact(t, "linear Flat2D", Flat2D(y), []int{2, 3}, want)
}

func TestValidRange(t *testing.T) {
	// in 4, out 2, stride 2, pad 1: tap 0 reads −1, 1 → only o=1; tap 1 reads 0, 2 → both;
	// tap 2 reads 1, 3 → both.
	for _, c := range []struct{ k, lo, hi int }{{0, 1, 1}, {1, 0, 1}, {2, 0, 1}} {
		if lo, hi := validRange(2, 4, c.k, 2, 1); lo != c.lo || hi != c.hi {
			t.Errorf("validRange tap %d = [%d, %d], want [%d, %d]", c.k, lo, hi, c.lo, c.hi)
		}
	}
	// in 1, pad 2, k 5, stride 1 → out 1; only tap 2 reads the pixel.
	for k := range 5 {
		lo, hi := validRange(1, 1, k, 1, 2)
		if got, want := lo <= hi, k == 2; got != want {
			t.Errorf("validRange 1-pixel tap %d = [%d, %d]", k, lo, hi)
		}
	}
}

func TestReLU6Hand(t *testing.T) {
	g := unaryGraph(t, ir.Shape{C: 1, H: 1, W: 6}, func(b *ir.Builder, x *ir.Value) *ir.Value { return b.ReLU6("relu6", x) })
	y := run(t, g, tensor.FromF32([]float32{-1, 0, 2.5, 6, 6.0001, 1e9}, 1, 1, 1, 6))
	wantExact(t, "relu6", y, []int{1, 1, 1, 6}, []float32{0, 0, 2.5, 6, 6, 6})
	y = run(t, g, tensor.FromF32([]float32{float32(math.NaN()), 1, -1, 0, 7, 3}, 1, 1, 1, 6))
	if !math.IsNaN(float64(y.F32[0])) {
		t.Errorf("relu6(NaN) = %v, want NaN", y.F32[0])
	}
}
