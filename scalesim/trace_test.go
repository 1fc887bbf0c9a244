package scalesim

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/sim"
)

// traceStats summarizes one trace file: rows, addresses, the cycles of the first and last rows
// with an address, the last row's cycle, and how often each address occurs.
type traceStats struct {
	rows, addrs          int64
	first, last, lastRow int64
	seen                 bool
	width                int
	count                map[int64]int
}

func readTrace(t *testing.T, path string) traceStats {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st := traceStats{count: map[int64]int{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ",")
		v := make([]int64, len(fields))
		for i, s := range fields {
			if v[i], err = strconv.ParseInt(s, 10, 64); err != nil {
				t.Fatalf("%s: %q: %v", path, sc.Text(), err)
			}
		}
		if st.rows == 0 {
			st.width = len(v) - 1
		} else if len(v)-1 != st.width {
			t.Fatalf("%s row %d: %d ports, want %d", path, st.rows, len(v)-1, st.width)
		}
		st.rows++
		st.lastRow = v[0]
		any := false
		for _, a := range v[1:] {
			if a != -1 {
				any = true
				st.addrs++
				st.count[a]++
			}
		}
		if any {
			if !st.seen {
				st.seen, st.first = true, v[0]
			}
			st.last = v[0]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestWriteTraces checks the SRAM traces against the reports of the same run: one row per
// demand cycle, the first and last rows with an address at the reported SRAM start and stop
// cycles, the filter reads equal to the reported count, the ifmap reads at most it (SCALE-Sim
// counts padding positions), every ofmap word written the reported number of times, and the
// last ofmap row at Total Cycles — in CALC mode and in a USER run that stalls.
func TestWriteTraces(t *testing.T) {
	cases := []struct{ run, topo string }{
		{"tiny_8x8_os_calc", "tiny3.csv"},
		{"tiny_8x8_ws_calc", "tiny3.csv"},
		{"tiny_8x8_is_calc", "tiny3.csv"},
	}
	for _, c := range cases {
		cfg, layers := loadRun(t, c.run, c.topo)
		checkTraces(t, cfg, layers)
		user := *cfg
		user.InterfaceBandwidth, user.Bandwidth = "USER", []int{2}
		user.IfmapSRAMkB, user.FilterSRAMkB, user.OfmapSRAMkB = 1, 1, 1
		user.RunName += "_user"
		reps := checkTraces(t, &user, layers)
		if reps[1].StallCycles == 0 {
			t.Errorf("%s USER: layer 1 does not stall; the case exercises nothing", c.run)
		}
	}
	big := sim.ScaleSimConfig{RunName: "big", ArrayHeight: 2, ArrayWidth: 2, IfmapSRAMkB: 1,
		FilterSRAMkB: 1, OfmapSRAMkB: 1, Dataflow: hw.OutputStationary}
	layer := sim.ScaleSimLayer{Name: "l", IfmapH: 1000, IfmapW: 1000, FilterH: 3, FilterW: 3, Channels: 64,
		NumFilters: 64, StrideH: 1, StrideW: 1}
	if err := WriteTraces(t.TempDir(), &big, []sim.ScaleSimLayer{layer}); err == nil || !strings.Contains(err.Error(), "traces are for small runs") {
		t.Errorf("a huge layer: %v", err)
	}
}

func checkTraces(t *testing.T, cfg *sim.ScaleSimConfig, layers []sim.ScaleSimLayer) []sim.ScaleSimReport {
	t.Helper()
	reps, err := sim.SimulateScaleSim(*cfg, layers)
	if err != nil {
		t.Fatal(err)
	}
	dir := RunDir(t.TempDir(), cfg)
	if err := WriteTraces(dir, cfg, layers); err != nil {
		t.Fatal(err)
	}
	for i, r := range reps {
		ld := filepath.Join(dir, "layer"+strconv.Itoa(i))
		ifm := readTrace(t, filepath.Join(ld, IfmapSRAMTraceFile))
		fil := readTrace(t, filepath.Join(ld, FilterSRAMTraceFile))
		ofm := readTrace(t, filepath.Join(ld, OfmapSRAMTraceFile))
		name := cfg.RunName + "/layer" + strconv.Itoa(i)
		g := sim.MapGEMM(cfg.Dataflow, cfg.ArrayHeight, cfg.ArrayWidth, int(r.M), int(r.N), int(r.K))
		rows := g.Folds() * g.ScaleSimFoldCycles()
		for _, tr := range []struct {
			what string
			st   traceStats
			acc  sim.ScaleSimAccess
		}{{"ifmap", ifm, r.IfmapSRAM}, {"filter", fil, r.FilterSRAM}, {"ofmap", ofm, r.OfmapSRAM}} {
			if tr.st.rows != rows {
				t.Errorf("%s %s: %d rows, want %d", name, tr.what, tr.st.rows, rows)
			}
			if tr.st.first != tr.acc.StartCycle || tr.st.last != tr.acc.StopCycle {
				t.Errorf("%s %s: addresses from cycle %d to %d, report says %d to %d", name, tr.what,
					tr.st.first, tr.st.last, tr.acc.StartCycle, tr.acc.StopCycle)
			}
		}
		if fil.addrs != r.FilterSRAM.Count {
			t.Errorf("%s: %d filter reads, report says %d", name, fil.addrs, r.FilterSRAM.Count)
		}
		if ifm.addrs > r.IfmapSRAM.Count || ifm.addrs == 0 {
			t.Errorf("%s: %d ifmap reads, report says %d with padding", name, ifm.addrs, r.IfmapSRAM.Count)
		}
		if ofm.lastRow != r.TotalCycles {
			t.Errorf("%s: last ofmap row at %d, total cycles %d", name, ofm.lastRow, r.TotalCycles)
		}
		perWord := 1 // os writes each output once; ws and is once per K fold
		if cfg.Dataflow != hw.OutputStationary {
			perWord = g.RowFolds
		}
		if int64(len(ofm.count)) != r.M*r.N {
			t.Errorf("%s: %d distinct ofmap words, want %d", name, len(ofm.count), r.M*r.N)
		}
		for a, n := range ofm.count {
			if a < cfg.OfmapOffset || a >= cfg.OfmapOffset+r.M*r.N || n != perWord {
				t.Errorf("%s: ofmap word %d written %d times, want %d in [%d, %d)", name, a, n, perWord,
					cfg.OfmapOffset, cfg.OfmapOffset+r.M*r.N)
				break
			}
		}
	}
	return reps
}

// TestWriteRunAtomic: a run's reports and traces appear together or not at all. A second run
// that cannot write one trace file (its path is a directory) leaves the first run's reports
// and SRAM and DRAM traces byte for byte, and removes the layer directory it created.
func TestWriteRunAtomic(t *testing.T) {
	cfg, layers := loadRun(t, "tiny_8x8_os_calc", "tiny3.csv")
	reps, err := sim.SimulateScaleSim(*cfg, layers)
	if err != nil {
		t.Fatal(err)
	}
	dir := RunDir(t.TempDir(), cfg)
	if err := WriteRun(dir, cfg, layers[:1], reps[:1]); err != nil {
		t.Fatal(err)
	}
	before := map[string][]byte{}
	for _, f := range []string{ComputeReportFile, filepath.Join("layer0", IfmapSRAMTraceFile), filepath.Join("layer0", OfmapSRAMTraceFile),
		filepath.Join("layer0", FilterDRAMTraceFile), filepath.Join("layer0", OfmapDRAMTraceFile)} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: %v (%d bytes)", f, err, len(b))
		}
		before[f] = b
	}
	// The second run has two layers; layer 2's ofmap trace cannot be written.
	blocked := filepath.Join(dir, "layer2", OfmapSRAMTraceFile)
	if err := os.MkdirAll(blocked, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteRun(dir, cfg, layers, reps); err == nil {
		t.Fatal("WriteRun succeeded with a directory where a trace goes")
	}
	for f, b := range before {
		if got, err := os.ReadFile(filepath.Join(dir, f)); err != nil || string(got) != string(b) {
			t.Errorf("%s changed after a failed run (%v)", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "layer1")); !os.IsNotExist(err) {
		t.Errorf("layer1/ left behind by the failed run: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "layer0"))
	if len(entries) != 6 {
		t.Errorf("layer0/ holds %d entries after the failed run, want the 6 traces (no temporary files)", len(entries))
	}
}
