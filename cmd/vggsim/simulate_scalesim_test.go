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
	if code := runScaleSim(cfg, topo, dir, "scalesim", &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, f := range []string{"COMPUTE_REPORT.csv", "DETAILED_ACCESS_REPORT.csv", "BANDWIDTH_REPORT.csv"} {
		got, err := os.ReadFile(filepath.Join(dir, f))
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
		if code := runScaleSim(cfg, topo, "", format, &out, &errb); code != exitOK {
			t.Fatalf("%s: exit %d: %s", format, code, errb.String())
		}
		if !strings.Contains(out.String(), "343") { // layer 0's total cycles
			t.Errorf("%s output lacks layer 0's cycles:\n%s", format, out.String())
		}
	}
	out.Reset()
	runScaleSim(cfg, topo, "", "json", &out, &errb)
	var doc struct {
		TotalCycles int64 `json:"total_cycles"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || doc.TotalCycles != 343+845+91 {
		t.Errorf("json: %v, total %d", err, doc.TotalCycles)
	}
}

// TestSimulateScaleSimGolden runs `vggsim simulate --scalesim-config CFG --topology CSV
// --format scalesim -o DIR` through the CLI entry point for each of the four SCALE-Sim v2.0.2
// reference runs (tiny 8×8 os/ws/is and RepVGG-A0 on 32×32 os) and checks that the three
// report files are byte-identical to SCALE-Sim's.
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
			got, err := os.ReadFile(filepath.Join(dir, f))
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
	if code := runScaleSim(bad, topo, "", "table", &out, &errb); code != exitUsage {
		t.Errorf("bad config: exit %d", code)
	}
	msg := errb.String()
	for _, want := range []string{"bad.cfg:2:15", "ArrayHeight", "bad.cfg:3:12", "Dataflow", "ArrayWidth: missing"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if code := runScaleSim(bad, topo, "", "yaml", &out, &errb); code != exitUsage {
		t.Errorf("bad format: exit %d", code)
	}
	if code := runScaleSim(bad, topo, "", "scalesim", &out, &errb); code != exitUsage {
		t.Errorf("scalesim without -o: exit %d", code)
	}
}
