package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/vggsim/vggsim/internal/progress"
	"slices"
	"strings"
)

// checkFormat reports an error unless format is one of want: `--format "xml": want table,
// json or csv`.
func checkFormat(format string, want ...string) error {
	if slices.Contains(want, format) {
		return nil
	}
	return fmt.Errorf("--format %q: want %s", format, orList(want))
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// bytesString formats a byte count with a binary unit and two decimals: 512 B, 1.50 MiB.
func bytesString(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.2f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

// ratioString formats a/b as "1.23x", "-" for 0/0 and "inf" for a/0.
func ratioString(a, b float64) string {
	if b == 0 {
		if a == 0 {
			return "-"
		}
		return "inf"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

// energyString formats joules as mJ, or µJ below 0.1 mJ.
func energyString(j float64) string {
	if j < 1e-4 {
		return fmt.Sprintf("%.3f µJ", j*1e6)
	}
	return fmt.Sprintf("%.3f mJ", j*1e3)
}

// stdoutPath is the -o value that means standard output, where the output is one stream.
const stdoutPath = "-"

// noStdout returns an input error when an output flag that names a file (or a directory)
// that cannot be a stream is "-": no command creates a file named "-".
func noStdout(flag, value, why string) error {
	if value != stdoutPath {
		return nil
	}
	return badInput(fmt.Errorf("%s -: %s; give a file name", flag, why))
}

// binaryToStdout returns an input error when binary output would go to a terminal
// (`-o -` without a redirection).
func binaryToStdout(w io.Writer, what string) error {
	if progress.IsTerminal(w) {
		return badInput(fmt.Errorf("-o -: refusing to write %s to a terminal; redirect stdout or give a file name", what))
	}
	return nil
}
