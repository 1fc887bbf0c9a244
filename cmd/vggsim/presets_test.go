package main

import (
	"encoding/json"
	"github.com/stretchr/testify/assert"
	"math"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/hw"
)

func TestPresetsTable(t *testing.T) {
	out, errs, code := runCmd(t, cmdPresets)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1+len(hw.PresetNames()) {
		t.Fatalf("got %d lines, want a header and one per preset:\n%s", len(lines), out)
	}
	if !strings.HasPrefix(lines[0], "name") || !strings.Contains(lines[0], "description") {
		t.Errorf("header = %q", lines[0])
	}
	for _, want := range []string{
		"tpu-v1  ", "256x256", "700MHz", "28.25MiB", "34GB/s",
		"edge-32", "(default)", "eyeriss", "12x14", "720MB/s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestPresetsJSON(t *testing.T) {
	out, errs, code := runCmd(t, cmdPresets, "--format", "json", "tpu-v1", "edge-32")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0]["name"] != "tpu-v1" || got[1]["default"] != true {
		t.Fatalf("got %v", got)
	}
	for key, want := range map[string]float64{
		"rows": 256, "clock_hz": 700e6, "sram_total_bytes": 28<<20 + 256<<10,
		"dram_bandwidth_bytes_per_s": 34e9, "accumulator_bytes": 4 << 20, "energy_dram_pj_per_byte": 160, "process_nm": 28,
	} {
		if got[0][key] != want {
			t.Errorf("%s = %v, want %v", key, got[0][key], want)
		}
	}
	// tpu-v1 derives its energies from 28 nm and DDR3 (hw.Config.Energies).
	assert.Equal(t, "ddr3", got[0]["dram_kind"])
	e := got[0]["energies"].(map[string]any)
	assert.InDelta(t, 0.2*28/45, e["mac_pj"], 1e-15)
	assert.InDelta(t, 1.25*28/45*math.Sqrt(12<<20/8192.0), e["ifmap_sram_pj_per_byte"], 1e-12)
	assert.Equal(t, 160.0, e["dram_pj_per_byte"])
}

// TestPresetsYAML checks that --format yaml prints files that parse back to the presets.
func TestPresetsYAML(t *testing.T) {
	out, errs, code := runCmd(t, cmdPresets, "nvdla-small", "--format=yaml", "eyeriss")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	docs := strings.Split(out, "---\n")
	if len(docs) != 2 {
		t.Fatalf("got %d documents:\n%s", len(docs), out)
	}
	for i, name := range []string{"nvdla-small", "eyeriss"} {
		c, err := hw.Parse(name+".yaml", []byte(docs[i]))
		want, _ := hw.Preset(name)
		if err != nil || *c != *want {
			t.Errorf("%s: %v\n%s", name, err, docs[i])
		}
	}
}

func TestPresetsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"tpu"}, exitUsage, `unknown hardware preset "tpu" (did you mean tpu-v1?)`},
		{[]string{"--format", "xml"}, exitUsage, `--format "xml": want table, json, csv or yaml`},
		{[]string{"--colour"}, exitUsage, "flag provided but not defined"},
		{[]string{"-h"}, exitOK, "usage: vggsim presets"},
	} {
		out, errs, code := runCmd(t, cmdPresets, tc.args...)
		if code == exitOK {
			errs = out // the usage
		}
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}

// TestPresetsFields: --fields lists the hardware table, one row per field with its unit
// and valid range, in file order.
func TestPresetsFields(t *testing.T) {
	out, errs, code := runCmd(t, cmdPresets, "--fields")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1+len(hw.Fields()) {
		t.Fatalf("got %d lines, want a header and one per field:\n%s", len(lines), out)
	}
	for i, f := range hw.Fields() {
		if !strings.HasPrefix(lines[1+i], f.Path+" ") {
			t.Errorf("line %d = %q, want field %s", 1+i, lines[1+i], f.Path)
		}
	}
	for _, want := range []string{"sram.ifmap", "size", "(0, +Inf)", "array.rows", "[1, 65536]", "dram.bandwidth", "B/s"} {
		if !strings.Contains(out, want) {
			t.Errorf("--fields lacks %q:\n%s", want, out)
		}
	}
	if _, _, code := runCmd(t, cmdPresets, "--fields", "tpu-v1"); code != exitUsage {
		t.Errorf("--fields with a name: exit %d, want %d", code, exitUsage)
	}
}
