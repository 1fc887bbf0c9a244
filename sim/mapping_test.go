package sim

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vggsim/vggsim/hw"
)

// scheduleFolds writes out, fold by fold, the loop nest a mapping stands for, independently
// of its compressed fold tree: the schedule the cycle-stepped engine runs.
func scheduleFolds(mp *mapping, g FoldGrid) []StepFold {
	R, C := g.R, g.C
	var fs []StepFold
	add := func(r0, rows, c0, cols, x0, t int) {
		fs = append(fs, StepFold{Row0: r0, Rows: rows, Col0: c0, Cols: cols, X0: x0, T: t})
	}
	span := func(n, step int) int { return (n + step - 1) / step }
	rowFold := func(r0, end int, f func(r0, ru int)) { // row folds of [r0, end)
		for r := r0; r < end; r += R {
			f(r, min(R, end-r))
		}
	}
	switch mp.loop {
	case "os-n":
		for fc := range g.ColFolds {
			rowFold(0, g.Sr, func(r0, ru int) { add(r0, ru, fc*C, min(C, g.Sc-fc*C), 0, g.T) })
		}
	case "os-m":
		rowFold(0, g.Sr, func(r0, ru int) {
			for fc := range g.ColFolds {
				add(r0, ru, fc*C, min(C, g.Sc-fc*C), 0, g.T)
			}
		})
	case "os-nt": // N tiles, row folds, the tile's column folds
		for t := range span(g.Sc, mp.nt) {
			end := min(g.Sc, (t+1)*mp.nt)
			rowFold(0, g.Sr, func(r0, ru int) {
				for c := t * mp.nt; c < end; c += C {
					add(r0, ru, c, min(C, end-c), 0, g.T)
				}
			})
		}
	case "os-mt": // M tiles, column folds, the tile's row folds
		for t := range span(g.Sr, mp.mt) {
			end := min(g.Sr, (t+1)*mp.mt)
			for fc := range g.ColFolds {
				rowFold(t*mp.mt, end, func(r0, ru int) { add(r0, ru, fc*C, min(C, g.Sc-fc*C), 0, g.T) })
			}
		}
	case "os-k":
		for fc := range g.ColFolds {
			for t := range span(g.Sr, mp.mt) {
				end := min(g.Sr, (t+1)*mp.mt)
				for k := range span(g.T, mp.kc) {
					rowFold(t*mp.mt, end, func(r0, ru int) {
						add(r0, ru, fc*C, min(C, g.Sc-fc*C), k*mp.kc, min(mp.kc, g.T-k*mp.kc))
					})
				}
			}
		}
	case "col":
		for fc := range g.ColFolds {
			for t := range span(g.T, mp.st) {
				rowFold(0, g.Sr, func(r0, ru int) {
					add(r0, ru, fc*C, min(C, g.Sc-fc*C), t*mp.st, min(mp.st, g.T-t*mp.st))
				})
			}
		}
	case "tile":
		for t := range span(g.T, mp.st) {
			for fc := range g.ColFolds {
				rowFold(0, g.Sr, func(r0, ru int) {
					add(r0, ru, fc*C, min(C, g.Sc-fc*C), t*mp.st, min(mp.st, g.T-t*mp.st))
				})
			}
		}
	default:
		panic("unknown loop " + mp.loop)
	}
	return fs
}

// flatten expands a kept fold tree (model.keepTree) into its fold shapes (T, rows used,
// columns used).
func flatten(m *model, n fnode, out *[][3]int) {
	var walk func(id int32)
	walk = func(id int32) {
		t := m.tree[id-1]
		if t.nk == 0 {
			for range t.n {
				*out = append(*out, [3]int{int(t.T), int(t.ru), int(t.cu)})
			}
			return
		}
		for range t.rep {
			for _, k := range m.kids[t.k0 : t.k0+t.nk] {
				walk(k)
			}
		}
	}
	walk(n.id)
}

// TestMappingsMatchStepper runs every mapping of the mapspace — both loop orders, streamed
// tiles and spills for ws/is, the K-chunked order for os — on the cycle-stepped engine, with
// the fold schedule written out independently from the mapping's loop nest, and checks: the
// product is exact, MACs are M·N·K, the compressed fold tree expands to the same fold shapes,
// and the native engine's pipelined and serial cycle counts equal the stepped ones. Buffers
// are made small at random so that tiles, chunks and partial M tiles all occur; the shapes
// include the degenerate ones (1×1×1, K = 1, N = 1, M < R).
func TestMappingsMatchStepper(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	seen := map[string]int{}
	for it := range 900 {
		df := dataflows[it%3]
		R, C := 1+r.IntN(4), 1+r.IntN(4)
		M, N, K := 1+r.IntN(9), 1+r.IntN(9), 1+r.IntN(9)
		if it%10 == 0 {
			M, N, K = 1, 1, 1
		}
		cfg := &hw.Config{Name: "t", Rows: R, Cols: C, Dataflow: df, ClockHz: 1e9, DataBits: 8, AccBits: 8,
			IfmapSRAMBytes: int64(2 + r.IntN(4*K*max(M, C)+4)), FilterSRAMBytes: int64(2 + r.IntN(4*K*max(N, C)+4)),
			OfmapSRAMBytes: int64(2 + r.IntN(4*max(M, N)*C+4)), Energy: hw.FlatEnergy()}
		l := Layer{Kind: GEMM, Rows: M, InC: K, OutC: N}
		g := MapGEMM(df, R, C, M, N, K)
		a, b := randMatrix(r, M*K), randMatrix(r, K*N)
		want := refGEMM(M, N, K, a, b)
		for _, serial := range []bool{false, true} {
			m := newModel(cfg, Options{Serial: serial})
			m.keepTree = true
			for _, mp := range m.mappings(&l, M, N, K, 1) {
				name := fmt.Sprintf("it %d %s %dx%d M%d N%d K%d %s (%s) serial=%v", it, df, R, C, M, N, K, mp.loop, mp.order, serial)
				seen[string(df)+" "+mp.loop+fmt.Sprint(mp.spill)]++
				folds := scheduleFolds(&mp, g)
				var shapes [][3]int
				flatten(m, mp.tree, &shapes)
				if len(shapes) != len(folds) {
					t.Fatalf("%s: tree has %d folds, the loop nest %d", name, len(shapes), len(folds))
				}
				for i, f := range folds {
					if shapes[i] != [3]int{f.T, f.Rows, f.Cols} {
						t.Fatalf("%s: fold %d is %v in the tree, %+v in the loop nest", name, i, shapes[i], f)
					}
				}
				mode := StepPipelined
				if serial {
					mode = StepSerial
				}
				st, err := StepSchedule(df, R, C, M, N, K, a, b, folds, mode)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				for i := range want {
					if st.Out[i] != want[i] {
						t.Fatalf("%s: out[%d] = %v, want %v", name, i, st.Out[i], want[i])
					}
				}
				cycles, _, nf := m.pipeline(mp.tree, 1)
				if cycles != st.Cycles || st.MACs != int64(M*N*K) || nf != int64(len(folds)) {
					t.Errorf("%s: native %d cycles %d folds, stepped %d cycles %d MACs", name, cycles, nf, st.Cycles, st.MACs)
				}
			}
		}
	}
	// Every kind of mapping was exercised.
	for _, k := range []string{"os os-nfalse", "os os-mfalse", "os os-kfalse", "os os-ntfalse", "os os-mtfalse", "ws colfalse", "ws tilefalse",
		"ws coltrue", "ws tiletrue", "is colfalse", "is tilefalse", "is coltrue", "is tiletrue"} {
		if seen[k] < 20 {
			t.Errorf("mapping %q checked only %d times", k, seen[k])
		}
	}
}
