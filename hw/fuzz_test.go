package hw

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics, that a rejection is a non-empty ErrorList of
// positioned messages, and that an accepted Config is valid and survives a round trip
// through YAML unchanged. Seeds: every file under testdata and the presets. Crashers found
// by `go test -fuzz=FuzzParse` are kept in testdata/fuzz/FuzzParse and rerun by go test.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/*/*.yaml", "presets/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T %q is not a non-empty ErrorList", err, err)
			}
			if c != nil {
				t.Fatalf("Parse returned a Config with an error")
			}
			for _, e := range list {
				if e.Msg == "" || e.Pos.Filename != "fuzz.yaml" {
					t.Fatalf("bad error %#v", e)
				}
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a Config that Validate rejects: %v", err)
		}
		out := c.YAML()
		back, err := Parse("round.yaml", out)
		if err != nil {
			t.Fatalf("YAML output does not parse: %v\n%s", err, out)
		}
		if *back != *c {
			t.Fatalf("round trip changed the Config:\n%+v\n%+v\n%s", *c, *back, out)
		}
	})
}

// FuzzQuantity checks that whatever a quantity parser accepts formats back to the same value.
func FuzzQuantity(f *testing.F) {
	for _, s := range []string{"64KiB", "512KB", "1.5 GHz", "34GB/s", "0.2pJ", "300mW", "1e3", "-0", "1.1kB", "20fJ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if v, err := parseSize(s); err == nil {
			if back, err := parseSize(FormatSize(v)); err != nil || back != v {
				t.Fatalf("size %q = %d formats as %q, reads back %d, %v", s, v, FormatSize(v), back, err)
			}
		}
		for k := kindFrequency; k <= kindPower; k++ {
			if v, err := parseFloat(s, k); err == nil {
				if back, err := parseFloat(formatFloat(v, k), k); err != nil || back != v {
					t.Fatalf("%q = %g formats as %q, reads back %g, %v", s, v, formatFloat(v, k), back, err)
				}
			}
		}
	})
}
