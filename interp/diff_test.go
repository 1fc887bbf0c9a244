package interp

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

// Differential tests: the same function computed two ways. Where both ways add the same
// nonzero terms in the same order in float64, the results must be bitwise equal, and the
// tests say so; anything weaker would hide an indexing bug behind a tolerance.

// convCase is one convolution configuration of the shape grid.
type convCase struct {
	n, cin, h, w, cout, k, stride, pad, groups int
	bias                                       bool
}

func (c convCase) String() string {
	return fmt.Sprintf("n%d_%dx%dx%d_to_%d_k%d_s%d_p%d_g%d_b%v", c.n, c.cin, c.h, c.w, c.cout, c.k, c.stride, c.pad, c.groups, c.bias)
}

// convGrid includes the degenerate shapes: 1×1 maps, one channel, odd sizes, groups equal to
// channels (depthwise), kernels larger than the image, strides larger than the kernel,
// outputs that read only padding, and batches > 1.
var convGrid = []convCase{
	{1, 1, 1, 1, 1, 1, 1, 0, 1, false},
	{1, 1, 1, 1, 1, 3, 1, 1, 1, true},   // 1×1 map, 3×3 kernel: only the centre tap
	{2, 3, 5, 7, 4, 3, 1, 1, 1, true},   // odd, non-square
	{1, 3, 7, 5, 4, 3, 2, 1, 1, false},  // stride 2 on odd sizes
	{3, 4, 6, 6, 8, 3, 2, 1, 2, true},   // grouped, batch 3
	{1, 6, 5, 5, 6, 3, 1, 1, 6, true},   // depthwise
	{1, 8, 4, 4, 16, 1, 2, 0, 4, false}, // 1×1 stride 2 grouped
	{1, 2, 3, 3, 3, 5, 1, 2, 1, true},   // kernel larger than image
	{1, 2, 9, 9, 2, 2, 3, 0, 1, false},  // stride > kernel: skipped pixels
	{1, 2, 2, 2, 2, 3, 1, 3, 1, true},   // pad 3 > k/2: border outputs see only padding
	{2, 16, 8, 8, 16, 3, 1, 1, 1, true},
}

// textbookConv is the convolution written as its definition: seven nested loops, bounds
// checked per tap, float64 sum in ci, ky, kx order, bias last.
func textbookConv(x, w, bias *tensor.Tensor, c convCase) *tensor.Tensor {
	ho := ir.ConvOut(c.h, c.k, c.stride, c.pad)
	wo := ir.ConvOut(c.w, c.k, c.stride, c.pad)
	out := tensor.New(c.n, c.cout, ho, wo)
	cinG, coutG := c.cin/c.groups, c.cout/c.groups
	for n := range c.n {
		for co := range c.cout {
			g := co / coutG
			for oy := range ho {
				for ox := range wo {
					var acc float64
					for ci := range cinG {
						for ky := range c.k {
							for kx := range c.k {
								iy, ix := oy*c.stride-c.pad+ky, ox*c.stride-c.pad+kx
								if iy < 0 || iy >= c.h || ix < 0 || ix >= c.w {
									continue
								}
								xv := x.F32[((n*c.cin+g*cinG+ci)*c.h+iy)*c.w+ix]
								wv := w.F32[((co*cinG+ci)*c.k+ky)*c.k+kx]
								acc += float64(xv) * float64(wv)
							}
						}
					}
					if bias != nil {
						acc += float64(bias.F32[co])
					}
					out.F32[((n*c.cout+co)*ho+oy)*wo+ox] = float32(acc)
				}
			}
		}
	}
	return out
}

// runConv runs case c through Run with the given weight and bias.
func runConv(t *testing.T, c convCase, x, w, bias *tensor.Tensor) *tensor.Tensor {
	t.Helper()
	return run(t, convGraph(t, c.cin, c.h, c.w, c.cout, c.k, c.stride, c.pad, c.groups, w, bias), x)
}

// convInputs returns deterministic input, weight and (if c.bias) bias tensors for c.
func convInputs(i int, c convCase) (x, w, bias *tensor.Tensor) {
	x = randTensor(uint64(3*i+1), c.n, c.cin, c.h, c.w)
	w = randTensor(uint64(3*i+2), c.cout, c.cin/c.groups, c.k, c.k)
	if c.bias {
		bias = randTensor(uint64(3*i+3), c.cout)
	}
	return x, w, bias
}

func TestConvMatchesTextbook(t *testing.T) {
	for i, c := range convGrid {
		t.Run(c.String(), func(t *testing.T) {
			x, w, bias := convInputs(i, c)
			got := runConv(t, c, x, w, bias)
			want := textbookConv(x, w, bias, c)
			wantExact(t, "conv vs textbook", got, want.Shape, want.F32)
		})
	}
}

func TestGroupedConvEqualsPerGroupSlices(t *testing.T) {
	for i, c := range convGrid {
		if c.groups == 1 {
			continue
		}
		t.Run(c.String(), func(t *testing.T) {
			x, w, bias := convInputs(i, c)
			got := runConv(t, c, x, w, bias)
			cinG, coutG := c.cin/c.groups, c.cout/c.groups
			for g := range c.groups {
				// Slice input channels and weights of group g; run as a dense conv.
				dc := c
				dc.cin, dc.cout, dc.groups = cinG, coutG, 1
				xg := tensor.New(c.n, cinG, c.h, c.w)
				plane := c.h * c.w
				for n := range c.n {
					copy(xg.F32[n*cinG*plane:][:cinG*plane], x.F32[(n*c.cin+g*cinG)*plane:][:cinG*plane])
				}
				wsz := cinG * c.k * c.k
				wg := tensor.FromF32(append([]float32(nil), w.F32[g*coutG*wsz:][:coutG*wsz]...), coutG, cinG, c.k, c.k)
				var bg *tensor.Tensor
				if bias != nil {
					bg = tensor.FromF32(append([]float32(nil), bias.F32[g*coutG:][:coutG]...), coutG)
				}
				yg := runConv(t, dc, xg, wg, bg)
				oplane := got.Shape[2] * got.Shape[3]
				for n := range c.n {
					want := yg.F32[n*coutG*oplane:][:coutG*oplane]
					part := got.F32[(n*c.cout+g*coutG)*oplane:][:coutG*oplane]
					wantExact(t, fmt.Sprintf("group %d image %d", g, n), tensor.FromF32(part, len(part)), []int{len(part)}, want)
				}
			}
		})
	}
}

func TestGroupedConvEqualsBlockDiagonalDense(t *testing.T) {
	// Expanding the grouped kernel to a dense one with zeros outside the diagonal blocks adds
	// only ±0 terms (which leave a float64 sum starting at +0 unchanged) and keeps the order of
	// the nonzero ones, so the results are bitwise equal.
	for i, c := range convGrid {
		if c.groups == 1 {
			continue
		}
		t.Run(c.String(), func(t *testing.T) {
			x, w, bias := convInputs(i, c)
			got := runConv(t, c, x, w, bias)
			cinG, coutG, kk := c.cin/c.groups, c.cout/c.groups, c.k*c.k
			dense := tensor.New(c.cout, c.cin, c.k, c.k)
			for co := range c.cout {
				g := co / coutG
				for ci := range cinG {
					copy(dense.F32[(co*c.cin+g*cinG+ci)*kk:][:kk], w.F32[(co*cinG+ci)*kk:][:kk])
				}
			}
			dc := c
			dc.groups = 1
			want := runConv(t, dc, x, dense, bias)
			wantExact(t, "grouped vs block-diagonal", got, want.Shape, want.F32)
		})
	}
}

func TestConv1x1EqualsPixelMatmul(t *testing.T) {
	// A 1×1 conv is y[n,:,p] = W x[n,:,p] + b at every pixel p.
	c := convCase{2, 5, 3, 4, 6, 1, 1, 0, 1, true}
	x, w, bias := convInputs(99, c)
	got := runConv(t, c, x, w, bias)
	plane := c.h * c.w
	want := make([]float32, len(got.F32))
	for n := range c.n {
		for p := range plane {
			for co := range c.cout {
				var acc float64
				for ci := range c.cin {
					acc += float64(w.F32[co*c.cin+ci]) * float64(x.F32[(n*c.cin+ci)*plane+p])
				}
				want[(n*c.cout+co)*plane+p] = float32(acc + float64(bias.F32[co]))
			}
		}
	}
	wantExact(t, "conv1x1 vs matmul", got, []int{c.n, c.cout, c.h, c.w}, want)
}

func TestStridedConvEqualsSubsampled(t *testing.T) {
	// Output (oy, ox) of a stride-s conv reads the same pixels as output (s·oy, s·ox) of the
	// stride-1 conv with the same padding.
	for i, c := range convGrid {
		if c.stride == 1 {
			continue
		}
		t.Run(c.String(), func(t *testing.T) {
			x, w, bias := convInputs(i, c)
			got := runConv(t, c, x, w, bias)
			c1 := c
			c1.stride = 1
			full := runConv(t, c1, x, w, bias)
			ho, wo := got.Shape[2], got.Shape[3]
			h1, w1 := full.Shape[2], full.Shape[3]
			want := make([]float32, 0, len(got.F32))
			for nc := range c.n * c.cout {
				for oy := range ho {
					for ox := range wo {
						want = append(want, full.F32[(nc*h1+oy*c.stride)*w1+ox*c.stride])
					}
				}
			}
			wantExact(t, "strided vs subsampled", got, got.Shape, want)
		})
	}
}

func TestLinearEqualsConv1x1OnVector(t *testing.T) {
	// Linear on a C×1×1 value is a 1×1 conv with the same weight; same sum order.
	const in, out, batch = 7, 5, 3
	w, bias := randTensor(1, out, in), randTensor(2, out)
	x := randTensor(3, batch, in, 1, 1)
	b := ir.NewBuilder("fc", ir.Shape{C: in, H: 1, W: 1})
	g, err := b.Finish(b.Linear("fc", b.Input(), out))
	if err != nil {
		t.Fatal(err)
	}
	g.Node("fc").Params = map[string]*tensor.Tensor{"weight": w, "bias": bias}
	got := run(t, g, x)
	w4 := tensor.FromF32(w.F32, out, in, 1, 1)
	want := run(t, convGraph(t, in, 1, 1, out, 1, 1, 0, 1, w4, bias), x)
	wantExact(t, "linear vs conv1x1", got, want.Shape, want.F32)
}

// seNet builds a small graph that uses every operator: a conv+BN stem, max pool, an SE
// block (GAP, 1×1 convs, ReLU, sigmoid, mul), a residual add with a BN'd identity, and a
// GAP → flatten → linear head. Its parameters are random (BN variances positive).
func seNet(t testing.TB) *ir.Graph {
	t.Helper()
	b := ir.NewBuilder("se", ir.Shape{C: 3, H: 11, W: 9})
	x := b.Conv("stem.conv", b.Input(), 8, 3, 2, 1, 1, false)
	x = b.ReLU("stem.relu", b.BatchNorm("stem.bn", x, 1e-5))
	x = b.MaxPool("pool", x, 3, 2, 1)
	d := b.BatchNorm("blk.bn", b.Conv("blk.conv", x, 8, 3, 1, 1, 2, false), 1e-5)
	s := b.GlobalAvgPool("se.gap", d)
	s = b.ReLU("se.relu", b.Conv("se.down", s, 2, 1, 1, 0, 1, true))
	s = b.Sigmoid("se.sigmoid", b.Conv("se.up", s, 8, 1, 1, 0, 1, true))
	d = b.Mul("se.mul", d, s)
	x = b.ReLU("blk.relu", b.Add("blk.add", d, b.BatchNorm("blk.id", x, 1e-5), x))
	x = b.Flatten("flatten", b.GlobalAvgPool("gap", x))
	g, err := b.Finish(b.Linear("fc", x, 4))
	if err != nil {
		t.Fatal(err)
	}
	seed := uint64(100)
	for _, n := range g.Nodes {
		if !n.Op.HasParams() {
			continue
		}
		n.Params = map[string]*tensor.Tensor{}
		for _, s := range n.ParamSpecs() {
			if s.Optional {
				continue
			}
			seed++
			p := randTensor(seed, s.Shape...)
			if s.Name == "running_var" {
				for i := range p.F32 {
					p.F32[i] = p.F32[i]*p.F32[i] + 0.1
				}
			}
			n.Params[s.Name] = p
		}
	}
	return g
}

func TestBatchEqualsSingleRuns(t *testing.T) {
	g := seNet(t)
	const batch = 4
	x := randTensor(7, batch, 3, 11, 9)
	got := run(t, g, x)
	per := x.Len() / batch
	for n := range batch {
		xn := tensor.FromF32(append([]float32(nil), x.F32[n*per:][:per]...), 1, 3, 11, 9)
		yn := run(t, g, xn)
		wantExact(t, fmt.Sprintf("image %d", n), tensor.FromF32(got.F32[n*4:][:4], 1, 4, 1, 1), yn.Shape, yn.F32)
	}
}

func TestRunAllAgreesWithRun(t *testing.T) {
	g := seNet(t)
	x := randTensor(8, 2, 3, 11, 9)
	keep := x.Clone()
	all, err := RunAll(g, x)
	if err != nil {
		t.Fatal(err)
	}
	y := run(t, g, x)
	if len(all) != len(g.Nodes) {
		t.Fatalf("RunAll returned %d tensors for %d values", len(all), len(g.Nodes))
	}
	if all[0] != x {
		t.Errorf("RunAll entry of the input is not x")
	}
	for _, v := range g.Values() {
		s := v.Shape
		if !tensor.SameShape(all[v.ID].Shape, []int{2, s.C, s.H, s.W}) {
			t.Errorf("value %%%d: shape %v, want 2x%v", v.ID, all[v.ID].Shape, s)
		}
	}
	wantExact(t, "RunAll output vs Run", all[g.Output.ID], y.Shape, y.F32)
	wantExact(t, "input unchanged", x, keep.Shape, keep.F32)
	// The residual add is blk.bn·se + bn(x) + x: check it against its operands.
	add := g.Node("blk.add")
	a, b2, c := all[add.In[0].ID].F32, all[add.In[1].ID].F32, all[add.In[2].ID].F32
	for i, v := range all[add.Out.ID].F32 {
		if v != (a[i]+b2[i])+c[i] {
			t.Fatalf("add element %d = %v, want %v", i, v, (a[i]+b2[i])+c[i])
		}
	}
}

func TestDeterministicAcrossGOMAXPROCS(t *testing.T) {
	g := seNet(t)
	x := randTensor(9, 3, 3, 11, 9)
	y2 := run(t, g, x)
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	y1 := run(t, g, x)
	wantExact(t, "GOMAXPROCS 1 vs default", y1, y2.Shape, y2.F32)
}
