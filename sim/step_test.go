package sim

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vggsim/vggsim/hw"
)

var dataflows = hw.Dataflows()

// stepShapes is the grid of GEMMs checked against the cycle-stepped engine, degenerate ones
// included: 1×1×1, M < R, K = 1, N = 1, exact multiples and one-past multiples of the array.
func stepShapes() [][3]int {
	var s [][3]int
	for _, m := range []int{1, 2, 3, 4, 5, 9} {
		for _, n := range []int{1, 3, 4, 7} {
			for _, k := range []int{1, 2, 4, 5, 8} {
				s = append(s, [3]int{m, n, k})
			}
		}
	}
	return s
}

var stepArrays = [][2]int{{1, 1}, {1, 3}, {3, 1}, {2, 2}, {4, 4}, {3, 5}}

func randMatrix(r *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(r.IntN(7) - 3)
	}
	return x
}

func refGEMM(M, N, K int, a, b []float64) []float64 {
	out := make([]float64, M*N)
	for m := range M {
		for n := range N {
			var s float64
			for k := range K {
				s += a[m*K+k] * b[k*N+n]
			}
			out[m*N+n] = s
		}
	}
	return out
}

// TestStepMatchesAnalytical runs the cycle-stepped engine over the shape grid, all three
// dataflows and several arrays, in both schedules, and checks: the product is right, MACs are
// exactly M·N·K, serial cycles − 1 equal SCALE-Sim's formula and the compatibility engine,
// pipelined cycles equal FoldGrid.PipelinedCycles and the fold starts FoldGrid.FoldStart.
func TestStepMatchesAnalytical(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, arr := range stepArrays {
		R, C := arr[0], arr[1]
		for _, df := range dataflows {
			for _, sh := range stepShapes() {
				M, N, K := sh[0], sh[1], sh[2]
				name := fmt.Sprintf("%s/%dx%d/M%dN%dK%d", df, R, C, M, N, K)
				a, b := randMatrix(r, M*K), randMatrix(r, K*N)
				want := refGEMM(M, N, K, a, b)
				g := MapGEMM(df, R, C, M, N, K)
				for _, mode := range []StepMode{StepSerial, StepPipelined} {
					res, err := StepGEMM(df, R, C, M, N, K, a, b, mode)
					if err != nil {
						t.Fatalf("%s %s: %v", name, mode, err)
					}
					if res.MACs != int64(M*N*K) {
						t.Errorf("%s %s: %d MACs, want %d", name, mode, res.MACs, M*N*K)
					}
					for i := range want {
						if res.Out[i] != want[i] {
							t.Fatalf("%s %s: out[%d] = %v, want %v", name, mode, i, res.Out[i], want[i])
						}
					}
					switch mode {
					case StepSerial:
						if res.Cycles-1 != g.ScaleSimCycles() {
							t.Errorf("%s serial: stepped %d−1, SCALE-Sim formula %d", name, res.Cycles, g.ScaleSimCycles())
						}
						cfg := ScaleSimConfig{ArrayHeight: R, ArrayWidth: C, IfmapSRAMkB: 1, FilterSRAMkB: 1,
							OfmapSRAMkB: 1, Dataflow: df}
						rep, err := SimulateScaleSimLayer(cfg, 0, GEMMLayer("g", M, N, K))
						if err != nil {
							t.Fatal(err)
						}
						if rep.TotalCycles != res.Cycles-1 || rep.MACs != res.MACs {
							t.Errorf("%s serial: compat engine %d cycles %d MACs, stepped %d−1, %d", name, rep.TotalCycles, rep.MACs, res.Cycles, res.MACs)
						}
					case StepPipelined:
						if res.Cycles != g.PipelinedCycles() {
							t.Errorf("%s pipelined: stepped %d, analytical %d", name, res.Cycles, g.PipelinedCycles())
						}
						for f, st := range res.FoldStarts {
							if st != g.FoldStart(int64(f)) {
								t.Errorf("%s pipelined: fold %d starts at %d, analytical %d", name, f, st, g.FoldStart(int64(f)))
								break
							}
						}
					}
				}
			}
		}
	}
}
