package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExtremeHardware: hardware values whose products overflow the simulator's int64 cycle
// and byte counts (issue 13 item 8) are refused where the file says them, or — when every
// value is in range but together they overflow — by the engine's checked arithmetic. Every
// case exits 2 with one error line; none prints numbers.
func TestExtremeHardware(t *testing.T) {
	const base = "name: x\narray: {rows: 32, cols: 32}\ndataflow: os\nclock: CLOCK\ndata_bits: 8\n" +
		"sram: {ifmap: IFMAP, filter: 64KiB, ofmap: 64KiB}\ndram: {bandwidth: BW}\n"
	dir := t.TempDir()
	for _, c := range []struct{ clock, ifmap, bw, want string }{
		{"1GHz", "64KiB", "0.001B/s", "chip.yaml:7:19: dram.bandwidth: must be at least 1B/s, got 0.001B/s"},
		{"1GHz", "9223372036854775807", "16GB/s", "chip.yaml:6:15: sram.ifmap: must be at most 256TiB, got 9223372036854775807"},
		{"1e-300Hz", "64KiB", "16GB/s", "chip.yaml:4:8: clock: must be at least 1Hz, got 1e-300Hz"},
		{"1e300Hz", "64KiB", "16GB/s", "chip.yaml:4:8: clock: must be at most 1000THz, got 1e300Hz"},
		{"1GHz", "64KiB", "1e300B/s", "chip.yaml:7:19: dram.bandwidth: must be at most 1000TB/s, got 1e300B/s"},
		// In range, but 1 B/s at 1000 THz is 10^15 cycles per byte.
		{"1000THz", "64KiB", "1B/s", "sim: layer 0 (stage0.rbr_reparam): cycle count overflows: 753.984kB of DRAM traffic at 1B/s and 1000THz take more than 2^62 cycles"},
	} {
		file := filepath.Join(dir, "chip.yaml")
		text := strings.NewReplacer("CLOCK", c.clock, "IFMAP", c.ifmap, "BW", c.bw).Replace(base)
		require.NoError(t, os.WriteFile(file, []byte(text), 0o644))
		for _, cmd := range []string{"simulate", "fusion"} {
			out, errs, code := vggsim(t, cmd, "RepVGG-A0", "--hw", file)
			assert.Equal(t, exitUsage, code, "%s %s", cmd, c.want)
			assert.Empty(t, out, "%s %s", cmd, c.want)
			lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
			require.Len(t, lines, 1, "%s: one error line:\n%s", cmd, errs)
			assert.True(t, strings.HasPrefix(lines[0], "vggsim "+cmd+": "), lines[0])
			assert.True(t, strings.HasSuffix(lines[0], c.want), "%s:\n got %s\nwant …%s", cmd, lines[0], c.want)
		}
	}
}
