package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRoofline: the table, JSON and plot of RepVGG-A0 at 64×64 on edge-32, and the usage
// errors.
func TestRoofline(t *testing.T) {
	dir := t.TempDir()
	svg := filepath.Join(dir, "r.svg")
	var out, errb bytes.Buffer
	require.Equal(t, exitOK, run([]string{"roofline", "RepVGG-A0", "--input-size", "64", "-o", svg}, &out, &errb), errb.String())
	assert.Contains(t, out.String(), "edge-32: compute roof 1024 MACs/cycle, DRAM 16 bytes/cycle, ridge at 64 MACs/byte")
	assert.Contains(t, out.String(), "stage0.rbr_reparam")
	data, err := os.ReadFile(svg)
	require.NoError(t, err)
	assert.Contains(t, string(data), "memory-bound layers")
	assert.Contains(t, string(data), "@font-face")

	out.Reset()
	require.Equal(t, exitOK, run([]string{"roofline", "RepVGG-A0", "--input-size", "64", "--format", "json"}, &out, &errb), errb.String())
	var rf struct {
		Peak   float64 `json:"peak_macs_per_cycle"`
		BPC    float64 `json:"dram_bytes_per_cycle"`
		Layers []struct {
			MACs       int64   `json:"macs"`
			DRAMBytes  int64   `json:"dram_bytes"`
			Cycles     int64   `json:"cycles"`
			Intensity  float64 `json:"intensity"`
			Rate       float64 `json:"macs_per_cycle"`
			Attainable float64 `json:"attainable"`
		} `json:"layers"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &rf))
	require.Len(t, rf.Layers, 23)
	for _, l := range rf.Layers {
		assert.InDelta(t, float64(l.MACs)/float64(l.DRAMBytes), l.Intensity, 1e-9*l.Intensity)
		assert.InDelta(t, float64(l.MACs)/float64(l.Cycles), l.Rate, 1e-9*l.Rate)
		assert.Equal(t, min(rf.Peak, rf.BPC*l.Intensity), l.Attainable)
	}

	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"roofline", "RepVGG-A0", "-o", filepath.Join(dir, "r.bmp")}, `unknown format ".bmp"`},
		{[]string{"roofline", "RepVGG-A0", "--format", "xml"}, "xml"},
		{[]string{"roofline", "RepVGG-A0", "--batch", "0"}, "--batch 0"},
		{[]string{"roofline", "NoSuchNet"}, "NoSuchNet"},
	} {
		var out, errb bytes.Buffer
		assert.Equal(t, exitUsage, run(c.args, &out, &errb), c.args)
		assert.Contains(t, errb.String(), c.msg, c.args)
		assert.Equal(t, 1, strings.Count(errb.String(), "\n"), errb.String())
	}
}
