package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSweepBadStudies: each bad study file of the sweep package gives exit status 2 and one
// line on stderr, positioned in the file.
func TestSweepBadStudies(t *testing.T) {
	files, err := filepath.Glob("../../sweep/testdata/bad/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		var out, errb bytes.Buffer
		code := run([]string{"sweep", f, "--quiet"}, &out, &errb)
		assert.Equal(t, exitUsage, code, f)
		assert.Equal(t, 1, strings.Count(errb.String(), "\n"), "%s: %s", f, errb.String())
		assert.True(t, strings.HasPrefix(errb.String(), "vggsim sweep: "+f+":"), errb.String())
		assert.Empty(t, out.String())
	}
}

// TestSweepUsage checks the flag errors of sweep and sweep merge.
func TestSweepUsage(t *testing.T) {
	dir := t.TempDir()
	study := filepath.Join(dir, "s.yaml")
	require.NoError(t, os.WriteFile(study, []byte("name: s\nmodels: [RepVGG-A0]\ninput: 32\naxes:\n  array.rows: [8, 16]\n"), 0o644))
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"sweep", study, "--shard", "3/3"}, `shard "3/3": want i/n`},
		{[]string{"sweep", study, "--resume"}, "--resume needs -o"},
		{[]string{"sweep", study, "--format", "xml"}, `--format "xml"`},
		{[]string{"sweep", filepath.Join(dir, "missing.yaml")}, "no such file"},
		{[]string{"sweep", "merge", filepath.Join(dir, "none.csv")}, "no such file"},
		{[]string{"sweep", "merge", study, "--pareto", "latency,watts"}, `unknown objective "watts"`},
	} {
		var out, errb bytes.Buffer
		code := run(c.args, &out, &errb)
		assert.Equal(t, exitUsage, code, c.args)
		assert.Contains(t, errb.String(), c.msg, c.args)
	}
	var out, errb bytes.Buffer
	require.Equal(t, exitOK, run([]string{"sweep", study, "--quiet", "--format", "jsonl"}, &out, &errb), errb.String())
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 2)
	assert.True(t, strings.HasPrefix(lines[1], `{"point":1,"model":"RepVGG-A0","form":"deploy","input":"32","batch":1,"array.rows":16,"status":"ok",`), lines[1])
}

// TestSweepResumeAfterKill runs the real binary, kills it (SIGKILL) while it streams rows,
// resumes, and checks the result equals an uninterrupted run byte for byte.
func TestSweepResumeAfterKill(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "vggsim")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	study := filepath.Join(dir, "kill.yaml")
	// ResNet-152 in train form: ~500 layers a point, 1600 points, several seconds on one job.
	require.NoError(t, os.WriteFile(study, []byte(`name: kill
models: [{model: ResNet-152, form: train}]
axes:
  array.rows: 8..64 +8
  array.cols: 8..64 +8
  dram.bandwidth: 1GB/s..25GB/s +1GB/s
`), 0o644))
	out := filepath.Join(dir, "r.csv")
	cmd := exec.Command(bin, "sweep", study, "-o", out, "--jobs", "1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	deadline := time.Now().Add(60 * time.Second)
	for {
		data, _ := os.ReadFile(out)
		if bytes.Count(data, []byte("\n")) >= 30 {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("no rows after 60 s: %s", stderr.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	killed, err := os.ReadFile(out)
	require.NoError(t, err)
	rows := bytes.Count(killed, []byte("\n")) - 1
	require.Less(t, rows, 1600, "the run finished before the kill; make the study bigger")
	require.True(t, bytes.HasSuffix(bytes.SplitN(killed, []byte("\n"), 3)[1], []byte(",")), "a streamed row has an empty pareto cell")

	res := exec.Command(bin, "sweep", study, "-o", out, "--resume")
	msg, err := res.CombinedOutput()
	require.NoError(t, err, "%s", msg)
	assert.Contains(t, string(msg), "points already done")
	full := filepath.Join(dir, "full.csv")
	msg, err = exec.Command(bin, "sweep", study, "-o", full, "--quiet").CombinedOutput()
	require.NoError(t, err, "%s", msg)
	a, _ := os.ReadFile(full)
	b, _ := os.ReadFile(out)
	assert.Equal(t, 1601, bytes.Count(a, []byte("\n")))
	assert.True(t, bytes.Equal(a, b), "resumed file differs from the uninterrupted run")
}

// TestSweepShardsMerge: vggsim sweep --shard i/3 on each shard, then vggsim sweep merge of
// the parts (in any order), gives the unsharded run's file byte for byte.
func TestSweepShardsMerge(t *testing.T) {
	dir := t.TempDir()
	study := filepath.Join(dir, "s.yaml")
	require.NoError(t, os.WriteFile(study, []byte(`name: shards
models: [RepVGG-A0, {model: ResNet-18, form: train}]
input: 64
axes:
  array.rows: 8..64 *2
  array.cols: [8, 32]
  dram.bandwidth: [4GB/s, 16GB/s]
objectives: [latency, energy]
`), 0o644))
	sweep := func(args ...string) {
		t.Helper()
		var out, errb bytes.Buffer
		require.Equal(t, exitOK, run(append([]string{"sweep"}, args...), &out, &errb), errb.String())
	}
	whole := filepath.Join(dir, "whole.csv")
	sweep(study, "-o", whole, "--quiet")
	var parts []string
	for _, i := range []int{2, 0, 1} {
		p := filepath.Join(dir, fmt.Sprintf("part%d.csv", i))
		sweep(study, "--shard", fmt.Sprintf("%d/3", i), "-o", p, "--quiet", "--jobs", "1")
		parts = append(parts, p)
	}
	merged := filepath.Join(dir, "merged.csv")
	sweep(append(append([]string{"merge"}, parts...), "-o", merged)...)
	a, err := os.ReadFile(whole)
	require.NoError(t, err)
	b, err := os.ReadFile(merged)
	require.NoError(t, err)
	assert.Equal(t, 1+2*4*2*2, bytes.Count(a, []byte("\n")))
	assert.Equal(t, string(a), string(b))
}
