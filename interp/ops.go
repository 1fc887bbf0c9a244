package interp

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/vggsim/vggsim/ir"
)

// convShape holds the dimensions of one convolution: batch, input and output planes,
// window, stride, padding, groups.
type convShape struct {
	N, Cin, H, W, Cout, Ho, Wo  int
	KH, KW, Stride, Pad, Groups int
}

// validRange returns the first and last output index o in [0, out) whose input index
// o·stride − pad + k lies in [0, in), i.e. the outputs that window tap k does not read from
// padding. lo > hi when there are none. The input index grows with o, so the valid outputs
// form one contiguous range.
func validRange(out, in, k, stride, pad int) (lo, hi int) {
	lo, hi = 0, -1
	for o := range out {
		i := o*stride - pad + k
		if i < 0 {
			lo = o + 1
			continue
		}
		if i < in {
			hi = o
		}
	}
	return lo, hi
}

// conv computes a grouped 2-D convolution (see the package doc for the formula and order).
//
// For one output plane (n, co) it keeps a float64 accumulator per output pixel and walks
// ci, ky, kx in that nesting order; for each tap it adds w·x to every pixel the tap reaches.
// Each pixel therefore receives its terms in exactly the order of the textbook loop
// "for ci { for ky { for kx { acc += x·w } } }": the loops are only interchanged with the
// (independent) pixel loops. Taps that would read padding are skipped via validRange,
// which equals adding zero. Output planes are independent and are shared among goroutines.
func conv(out, x, w, bias []float32, s convShape) {
	cinG := s.Cin / s.Groups   // input channels per group
	coutG := s.Cout / s.Groups // output channels per group
	plane := s.Ho * s.Wo

	// Per tap, the output rows and columns it reaches without padding.
	type span struct{ lo, hi int }
	rows := make([]span, s.KH)
	for ky := range s.KH {
		rows[ky].lo, rows[ky].hi = validRange(s.Ho, s.H, ky, s.Stride, s.Pad)
	}
	cols := make([]span, s.KW)
	for kx := range s.KW {
		cols[kx].lo, cols[kx].hi = validRange(s.Wo, s.W, kx, s.Stride, s.Pad)
	}

	onePlane := func(acc []float64, n, co int) {
		clear(acc)
		g := co / coutG
		for ci := range cinG {
			xc := x[((n*s.Cin)+g*cinG+ci)*s.H*s.W:][:s.H*s.W] // input channel g·cinG+ci of image n
			wc := w[(co*cinG+ci)*s.KH*s.KW:][:s.KH*s.KW]      // kernel of (co, ci)
			for ky := range s.KH {
				for kx := range s.KW {
					wv := float64(wc[ky*s.KW+kx])
					for oy := rows[ky].lo; oy <= rows[ky].hi; oy++ {
						iy := oy*s.Stride - s.Pad + ky
						xrow := xc[iy*s.W:][:s.W]
						arow := acc[oy*s.Wo:][:s.Wo]
						lo, hi := cols[kx].lo, cols[kx].hi
						if s.Stride == 1 && lo <= hi {
							// The same loop as below, with ix = ox − pad + kx written as
							// slices so the compiler drops the bounds checks.
							xs := xrow[lo-s.Pad+kx : hi+1-s.Pad+kx]
							as := arow[lo : hi+1][:len(xs)]
							for i, xv := range xs {
								as[i] += float64(xv) * wv
							}
							continue
						}
						for ox := lo; ox <= hi; ox++ {
							arow[ox] += float64(xrow[ox*s.Stride-s.Pad+kx]) * wv
						}
					}
				}
			}
		}
		dst := out[(n*s.Cout+co)*plane:][:plane]
		for i, v := range acc {
			if bias != nil {
				v += float64(bias[co])
			}
			dst[i] = float32(v)
		}
	}

	// Hand out (n, co) planes to workers; which worker computes a plane does not matter.
	jobs := s.N * s.Cout
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), jobs) {
		wg.Go(func() {
			acc := make([]float64, plane)
			for {
				j := int(next.Add(1)) - 1
				if j >= jobs {
					return
				}
				onePlane(acc, j/s.Cout, j%s.Cout)
			}
		})
	}
	wg.Wait()
}

// batchNorm computes y = ((x − mean) / sqrt(var + eps)) · gamma + beta per channel, every
// step rounded to float32. x and out are [n, c, hw].
func batchNorm(out, x []float32, n, c, hw int, eps float32, gamma, beta, mean, variance []float32) {
	for ch := range c {
		std := float32(math.Sqrt(float64(variance[ch] + eps))) // sqrt of a float32, correctly rounded
		for b := range n {
			off := (b*c + ch) * hw
			src, dst := x[off:off+hw], out[off:off+hw]
			for i, v := range src {
				normed := (v - mean[ch]) / std
				dst[i] = float32(normed*gamma[ch]) + beta[ch] // the conversion forbids an FMA
			}
		}
	}
}

// relu6 computes min(max(x, 0), 6), keeping NaN (as PyTorch's hardtanh(x, 0, 6)).
func relu6(out, x []float32) {
	for i, v := range x {
		if v < 0 {
			v = 0
		} else if v > 6 {
			v = 6
		}
		out[i] = v
	}
}

// relu computes max(x, 0), keeping NaN.
func relu(out, x []float32) {
	for i, v := range x {
		if v < 0 {
			v = 0
		}
		out[i] = v
	}
}

// add sums srcs element-wise, left to right, in float32.
func add(out []float32, srcs [][]float32) {
	copy(out, srcs[0])
	for _, s := range srcs[1:] {
		for i, v := range s {
			out[i] += v
		}
	}
}

// mul computes x·s for x [n, c, hw]; s is [n, c] when broadcast, else x's shape.
func mul(out, x, s []float32, n, c, hw int, broadcast bool) {
	if !broadcast {
		for i, v := range x {
			out[i] = v * s[i]
		}
		return
	}
	for b := range n {
		for ch := range c {
			off := (b*c + ch) * hw
			scale := s[b*c+ch]
			for i, v := range x[off : off+hw] {
				out[off+i] = v * scale
			}
		}
	}
}

// sigmoid computes 1 / (1 + exp(−x)) in float64, rounded once to float32.
func sigmoid(out, x []float32) {
	for i, v := range x {
		out[i] = float32(1 / (1 + math.Exp(-float64(v))))
	}
}

// maxPool takes the maximum over each kh×kw window of planes [planes, h, w]; taps in the
// padding are skipped (padding is −inf). A NaN in the window makes the result NaN.
func maxPool(out, x []float32, planes, h, w, ho, wo, kh, kw, stride, pad int) {
	for p := range planes {
		xp := x[p*h*w:][:h*w]
		op := out[p*ho*wo:][:ho*wo]
		for oy := range ho {
			for ox := range wo {
				m := float32(math.Inf(-1))
				for ky := range kh {
					iy := oy*stride - pad + ky
					if iy < 0 || iy >= h {
						continue
					}
					for kx := range kw {
						ix := ox*stride - pad + kx
						if ix < 0 || ix >= w {
							continue
						}
						if v := xp[iy*w+ix]; v > m || v != v {
							m = v
						}
					}
				}
				op[oy*wo+ox] = m
			}
		}
	}
}

// globalAvgPool averages each plane of x [planes, hw]: a float64 sum in index order
// divided by hw, rounded once.
func globalAvgPool(out, x []float32, planes, hw int) {
	for p := range planes {
		var sum float64
		for _, v := range x[p*hw : (p+1)*hw] {
			sum += float64(v)
		}
		out[p] = float32(sum / float64(hw))
	}
}

// adaptiveAvgPool averages, for every output pixel (oy, ox) of planes [planes, ho, wo], the
// input rows and columns of ir.AdaptiveWindow(oy, h, ho) and ir.AdaptiveWindow(ox, w, wo)
// of x [planes, h, w]: a float64 sum in row-major order divided by the window's size,
// rounded once.
func adaptiveAvgPool(out, x []float32, planes, h, w, ho, wo int) {
	for p := range planes {
		xp := x[p*h*w:][:h*w]
		op := out[p*ho*wo:][:ho*wo]
		for oy := range ho {
			y0, y1 := ir.AdaptiveWindow(oy, h, ho)
			for ox := range wo {
				x0, x1 := ir.AdaptiveWindow(ox, w, wo)
				var sum float64
				for iy := y0; iy < y1; iy++ {
					for _, v := range xp[iy*w+x0 : iy*w+x1] {
						sum += float64(v)
					}
				}
				op[oy*wo+ox] = float32(sum / float64((y1-y0)*(x1-x0)))
			}
		}
	}
}

// linear computes y[b, o] = Σ_i x[b, i]·W[o, i] + bias[o] with a float64 sum in ascending
// i, the bias added last, rounded once. x is [n, in], W [outF, in], y [n, outF].
func linear(out, x, w, bias []float32, n, in, outF int) {
	for b := range n {
		xb := x[b*in:][:in]
		for o := range outF {
			wo := w[o*in:][:in]
			var acc float64
			for i, v := range xb {
				acc += float64(v) * float64(wo[i])
			}
			acc += float64(bias[o])
			out[b*outF+o] = float32(acc)
		}
	}
}
