package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// runCmd runs a subcommand's entry point (or run, the whole CLI) in-process and returns its
// output and exit status.
func runCmd(t *testing.T, cmd func(args []string, stdout, stderr io.Writer) int, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cmd(args, &out, &errb)
	return out.String(), errb.String(), code
}

// vggsim runs the CLI in-process and returns its output and exit status.
func vggsim(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCmd(t, run, args...)
}

// runLine runs the CLI exactly as a user would type it (without the program name) and
// returns its output; any exit status but 0 fails t.
func runLine(t *testing.T, line string) string {
	t.Helper()
	out, errs, code := vggsim(t, strings.Fields(line)...)
	if code != exitOK {
		t.Fatalf("vggsim %s: exit %d: %s", line, code, errs)
	}
	return out
}
