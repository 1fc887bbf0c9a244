package hw

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// wantRE finds "# want:" comments; quotedRE the Go-quoted strings that follow.
var (
	wantRE   = regexp.MustCompile(`#\s*want:(.*)$`)
	quotedRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
)

// wants returns the expected error substrings of a testdata file, by line.
func wants(t *testing.T, data []byte) map[int][]string {
	t.Helper()
	m := map[int][]string{}
	for i, line := range strings.Split(string(data), "\n") {
		w := wantRE.FindStringSubmatch(line)
		if w == nil {
			continue
		}
		for _, q := range quotedRE.FindAllString(w[1], -1) {
			s, err := strconv.Unquote(q)
			if err != nil {
				t.Fatalf("line %d: bad want %s: %v", i+1, q, err)
			}
			m[i+1] = append(m[i+1], s)
		}
	}
	return m
}

// TestBadFiles parses every testdata/bad file and checks that exactly the errors its
// "# want:" comments announce are reported, on their lines (see testdata/bad/README).
func TestBadFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := wants(t, data)
			if len(want) == 0 {
				t.Fatal("file has no # want: comments")
			}
			c, err := Parse(file, data)
			if err == nil {
				t.Fatalf("Parse succeeded: %v", c)
			}
			if c != nil {
				t.Errorf("Parse returned a Config with its error")
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is %T, want ErrorList: %v", err, err)
			}
			for _, e := range list {
				if e.Pos.Filename != file {
					t.Errorf("error %q has file %q", e, e.Pos.Filename)
				}
				if e.Msg == "" || e.Msg != strings.TrimSpace(e.Msg) {
					t.Errorf("error %q has a bad message", e)
				}
				matched := false
				for i, w := range want[e.Pos.Line] {
					if strings.Contains(e.Error(), w) {
						want[e.Pos.Line] = append(want[e.Pos.Line][:i:i], want[e.Pos.Line][i+1:]...)
						matched = true
						break
					}
				}
				if !matched {
					t.Errorf("unexpected error: %s", e)
				}
			}
			for line, ws := range want {
				for _, w := range ws {
					t.Errorf("line %d: missing error containing %q", line, w)
				}
			}
			if t.Failed() {
				t.Logf("all errors:\n%v", err)
			}
		})
	}
}

func TestErrorListFormat(t *testing.T) {
	_, err := Parse("chip.yaml", []byte("name: x\nclock: 1GHz\n"))
	got := err.Error()
	want := `chip.yaml:1:1: array: missing (want a mapping of rows, cols)
chip.yaml:1:1: data_bits: missing (want a width in bits from 1 to 64)
chip.yaml:1:1: dataflow: missing (want one of os, ws, is)
chip.yaml:1:1: dram: missing (want a mapping of bandwidth, kind)
chip.yaml:1:1: sram: missing (want a mapping of ifmap, filter, ofmap, accumulator)`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	var e *Error
	if !errors.As(err, &e) || e.Field != "array" {
		t.Errorf("errors.As(*Error) = %v", e)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/no-such-file.yaml")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want ErrNotExist", err)
	}
}

// TestMinimal checks the defaults a file with only the required keys gets.
func TestMinimal(t *testing.T) {
	c, err := Load("testdata/good/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Name: "minimal", Rows: 16, Cols: 8, Dataflow: WeightStationary,
		ClockHz: 500e6, DataBits: 8, AccBits: 32,
		IfmapSRAMBytes: 1 << 10, FilterSRAMBytes: 1 << 10, OfmapSRAMBytes: 1 << 10,
		DRAMBandwidth: 1e9, ProcessNM: 45, DRAMKind: LPDDR4,
	}
	if *c != want {
		t.Errorf("got  %+v\nwant %+v", *c, want)
	}
}

// TestFull checks a file that sets every key, with anchors, quoting and blanks in values.
func TestFull(t *testing.T) {
	c, err := Load("testdata/good/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Name: "full", Description: "every key: set", Source: "testdata",
		Rows: 128, Cols: 64, Dataflow: InputStationary,
		ClockHz: 1.25e9, DataBits: 4, AccBits: 24,
		IfmapSRAMBytes: 2 << 20, FilterSRAMBytes: 2 << 20, OfmapSRAMBytes: 512_000, AccumBytes: 1536,
		DRAMBandwidth: 20 << 30, ProcessNM: 7, DRAMKind: HBM2,
		Energy: Energy{MACpJ: 0.02, SRAMpJPerByte: 1.2, DRAMpJPerByte: 1000, LeakageW: 0.3},
	}
	if *c != want {
		t.Errorf("got  %+v\nwant %+v", *c, want)
	}
	if got := c.BytesPerWord(); got != 1 {
		t.Errorf("BytesPerWord of 4-bit words = %d, want 1", got)
	}
	if got := c.AccBytesPerWord(); got != 3 {
		t.Errorf("AccBytesPerWord of 24-bit accumulators = %d, want 3", got)
	}
}

// TestValidate checks the rules on Configs built in Go, where positions are unknown.
func TestValidate(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("default preset: %v", err)
	}
	c.AccBits = 0 // means 32
	if err := c.Validate(); err != nil {
		t.Errorf("AccBits 0: %v", err)
	}
	c.Rows, c.Dataflow, c.FilterSRAMBytes = 0, "xs", 1
	err := c.Validate()
	want := "array.rows: must be between 1 and 65536, got 0\n" +
		`dataflow: unknown dataflow "xs", want one of os, ws, is`
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	c = Default()
	c.FilterSRAMBytes = 63
	if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "sram.filter: 63B is too small") {
		t.Errorf("got %v", err)
	}
}

func TestMinSRAM(t *testing.T) {
	c := &Config{Rows: 4, Cols: 8, DataBits: 16}
	for _, tc := range []struct {
		df      Dataflow
		i, f, o int64
	}{
		{OutputStationary, 4, 8, 8},
		{WeightStationary, 4, 32, 8},
		{InputStationary, 32, 4, 8},
	} {
		c.Dataflow = tc.df
		i, f, o := c.MinSRAMWords()
		if i != tc.i || f != tc.f || o != tc.o {
			t.Errorf("%s: MinSRAMWords = %d, %d, %d; want %d, %d, %d", tc.df, i, f, o, tc.i, tc.f, tc.o)
		}
		bi, bf, bo := c.MinSRAMBytes()
		if bi != 4*tc.i || bf != 4*tc.f || bo != 4*tc.o {
			t.Errorf("%s: MinSRAMBytes = %d, %d, %d", tc.df, bi, bf, bo)
		}
		// The minimum is accepted, one byte less is not.
		c.IfmapSRAMBytes, c.FilterSRAMBytes, c.OfmapSRAMBytes = bi, bf, bo
		if errs := c.check(nil, nil); hasField(errs, "sram.") {
			t.Errorf("%s: minimum sizes rejected: %v", tc.df, errs)
		}
		c.IfmapSRAMBytes, c.FilterSRAMBytes, c.OfmapSRAMBytes = bi-1, bf-1, bo-1
		if errs := c.check(nil, nil); len(errs) < 3 || !hasField(errs, "sram.ofmap") {
			t.Errorf("%s: sizes below minimum accepted: %v", tc.df, errs)
		}
	}
}

func hasField(errs ErrorList, prefix string) bool {
	for _, e := range errs {
		if strings.HasPrefix(e.Field, prefix) {
			return true
		}
	}
	return false
}
