package sim

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vggsim/vggsim/hw"
)

// packedFolds writes out, independently of the mapping's fold tree, the schedule a packed
// mapping stands for: packs of p groups, their column blocks, their K-blocks, each fold holding
// one block per group of the pack on the array's diagonal.
func packedFolds(df hw.Dataflow, R, C, M, N, K, G, p int) []StepFold {
	rp, cp := R/p, C/p
	sc, T := N, M // ws: columns N, stream M; is: columns M, stream N
	if df == hw.InputStationary {
		sc, T = M, N
	}
	var fs []StepFold
	for g0 := 0; g0 < G; g0 += p {
		for c0 := 0; c0 < sc; c0 += cp {
			for k0 := 0; k0 < K; k0 += rp {
				f := StepFold{T: T}
				for q := range min(p, G-g0) {
					grp := g0 + q
					pc := StepPiece{Row0: grp*K + k0, Rows: min(rp, K-k0), Cols: min(cp, sc-c0),
						ArrRow: q * rp, ArrCol: q * cp}
					if df == hw.WeightStationary {
						pc.Col0 = grp*N + c0
					} else {
						pc.Col0, pc.X0 = c0, grp*N
					}
					f.Pieces = append(f.Pieces, pc)
				}
				fs = append(fs, f)
			}
		}
	}
	return fs
}

// TestPackedGroupsMatchStepper runs every packed-group mapping of random grouped GEMMs on the
// cycle-stepped engine with the schedule written out independently (packedFolds): the product
// equals every group's GEMM, MACs are G·M·N·K (the off-diagonal zeros are not multiplied),
// the fold tree expands to the same fold extents, and the native engine's pipelined and
// serial cycles equal the stepped ones.
func TestPackedGroupsMatchStepper(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	checked := map[hw.Dataflow]int{}
	for it := range 300 {
		df := []hw.Dataflow{hw.WeightStationary, hw.InputStationary}[it%2]
		R, C := 2+r.IntN(5), 2+r.IntN(5)
		M, N, K, G := 1+r.IntN(6), 1+r.IntN(4), 1+r.IntN(6), 2+r.IntN(3)
		cfg := &hw.Config{Name: "t", Rows: R, Cols: C, Dataflow: df, ClockHz: 1e9, DataBits: 8, AccBits: 8,
			IfmapSRAMBytes: 1 << 16, FilterSRAMBytes: 1 << 16, OfmapSRAMBytes: int64(2 + r.IntN(64)), Energy: hw.FlatEnergy()}
		l := Layer{Kind: Conv, InH: 1, InW: M, InC: K * G, OutC: N * G, KH: 1, KW: 1, Groups: G}
		a := randMatrix(r, M*K*G)
		b := make([]float64, K*G*N*G) // block diagonal
		for g := range G {
			for k := range K {
				for n := range N {
					b[(g*K+k)*N*G+g*N+n] = float64(1 + r.IntN(9))
				}
			}
		}
		want := refGEMM(M, N*G, K*G, a, b)
		for _, serial := range []bool{false, true} {
			m := newModel(cfg, Options{Serial: serial})
			m.keepTree = true
			for _, mp := range m.mappings(&l, M, N, K, G) {
				if mp.pack == 0 {
					continue
				}
				checked[df]++
				name := fmt.Sprintf("it %d %s %dx%d M%d N%d K%d G%d packed=%d serial=%v", it, df, R, C, M, N, K, G, mp.pack, serial)
				folds := packedFolds(df, R, C, M, N, K, G, mp.pack)
				var shapes [][3]int
				flatten(m, mp.tree, &shapes)
				if len(shapes) != len(folds) {
					t.Fatalf("%s: tree has %d folds, the schedule %d", name, len(shapes), len(folds))
				}
				for i, f := range folds {
					ru, cu := 0, 0
					for _, pc := range f.Pieces {
						ru, cu = max(ru, pc.ArrRow+pc.Rows), max(cu, pc.ArrCol+pc.Cols)
					}
					if shapes[i] != [3]int{f.T, ru, cu} {
						t.Fatalf("%s: fold %d is %v in the tree, T %d extent %dx%d in the schedule", name, i, shapes[i], f.T, ru, cu)
					}
				}
				mode := StepPipelined
				if serial {
					mode = StepSerial
				}
				st, err := StepScheduleGrouped(df, R, C, M, N, K, G, a, b, folds, mode)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				for i := range want {
					if st.Out[i] != want[i] {
						t.Fatalf("%s: out[%d] = %v, want %v", name, i, st.Out[i], want[i])
					}
				}
				cycles, _, nf := m.pipeline(mp.tree, mp.treeGroups(int64(G)))
				if cycles != st.Cycles || st.MACs != int64(G*M*N*K) || nf != int64(len(folds)) {
					t.Errorf("%s: native %d cycles %d folds, stepped %d cycles %d MACs", name, cycles, nf, st.Cycles, st.MACs)
				}
			}
		}
	}
	for _, df := range []hw.Dataflow{hw.WeightStationary, hw.InputStationary} {
		if checked[df] < 40 {
			t.Errorf("%s: only %d packed mappings checked", df, checked[df])
		}
	}
}

// TestStepPiecesRejected checks that the stepper refuses schedules that are not packings: a
// piece pairing one group's rows with another group's columns, two pieces on one array row,
// pieces in os, and a schedule that leaves a group's element uncovered.
func TestStepPiecesRejected(t *testing.T) {
	M, N, K, G := 2, 2, 2, 2
	a, b := make([]float64, M*K*G), make([]float64, K*G*N*G)
	ws := hw.WeightStationary
	good := packedFolds(ws, 4, 4, M, N, K, G, 2)
	if _, err := StepScheduleGrouped(ws, 4, 4, M, N, K, G, a, b, good, StepPipelined); err != nil {
		t.Fatalf("the packed schedule: %v", err)
	}
	for name, folds := range map[string][]StepFold{
		"cross-group": {{T: M, Pieces: []StepPiece{{Row0: 0, Rows: 2, Col0: 2, Cols: 2}}}},
		"shared row": {{T: M, Pieces: []StepPiece{{Row0: 0, Rows: 2, Col0: 0, Cols: 2},
			{Row0: 2, Rows: 2, Col0: 2, Cols: 2, ArrRow: 1, ArrCol: 2}}}},
		"uncovered": {{T: M, Pieces: good[0].Pieces[:1]}},
	} {
		if _, err := StepScheduleGrouped(ws, 4, 4, M, N, K, G, a, b, folds, StepPipelined); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	os := []StepFold{{T: K, Pieces: []StepPiece{{Rows: 1, Cols: 1}}}}
	if _, err := StepScheduleGrouped(hw.OutputStationary, 4, 4, M, N, K, G, a, b, os, StepPipelined); err == nil {
		t.Error("pieces in os: accepted")
	}
}
