package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/memory"
	"github.com/vggsim/vggsim/models"
)

// memoryKeys are the documented keys of `vggsim memory --format json` (docs/memory.md §5);
// memoryHWKeys are added with --hw.
var (
	memoryKeys = []string{"model", "form", "input", "bits", "batch", "peak_activation_bytes", "resident_peak_bytes",
		"arena_bytes", "total_activation_bytes", "weights_bytes", "min_sram_bytes_no_spill", "stream_dram_bytes",
		"compulsory_dram_bytes", "peak_node", "steps", "buffers"}
	memoryHWKeys = []string{"hardware", "activation_sram_bytes", "spilled_buffers", "dram_bytes_per_image",
		"layer_by_layer_dram_bytes_per_image", "activation_dram_bytes", "weight_dram_bytes", "cycles", "stall_cycles",
		"latency_s", "energy_j", "energy_per_image_j"}
)

func sortedKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func jsonRows(t *testing.T, out string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return rows
}

// TestIssueMemoryJSON runs the issue's command exactly as written and checks the key names
// exactly, the row order, and every value against the memory package's API.
func TestIssueMemoryJSON(t *testing.T) {
	rows := jsonRows(t, runLine(t, "memory RepVGG-B0 ResNet-34 --hw edge-32 --batch 4 --format json"))
	want := slices.Sorted(slices.Values(append(slices.Clone(memoryKeys), memoryHWKeys...)))
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4 (two models × two forms)", len(rows))
	}
	cfg, err := hw.Resolve("edge-32")
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"RepVGG-B0", "ResNet-34"} {
		train, err := models.Build(name, models.Options{})
		if err != nil {
			t.Fatal(err)
		}
		deploy, err := models.BuildDeploy(name, models.Options{})
		if err != nil {
			t.Fatal(err)
		}
		c, err := memory.Compare(train, deploy, memory.Options{Bits: 8, Batch: 4})
		if err != nil {
			t.Fatal(err)
		}
		for k, r := range []*memory.Report{c.Train, c.Deploy} {
			row := rows[2*i+k]
			if got := sortedKeys(row); !slices.Equal(got, want) {
				t.Errorf("%s %s: keys\n%v\nwant\n%v", name, r.Form, got, want)
			}
			h, err := r.Simulate(cfg, -1)
			if err != nil {
				t.Fatal(err)
			}
			lbl, err := r.Simulate(cfg, 0)
			if err != nil {
				t.Fatal(err)
			}
			for key, v := range map[string]any{
				"model": name, "form": r.Form, "input": "[224 224]", "bits": 8.0, "batch": 4.0, "hardware": "edge-32",
				"peak_activation_bytes": float64(r.PeakBytes), "arena_bytes": float64(r.ArenaBytes),
				"weights_bytes": float64(r.WeightsBytes), "min_sram_bytes_no_spill": float64(r.MinSRAMNoSpill),
				"activation_sram_bytes":               float64(h.ActivationSRAMBytes), // the searched budget
				"dram_bytes_per_image":                float64(h.DRAMBytes) / 4,
				"layer_by_layer_dram_bytes_per_image": float64(lbl.DRAMBytes) / 4,
				"cycles":                              float64(h.Cycles), "energy_j": h.EnergyJ,
			} {
				got := row[key]
				if key == "input" {
					got = fmt.Sprint(got)
				}
				if got != v {
					t.Errorf("%s %s: %s = %v, want %v", name, r.Form, key, row[key], v)
				}
			}
			if r.PeakBytes > r.ArenaBytes || r.ArenaBytes > r.TotalBytes {
				t.Errorf("%s %s: peak %d, arena %d, total %d", name, r.Form, r.PeakBytes, r.ArenaBytes, r.TotalBytes)
			}
		}
	}
	// RepVGG-B0: the train form needs more of everything than the deploy form.
	for _, k := range []string{"peak_activation_bytes", "arena_bytes", "weights_bytes", "min_sram_bytes_no_spill",
		"dram_bytes_per_image", "layer_by_layer_dram_bytes_per_image", "cycles", "energy_j"} {
		if rows[0][k].(float64) <= rows[1][k].(float64) {
			t.Errorf("RepVGG-B0: train %s %v ≤ deploy %v", k, rows[0][k], rows[1][k])
		}
	}
}

// TestMemoryJSONWithoutHW: without --hw only the hardware-free keys appear.
func TestMemoryJSONWithoutHW(t *testing.T) {
	rows := jsonRows(t, runLine(t, "memory A0 --input-size 64 --format json"))
	want := slices.Sorted(slices.Values(slices.Clone(memoryKeys)))
	for _, r := range rows {
		if got := sortedKeys(r); !slices.Equal(got, want) {
			t.Errorf("keys %v, want %v", got, want)
		}
	}
}

func TestMemoryTable(t *testing.T) {
	out, errs, code := runCmd(t, cmdMemory, "a0", "--input-size", "64", "--hw", "edge-32")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"RepVGG-A0, 64x64, 8-bit, batch 1", "train/deploy", "resident peak (paper Fig. 3)", "2.00x",
		"simulated on edge-32", "DRAM/image, no act. SRAM (depth 1)", "with 128.00 KiB activation SRAM", "energy per image"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// TestIssuePlotCommands runs the issue's plot commands exactly as written (in a scratch
// directory) and their PNG variants, and checks the files.
func TestIssuePlotCommands(t *testing.T) {
	t.Chdir(t.TempDir())
	out := runLine(t, "fusion RepVGG-A0 --hw edge-32 --depth 1..6 --plot fusion.svg")
	for _, want := range []string{"RepVGG-A0 deploy, 224x224, 8-bit, batch 1, on edge-32", "depth 1 (layer by layer)", "depth 6",
		"best mix of depths", "depth 1 + activation cache", "best plan"} {
		if !strings.Contains(out, want) {
			t.Errorf("fusion table lacks %q:\n%s", want, out)
		}
	}
	runLine(t, "memory RepVGG-A0 --plot live.svg")
	runLine(t, "memory RepVGG-A0 --plot live.png --plot-traffic traffic.png")
	runLine(t, "memory RepVGG-A0 ResNet-34 --hw edge-32 --plot-traffic traffic-hw.pdf")
	runLine(t, "fusion RepVGG-A0 --hw edge-32 --depth 1..6 --plot fusion.png")
	for _, f := range []string{"fusion.svg", "live.svg"} {
		if b, err := os.ReadFile(f); err != nil || !bytes.Contains(b, []byte("<svg")) || !bytes.Contains(b, []byte("MiB")) {
			t.Errorf("%s: %v", f, err)
		}
	}
	if b, err := os.ReadFile("traffic-hw.pdf"); err != nil || !bytes.HasPrefix(b, []byte("%PDF")) {
		t.Errorf("traffic-hw.pdf: %v", err)
	}
	for _, f := range []string{"live.png", "traffic.png", "fusion.png"} {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		// 9 inches at 160 dpi, plus the legend below the plot.
		if b := img.Bounds(); b.Dx() != 1440 || b.Dy() <= 720 {
			t.Errorf("%s: %v, want 1440 pixels wide and more than 720 high", f, b)
		}
	}
}

// TestFusionAgreesWithMemory: the two commands print the same layer-by-layer DRAM for the
// same chip. Fusion's depth 1 is memory's DRAM with no activation SRAM, and fusion's cache
// plan is memory's DRAM at the same activation SRAM, to the byte, including at 224×224,
// where the simulator re-reads inputs that do not fit its SRAMs and so moves more than the
// model.
func TestFusionAgreesWithMemory(t *testing.T) {
	for _, c := range []struct{ fusion, memory string }{
		{"", ""}, // the same default activation SRAM
		{"--batch 2 --sram 96KiB", "--batch 2 --sram 96KiB"},
		{"--input-size 96 --bits 16", "--input-size 96 --bits 16"},
	} {
		extra := c.fusion // for messages
		fj := runLine(t, "fusion RepVGG-A0 --hw edge-32 --format json "+c.fusion)
		var fr []struct {
			Batch     int   `json:"batch"`
			SRAMBytes int64 `json:"sram_bytes"`
			Plans     []struct {
				Plan           string  `json:"plan"`
				DRAMPerImage   float64 `json:"dram_bytes_per_image"`
				ModelDRAMBytes int64   `json:"model_dram_bytes"`
				Cycles         int64   `json:"cycles"`
			} `json:"plans"`
		}
		if err := json.Unmarshal([]byte(fj), &fr); err != nil {
			t.Fatal(err)
		}
		mrows := jsonRows(t, runLine(t, "memory RepVGG-A0 --hw edge-32 --format json "+c.memory))
		d := mrows[1]
		if d["form"] != "deploy" {
			t.Fatalf("row 1 is %v", d["form"])
		}
		plans := fr[0].Plans
		byName := map[string]int{}
		for i, p := range plans {
			byName[p.Plan] = i
		}
		lbl, cache := plans[byName["depth-1"]], plans[byName["cache"]]
		if lbl.DRAMPerImage != d["layer_by_layer_dram_bytes_per_image"] || cache.DRAMPerImage != d["dram_bytes_per_image"] || float64(cache.Cycles) != d["cycles"] {
			t.Errorf("%q: fusion depth 1 %v, cache %v (%d cycles); memory no SRAM %v, at %v: %v (%v cycles)", extra, lbl.DRAMPerImage, cache.DRAMPerImage,
				cache.Cycles, d["layer_by_layer_dram_bytes_per_image"], d["activation_sram_bytes"], d["dram_bytes_per_image"], d["cycles"])
		}
		if float64(fr[0].SRAMBytes) != d["activation_sram_bytes"] {
			t.Errorf("%q: budgets %d and %v", extra, fr[0].SRAMBytes, d["activation_sram_bytes"])
		}
		// The model column: memory's activation stream plus the weights.
		if want := d["stream_dram_bytes"].(float64) + d["weights_bytes"].(float64); float64(lbl.ModelDRAMBytes) != want {
			t.Errorf("%q: model depth 1 %d, memory %v", extra, lbl.ModelDRAMBytes, want)
		}
		// The simulator adds tiling re-reads to the model, never removes bytes.
		if lbl.DRAMPerImage*float64(fr[0].Batch) < float64(lbl.ModelDRAMBytes) {
			t.Errorf("%q: simulator %v per image below the model %d", extra, lbl.DRAMPerImage, lbl.ModelDRAMBytes)
		}
	}
}

func TestMemorySweepAndPlots(t *testing.T) {
	dir := t.TempDir()
	live, traffic := filepath.Join(dir, "live.svg"), filepath.Join(dir, "traffic.png")
	out, errs, code := runCmd(t, cmdMemory, "RepVGG-A0", "--input-size", "64", "--sweep", "--format", "csv", "--plot", live, "--plot-traffic", traffic)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) < 5 || recs[0][2] != "sram_bytes" {
		t.Fatalf("csv %v: %q", err, out)
	}
	// Activation traffic never grows with the SRAM, per model and form.
	prev := map[string]float64{}
	for _, r := range recs[1:] {
		key := r[0] + r[1]
		v, err := strconv.ParseFloat(r[3], 64)
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := prev[key]; ok && v > p {
			t.Errorf("%s: traffic grows to %v at %s bytes", key, v, r[2])
		}
		prev[key] = v
	}
	if b, err := os.ReadFile(live); err != nil || !bytes.Contains(b, []byte("<svg")) {
		t.Errorf("live plot: %v", err)
	}
	if b, err := os.ReadFile(traffic); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("traffic plot: %v", err)
	}
}

func TestMemoryCSV(t *testing.T) {
	out := runLine(t, "memory A0 --input-size 64 --hw edge-32 --format csv")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("%v: %q", err, out)
	}
	for _, k := range []string{"peak_activation_bytes", "arena_bytes", "weights_bytes", "min_sram_bytes_no_spill",
		"dram_bytes_per_image", "cycles", "energy_j", "layer_by_layer_dram_bytes_per_image"} {
		i := slices.Index(recs[0], k)
		if i < 0 || recs[1][i] == "" || recs[2][i] == "" {
			t.Errorf("csv column %q missing or empty", k)
		}
	}
}

func TestMemoryBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"RepVGG-Z9"},
		{"A0", "--format", "xml"},
		{"A0", "--batch", "0"},
		{"A0", "--bits", "99"},
		{"A0", "--input-size", "0x3"},
		{"A0", "--hw", "no-such-hw"},
		{"A0", "--sram", "1KiB"},
		{"A0", "--hw", "edge-32", "--sram", "lots"},
		{"A0", "--plot", "x.bmp"},
		{"A0", "--plot-traffic", "x"},
		{},
		{"A0", "--frobnicate"},
	} {
		_, errs, code := runCmd(t, cmdMemory, append([]string{"--input-size", "64"}, args...)...)
		if code != exitUsage || errs == "" {
			t.Errorf("%v: exit %d (%q), want %d with a message", args, code, errs, exitUsage)
		}
	}
}

func TestFusionJSON(t *testing.T) {
	out, errs, code := runCmd(t, cmdFusion, "RepVGG-A0", "--input-size", "64", "--hw", "edge-32", "--depth", "1..3", "--sram", "64KiB", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res []map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(res) != 1 {
		t.Fatalf("%d models", len(res))
	}
	top := []string{"model", "form", "input", "hardware", "bits", "batch", "sram_bytes", "floor_dram_bytes", "plans", "best_segments", "chains"}
	if got := sortedKeys(res[0]); !slices.Equal(got, slices.Sorted(slices.Values(top))) {
		t.Errorf("keys %v, want %v", got, top)
	}
	planKeys := slices.Sorted(slices.Values([]string{"model", "form", "plan", "depth", "dram_bytes_per_image", "dram_bytes", "saved_bytes",
		"model_dram_bytes_per_image", "model_dram_bytes", "line_buffer_bytes", "sram_bytes", "min_sram_bytes", "fits", "segments", "cycles", "energy_j"}))
	plans := res[0]["plans"].([]any)
	var names []string
	for _, p := range plans {
		m := p.(map[string]any)
		names = append(names, m["plan"].(string))
		if got := sortedKeys(m); !slices.Equal(got, planKeys) {
			t.Errorf("plan %v keys %v", m["plan"], got)
		}
		if m["cycles"].(float64) <= 0 || m["energy_j"].(float64) <= 0 || m["dram_bytes"].(float64) < res[0]["floor_dram_bytes"].(float64) {
			t.Errorf("plan %v: %v", m["plan"], m)
		}
	}
	if !slices.Equal(names, []string{"depth-1", "depth-2", "depth-3", "best", "cache"}) {
		t.Errorf("plans %v", names)
	}
	chains := res[0]["chains"].([]any)
	if len(chains) != 1 || len(chains[0].(map[string]any)["layers"].([]any)) != 22 {
		t.Errorf("chains %v", chains)
	}
	best, lbl := plans[3].(map[string]any), plans[0].(map[string]any)
	if best["dram_bytes"].(float64) > lbl["dram_bytes"].(float64) || best["saved_bytes"].(float64) != lbl["dram_bytes"].(float64)-best["dram_bytes"].(float64) {
		t.Errorf("best %v, layer by layer %v", best, lbl)
	}
}

func TestFusionCSVAndTrainForm(t *testing.T) {
	out := runLine(t, "fusion ResNet-18 --input-size 64 --form train --depth 2..3 --format csv")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 6 || recs[1][2] != "layer-by-layer" || recs[5][2] != "cache" {
		t.Fatalf("%v: %q", err, out)
	}
	// The train form of a ResNet never moves less than its deploy form.
	dep := runLine(t, "fusion ResNet-18 --input-size 64 --depth 2..3 --format csv")
	drecs, _ := csv.NewReader(strings.NewReader(dep)).ReadAll()
	for i := 1; i < len(recs); i++ {
		tv, err1 := strconv.ParseFloat(recs[i][4], 64)
		dv, err2 := strconv.ParseFloat(drecs[i][4], 64)
		if err1 != nil || err2 != nil || tv < dv {
			t.Errorf("%s: train %v < deploy %v", recs[i][2], tv, dv)
		}
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
		_, errs, code := runCmd(t, cmdFusion, append([]string{"--input-size", "64"}, args...)...)
		if code != exitUsage || errs == "" {
			t.Errorf("%v: exit %d (%q), want %d with a message", args, code, errs, exitUsage)
		}
	}
	// One budget: line buffers and resident weights live in the ifmap+ofmap SRAM (128 KiB on
	// edge-32), so a larger --sram names the hardware's size.
	_, errs, code := runCmd(t, cmdFusion, "A0", "--input-size", "64", "--hw", "edge-32", "--sram", "129KiB")
	if code != exitUsage || !strings.Contains(errs, "exceeds the ifmap+ofmap SRAM of edge-32 (131072 bytes)") {
		t.Errorf("--sram 129KiB on edge-32: exit %d, %q", code, errs)
	}
	if _, errs, code := runCmd(t, cmdFusion, "A0", "--input-size", "64", "--hw", "edge-32", "--sram", "128KiB"); code != exitOK {
		t.Errorf("--sram 128KiB on edge-32: exit %d, %q", code, errs)
	}
}
