package scalesim

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/internal/testref"
	"github.com/vggsim/vggsim/sim"
)

// refDir holds SCALE-Sim v2.0.2's own outputs (testdata/scalesim/README.md says how they were produced).
var refDir = testref.ScaleSim()

var goldenRuns = []struct {
	run, topology string
}{
	{"tiny_8x8_os_calc", "tiny3.csv"},
	{"tiny_8x8_ws_calc", "tiny3.csv"},
	{"tiny_8x8_is_calc", "tiny3.csv"},
	{"a0_32x32_os_64kB_calc", "repvgg_a0.csv"},
	{"a0first5_16x32_os_32kB_calc", "a0_first5.csv"},
	{"a0first5_16x32_ws_32kB_calc", "a0_first5.csv"},
	{"a0first5_16x32_is_32kB_calc", "a0_first5.csv"},
	{"a0first5_16x32_os_32kB_user_bw4", "a0_first5.csv"},
	{"a0first5_16x32_ws_32kB_user_bw4", "a0_first5.csv"},
	{"a0first5_16x32_is_32kB_user_bw4", "a0_first5.csv"},
}

func loadRun(t testing.TB, run, topo string) (*sim.ScaleSimConfig, []sim.ScaleSimLayer) {
	t.Helper()
	if _, err := os.Stat(refDir); err != nil {
		t.Fatalf("reference data missing from testdata/scalesim: %v", err)
	}
	cfg, err := ReadConfig(filepath.Join(refDir, "configs", run+".cfg"))
	if err != nil {
		t.Fatal(err)
	}
	layers, err := ReadTopology(filepath.Join(refDir, "topologies", topo))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, layers
}

// TestGoldenReports checks every column of every report of every reference run, as strings.
func TestGoldenReports(t *testing.T) {
	for _, g := range goldenRuns {
		t.Run(g.run, func(t *testing.T) {
			cfg, layers := loadRun(t, g.run, g.topology)
			reps, err := sim.SimulateScaleSim(*cfg, layers)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range reportWriters {
				want, err := os.ReadFile(filepath.Join(refDir, "runs", g.run, w.file))
				if err != nil {
					t.Fatal(err)
				}
				var got bytes.Buffer
				if err := w.write(&got, reps); err != nil {
					t.Fatal(err)
				}
				compareCSV(t, w.file, got.String(), string(want))
			}
		})
	}
}

func compareCSV(t *testing.T, file, got, want string) {
	t.Helper()
	gl := strings.Split(got, "\n")
	wl := strings.Split(want, "\n")
	if len(gl) != len(wl) {
		t.Errorf("%s: %d lines, want %d", file, len(gl), len(wl))
	}
	header := strings.Split(wl[0], ", ")
	bad := 0
	for i := range min(len(gl), len(wl)) {
		if gl[i] == wl[i] {
			continue
		}
		gf, wf := strings.Split(gl[i], ", "), strings.Split(wl[i], ", ")
		for j := range max(len(gf), len(wf)) {
			var g, w, h string
			if j < len(gf) {
				g = gf[j]
			}
			if j < len(wf) {
				w = wf[j]
			}
			if j < len(header) {
				h = header[j]
			}
			if g != w {
				bad++
				if bad <= 40 {
					t.Errorf("%s line %d column %q: got %s, want %s", file, i+1, h, g, w)
				}
			}
		}
	}
	if bad > 40 {
		t.Errorf("%s: %d mismatching fields in all", file, bad)
	}
}

// TestWriteReports checks the files land in the directory with the reference bytes.
func TestWriteReports(t *testing.T) {
	cfg, layers := loadRun(t, "tiny_8x8_os_calc", "tiny3.csv")
	reps, err := sim.SimulateScaleSim(*cfg, layers)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	if err := WriteReports(dir, reps); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ComputeReportFile, DetailedReportFile, BandwidthReportFile} {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(refDir, "runs", "tiny_8x8_os_calc", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the reference", f)
		}
	}
}
