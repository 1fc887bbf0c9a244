package codegen

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

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
func Install(m *Module, a *Artifacts, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	sym := m.Plan.Symbol
	var paths []string
	files := []struct {
		name string
		data string
	}{{sym + ".ll", m.LL}, {sym + ".h", m.Header()}, {"main.c", runnerSource(m)}}
	for _, c := range m.CSources {
		files = append(files, struct {
			name string
			data string
		}{c.Name, c.Text})
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, []byte(f.data), 0o644); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	for _, f := range []struct {
		src  string
		mode os.FileMode
	}{{a.Lib, 0o755}, {a.Exe, 0o755}} {
		data, err := os.ReadFile(f.src)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, filepath.Base(f.src))
		if err := os.WriteFile(p, data, f.mode); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}
