package codegen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/vggsim/vggsim/internal/atomicfile"
	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

// RunError is a failure of the runner executable: its exit status and its message.
type RunError struct {
	Status int
	Msg    string
}

func (e *RunError) Error() string { return e.Msg }

// BadInput reports whether the runner rejected its input (exit status 2).
func (e *RunError) BadInput() bool { return e.Status == 2 }

// Run runs the runner on x ([N, C, H, W] float32) with the weights blob at blob, in a
// fresh temporary directory, and returns the output as [N, C, H, W].
func (a *Artifacts) Run(blob string, x *tensor.Tensor) (*tensor.Tensor, error) {
	dir, err := os.MkdirTemp("", "vggsim-run-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "in.npy"), filepath.Join(dir, "out.npy")
	if err := npy.WriteFile(in, x); err != nil {
		return nil, err
	}
	if _, err := a.Exec(blob, in, out); err != nil {
		return nil, err
	}
	y, err := npy.ReadFile(out)
	if err != nil {
		return nil, err
	}
	if len(y.Shape) == 2 {
		y.Shape = append(y.Shape, 1, 1)
	}
	return y, nil
}

// Exec runs the runner on files: the blob, an input .npy and the output .npy to write,
// plus extra leading arguments (e.g. "-r", "10"). It returns the runner's stderr.
func (a *Artifacts) Exec(blob, in, out string, extra ...string) (string, error) {
	args := append(append([]string{}, extra...), blob, in, out)
	cmd := exec.Command(a.Exe, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		return stderr.String(), nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		msg := strings.TrimSpace(stderr.String())
		msg = strings.TrimPrefix(msg, a.Exe+": ")
		if msg == "" {
			msg = fmt.Sprintf("%s: %v", filepath.Base(a.Exe), err)
		}
		return "", &RunError{Status: ee.ExitCode(), Msg: msg}
	}
	return "", err
}

// Compiled is a graph ready to run natively: its module, compiled artifacts, and its
// weights blob in a private directory (remove it with Close).
type Compiled struct {
	Module    *Module
	Artifacts *Artifacts
	Blob      string
	dir       string
}

// Compile generates, compiles (through tc's cache) and writes the weights of g.
func Compile(g *ir.Graph, opts Options, tc *Toolchain) (*Compiled, error) {
	m, err := Generate(g, opts)
	if err != nil {
		return nil, err
	}
	a, err := tc.Compile(m)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "vggsim-weights-")
	if err != nil {
		a.Remove()
		return nil, err
	}
	c := &Compiled{Module: m, Artifacts: a, Blob: filepath.Join(dir, "weights.bin"), dir: dir}
	if err := m.WriteWeightsFile(c.Blob); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Run runs the compiled graph on x ([N, C, H, W]) and returns its output [N, C, H, W].
func (c *Compiled) Run(x *tensor.Tensor) (*tensor.Tensor, error) { return c.Artifacts.Run(c.Blob, x) }

// Close removes the weights blob, and the build when it is not cached.
func (c *Compiled) Close() error {
	c.Artifacts.Remove()
	return os.RemoveAll(c.dir)
}

// Install copies a build into dir (created if needed): <sym>.ll, <sym>.h, main.c (the
// runner's source), the kernels' C runtime files, lib<sym>.so and the runner <sym>. It returns the paths written.
// The files are written atomically as a set (internal/atomicfile): after a failure DIR
// still holds the previous build's files, whole.
func Install(m *Module, a *Artifacts, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	sym := m.Plan.Symbol
	data := map[string][]byte{}
	isExe := map[string]bool{}
	var paths []string
	add := func(name string, b []byte, executable bool) {
		p := filepath.Join(dir, name)
		paths = append(paths, p)
		data[p], isExe[p] = b, executable
	}
	add(sym+".ll", []byte(m.LL), false)
	add(sym+".h", []byte(m.Header()), false)
	add("main.c", []byte(runnerSource(m)), false)
	for _, c := range m.CSources {
		add(c.Name, []byte(c.Text), false)
	}
	for _, src := range []string{a.Lib, a.Exe} {
		b, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		add(filepath.Base(src), b, true)
	}
	// All files are written and synced before the first rename: DIR holds the previous
	// build or this one, never a mix.
	perm := func(p string) os.FileMode {
		if isExe[p] {
			return 0o777
		}
		return atomicfile.DefaultPerm
	}
	if err := atomicfile.WriteFilesPerm(paths, perm, func(p string, w io.Writer) error {
		_, err := w.Write(data[p])
		return err
	}); err != nil {
		return nil, err
	}
	return paths, nil
}
