package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func memRunCmd(t *testing.T, f func([]string, io.Writer, io.Writer) int, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := f(args, &out, &errb)
	return out.String(), errb.String(), code
}

var memoryCmd, fusionCmd = cmdMemory, cmdFusion

func TestMemoryJSON(t *testing.T) {
	out, errs, code := memRunCmd(t, memoryCmd, "RepVGG-A0", "ResNet-18", "--input", "64", "--hw", "edge-32", "--batch", "2", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4 (two models × two forms)", len(rows))
	}
	for _, r := range rows {
		for _, k := range []string{"model", "form", "peak_activation_bytes", "arena_bytes", "weights_bytes",
			"min_sram_bytes_no_spill", "dram_bytes_per_image", "cycles", "energy_j"} {
			if _, ok := r[k]; !ok {
				t.Errorf("%v %v: no %q", r["model"], r["form"], k)
			}
		}
		if r["batch"].(float64) != 2 || r["bits"].(float64) != 8 || r["input"] != "64x64" {
			t.Errorf("row %v", r)
		}
	}
	if rows[0]["model"] != "RepVGG-A0" || rows[0]["form"] != "train" || rows[1]["form"] != "deploy" {
		t.Errorf("order: %v %v, %v", rows[0]["model"], rows[0]["form"], rows[1]["form"])
	}
	for _, k := range []string{"peak_activation_bytes", "arena_bytes", "weights_bytes", "min_sram_bytes_no_spill", "dram_bytes_per_image", "cycles", "energy_j"} {
		if rows[0][k].(float64) < rows[1][k].(float64) {
			t.Errorf("RepVGG-A0: train %s %v < deploy %v", k, rows[0][k], rows[1][k])
		}
	}
}

func TestMemoryTable(t *testing.T) {
	out, errs, code := memRunCmd(t, memoryCmd, "a0", "--input", "64", "--hw", "edge-32")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"RepVGG-A0, 64x64, 8-bit, batch 1", "train/deploy", "resident peak (paper Fig. 3)", "2.00x", "on edge-32", "energy per image"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestMemorySweepAndPlots(t *testing.T) {
	dir := t.TempDir()
	live, traffic := filepath.Join(dir, "live.svg"), filepath.Join(dir, "traffic.png")
	out, errs, code := memRunCmd(t, memoryCmd, "RepVGG-A0", "--input", "64", "--sweep", "--format", "csv", "--plot", live, "--plot-traffic", traffic)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) < 5 || recs[0][2] != "sram_bytes" {
		t.Fatalf("csv %v: %q", err, out)
	}
	if b, err := os.ReadFile(live); err != nil || !bytes.Contains(b, []byte("<svg")) {
		t.Errorf("live plot: %v", err)
	}
	if b, err := os.ReadFile(traffic); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("traffic plot: %v", err)
	}
}

func TestMemoryBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"RepVGG-Z9"},
		{"A0", "--format", "xml"},
		{"A0", "--batch", "0"},
		{"A0", "--bits", "99"},
		{"A0", "--input", "0x3"},
		{"A0", "--hw", "no-such-hw"},
		{"A0", "--sram", "1KiB"},
		{"A0", "--hw", "edge-32", "--sram", "lots"},
		{"A0", "--plot", "x.bmp"},
		{"A0", "--plot-traffic", "x"},
		{},
		{"A0", "--frobnicate"},
	} {
		_, errs, code := memRunCmd(t, memoryCmd, append([]string{"--input-size", "64"}, args...)...)
		if code != exitUsage || errs == "" {
			t.Errorf("%v: exit %d (%q), want %d with a message", args, code, errs, exitUsage)
		}
	}
}

func TestFusionJSON(t *testing.T) {
	out, errs, code := memRunCmd(t, fusionCmd, "RepVGG-A0", "--input", "64", "--hw", "edge-32", "--depth", "1..3", "--sram", "64KiB", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res []struct {
		Model string
		Plans []struct {
			Plan      string
			Depth     int
			DRAMBytes int64 `json:"dram_bytes"`
			Fits      bool
			Cycles    int64
			EnergyJ   float64 `json:"energy_j"`
		}
		Chains []struct{ Layers []any }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(res) != 1 || len(res[0].Plans) != 5 || len(res[0].Chains) != 1 || len(res[0].Chains[0].Layers) != 22 {
		t.Fatalf("got %+v", res)
	}
	p := res[0].Plans
	if p[0].Plan != "depth-1" || p[3].Plan != "best" || p[4].Plan != "cache" || p[0].Cycles <= 0 || p[0].EnergyJ <= 0 {
		t.Errorf("plans %+v", p)
	}
	if p[3].DRAMBytes > p[0].DRAMBytes {
		t.Errorf("best %d > layer by layer %d", p[3].DRAMBytes, p[0].DRAMBytes)
	}

	// Depth 1 is layer-by-layer execution: memory's activation traffic with no SRAM plus
	// the weights once, for the deploy form.
	mout, errs, code := memRunCmd(t, memoryCmd, "RepVGG-A0", "--input", "64", "--format", "json")
	if code != exitOK {
		t.Fatalf("memory: exit %d: %s", code, errs)
	}
	var rows []struct {
		Form    string
		Stream  int64 `json:"stream_dram_bytes"`
		Weights int64 `json:"weights_bytes"`
	}
	if err := json.Unmarshal([]byte(mout), &rows); err != nil {
		t.Fatal(err)
	}
	if d := rows[1]; d.Form != "deploy" || p[0].DRAMBytes != d.Stream+d.Weights {
		t.Errorf("depth 1 = %d, memory's layer by layer = %d + %d", p[0].DRAMBytes, d.Stream, d.Weights)
	}
}

func TestFusionTableAndPlot(t *testing.T) {
	plot := filepath.Join(t.TempDir(), "fusion.svg")
	out, errs, code := memRunCmd(t, fusionCmd, "RepVGG-A0", "--input", "64", "--depth", "2..4", "--plot", plot)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"on edge-32", "depth 1 (layer by layer)", "depth 4", "best mix (DP)", "activation cache", "best plan:"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(plot); err != nil || !bytes.Contains(b, []byte("<svg")) {
		t.Errorf("plot: %v", err)
	}
}

func TestFusionBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"RepVGG-Z9"},
		{"A0", "--depth", "0..3"},
		{"A0", "--depth", "4..2"},
		{"A0", "--depth", "99"},
		{"A0", "--form", "both"},
		{"A0", "--objective", "speed"},
		{"A0", "--hw", ""},
		{"A0", "--sram", "-5"},
		{"A0", "--plot", "fusion.txt"},
	} {
		_, errs, code := memRunCmd(t, fusionCmd, append([]string{"--input", "64"}, args...)...)
		if code != exitUsage || errs == "" {
			t.Errorf("%v: exit %d (%q), want %d with a message", args, code, errs, exitUsage)
		}
	}
}
