package hw

import (
	"math"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"4096", 4096},
		{"1B", 1},
		{"512B", 512},
		{"1kB", 1000},
		{"1KB", 1000},
		{"512KB", 512000},
		{"1MB", 1_000_000},
		{"1GB", 1_000_000_000},
		{"1TB", 1_000_000_000_000},
		{"1KiB", 1024},
		{"64KiB", 65536},
		{"1MiB", 1 << 20},
		{"2MiB", 2 << 20},
		{"1GiB", 1 << 30},
		{"1TiB", 1 << 40},
		{"1.5KiB", 1536},
		{"1.1kB", 1100}, // exact decimal arithmetic: no 1100.0000000000002
		{"0.5MiB", 512 << 10},
		{"6.144MB", 6_144_000},
		{"1e3B", 1000},
		{"1E3", 1000},
		{" 64 KiB ", 65536},
		{"64\tKiB", 65536},
		{"-64KiB", -65536},
		{"+8", 8},
		{".5KiB", 512},
		{"8191PiB" /* not a unit */, -1},
		{"8TiB", 8 << 40},
	} {
		got, err := ParseSize(tc.in)
		if tc.want == -1 {
			if err == nil {
				t.Errorf("ParseSize(%q) = %d, want error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestParseFloatUnits(t *testing.T) {
	for _, tc := range []struct {
		parse func(string) (float64, error)
		in    string
		want  float64
	}{
		{ParseFrequency, "1Hz", 1},
		{ParseFrequency, "200kHz", 200e3},
		{ParseFrequency, "700MHz", 700e6},
		{ParseFrequency, "0.7GHz", 700e6},
		{ParseFrequency, "1GHz", 1e9},
		{ParseFrequency, "1.5 GHz", 1.5e9},
		{ParseFrequency, "1THz", 1e12},
		{ParseFrequency, "0", 0},

		{ParseBandwidth, "100B/s", 100},
		{ParseBandwidth, "1kB/s", 1e3},
		{ParseBandwidth, "1KB/s", 1e3},
		{ParseBandwidth, "512MB/s", 512e6},
		{ParseBandwidth, "34GB/s", 34e9},
		{ParseBandwidth, "1TB/s", 1e12},
		{ParseBandwidth, "1KiB/s", 1024},
		{ParseBandwidth, "1MiB/s", 1 << 20},
		{ParseBandwidth, "20GiB/s", 20 << 30},
		{ParseBandwidth, "1TiB/s", 1 << 40},

		{ParseEnergy, "20fJ", 0.02},
		{ParseEnergy, "0.2pJ", 0.2},
		{ParseEnergy, "1nJ", 1e3},
		{ParseEnergy, "1uJ", 1e6},
		{ParseEnergy, "1µJ", 1e6},
		{ParseEnergy, "1mJ", 1e9},
		{ParseEnergy, "1J", 1e12},

		{ParsePower, "0W", 0},
		{ParsePower, "0", 0},
		{ParsePower, "1.5W", 1.5},
		{ParsePower, "300mW", 0.3},
		{ParsePower, "20uW", 20e-6},
		{ParsePower, "20µW", 20e-6},
		{ParsePower, "1kW", 1e3},
	} {
		got, err := tc.parse(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parse(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseQuantityErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		k    kind
		want string // substring of the error
	}{
		{"64KB/s", kindSize, `"64KB/s" is a bandwidth, want a size like 64KiB`},
		{"64KiB", kindBandwidth, `"64KiB" is a size, want a bandwidth like 16GB/s`},
		{"1GHz", kindSize, `"1GHz" is a frequency, want a size like 64KiB`},
		{"1pJ", kindPower, `"1pJ" is an energy, want a power like 0.5W`},
		{"1W", kindEnergy, `"1W" is a power, want an energy like 0.2pJ`},
		{"700", kindFrequency, `"700" has no unit, want a frequency like 700MHz`},
		{"34", kindBandwidth, `"34" has no unit`},
		{"64kib", kindSize, `unknown unit "kib" (did you mean KiB?)`},
		{"64Kib", kindSize, `is in bits`},
		{"1Mbps", kindBandwidth, `is in bits`},
		{"1Ghz", kindFrequency, `(did you mean GHz?)`},
		{"1KHz", kindFrequency, `(did you mean kHz?)`},
		{"10Gbps", kindBandwidth, `"10Gbps" is in bits, want bytes: a bandwidth like 16GB/s`},
		{"10Gb/s", kindBandwidth, `is in bits`},
		{"64Kb", kindSize, `"64Kb" is in bits, want bytes: a size like 64KiB`},
		{"10furlongs", kindBandwidth, `unknown unit "furlongs", want a bandwidth`},
		{"KiB", kindSize, `"KiB" is not a number with a unit`},
		{"", kindSize, `no value, want a size`},
		{"1.5B", kindSize, `"1.5B" is not a whole number of bytes`},
		{"1.1KiB", kindSize, `not a whole number of bytes`},
		{"9EiB", kindSize, `unknown unit "EiB"`},
		{"10000000TiB", kindSize, `is too large`},
		{"1e400GHz", kindFrequency, `out of range`},
		{"1e401B", kindSize, `out of range`},
		{"1e-400pJ", kindEnergy, `out of range`}, // underflows to zero
		{strings.Repeat("1", 70) + "B", kindSize, `number too long`},
		{"1e", kindSize, `unknown unit "e"`},
		{"NaN", kindFrequency, `not a number`},
		{"Inf GHz", kindFrequency, `not a number`},
		{"0x10", kindSize, `unknown unit "x10"`},
	} {
		var err error
		if tc.k == kindSize {
			_, err = parseSize(tc.in)
		} else {
			_, err = parseFloat(tc.in, tc.k)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parse(%q, %v) error = %v, want it to contain %q", tc.in, tc.k, err, tc.want)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{FormatSize(0), "0B"},
		{FormatSize(1), "1B"},
		{FormatSize(1000), "1kB"},
		{FormatSize(1023), "1.023kB"},
		{FormatSize(65536), "64KiB"},
		{FormatSize(64000), "64kB"},
		{FormatSize(512000), "500KiB"},
		{FormatSize(12 << 20), "12MiB"},
		{FormatSize(28<<20 + 256<<10), "28.25MiB"},
		{FormatSize(6_144_000), "6.144MB"},
		{FormatSize(1_000_000), "1MB"},
		{FormatSize(123457), "123.457kB"},
		{FormatSize(123459), "123.459kB"},
		{FormatSize(1234567), "1.234567MB"},
		{FormatSize(1234567 * 1024), "1234567KiB"},
		{FormatSize(-65536), "-64KiB"},
		{FormatSize(1 << 40), "1TiB"},
		{FormatFrequency(1e9), "1GHz"},
		{FormatFrequency(700e6), "700MHz"},
		{FormatFrequency(200e3), "200kHz"},
		{FormatFrequency(1.5e9), "1.5GHz"},
		{FormatFrequency(3), "3Hz"},
		{FormatFrequency(0), "0Hz"},
		{FormatBandwidth(16e9), "16GB/s"},
		{FormatBandwidth(34e9), "34GB/s"},
		{FormatBandwidth(20 << 30), "20GiB/s"},
		{FormatBandwidth(720e6), "720MB/s"},
		{FormatEnergy(0.2), "0.2pJ"},
		{FormatEnergy(1.2), "1.2pJ"},
		{FormatEnergy(20), "20pJ"},
		{FormatEnergy(0.005), "5fJ"},
		{FormatEnergy(1500), "1.5nJ"},
		{FormatEnergy(0), "0pJ"},
		{FormatPower(0), "0W"},
		{FormatPower(0.3), "300mW"},
		{FormatPower(40), "40W"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// TestFormatRoundTrip checks that every Format reads back exactly, over awkward values.
func TestFormatRoundTrip(t *testing.T) {
	sizes := []int64{0, 1, 7, 1000, 1023, 1024, 1025, 123456789, 1<<62 + 12345, math.MaxInt64, math.MinInt64 + 1}
	for _, v := range sizes {
		s := FormatSize(v)
		if back, err := ParseSize(s); err != nil || back != v {
			t.Errorf("FormatSize(%d) = %q, reads back as %d, %v", v, s, back, err)
		}
	}
	floats := []float64{0, 1, 0.1, 0.2, 1.2, 1e-9, 3.3e-7, 700e6, 1.0 / 3, 12345.678, 1e300, math.MaxFloat64, math.SmallestNonzeroFloat64, 5e-324 * 3}
	for _, v := range floats {
		for k := kindFrequency; k <= kindPower; k++ {
			s := formatFloat(v, k)
			if back, err := parseFloat(s, k); err != nil || back != v {
				t.Errorf("formatFloat(%g, %v) = %q, reads back as %g, %v", v, k, s, back, err)
			}
		}
	}
}
