package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelpFlagsReadable checks every subcommand's -h: a synopsis, a flags section whose
// placeholders came out right (a backquoted word in a flag's usage becomes its placeholder;
// a second pair used to leak into the text, and `vggsim presets` became -hw's placeholder),
// and --input-size for the image size wherever a size is taken.
func TestHelpFlagsReadable(t *testing.T) {
	for _, c := range commands() {
		errs, _, code := vggsim(t, c.name, "-h") // the usage, on stdout
		if code != exitOK || !strings.HasPrefix(errs, "usage: vggsim "+c.name) {
			t.Errorf("%s -h: exit %d\n%s", c.name, code, errs)
			continue
		}
		_, flags, _ := strings.Cut(errs, "\nflags:\n")
		if strings.Contains(flags, "`") {
			t.Errorf("%s -h: a backquote left in the flags:\n%s", c.name, flags)
		}
		if strings.Contains(flags, "-hw vggsim") {
			t.Errorf("%s -h: -hw's placeholder is the usage text:\n%s", c.name, flags)
		}
		switch c.name {
		case "presets", "version", "sweep", "completion": // a study file gives sweep its input sizes
		default:
			if !strings.Contains(flags, "-input-size H[xW]\n") {
				t.Errorf("%s -h: no --input-size H[xW]:\n%s", c.name, flags)
			}
		}
	}
	// fuse always reads --weights and always writes the deploy form; quant reports both
	// forms: neither takes --form, and fuse takes no --seed.
	for _, c := range []struct{ cmd, flag string }{{"fuse", "-form"}, {"fuse", "-seed"}, {"quant", "-form"}} {
		errs, _, _ := vggsim(t, c.cmd, "-h")
		if strings.Contains(errs, "\n  "+c.flag+" ") {
			t.Errorf("%s -h lists %s:\n%s", c.cmd, c.flag, errs)
		}
	}
}

// TestSimulateRejectsUnusedFlags: flags of one simulate mode given in the other are errors,
// not silently ignored.
func TestSimulateRejectsUnusedFlags(t *testing.T) {
	cfg := filepath.Join(scaleSimRef, "configs", "tiny_8x8_os_calc.cfg")
	topo := filepath.Join(scaleSimRef, "topologies", "tiny3.csv")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"simulate", "-o", t.TempDir()}, "-o names the directory for SCALE-Sim reports"},
		{[]string{"simulate", "--format", "scalesim"}, "scalesim needs --scalesim-config"},
		{[]string{"simulate", "--scalesim-config", cfg, "--topology", topo, "--hw", "tpu-v1", "--batch", "2"},
			"--batch, --hw: not used with --scalesim-config"},
		{[]string{"simulate", "--scalesim-config", cfg, "--topology", topo, "--input-size", "64"}, "--input-size: not used"},
	} {
		out, errs, code := vggsim(t, c.args...)
		if code != exitUsage || out != "" || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and %q", c.args, code, out, errs, c.want)
		}
	}
	// The compatibility mode still takes its own flags.
	if _, errs, code := vggsim(t, "simulate", "--scalesim-config", cfg, "--topology", topo, "--format", "csv"); code != exitOK {
		t.Errorf("scalesim csv: exit %d: %s", code, errs)
	}
}

// TestFusionBadHardwareFile: a bad --hw file is reported once, with its positions, and not
// followed by a misleading "--hw must name hardware".
func TestFusionBadHardwareFile(t *testing.T) {
	chip := filepath.Join(t.TempDir(), "chip.yaml")
	if err := os.WriteFile(chip, []byte("name: chip\narray: {rows: 8, cols: 8}\ndataflow: os\nclock: 700\ndata_bits: 8\n"+
		"sram: {ifmap: 64KiB, filter: 64KiB, ofmap: 64KiB}\ndram: {bandwidth: 16GB/s}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, code := vggsim(t, "fusion", "RepVGG-A0", "--hw", chip)
	if code != exitUsage || !strings.Contains(errs, "chip.yaml:4:8: clock: \"700\" has no unit") || strings.Contains(errs, "must name hardware") {
		t.Errorf("exit %d:\n%s", code, errs)
	}
	if _, errs, code := vggsim(t, "fusion", "RepVGG-A0", "--hw", ""); code != exitUsage || !strings.Contains(errs, "--hw must name hardware") {
		t.Errorf("--hw \"\": exit %d:\n%s", code, errs)
	}
}
