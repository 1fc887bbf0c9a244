package hw

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestPresetsValid parses every embedded preset (PresetNames would be short of any that
// failed) and checks what every preset must have.
func TestPresetsValid(t *testing.T) {
	if _, err := loadPresets(); err != nil {
		t.Fatal(err)
	}
	want := []string{"edge-32", "eyeriss", "nvdla-large", "nvdla-small", "scalesim-32x32", "tpu-v1"}
	if got := PresetNames(); !slices.Equal(got, want) {
		t.Fatalf("PresetNames() = %v, want %v", got, want)
	}
	entries, err := presetFS.ReadDir("presets")
	if err != nil || len(entries) != len(want) {
		t.Fatalf("presets/ holds %d files, want %d (%v)", len(entries), len(want), err)
	}
	for i, c := range Presets() {
		if c.Name != want[i] {
			t.Errorf("Presets()[%d] = %s, want %s", i, c.Name, want[i])
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
		if c.Description == "" || c.Source == "" {
			t.Errorf("%s: needs a description and a source", c.Name)
		}
		if back, err := Parse(c.Name+".yaml", c.YAML()); err != nil || *back != *c {
			t.Errorf("%s: YAML round trip: %v\n%s", c.Name, err, c.YAML())
		}
	}
}

// TestPresetFacts pins each preset to the published numbers docs/hardware.md cites.
func TestPresetFacts(t *testing.T) {
	for _, tc := range []struct {
		name            string
		rows, cols      int
		df              Dataflow
		clockHz         float64
		dataBits        int
		onChip          int64 // SRAMBytes
		dramBytesPerSec float64
	}{
		{"edge-32", 32, 32, OutputStationary, 1e9, 8, 192 << 10, 16e9},
		{"scalesim-32x32", 32, 32, OutputStationary, 1e9, 8, 192 << 10, 10e9},
		{"tpu-v1", 256, 256, WeightStationary, 700e6, 8, 24<<20 + 4<<20 + 256<<10, 34e9},
		{"nvdla-large", 64, 32, WeightStationary, 1e9, 8, 512 << 10, 20e9},
		{"nvdla-small", 8, 8, WeightStationary, 1e9, 8, 128 << 10, 1e9},
		{"eyeriss", 12, 14, WeightStationary, 200e6, 16, 108 << 10, 720e6},
	} {
		c, err := Preset(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if c.Rows != tc.rows || c.Cols != tc.cols || c.Dataflow != tc.df || c.ClockHz != tc.clockHz ||
			c.DataBits != tc.dataBits || c.SRAMBytes() != tc.onChip || c.DRAMBandwidth != tc.dramBytesPerSec {
			t.Errorf("%s = %v (on chip %s)", tc.name, c, FormatSize(c.SRAMBytes()))
		}
	}
	// Process figures: published ones (tpu-v1, eyeriss), stated assumptions (nvdla), and the
	// 45 nm / LPDDR4 defaults.
	for name, want := range map[string]struct {
		node int
		kind DRAMKind
	}{
		"tpu-v1": {28, DDR3}, "eyeriss": {65, DDR3}, "nvdla-large": {16, LPDDR4},
		"nvdla-small": {28, LPDDR4}, "edge-32": {45, LPDDR4}, "scalesim-32x32": {45, LPDDR4},
	} {
		c, _ := Preset(name)
		if c.ProcessNM != want.node || c.DRAMKind != want.kind {
			t.Errorf("%s: %d nm, %s; want %d nm, %s", name, c.ProcessNM, c.DRAMKind, want.node, want.kind)
		}
	}
	tpu, _ := Preset("tpu-v1")
	if tpu.IfmapSRAMBytes+tpu.OfmapSRAMBytes != 24<<20 || tpu.AccumBytes != 4<<20 {
		t.Errorf("tpu-v1: unified buffer %s, accumulators %s; want 24MiB, 4MiB",
			FormatSize(tpu.IfmapSRAMBytes+tpu.OfmapSRAMBytes), FormatSize(tpu.AccumBytes))
	}
	if got := tpu.PeakOPS(); got != 2*65536*700e6 {
		t.Errorf("tpu-v1 peak = %g ops/s, want 91.75 T", got)
	}
}

func TestPresetCopies(t *testing.T) {
	a, _ := Preset("tpu-v1")
	a.Rows = 1
	b, _ := Preset("tpu-v1")
	if b.Rows != 256 {
		t.Errorf("changing a returned preset changed the embedded one")
	}
	if d := Default(); d.Name != DefaultPreset {
		t.Errorf("Default() = %s", d.Name)
	}
}

func TestPresetUnknown(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"tpu", `unknown hardware preset "tpu" (did you mean tpu-v1?); presets: edge-32, eyeriss, nvdla-large, nvdla-small, scalesim-32x32, tpu-v1`},
		{"nvdla", `(did you mean nvdla-large or nvdla-small?)`},
		{"edge32", `(did you mean edge-32?)`},
		{"eyriss", `(did you mean eyeriss?)`},
		{"scalesim", `(did you mean scalesim-32x32?)`},
		{"gpu", `unknown hardware preset "gpu"; presets: `},
	} {
		_, err := Preset(tc.name)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Preset(%q) error = %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

func TestResolve(t *testing.T) {
	if c, err := Resolve("eyeriss"); err != nil || c.Name != "eyeriss" {
		t.Errorf("Resolve(eyeriss) = %v, %v", c, err)
	}
	if c, err := Resolve("testdata/good/minimal.yaml"); err != nil || c.Name != "minimal" {
		t.Errorf("Resolve(file) = %v, %v", c, err)
	}
	if _, err := Resolve("testdata/bad/units.yaml"); err == nil || !strings.Contains(err.Error(), "units.yaml:8:10: sram.ifmap") {
		t.Errorf("Resolve(bad file) error = %v", err)
	}
	if _, err := Resolve("my-chip.yaml"); !os.IsNotExist(err) {
		t.Errorf("Resolve(missing file) error = %v, want not-exist", err)
	}
	if _, err := Resolve("tpu-v2"); err == nil || !strings.Contains(err.Error(), `(did you mean tpu-v1?)`) ||
		!strings.HasSuffix(err.Error(), "nor is it a file") {
		t.Errorf("Resolve(tpu-v2) error = %v", err)
	}
	if _, err := Resolve(""); err == nil {
		t.Errorf("Resolve(\"\") succeeded")
	}
}
