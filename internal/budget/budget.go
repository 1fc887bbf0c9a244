// Package budget holds the helpers behind vggsim's resource limits: counts read from
// environment variables ("64M", "8GiB") and byte sizes formatted for error messages.
// The limits themselves live with the code they protect (checkpoint, models, scalesim).
package budget

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ParseCount parses a positive count such as "1000", "64M" or "8GiB": the suffixes K, M,
// G, T multiply by powers of 1024 and may be followed by "B" or "iB".
func ParseCount(s string) (int64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimSuffix(t, "B")
	t = strings.TrimSuffix(t, "i")
	shift := 0
	if t != "" {
		switch t[len(t)-1] {
		case 'K', 'k':
			shift = 10
		case 'M', 'm':
			shift = 20
		case 'G', 'g':
			shift = 30
		case 'T', 't':
			shift = 40
		}
		if shift > 0 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("bad count %q, want a positive integer with an optional K, M, G or T suffix", s)
	}
	return n << shift, nil
}

// Env returns the count in environment variable name, or def if it is unset or empty.
// The error names the variable.
func Env(name string, def int64) (int64, error) {
	s := os.Getenv(name)
	if s == "" {
		return def, nil
	}
	n, err := ParseCount(s)
	if err != nil {
		return 0, fmt.Errorf("$%s: %v", name, err)
	}
	return n, nil
}

// Bytes formats n bytes for a message: "1000 B", "96 MiB", "21.75 GiB".
func Bytes(n int64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift {
			return fmt.Sprintf("%.4g %s", float64(n)/float64(int64(1)<<u.shift), u.name)
		}
	}
	return strconv.FormatInt(n, 10) + " B"
}
