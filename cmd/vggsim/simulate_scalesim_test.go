package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/internal/testref"
)

var scaleSimRef = testref.ScaleSim()

func TestRunScaleSim(t *testing.T) {
	if _, err := os.Stat(scaleSimRef); err != nil {
		t.Fatal("reference data missing from testdata/scalesim")
	}
	cfg := filepath.Join(scaleSimRef, "configs", "tiny_8x8_ws_calc.cfg")
	topo := filepath.Join(scaleSimRef, "topologies", "tiny3.csv")
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := runScaleSim(cfg, topo, dir, "scalesim", false, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, f := range []string{"COMPUTE_REPORT.csv", "DETAILED_ACCESS_REPORT.csv", "BANDWIDTH_REPORT.csv"} {
		got, err := os.ReadFile(filepath.Join(dir, "tiny_8x8_ws_calc", f))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(scaleSimRef, "runs", "tiny_8x8_ws_calc", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from SCALE-Sim's", f)
		}
	}

	for _, format := range []string{"table", "json", "csv", ""} {
		out.Reset()
		errb.Reset()
		if code := runScaleSim(cfg, topo, "", format, false, &out, &errb); code != exitOK {
			t.Fatalf("%s: exit %d: %s", format, code, errb.String())
		}
		if !strings.Contains(out.String(), "343") { // layer 0's total cycles
			t.Errorf("%s output lacks layer 0's cycles:\n%s", format, out.String())
		}
	}
	out.Reset()
	runScaleSim(cfg, topo, "", "json", false, &out, &errb)
	var doc struct {
		TotalCycles int64 `json:"total_cycles"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || doc.TotalCycles != 343+845+91 {
		t.Errorf("json: %v, total %d", err, doc.TotalCycles)
	}
}

// TestSimulateScaleSimGolden runs `vggsim simulate --scalesim-config CFG --topology CSV
// --format scalesim -o DIR` through the CLI entry point for every SCALE-Sim v2.0.2 reference
// run in testdata/scalesim (tiny 8×8 os/ws/is, RepVGG-A0 on 32×32 os, A0's first five layers
// on 16×32 os/ws/is in CALC and USER mode) and checks that the three report files, written to
// DIR/<run_name>/, are byte-identical to SCALE-Sim's.
func TestSimulateScaleSimGolden(t *testing.T) {
	if _, err := os.Stat(scaleSimRef); err != nil {
		t.Fatal("reference data missing from testdata/scalesim")
	}
	for _, run := range []struct{ name, topo string }{
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
	} {
		dir := filepath.Join(t.TempDir(), "reports")
		out, errs, code := vggsim(t, "simulate", "--scalesim-config", filepath.Join(scaleSimRef, "configs", run.name+".cfg"),
			"--topology", filepath.Join(scaleSimRef, "topologies", run.topo), "--format", "scalesim", "-o", dir)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", run.name, code, errs)
		}
		if !strings.Contains(out, "wrote COMPUTE_REPORT.csv") {
			t.Errorf("%s: stdout %q", run.name, out)
		}
		for _, f := range []string{"COMPUTE_REPORT.csv", "DETAILED_ACCESS_REPORT.csv", "BANDWIDTH_REPORT.csv"} {
			// SCALE-Sim's layout: DIR/<run_name>/ (each reference .cfg's run_name is its file name).
			got, err := os.ReadFile(filepath.Join(dir, run.name, f))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(scaleSimRef, "runs", run.name, f))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s/%s differs from SCALE-Sim's:\n%s\nwant\n%s", run.name, f, got, want)
			}
		}
	}
}

func TestRunScaleSimBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.cfg")
	os.WriteFile(bad, []byte("[architecture_presets]\nArrayHeight = 0\nDataflow = xs\n"), 0o644)
	topo := filepath.Join(dir, "t.csv")
	os.WriteFile(topo, []byte("Layer, M, N, K,\ng, 4, 4, 4,\n"), 0o644)
	var out, errb bytes.Buffer
	if code := runScaleSim(bad, topo, "", "table", false, &out, &errb); code != exitUsage {
		t.Errorf("bad config: exit %d", code)
	}
	msg := errb.String()
	for _, want := range []string{"bad.cfg:2:15", "ArrayHeight", "bad.cfg:3:12", "Dataflow", "ArrayWidth: missing"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if code := runScaleSim(bad, topo, "", "yaml", false, &out, &errb); code != exitUsage {
		t.Errorf("bad format: exit %d", code)
	}
	if code := runScaleSim(bad, topo, "", "scalesim", false, &out, &errb); code != exitUsage {
		t.Errorf("scalesim without -o: exit %d", code)
	}
}

// TestSimulateScaleSimTraces checks SCALE-Sim's output layout with --traces: reports in
// DIR/<run_name>/, one layer<i>/ directory of SRAM traces per layer, and the usage errors.
func TestSimulateScaleSimTraces(t *testing.T) {
	cfg := filepath.Join(scaleSimRef, "configs", "tiny_8x8_is_calc.cfg")
	topo := filepath.Join(scaleSimRef, "topologies", "tiny3.csv")
	dir := t.TempDir()
	if _, errs, code := vggsim(t, "simulate", "--scalesim-config", cfg, "--topology", topo, "-o", dir, "--traces"); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, f := range []string{"COMPUTE_REPORT.csv", "layer0/IFMAP_SRAM_TRACE.csv", "layer2/OFMAP_SRAM_TRACE.csv"} {
		if _, err := os.Stat(filepath.Join(dir, "tiny_8x8_is_calc", f)); err != nil {
			t.Error(err)
		}
	}
	first, err := os.ReadFile(filepath.Join(dir, "tiny_8x8_is_calc", "layer0", "FILTER_SRAM_TRACE.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// is: the first fold's filter rows start with R null rows, served one cycle late.
	if line, _, _ := strings.Cut(string(first), "\n"); line != "1,-1,-1,-1,-1,-1,-1,-1,-1" {
		t.Errorf("first filter trace row %q", line)
	}
	for _, args := range [][]string{
		{"--scalesim-config", cfg, "--topology", topo, "--traces"},
		{"RepVGG-A0", "--traces"},
	} {
		if _, errs, code := vggsim(t, append([]string{"simulate"}, args...)...); code != exitUsage || !strings.Contains(errs, "--traces") {
			t.Errorf("%v: exit %d, %s", args, code, errs)
		}
	}
}
