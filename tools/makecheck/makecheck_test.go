// Package makecheck tests the repository's Makefile: `make check` must fail on an
// unformatted Go file under the /bin/sh of Debian (dash), where a POSIX-unsafe recipe once
// passed everything.
package makecheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fmtcheck runs the Makefile's fmtcheck target (the gofmt step of `make check`) in dir with
// the given shell and returns its combined output and whether it succeeded.
func fmtcheck(t *testing.T, dir, shell string) (string, bool) {
	t.Helper()
	makefile, err := filepath.Abs(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("make", "--no-print-directory", "-C", dir, "-f", makefile, "fmtcheck", "SHELL="+shell)
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("running make: %v", err)
	}
	return string(out), err == nil
}

func shells(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("make is not installed (.ci/run installs it)")
		}
		t.Skip("make is not installed")
	}
	sh := []string{"/bin/sh"}
	if _, err := os.Stat("/bin/dash"); err == nil {
		sh = append(sh, "/bin/dash")
	} else if os.Getenv("CI") != "" {
		t.Fatal("CI runs on Debian, whose /bin/sh is dash, but /bin/dash is missing")
	}
	return sh
}

func TestFmtcheckFailsOnUnformattedFile(t *testing.T) {
	for _, sh := range shells(t) {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "ok.go"), "package x\n\nfunc f() {}\n")
		write(t, filepath.Join(dir, "sub", "bad.go"), "package x\nfunc  g( ) {\n}\n")
		out, ok := fmtcheck(t, dir, sh)
		if ok {
			t.Errorf("%s: make fmtcheck passed on an unformatted file; output:\n%s", sh, out)
		}
		if !strings.Contains(out, filepath.Join("sub", "bad.go")) || strings.Contains(out, "ok.go") {
			t.Errorf("%s: output should name sub/bad.go and only it:\n%s", sh, out)
		}
	}
}

func TestFmtcheckFailsOnSyntaxError(t *testing.T) {
	for _, sh := range shells(t) {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "broken.go"), "package x\nfunc {\n")
		if out, ok := fmtcheck(t, dir, sh); ok {
			t.Errorf("%s: make fmtcheck passed on a file gofmt cannot parse; output:\n%s", sh, out)
		}
	}
}

func TestFmtcheckPassesOnFormattedTree(t *testing.T) {
	for _, sh := range shells(t) {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "ok.go"), "package x\n\nfunc f() {}\n")
		if out, ok := fmtcheck(t, dir, sh); !ok {
			t.Errorf("%s: make fmtcheck failed on a formatted tree:\n%s", sh, out)
		}
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
