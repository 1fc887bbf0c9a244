package atomicfile

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteReplacesAndKeepsMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.txt")
	require.NoError(t, WriteFile(p, []byte("one")))
	st, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, DefaultPerm&^umask(), st.Mode().Perm())
	require.NoError(t, os.Chmod(p, 0o600))
	require.NoError(t, WriteFile(p, []byte("two")))
	b, _ := os.ReadFile(p)
	assert.Equal(t, "two", string(b))
	st, _ = os.Stat(p)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "an existing file keeps its mode")
	assertOnly(t, dir, "out.txt")
}

func TestFailedFillKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.txt")
	require.NoError(t, WriteFile(p, []byte("old")))
	err := Write(p, func(w io.Writer) error {
		w.Write([]byte("half of the new"))
		return errors.New("encoder failed")
	})
	assert.EqualError(t, err, "write "+p+": encoder failed")
	b, _ := os.ReadFile(p)
	assert.Equal(t, "old", string(b))
	assertOnly(t, dir, "out.txt")

	err = WriteFile(dir, []byte("x"))
	assert.EqualError(t, err, "write "+dir+": is a directory")
	err = WriteFile(filepath.Join(dir, "no", "such"), []byte("x"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestWriteFilesAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	names := []string{filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv"), filepath.Join(dir, "c.csv")}
	require.NoError(t, WriteFiles(names, func(name string, w io.Writer) error {
		_, err := io.WriteString(w, "v1 "+filepath.Base(name))
		return err
	}))
	err := WriteFiles(names, func(name string, w io.Writer) error {
		if strings.HasSuffix(name, "c.csv") {
			return errors.New("disk full")
		}
		_, err := io.WriteString(w, "v2 "+filepath.Base(name))
		return err
	})
	require.Error(t, err)
	for _, n := range names {
		b, _ := os.ReadFile(n)
		assert.Equal(t, "v1 "+filepath.Base(n), string(b), "a failed set leaves every old file")
	}
	assertOnly(t, dir, "a.csv", "b.csv", "c.csv")
}

// TestFileSizeLimit runs a write under RLIMIT_FSIZE (ulimit -f) in a child process: the
// write fails with "file too large" and the old, larger file is intact.
func TestFileSizeLimit(t *testing.T) {
	if p := os.Getenv("ATOMICFILE_CHILD"); p != "" {
		signal.Ignore(syscall.SIGXFSZ)
		require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 1000, Max: 1000}))
		err := WriteFile(p, make([]byte, 1<<20))
		if err == nil {
			os.Exit(3)
		}
		os.Stderr.WriteString(err.Error())
		os.Exit(4)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "big.npy")
	old := strings.Repeat("old data ", 1000)
	require.NoError(t, os.WriteFile(p, []byte(old), 0o644))
	cmd := exec.Command(os.Args[0], "-test.run=^TestFileSizeLimit$")
	cmd.Env = append(os.Environ(), "ATOMICFILE_CHILD="+p)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "%s", out)
	assert.Equal(t, 4, ee.ExitCode(), "%s", out)
	assert.Contains(t, string(out), "write "+p+": file too large")
	b, _ := os.ReadFile(p)
	assert.Equal(t, old, string(b))
	assertOnly(t, dir, "big.npy")
}

// assertOnly checks dir holds exactly names: no temporary file left behind.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, e := range es {
		got = append(got, e.Name())
	}
	assert.ElementsMatch(t, names, got)
}

func TestWriteFilesPerm(t *testing.T) {
	dir := t.TempDir()
	exe, txt := filepath.Join(dir, "run"), filepath.Join(dir, "model.h")
	perm := func(name string) os.FileMode {
		if name == exe {
			return 0o777
		}
		return DefaultPerm
	}
	require.NoError(t, WriteFilesPerm([]string{exe, txt}, perm, func(name string, w io.Writer) error {
		_, err := io.WriteString(w, name)
		return err
	}))
	st, err := os.Stat(exe)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o777)&^umask(), st.Mode().Perm())
	assert.NotZero(t, st.Mode().Perm()&0o100, "the executable can be run")
	st, err = os.Stat(txt)
	require.NoError(t, err)
	assert.Equal(t, DefaultPerm&^umask(), st.Mode().Perm())
	assertOnly(t, dir, "run", "model.h")
}
