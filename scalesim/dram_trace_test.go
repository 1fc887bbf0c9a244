package scalesim

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vggsim/vggsim/sim"
)

// dramRow is one row of a DRAM trace file.
type dramRow struct {
	cycle int64
	vals  []int64
}

// readDRAMTrace parses a DRAM trace: every value must print as Python prints an integral
// float ("12.0"), every row must have the same width.
func readDRAMTrace(t *testing.T, path string) []dramRow {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var rows []dramRow
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ",")
		v := make([]int64, len(fields))
		for i, s := range fields {
			n, ok := strings.CutSuffix(s, ".0")
			x, err := strconv.ParseInt(n, 10, 64)
			if !ok || err != nil {
				t.Fatalf("%s row %d: %q is not an integral float as NumPy prints it", path, len(rows), s)
			}
			v[i] = x
		}
		if len(rows) > 0 && len(v) != len(rows[0].vals)+1 {
			t.Fatalf("%s row %d: %d columns, want %d", path, len(rows), len(v), len(rows[0].vals)+1)
		}
		rows = append(rows, dramRow{v[0], v[1:]})
	}
	require.NoError(t, sc.Err())
	return rows
}

// sramRows reads an SRAM trace: the served cycle and the addresses of every demand row.
func sramRows(t *testing.T, path string) []dramRow {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var rows []dramRow
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ",")
		v := make([]int64, len(fields))
		for i, s := range fields {
			v[i], err = strconv.ParseInt(s, 10, 64)
			require.NoError(t, err)
		}
		rows = append(rows, dramRow{v[0], v[1:]})
	}
	return rows
}

// epochs is the read buffer's DRAM traffic by docs/simulator.md §3.3, computed from the SRAM
// trace (served cycle = demand cycle + 1): the distinct addresses of each epoch of 50·items,
// the demand cycle of each epoch transition, and the first demand cycle with an address.
func epochs(sram []dramRow, items int64) (sets [][]int64, trans []int64, first int64) {
	seen := map[int64]bool{}
	var cur []int64
	first = -1
	for _, r := range sram {
		for _, a := range r.vals {
			if a == -1 {
				continue
			}
			if first < 0 {
				first = r.cycle - 1
			}
			if seen[a] {
				continue
			}
			seen[a] = true
			cur = append(cur, a)
			if int64(len(cur)) == 50*items {
				sets, trans = append(sets, cur), append(trans, r.cycle-1)
				cur, seen = nil, map[int64]bool{}
			}
		}
	}
	if len(cur) > 0 || len(sets) == 0 {
		sets = append(sets, cur)
	}
	return sets, trans, first
}

// TestDRAMTraces checks the DRAM traces against closed forms, the SRAM traces and the reports
// of the same run (there are no SCALE-Sim DRAM traces among the reference runs to compare
// with byte for byte; the order of a prefetch's addresses, CPython's set order, is checked by
// sim.TestPySetOrder):
//
//   - read traces (CALC): one row per cycle from the reported DRAM start to the reported stop,
//     consecutive; ⌈50·items/10⌉ rows for the first epoch (or ⌈⌈d/items⌉·items/10⌉ when
//     no epoch completes), then the cycles up to the last transition; the addresses of the
//     rows are, epoch by epoch, exactly the distinct addresses the SRAM trace demands in that
//     epoch, so their number is the reported DRAM read count; rows are addresses, then -1,
//     then 1 where a prefetch is narrower than the widest;
//   - the ofmap trace: one row per drained line, ArrayWidth (CALC) or Bandwidth (USER) words
//     wide, the first and last rows at the reported start and stop cycles, every word written
//     as often as the SRAM trace writes it, and the reported count the words plus the -1
//     padding of lines drained before the last of their drain (at most one per row);
//   - read traces (USER): see checkUserReadTrace.
func TestDRAMTraces(t *testing.T) {
	for _, run := range []string{"tiny_8x8_os_calc", "tiny_8x8_ws_calc", "tiny_8x8_is_calc"} {
		base, layers := loadRun(t, run, "tiny3.csv")
		base.IfmapOffset = 1000 // no address is 0 or 1 (1 pads narrow prefetches)
		small := *base          // epochs of 500 words, so that prefetches happen during the layer
		small.IfmapSRAMkB, small.FilterSRAMkB, small.OfmapSRAMkB = 1, 1, 1
		small.RunName += "_1kB"
		user := small
		user.InterfaceBandwidth, user.Bandwidth = "USER", []int{2}
		user.RunName = run + "_user"
		for _, cfg := range []*sim.ScaleSimConfig{base, &small, &user} {
			checkDRAMTraces(t, cfg, layers)
		}
		// Fetch matrices shorter than two prefetches past the first: later prefetches wrap
		// around to the first lines (a copy, not a view, in read_buffer.py).
		wrap := user
		wrap.RunName += "_wrap"
		checkDRAMTraces(t, &wrap, []sim.ScaleSimLayer{sim.GEMMLayer("a", 40, 8, 16), sim.GEMMLayer("b", 60, 16, 12),
			sim.GEMMLayer("c", 30, 8, 30), sim.GEMMLayer("d", 100, 4, 8)})
	}
}

func checkDRAMTraces(t *testing.T, cfg *sim.ScaleSimConfig, layers []sim.ScaleSimLayer) {
	reps, err := sim.SimulateScaleSim(*cfg, layers)
	require.NoError(t, err)
	dir := RunDir(t.TempDir(), cfg)
	require.NoError(t, WriteRun(dir, cfg, layers, reps))
	userMode := strings.EqualFold(cfg.InterfaceBandwidth, "USER")
	transitions := 0
	for i, r := range reps {
		ld := filepath.Join(dir, "layer"+strconv.Itoa(i))
		name := cfg.RunName + "/layer" + strconv.Itoa(i)
		reads := []struct {
			file, sram string
			acc        sim.ScaleSimAccess
			kB         int
		}{{IfmapDRAMTraceFile, IfmapSRAMTraceFile, r.IfmapDRAM, cfg.IfmapSRAMkB}, {FilterDRAMTraceFile, FilterSRAMTraceFile, r.FilterDRAM, cfg.FilterSRAMkB}}
		for _, rd := range reads {
			path := filepath.Join(ld, rd.file)
			if userMode {
				checkUserReadTrace(t, name+" "+rd.file, readDRAMTrace(t, path), rd.acc, cfg.Bandwidth[0], rd.kB,
					readTrace(t, filepath.Join(ld, rd.sram)).count)
				continue
			}
			rows := readDRAMTrace(t, path)
			require.NotEmpty(t, rows, "%s %s", name, rd.file)
			items := int64(rd.kB) * 1024 / 100
			sets, trans, first := epochs(sramRows(t, filepath.Join(ld, rd.sram)), items)
			transitions += len(trans)
			var want int64
			if len(trans) == 0 {
				want = (ceilDiv(int64(len(sets[0])), items)*items + 9) / 10
			} else {
				want = (50*items+9)/10 + trans[len(trans)-1] - (first - 2)
			}
			assert.Equal(t, want, int64(len(rows)), "%s %s: rows", name, rd.file)
			assert.Equal(t, rd.acc.StartCycle, rows[0].cycle, "%s %s: first row vs reported DRAM start", name, rd.file)
			assert.Equal(t, rd.acc.StopCycle, rows[len(rows)-1].cycle, "%s %s: last row vs reported DRAM stop", name, rd.file)
			var got []int64
			for k, row := range rows {
				if k > 0 && row.cycle != rows[k-1].cycle+1 {
					t.Errorf("%s %s row %d: cycle %d after %d", name, rd.file, k, row.cycle, rows[k-1].cycle)
				}
				// addresses, then -1, then 1 (a narrower prefetch)
				j := 0
				for j < len(row.vals) && row.vals[j] >= 2 {
					got = append(got, row.vals[j])
					j++
				}
				for j < len(row.vals) && row.vals[j] == -1 {
					j++
				}
				for j < len(row.vals) && row.vals[j] == 1 {
					j++
				}
				if j != len(row.vals) {
					t.Fatalf("%s %s row %d: %v is not addresses, -1s, 1s", name, rd.file, k, row.vals)
				}
			}
			var all []int64
			for _, s := range sets {
				all = append(all, s...)
			}
			assert.Equal(t, rd.acc.Count, int64(len(got)), "%s %s: addresses vs reported DRAM reads", name, rd.file)
			// Epoch by epoch the same addresses (each prefetch in CPython's set order).
			slices.Sort(all)
			slices.Sort(got)
			assert.True(t, slices.Equal(all, got), "%s %s: the trace's addresses are not the epochs' distinct demands", name, rd.file)
		}
		// The ofmap.
		rows := readDRAMTrace(t, filepath.Join(ld, OfmapDRAMTraceFile))
		require.NotEmpty(t, rows)
		width := cfg.ArrayWidth
		if userMode {
			width = cfg.Bandwidth[0]
		}
		assert.Len(t, rows[0].vals, width, "%s ofmap: line width", name)
		assert.Equal(t, r.OfmapDRAM.StartCycle, rows[0].cycle, "%s ofmap: first row vs reported start", name)
		assert.Equal(t, r.OfmapDRAM.StopCycle, rows[len(rows)-1].cycle, "%s ofmap: last row vs reported stop", name)
		words := map[int64]int{}
		var n, padded int64
		for _, row := range rows {
			pad := false
			for _, a := range row.vals {
				if a == -1 {
					pad = true
					continue
				}
				words[a]++
				n++
			}
			if pad {
				padded++
			}
		}
		sram := readTrace(t, filepath.Join(ld, OfmapSRAMTraceFile))
		assert.Equal(t, sram.count, words, "%s ofmap: words drained vs words written", name)
		assert.LessOrEqual(t, n, r.OfmapDRAM.Count, "%s ofmap: count", name)
		assert.LessOrEqual(t, r.OfmapDRAM.Count-n, padded*int64(width), "%s ofmap: count beyond the padding", name)
	}
	if !userMode && cfg.IfmapSRAMkB == 1 {
		assert.Greater(t, transitions, 3, "%s: too few epoch transitions to test", cfg.RunName)
	}
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// TestDRAMTracesOnReferenceRuns generates the DRAM traces of every layer of the CALC and USER
// reference runs (a0first5 on 16×32 with 32 kB SRAMs: many epochs or prefetches per layer) in
// memory and checks the first and last row cycles of the three traces and the number of read
// addresses (USER: rows times the bandwidth) against the reports, which TestGoldenReports
// proves equal to SCALE-Sim's own. The ifmap offset is
// moved to 1000 so that no address is 1, the padding value (offsets change no count).
func TestDRAMTracesOnReferenceRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("reference runs")
	}
	for _, run := range []string{"a0first5_16x32_os_32kB_calc", "a0first5_16x32_ws_32kB_calc", "a0first5_16x32_is_32kB_calc",
		"a0first5_16x32_os_32kB_user_bw4", "a0first5_16x32_ws_32kB_user_bw4", "a0first5_16x32_is_32kB_user_bw4"} {
		cfg, layers := loadRun(t, run, "a0_first5.csv")
		cfg.IfmapOffset = 1000
		user := strings.HasSuffix(run, "_user_bw4")
		for i, l := range layers {
			type stats struct {
				rows, addrs  int64
				first, last  int64
				seenAnything bool
				width        int64
			}
			var st [3]stats
			rep, err := sim.TraceScaleSimDRAM(*cfg, i, l, func(op sim.ScaleSimOperand, cycle int64, addrs []int64) error {
				s := &st[op]
				if !s.seenAnything {
					s.seenAnything, s.first = true, cycle
				}
				s.rows++
				s.last = cycle
				s.width = int64(len(addrs))
				for _, a := range addrs {
					if a >= 2 {
						s.addrs++
					}
				}
				return nil
			})
			require.NoError(t, err)
			name := run + "/layer" + strconv.Itoa(i)
			for op, acc := range []sim.ScaleSimAccess{rep.IfmapDRAM, rep.FilterDRAM, rep.OfmapDRAM} {
				s := st[op]
				assert.Equal(t, acc.StartCycle, s.first, "%s op %d: first row", name, op)
				assert.Equal(t, acc.StopCycle, s.last, "%s op %d: last row", name, op)
				if op < 2 && user {
					// read_buffer.py counts whole lines (checkUserReadTrace checks the cycles).
					assert.Equal(t, int64(cfg.Bandwidth[0]), s.width, "%s op %d: line width", name, op)
					assert.Equal(t, acc.Count, s.rows*s.width, "%s op %d: rows·bandwidth vs DRAM reads", name, op)
				} else if op < 2 {
					assert.Equal(t, acc.Count, s.addrs, "%s op %d: addresses vs DRAM reads", name, op)
					assert.Equal(t, acc.StopCycle-acc.StartCycle+1, s.rows, "%s op %d: one row per cycle", name, op)
				} else {
					assert.LessOrEqual(t, s.addrs, acc.Count, "%s ofmap words", name)
				}
			}
		}
	}
}

// checkUserReadTrace checks a USER-mode read DRAM trace (read_buffer.py, docs/simulator.md
// §3.9) against closed forms and the report: rows Bandwidth words wide; n0 = ⌈active/b⌉
// rows (fewer when the whole fetch matrix is shorter) at cycles -n0 … -1, then k prefetches of
// n = ⌈prefetch/b⌉ rows, each at consecutive cycles starting two after the previous one's
// last row; the first row at the reported DRAM start, the last at the reported stop, and
// rows·b the reported DRAM reads (SCALE-Sim counts whole lines); every address one the SRAM
// trace demands.
func checkUserReadTrace(t *testing.T, name string, rows []dramRow, acc sim.ScaleSimAccess, b, kB int, demanded map[int64]int) {
	t.Helper()
	require.NotEmpty(t, rows, name)
	total := int64(kB) * 1024
	active := (total + 1) / 2
	n0, n := ceilDiv(active, int64(b)), ceilDiv(total-active, int64(b))
	assert.Equal(t, acc.StartCycle, rows[0].cycle, "%s: first row vs reported DRAM start", name)
	assert.Equal(t, acc.StopCycle, rows[len(rows)-1].cycle, "%s: last row vs reported DRAM stop", name)
	assert.Equal(t, acc.Count, int64(len(rows))*int64(b), "%s: rows·bandwidth vs reported DRAM reads", name)
	first := -rows[0].cycle
	assert.LessOrEqual(t, first, n0, "%s: first prefetch", name)
	for i, r := range rows {
		require.Len(t, r.vals, b, "%s row %d", name, i)
		var want int64
		switch j := int64(i); {
		case j < first:
			want = j - first
		default:
			k, m := (j-first)/n, (j-first)%n // prefetch k+1, its row m
			want = k*(n+1) + 1 + m
		}
		if r.cycle != want {
			t.Fatalf("%s row %d: cycle %d, want %d", name, i, r.cycle, want)
		}
		for _, a := range r.vals {
			if a != -1 && demanded[a] == 0 {
				t.Fatalf("%s row %d: address %d is never demanded", name, i, a)
			}
		}
	}
}

// TestUserDRAMTracesMatchSCALESim reproduces the configuration of SCALE-Sim v2's own USER-mode
// golden traces (test/general/golden_trace_user_{os,ws,is}) and compares the IFMAP and FILTER
// DRAM traces with the excerpts of them in testdata/scalesim_v2_user_dram.txt: the same
// length in bytes and the same bytes at every excerpt (the first rows, the first row of a
// later prefetch with its nulled words, the last rows). The repository's index holds the whole
// is traces and the filter traces of os and ws; the excerpts were copied from them.
func TestUserDRAMTracesMatchSCALESim(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "scalesim_v2_user_dram.txt"))
	require.NoError(t, err)
	type excerpt struct {
		df, file      string
		total, offset int
		text          string
	}
	var ex []excerpt
	for _, rec := range strings.Split(string(data), "\n== ")[1:] {
		head, text, _ := strings.Cut(rec, "\n")
		f := strings.Fields(head)
		require.Len(t, f, 4, "header %q", head)
		total, err1 := strconv.Atoi(f[2])
		offset, err2 := strconv.Atoi(f[3])
		require.NoError(t, errors.Join(err1, err2))
		ex = append(ex, excerpt{f[0], f[1], total, offset, text + "\n"})
	}
	// The last record keeps the file's final newline; the others lose theirs to the split.
	ex[len(ex)-1].text = strings.TrimSuffix(ex[len(ex)-1].text, "\n")
	require.Len(t, ex, 8)
	files := map[string][]byte{}
	for _, df := range []string{"os", "ws", "is"} {
		cfg, err := ParseConfig("scale.cfg", []byte(`[general]
run_name = golden_user_`+df+`
[architecture_presets]
ArrayHeight: 32
ArrayWidth: 32
IfmapSramSzkB: 64
FilterSramSzkB: 64
OfmapSramSzkB: 64
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth : 10
Dataflow : `+df+`
MemoryBanks: 1
[run_presets]
InterfaceBandwidth: USER
`))
		require.NoError(t, err)
		layers := []sim.ScaleSimLayer{sim.GEMMLayer("Test 1", 256, 128, 256)}
		reps, err := sim.SimulateScaleSim(*cfg, layers)
		require.NoError(t, err)
		dir := RunDir(t.TempDir(), cfg)
		require.NoError(t, WriteRun(dir, cfg, layers, reps))
		for _, f := range []string{IfmapDRAMTraceFile, FilterDRAMTraceFile} {
			files[df+" "+f], err = os.ReadFile(filepath.Join(dir, "layer0", f))
			require.NoError(t, err)
		}
	}
	for _, e := range ex {
		got := files[e.df+" "+e.file]
		require.Equal(t, e.total, len(got), "%s %s: bytes", e.df, e.file)
		require.LessOrEqual(t, e.offset+len(e.text), len(got))
		assert.Equal(t, e.text, string(got[e.offset:e.offset+len(e.text)]), "%s %s at byte %d", e.df, e.file, e.offset)
	}
}
