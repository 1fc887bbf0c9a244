package main

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vggsim/vggsim/bench"
	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/quant"
	"github.com/vggsim/vggsim/tensor"
)

// The regression tests of issue 13 that run through the CLI: each asserts the exit status
// and the single error line.

// oneErrorLine checks stderr is exactly one line starting with prefix and containing
// every part.
func oneErrorLine(t *testing.T, stderr, prefix string, parts ...string) {
	t.Helper()
	require.True(t, strings.HasSuffix(stderr, "\n"), "stderr %q", stderr)
	assert.Equal(t, 1, strings.Count(stderr, "\n"), "stderr %q", stderr)
	assert.True(t, strings.HasPrefix(stderr, prefix), "stderr %q lacks prefix %q", stderr, prefix)
	for _, p := range parts {
		assert.Contains(t, stderr, p)
	}
}

// Item 1: a checkpoint past its decoding budget (lowered here so a small file crosses it).
func TestCLICheckpointBudget(t *testing.T) {
	t.Setenv("VGGSIM_MAX_CHECKPOINT_BYTES", "1K")
	_, errs, code := vggsim(t, "fuse", tinyYAML, "--weights", filepath.Join(tinyGolden, "tiny_repvgg_train.pth"), "-o", filepath.Join(t.TempDir(), "d.npz"))
	assert.Equal(t, exitUsage, code)
	oneErrorLine(t, errs, "vggsim fuse: ", "tiny_repvgg_train.pth: ", "past its budget of 1 KiB decoded bytes (set $VGGSIM_MAX_CHECKPOINT_BYTES to allow more)")
}

// Item 5: a model file within the spec limits that no machine could hold.
func TestCLIModelBudget(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "giant.yaml")
	require.NoError(t, os.WriteFile(spec, []byte("family: repvgg\nname: giant\nnum_blocks: [128, 128, 128, 128]\nwidth_multiplier: [128, 64, 32, 16]\n"), 0o644))
	x := filepath.Join(dir, "x.npy")
	require.NoError(t, npy.WriteFile(x, tensor.New(1, 3, 32, 32)))
	_, errs, code := vggsim(t, "infer", spec, "--input", x, "-o", filepath.Join(dir, "y.npy"))
	assert.Equal(t, exitUsage, code)
	oneErrorLine(t, errs, "vggsim infer: model giant needs ", "TiB for its ", "parameters, more than the limit of 4 GiB (set $VGGSIM_MAX_PARAM_BYTES to allow more)")
}

// Items 6 and 7: a failed write leaves the old output intact; -o equal to the input is
// refused unless forced, and a forced overwrite keeps the file's mode.
func TestCLIOutputSafety(t *testing.T) {
	if out := os.Getenv("VGGSIM_TEST_FSIZE_CHILD"); out != "" {
		signal.Ignore(syscall.SIGXFSZ)
		require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 64, Max: 64}))
		_, errs, code := vggsim(t, "infer", tinyYAML, "--weights", filepath.Join(tinyGolden, "tiny_repvgg_train.pth"),
			"--input", filepath.Join(tinyGolden, "input.npy"), "-o", out)
		os.Stderr.WriteString(errs)
		os.Exit(code)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "y.npy")
	old := strings.Repeat("previous result ", 100)
	require.NoError(t, os.WriteFile(out, []byte(old), 0o644))
	cmd := exec.Command(os.Args[0], "-test.run=^TestCLIOutputSafety$")
	cmd.Env = append(os.Environ(), "VGGSIM_TEST_FSIZE_CHILD="+out)
	msg, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "%s", msg)
	assert.Equal(t, exitFail, ee.ExitCode(), "%s", msg)
	assert.Contains(t, string(msg), "vggsim infer: "+out+": file too large")
	b, _ := os.ReadFile(out)
	assert.Equal(t, old, string(b), "ulimit -f: the old output is intact")
	es, _ := os.ReadDir(dir)
	assert.Len(t, es, 1, "no temporary file left")

	// -o equal to --input.
	x := filepath.Join(dir, "x.npy")
	in, err := os.ReadFile(filepath.Join(tinyGolden, "input.npy"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(x, in, 0o640))
	args := []string{"infer", tinyYAML, "--weights", filepath.Join(tinyGolden, "tiny_repvgg_train.pth"), "--input", x, "-o", x}
	_, errs, code := vggsim(t, args...)
	assert.Equal(t, exitUsage, code)
	oneErrorLine(t, errs, "vggsim infer: -o "+x+" is the --input file; refusing to overwrite it (pass --force to replace it)")
	b, _ = os.ReadFile(x)
	assert.Equal(t, in, b)
	_, errs, code = vggsim(t, append(args, "--force")...)
	require.Equal(t, exitOK, code, errs)
	st, err := os.Stat(x)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), st.Mode().Perm(), "the input's mode is kept")

	// fuse -o equal to --weights.
	w := filepath.Join(dir, "w.pth")
	tr, err := os.ReadFile(filepath.Join(tinyGolden, "tiny_repvgg_train.pth"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(w, tr, 0o644))
	_, errs, code = vggsim(t, "fuse", tinyYAML, "--weights", w, "-o", w)
	assert.Equal(t, exitUsage, code)
	oneErrorLine(t, errs, "vggsim fuse: -o "+w+" is the --weights file; refusing to overwrite it")
}

// Item 9: NaN and infinity in an input array or in weights.
func TestCLINonFinite(t *testing.T) {
	dir := t.TempDir()
	x, err := npy.ReadFile(filepath.Join(tinyGolden, "input.npy"))
	require.NoError(t, err)
	x.F32[5] = float32(math.NaN())
	bad := filepath.Join(dir, "nan.npy")
	require.NoError(t, npy.WriteFile(bad, x))
	args := []string{"infer", tinyYAML, "--weights", filepath.Join(tinyGolden, "tiny_repvgg_train.pth"), "--input", bad, "-o", filepath.Join(dir, "y.npy")}
	_, errs, code := vggsim(t, args...)
	assert.Equal(t, exitUsage, code)
	oneErrorLine(t, errs, "vggsim infer: "+bad+": array holds NaN at [0 0 0 5] (pass --allow-nonfinite to use it anyway)")
	_, errs, code = vggsim(t, append(args, "--allow-nonfinite")...)
	assert.Equal(t, exitOK, code, errs)
}

// Item 10: untrusted text in an error is printed on one line, without control characters,
// cut to a sane length.
func TestCLIErrorLines(t *testing.T) {
	assert.Equal(t, `key "a\nb": bad; next`, oneLine("key \"a\\nb\": bad\nnext", 100))
	assert.Equal(t, "red [31mtext", oneLine("red \x1b[31mtext", 100))
	assert.Equal(t, "abc…", oneLine("abcdef", 3))
	long := strings.Repeat("x", 200000)
	assert.Len(t, []rune(errorLines(long)), maxErrorLen+1)
	many := strings.Repeat("problem\n", 515)
	lines := strings.Split(errorLines(many), "\n")
	assert.Len(t, lines, maxErrorLines+1)
	assert.Equal(t, "… and 495 more problems", lines[maxErrorLines])

	// A checkpoint key with a newline and an ANSI escape, through the CLI.
	dir := t.TempDir()
	w := filepath.Join(dir, "evil.npz")
	require.NoError(t, npy.WriteNPZ(w, []string{"evil\n\x1b[31mkey"}, map[string]*tensor.Tensor{"evil\n\x1b[31mkey": tensor.New(1)}))
	_, errs, code := vggsim(t, "fuse", tinyYAML, "--weights", w, "-o", filepath.Join(dir, "o.npz"))
	assert.Equal(t, exitUsage, code)
	assert.Equal(t, 1, strings.Count(errs, "\n"), "%q", errs)
	assert.NotContains(t, errs, "\x1b")
	assert.Contains(t, errs, `1 unexpected ("evil\n\x1b[31mkey")`)
}

// Items 11, 12 and 14: a checkpoint where MODEL goes; the random-weights notice; an unknown
// flag; --version.
func TestCLIRoughEdges(t *testing.T) {
	pth := filepath.Join(tinyGolden, "tiny_repvgg_deploy.pth")
	_, errs, code := vggsim(t, "show", pth)
	assert.Equal(t, exitUsage, code)
	oneErrorLine(t, errs, "vggsim show: "+pth+" is a checkpoint, not a model: give MODEL as a zoo name (e.g. RepVGG-A0) or a .yaml model file, and the checkpoint with --weights "+pth)

	dir := t.TempDir()
	_, errs, code = vggsim(t, "infer", tinyYAML, "--input", filepath.Join(tinyGolden, "input.npy"), "-o", filepath.Join(dir, "y.npy"))
	assert.Equal(t, exitOK, code)
	assert.Equal(t, "vggsim: no --weights: tiny_repvgg uses seeded random weights (--seed 1); its outputs mean nothing\n", errs)
	_, errs, code = vggsim(t, "quant", tinyYAML, "--seed", "3")
	assert.Equal(t, exitOK, code)
	assert.Equal(t, "vggsim: no --weights: tiny_repvgg uses seeded random weights (--seed 3); its outputs mean nothing\n", errs)

	out, errs, code := vggsim(t, "models", "--bogus")
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out)
	assert.Equal(t, "vggsim models: flag provided but not defined: -bogus (run 'vggsim models -h' for usage)\n", errs)

	out, _, code = vggsim(t, "--version")
	assert.Equal(t, exitOK, code)
	assert.True(t, strings.HasPrefix(out, "vggsim "), out)
}

// Item 13: --input names an .npy array and nothing else; the old image-size alias of
// models, memory and fusion is an error that says which flag to use.
func TestCLIInputFlagOneMeaning(t *testing.T) {
	for _, cmd := range []string{"models", "memory", "fusion"} {
		args := []string{cmd, "--input", "64"}
		if cmd != "models" {
			args = append(args, "RepVGG-A0")
		}
		out, errs, code := vggsim(t, args...)
		assert.Equal(t, exitUsage, code, cmd)
		assert.Empty(t, out, cmd)
		assert.Equal(t, "vggsim "+cmd+": invalid value \"64\" for flag -input: use --input-size 64 for the image size (--input names an .npy array, in infer and quant) (run 'vggsim "+cmd+" -h' for usage)\n", errs)
	}
	// Every command that takes an image size calls it --input-size; --input, where it is
	// a flag, is an .npy file.
	for _, c := range completionTable() {
		for _, f := range c.flags {
			if f.name == "input" {
				assert.Contains(t, f.usage, ".npy", "%s --input", c.name)
			}
		}
	}
}

// Item 14: help on stdout with exit 0, one-line usage errors with the hint, --version.
func TestCLIHelpAndUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"infer", "-h"}, {"infer", "--help"}, {"help", "infer"}, {"sweep", "merge", "-h"}} {
		out, errs, code := vggsim(t, args...)
		assert.Equal(t, exitOK, code, "%v", args)
		assert.Empty(t, errs, "%v", args)
		assert.Contains(t, out, "\nflags:\n", "%v", args)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"simulate", "-x"}, "vggsim simulate: flag provided but not defined: -x (run 'vggsim simulate -h' for usage)\n"},
		{[]string{"infer", "A0"}, "vggsim infer: --input and -o are required (run 'vggsim infer -h' for usage)\n"},
		{[]string{"fuse", "A0"}, "vggsim fuse: --weights and -o are required (run 'vggsim fuse -h' for usage)\n"},
		{[]string{"build", "A0"}, "vggsim build: -o is required (run 'vggsim build -h' for usage)\n"},
		{[]string{"sweep", "merge", "--bogus"}, "vggsim sweep merge: flag provided but not defined: -bogus (run 'vggsim sweep merge -h' for usage)\n"},
		{[]string{"help", "nosuch"}, "vggsim: unknown command \"nosuch\""},
	} {
		out, errs, code := vggsim(t, c.args...)
		assert.Equal(t, exitUsage, code, "%v", c.args)
		assert.Empty(t, out, "%v", c.args)
		assert.Equal(t, 1, strings.Count(errs, "\n"), "%v: %q", c.args, errs)
		assert.True(t, strings.HasPrefix(errs, c.want), "%v: %q", c.args, errs)
	}
	out, errs, code := vggsim(t, "--version")
	assert.Equal(t, exitOK, code)
	assert.Empty(t, errs)
	assert.Regexp(t, `^vggsim \S+.*\n$`, out)
}

// Item 14: `vggsim completion SHELL` covers every command and every flag, and the bash
// script parses.
func TestCLICompletion(t *testing.T) {
	table := completionTable()
	require.Len(t, table, len(commands()))
	// Spot checks against the flag sets themselves, independent of the -h parsing.
	byName := map[string]completionCommand{}
	for _, c := range table {
		byName[c.name] = c
	}
	for cmd, flags := range map[string][]string{
		"infer":    {"input", "o", "weights", "input-size", "backend", "allow-nonfinite"},
		"simulate": {"hw", "batch", "format", "scalesim-config", "topology", "o"},
		"sweep":    {"o", "resume", "shard", "pareto"},
		"models":   {"format", "input-size", "classes"},
	} {
		for _, f := range flags {
			assert.True(t, hasFlag(byName[cmd].flags, f), "%s --%s", cmd, f)
		}
	}
	assert.False(t, hasFlag(byName["models"].flags, "input"), "the removed size alias is not offered")

	for _, shell := range completionShells {
		out, errs, code := vggsim(t, "completion", shell)
		require.Equal(t, exitOK, code, errs)
		for _, c := range table {
			assert.Contains(t, out, c.name, "%s: command %s", shell, c.name)
			for _, f := range c.flags {
				want := dashed(f.name)
				if shell == "fish" {
					want = "-l " + f.name
					if len(f.name) == 1 {
						want = "-s " + f.name
					}
				}
				assert.Contains(t, out, want, "%s: %s %s", shell, c.name, f.name)
			}
		}
		for _, sh := range []string{"bash", "zsh", "fish"} {
			if sh != shell {
				continue
			}
			exe, err := exec.LookPath(sh)
			if err != nil {
				if sh == "bash" {
					t.Fatalf("bash not found: %v", err)
				}
				t.Logf("%s not installed: only the contents were checked", sh)
				continue
			}
			flag := "-n"
			if sh == "fish" {
				flag = "--no-execute"
			}
			f := filepath.Join(t.TempDir(), "c."+sh)
			require.NoError(t, os.WriteFile(f, []byte(out), 0o644))
			msg, err := exec.Command(exe, flag, f).CombinedOutput()
			assert.NoError(t, err, "%s %s: %s", sh, flag, msg)
		}
	}
	// bash: the completion function offers the flags of the command being completed.
	out, _, _ := vggsim(t, "completion", "bash")
	script := out + "\nCOMP_WORDS=(vggsim infer --in); COMP_CWORD=2; _vggsim; echo \"${COMPREPLY[@]}\"\n" +
		"COMP_WORDS=(vggsim sim); COMP_CWORD=1; _vggsim; echo \"${COMPREPLY[@]}\"\n"
	got, err := exec.Command("bash", "-c", script).Output()
	require.NoError(t, err)
	assert.Equal(t, "--input --input-size\nsimulate\n", string(got))

	_, errs, code := vggsim(t, "completion", "tcsh")
	assert.Equal(t, exitUsage, code)
	assert.Equal(t, "vggsim completion: shell \"tcsh\": want bash, zsh or fish\n", errs)
}

// Item 14: -o - is stdout where the output is one stream; no command creates a file
// named "-".
func TestCLIDashIsStdout(t *testing.T) {
	dir := t.TempDir()
	wd, err := os.Getwd()
	require.NoError(t, err)
	require.NoError(t, os.Chdir(dir))
	defer os.Chdir(wd)
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(wd, p)
	}
	train := abs(filepath.Join(tinyGolden, "tiny_repvgg_train.pth"))
	model := abs(tinyYAML)
	input := abs(filepath.Join(tinyGolden, "input.npy"))

	// infer: the .npy to stdout, the summary to stderr.
	out, errs, code := vggsim(t, "infer", model, "--weights", train, "--input", input, "-o", "-")
	require.Equal(t, exitOK, code, errs)
	y, err := npy.Read(strings.NewReader(out))
	require.NoError(t, err)
	_, _, code = vggsim(t, "infer", model, "--weights", train, "--input", input, "-o", filepath.Join(dir, "y.npy"))
	require.Equal(t, exitOK, code)
	want, err := npy.ReadFile(filepath.Join(dir, "y.npy"))
	require.NoError(t, err)
	assert.Equal(t, want.Shape, y.Shape)
	assert.Equal(t, want.F32, y.F32)
	assert.Contains(t, errs, "-> - ")

	// codegen and sweep merge: text to stdout.
	out, errs, code = vggsim(t, "codegen", model, "-o", "-")
	require.Equal(t, exitOK, code, errs)
	assert.Contains(t, out, "define ")

	// Outputs that cannot be a stream are refused, naming the reason.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"fuse", model, "--weights", train, "-o", "-"}, "vggsim fuse: -o -: fuse writes a checkpoint whose format comes from the file name (.safetensors, .npz, .pth, .onnx); give a file name\n"},
		{[]string{"build", model, "-o", "-"}, "vggsim build: -o -: build writes a directory of files; give a file name\n"},
	} {
		out, errs, code := vggsim(t, c.args...)
		assert.Equal(t, exitUsage, code, "%v", c.args)
		assert.Empty(t, out)
		assert.Equal(t, c.want, errs)
	}
	_, err = os.Stat(filepath.Join(dir, "-"))
	assert.True(t, os.IsNotExist(err), "no file named -")

	// Binary output goes to /dev/null (a character device, but no terminal); to a terminal
	// it is refused (when the test has one).
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer null.Close()
	var errb strings.Builder
	assert.Equal(t, exitOK, run([]string{"infer", model, "--weights", train, "--input", input, "-o", "-"}, null, &errb), errb.String())
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		errb.Reset()
		code := run([]string{"infer", model, "--weights", train, "--input", input, "-o", "-"}, tty, &errb)
		assert.Equal(t, exitUsage, code)
		assert.Equal(t, "vggsim infer: -o -: refusing to write a binary .npy to a terminal; redirect stdout or give a file name\n", errb.String())
	}
}

// Item 15: a YAML syntax error in a hardware, model or study file is one line with
// file:line:col at the line the mistake is on (an unclosed '[' on line 4 is at :4, where
// the decoder said :3).
func TestCLIYAMLSyntaxPositions(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	hwFile := write("hw.yaml", "name: broken\narray: {rows: 32, cols: 32}\ndataflow: os\nclock: [1GHz, 2GHz\ndata_bits: 8\n")
	model := write("model.yaml", "family: repvgg\nname: m\nnum_blocks: [1, 1, 1, 1]\nwidth_multiplier: [1, 1, 1, 1\nnum_classes: 3\n")
	study := write("study.yaml", "name: s\nmodels: [RepVGG-A0]\naxes:\n  array.rows: [8, 16\n")
	tabbed := write("tab.yaml", "family: repvgg\nname: m\n\tnum_blocks: [1, 1, 1, 1]\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"simulate", "A0", "--hw", hwFile}, "vggsim simulate: " + hwFile + ":4:8: yaml: did not find expected ',' or ']' (unclosed '[')\n"},
		{[]string{"show", model}, "vggsim show: " + model + ":4:19: did not find expected ',' or ']' (unclosed '[')\n"},
		{[]string{"sweep", study}, "vggsim sweep: " + study + ":4:15: yaml: did not find expected ',' or ']' (unclosed '[')\n"},
		{[]string{"models", tabbed}, "vggsim models: " + tabbed + ":3:1: found a tab character that violates indentation\n"},
	} {
		out, errs, code := vggsim(t, c.args...)
		assert.Equal(t, exitUsage, code, "%v", c.args)
		assert.Empty(t, out, "%v", c.args)
		assert.Equal(t, c.want, errs, "%v", c.args)
	}
}

// Items 2 and 3: a pickle with a huge integer, or far too many objects, is refused on one
// line, quickly and without the memory it asks for.
func TestCLIPickleBudgets(t *testing.T) {
	dir := t.TempDir()
	long4 := append([]byte{0x80, 2, 0x8b}, binary.LittleEndian.AppendUint32(nil, 1<<20)...) // PROTO 2, LONG4
	long4 = append(append(long4, bytes.Repeat([]byte{0x7f}, 1<<20)...), '.')
	objs := []byte{0x80, 2}
	for len(objs) < 65<<10 {
		objs = append(objs, "}])2"...) // EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE, DUP
	}
	objs = append(objs, '.')
	for _, c := range []struct {
		name string
		pkl  []byte
		env  string
		want string
	}{
		{"long.pth", long4, "", "malformed pickle: pickled integer of 1048576 bytes at offset 2 (at most 64 accepted)"},
		{"objects.pth", objs, "1000", "malformed pickle: pickle creates more than 1000 objects (set $VGGSIM_MAX_PICKLE_OBJECTS to allow more)"},
	} {
		t.Setenv("VGGSIM_MAX_PICKLE_OBJECTS", c.env)
		w := filepath.Join(dir, c.name)
		require.NoError(t, os.WriteFile(w, torchZip(t, c.pkl), 0o644))
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		out, errs, code := vggsim(t, "fuse", tinyYAML, "--weights", w, "-o", filepath.Join(dir, "d.npz"))
		runtime.ReadMemStats(&m1)
		assert.Equal(t, exitUsage, code, c.name)
		assert.Empty(t, out)
		assert.Equal(t, "vggsim fuse: "+w+": "+c.want+"\n", errs)
		assert.Less(t, m1.TotalAlloc-m0.TotalAlloc, uint64(64<<20), "%s: allocated bytes", c.name)
	}
}

// Item 4: a 40-byte topology row of 1,048,576 depthwise channels is refused before the
// layers are built.
func TestCLITopologyBudget(t *testing.T) {
	dir := t.TempDir()
	topo := filepath.Join(dir, "dp.csv")
	require.NoError(t, os.WriteFile(topo, []byte("l\nxDP, 1, 1, 1, 1, 1048576, 1, 1,\n"), 0o644))
	cfg := filepath.Join(scaleSimRef, "configs", "tiny_8x8_os_calc.cfg")
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	out, errs, code := vggsim(t, "simulate", "--scalesim-config", cfg, "--topology", topo)
	runtime.ReadMemStats(&m1)
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out)
	assert.Equal(t, "vggsim simulate: "+topo+":2:18: depthwise row of 1048576 channels makes more than 65536 layers (set $VGGSIM_MAX_TOPOLOGY_LAYERS to allow more)\n", errs)
	assert.Less(t, m1.TotalAlloc-m0.TotalAlloc, uint64(16<<20))
}

// Item 10: an out-of-range --batch is one line in the user's words, not the simulator's
// internal list of problems.
func TestCLIBatchRange(t *testing.T) {
	out, errs, code := vggsim(t, "simulate", "A0", "--batch", "2000000")
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out)
	assert.Equal(t, 1, strings.Count(errs, "\n"), "%q", errs)
	assert.Equal(t, "vggsim simulate: --batch 2000000: want 1..1048576\n", errs)
	assert.NotContains(t, errs, "sim: ")
}

// Item 16: the YAML library is the maintained go.yaml.in/yaml/v3, not the archived
// gopkg.in/yaml.v3 (directly or through another module).
func TestYAMLModule(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	require.NoError(t, err)
	assert.Contains(t, string(mod), "go.yaml.in/yaml/v3 ")
	assert.NotContains(t, string(mod), "gopkg.in/yaml.v3")
	out, err := exec.Command("go", "list", "-deps", "./...").Output()
	require.NoError(t, err)
	assert.NotContains(t, string(out), "gopkg.in/yaml.v3")
	assert.Contains(t, string(out), "go.yaml.in/yaml/v3")
}

// Item 14: --format takes table, json and csv wherever a table is printed, and a bad
// choice is one line listing them.
func TestCLIFormatChoices(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"models"}, "table, json or csv"},
		{[]string{"simulate", "A0"}, "table, json or csv"},
		{[]string{"memory", "A0"}, "table, json or csv"},
		{[]string{"fusion", "A0"}, "table, json or csv"},
		{[]string{"quant", "A0"}, "table, json or csv"},
		{[]string{"bench", "A0"}, "table, json or csv"},
		{[]string{"roofline", "A0"}, "table, json or csv"},
		{[]string{"presets"}, "table, json, csv or yaml"},
		{[]string{"sweep", "study.yaml"}, "csv or jsonl"},
	} {
		out, errs, code := vggsim(t, append(c.args, "--format", "xml")...)
		assert.Equal(t, exitUsage, code, "%v", c.args)
		assert.Empty(t, out)
		assert.Equal(t, "vggsim "+c.args[0]+": --format \"xml\": want "+c.want+"\n", errs)
	}

	// quant's and presets' CSV carry the JSON's numbers.
	out, errs, code := vggsim(t, "quant", tinyYAML, "--weights", filepath.Join(tinyGolden, "tiny_repvgg_train.pth"), "--format", "csv")
	require.Equal(t, exitOK, code, errs)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, quantCSVHeader, recs[0])
	js, _, code := vggsim(t, "quant", tinyYAML, "--weights", filepath.Join(tinyGolden, "tiny_repvgg_train.pth"), "--format", "json")
	require.Equal(t, exitOK, code)
	var rep quant.Report
	require.NoError(t, json.Unmarshal([]byte(js), &rep))
	rows := 0
	for _, l := range rep.Layers {
		rows += 1 + len(l.Branches)
	}
	require.Len(t, recs, 1+rows)
	assert.Equal(t, []string{rep.Layers[0].Name, "fused"}, recs[1][:2])
	assert.Equal(t, strconv.FormatFloat(rep.Layers[0].Weights.Min, 'g', -1, 64), recs[1][2])
	assert.Equal(t, strconv.FormatFloat(rep.Layers[0].Weights.SQNRTensorDB, 'g', -1, 64), recs[1][8])
	assert.Equal(t, rep.Layers[0].Branches[0].Name, recs[2][1])

	out, errs, code = vggsim(t, "presets", "--format", "csv", "edge-32")
	require.Equal(t, exitOK, code, errs)
	recs, err = csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 2)
	cell := map[string]string{}
	for i, k := range recs[0] {
		cell[k] = recs[1][i]
	}
	assert.Equal(t, "edge-32", cell["name"])
	assert.Equal(t, "1000000000", cell["clock_hz"])
	assert.Equal(t, "65536", cell["ifmap_sram_bytes"])
	assert.Equal(t, "16000000000", cell["dram_bandwidth_bytes_per_s"])
}

// writeBenchCSV: a forward row, then one row per conv layer; a layer not timed alone has
// empty times.
func TestBenchCSV(t *testing.T) {
	re := 2e-6
	r := &bench.Result{Model: "RepVGG-A0", Threads: 2, MedianMs: 9.5, GFlops: 300, PctPeak: 56.6, PeakGFlops: 530, MACs: 1_389_000_000, RelErr: 1e-6,
		Layers: []bench.Layer{{Name: "stage0.rbr_reparam", Family: "direct", Kernel: "k0", MACs: 1000, Ms: 0.25, GFlops: 265, RelErr: &re}, {Name: "linear", Family: "gemm", Kernel: "k1", MACs: 10}}}
	var b strings.Builder
	require.NoError(t, writeBenchCSV(&b, benchReport{Result: r, Form: "deploy"}))
	assert.Equal(t, "model,form,threads,layer,algorithm,kernel,macs,ms,gflops,pct_peak,relerr\n"+
		"RepVGG-A0,deploy,2,forward,,,1389000000,9.5,300,56.6,1e-06\n"+
		"RepVGG-A0,deploy,2,stage0.rbr_reparam,direct,k0,1000,0.25,265,50,2e-06\n"+
		"RepVGG-A0,deploy,2,linear,gemm,k1,10,,,,\n", b.String())
}
