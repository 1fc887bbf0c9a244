package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSimulateDefault(t *testing.T) {
	out, errs, code := vggsim(t)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"RepVGG-A0 (deploy form, 224x224, batch 1) on edge-32", "stage3.13.rbr_reparam", "latency", "energy", "MACs 1361451008"} {
		if !strings.Contains(out, want) {
			t.Errorf("default simulate output lacks %q:\n%s", want, out)
		}
	}
}

func simJSON(t *testing.T, args ...string) simulation {
	t.Helper()
	out, errs, code := vggsim(t, append([]string{"simulate", "--format", "json"}, args...)...)
	if code != exitOK {
		t.Fatalf("%v: exit %d: %s", args, code, errs)
	}
	var s simulation
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSimulateJSON(t *testing.T) {
	s := simJSON(t, "RepVGG-B1g4", "--hw", "tpu-v1", "--batch", "8")
	r := s.Result
	if s.Model != "RepVGG-B1g4" || r.Batch != 8 || r.Hardware != "tpu-v1" {
		t.Errorf("setup: %+v", s)
	}
	// MACs are exact: batch × the deploy-form count of the zoo.
	if want := int64(8 * 7306870784); r.Total.MACs != want {
		t.Errorf("MACs = %d, want %d", r.Total.MACs, want)
	}
	if r.Total.Cycles*int64(256*256) < r.Total.MACs || r.Utilization > 1 || r.LatencyS <= 0 || r.EnergyJ <= 0 {
		t.Errorf("implausible totals: %+v", r.Total)
	}

	// Train form on the same chip: more MACs (the 1x1 branches), more traffic, more time.
	tr := simJSON(t, "RepVGG-A0", "--form", "train")
	de := simJSON(t, "RepVGG-A0")
	if tr.Result.Total.MACs != 1512581120 || de.Result.Total.MACs != 1361451008 {
		t.Errorf("MACs train %d deploy %d", tr.Result.Total.MACs, de.Result.Total.MACs)
	}
	if tr.Result.Total.Cycles <= de.Result.Total.Cycles || tr.DRAMBytesPerImage <= de.DRAMBytesPerImage {
		t.Errorf("train form not costlier: cycles %d vs %d, DRAM %g vs %g", tr.Result.Total.Cycles, de.Result.Total.Cycles, tr.DRAMBytesPerImage, de.DRAMBytesPerImage)
	}
}

func TestSimulateCSV(t *testing.T) {
	out, errs, code := vggsim(t, "simulate", "a0", "--format", "csv", "--input-size", "64")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != strings.Join(simCSVHeader, ",") || !strings.HasPrefix(lines[len(lines)-1], "total,") || len(lines) != 1+24+1 {
		t.Errorf("csv:\n%s", out)
	}
}

func TestSimulateBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "chip.yaml")
	os.WriteFile(bad, []byte("name: x\narray: {rows: 0, cols: 32}\ndataflow: xs\nclock: 1GHz\ndata_bits: 8\nsram: {ifmap: 64KB/s, filter: 64KiB, ofmap: 64KiB}\ndram: {bandwidth: 16GB/s}\n"), 0o644)
	_, errs, code := vggsim(t, "simulate", "--hw", bad)
	if code != exitUsage {
		t.Errorf("exit %d, want 2", code)
	}
	for _, want := range []string{"chip.yaml:2:", "array.rows", "chip.yaml:3:", "dataflow", "chip.yaml:6:", "sram.ifmap"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	for _, args := range [][]string{{"simulate", "--hw", "tpu-v9"}, {"simulate", "ResNet-1"}, {"simulate", "--batch", "0"}, {"simulate", "--format", "xml"}} {
		if _, errs, code := vggsim(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errs)
		}
	}
}
