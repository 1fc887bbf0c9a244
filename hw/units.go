package hw

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/vggsim/vggsim/internal/suggest"
)

// A quantity in a hardware file is a decimal number, optional blanks and a unit symbol:
// "64KiB", "700 MHz", "0.2pJ". Units are case-sensitive. See docs/hardware.md.

// kind is the physical dimension of a quantity.
type kind int

const (
	kindSize      kind = iota // bytes
	kindFrequency             // hertz
	kindBandwidth             // bytes per second
	kindEnergy                // picojoules
	kindPower                 // watts
)

// want describes what a field of this kind expects, for error messages.
func (k kind) want() string {
	return [...]string{
		kindSize:      "a size like 64KiB",
		kindFrequency: "a frequency like 700MHz",
		kindBandwidth: "a bandwidth like 16GB/s",
		kindEnergy:    "an energy like 0.2pJ",
		kindPower:     "a power like 0.5W",
	}[k]
}

// article names the kind with its article: "a bandwidth".
func (k kind) article() string {
	return [...]string{
		kindSize:      "a size",
		kindFrequency: "a frequency",
		kindBandwidth: "a bandwidth",
		kindEnergy:    "an energy",
		kindPower:     "a power",
	}[k]
}

// unit is one accepted unit symbol: value in the kind's base unit = number · num/den.
type unit struct {
	sym      string
	kind     kind
	num, den int64
	min      float64 // Format uses the unit only for magnitudes ≥ min (0: 1)
}

const (
	kibi = 1 << 10
	mebi = 1 << 20
	gibi = 1 << 30
	tebi = 1 << 40
)

// units is every accepted symbol. Within a kind, larger units come first: Format tries them
// in this order. SI prefixes are powers of 1000 (kB = KB = 1000 B), IEC ones powers of 1024.
var units = slices.Concat(
	byteUnits(kindSize, ""),
	[]unit{
		{sym: "THz", kind: kindFrequency, num: 1e12, den: 1},
		{sym: "GHz", kind: kindFrequency, num: 1e9, den: 1},
		{sym: "MHz", kind: kindFrequency, num: 1e6, den: 1},
		{sym: "kHz", kind: kindFrequency, num: 1e3, den: 1},
		{sym: "Hz", kind: kindFrequency, num: 1, den: 1},
	},
	byteUnits(kindBandwidth, "/s"),
	[]unit{
		{sym: "J", kind: kindEnergy, num: 1e12, den: 1},
		{sym: "mJ", kind: kindEnergy, num: 1e9, den: 1},
		{sym: "uJ", kind: kindEnergy, num: 1e6, den: 1},
		{sym: "µJ", kind: kindEnergy, num: 1e6, den: 1},
		{sym: "nJ", kind: kindEnergy, num: 1e3, den: 1},
		{sym: "pJ", kind: kindEnergy, num: 1, den: 1, min: 0.01},
		{sym: "fJ", kind: kindEnergy, num: 1, den: 1e3},

		{sym: "kW", kind: kindPower, num: 1e3, den: 1},
		{sym: "W", kind: kindPower, num: 1, den: 1},
		{sym: "mW", kind: kindPower, num: 1, den: 1e3},
		{sym: "uW", kind: kindPower, num: 1, den: 1e6},
		{sym: "µW", kind: kindPower, num: 1, den: 1e6},
	},
)

// byteUnits returns the byte units of kind k (sizes, or with suffix "/s" bandwidths),
// largest first.
func byteUnits(k kind, suffix string) []unit {
	us := []unit{
		{sym: "TiB", num: tebi},
		{sym: "TB", num: 1e12},
		{sym: "GiB", num: gibi},
		{sym: "GB", num: 1e9},
		{sym: "MiB", num: mebi},
		{sym: "MB", num: 1e6},
		{sym: "KiB", num: kibi},
		{sym: "kB", num: 1e3},
		{sym: "KB", num: 1e3},
		{sym: "B", num: 1},
	}
	for i := range us {
		us[i].sym += suffix
		us[i].kind, us[i].den = k, 1
	}
	return us
}

// baseUnit is the symbol of each kind's base unit, used when no other unit is exact.
var baseUnit = [...]string{kindSize: "B", kindFrequency: "Hz", kindBandwidth: "B/s", kindEnergy: "pJ", kindPower: "W"}

// lookupUnit returns the unit with exactly this symbol.
func lookupUnit(sym string) (unit, bool) {
	for _, u := range units {
		if u.sym == sym {
			return u, true
		}
	}
	return unit{}, false
}

// suggestUnit returns the accepted symbol the mistyped sym most likely meant, or "".
// Units of the wanted kind are preferred.
func suggestUnit(sym string, k kind) string {
	best, bestScore := "", 3
	for _, u := range units {
		score := 2
		switch {
		case strings.EqualFold(u.sym, sym):
			score = 0
		case suggest.Distance(strings.ToLower(u.sym), strings.ToLower(sym)) > 1:
			continue
		}
		if u.kind != k {
			score++
		}
		if score < bestScore {
			best, bestScore = u.sym, score
		}
	}
	return best
}

const (
	maxNumberLen = 64  // characters in the number part of a quantity
	maxExponent  = 400 // |e| in "1e400", enough for any float64
)

// splitQuantity splits s into its number and unit parts, checking the number's syntax.
func splitQuantity(s string) (number, sym string, ok bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return "", "", false
	}
	// An exponent only when digits follow, so that "1e" stays a (bad) unit, not a number.
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			i = j
		}
	}
	return s[:i], strings.TrimLeft(s[i:], " \t"), true
}

// isDigit reports whether c is an ASCII decimal digit.
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isBits reports whether a unit symbol is a byte unit with the B written as bits: "Mb",
// "Kib", "Gb/s", "Gbps".
func isBits(sym string) bool {
	for _, r := range []struct{ bits, bytes string }{{"bps", "B/s"}, {"b/s", "B/s"}, {"b", "B"}} {
		if prefix, ok := strings.CutSuffix(sym, r.bits); ok {
			if _, ok := lookupUnit(prefix + r.bytes); ok {
				return true
			}
		}
	}
	return false
}

// parseQuantity parses s as a quantity of kind k and returns its exact value in the kind's
// base unit. A bare number is accepted as bytes for sizes and, for every kind, as zero.
func parseQuantity(s string, k kind) (*big.Rat, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("no value, want %s", k.want())
	}
	number, sym, ok := splitQuantity(s)
	if !ok {
		return nil, fmt.Errorf("%q is not a number with a unit, want %s", s, k.want())
	}
	if len(number) > maxNumberLen {
		return nil, fmt.Errorf("%q: number too long", s)
	}
	if e := strings.IndexAny(number, "eE"); e >= 0 {
		exp, err := strconv.Atoi(strings.TrimPrefix(number[e+1:], "+"))
		if err != nil || exp > maxExponent || exp < -maxExponent {
			return nil, fmt.Errorf("%q is out of range", s)
		}
	}
	r, ok := new(big.Rat).SetString(number)
	if !ok {
		return nil, fmt.Errorf("%q is not a number with a unit, want %s", s, k.want())
	}
	if sym == "" {
		if k == kindSize || r.Sign() == 0 {
			return r, nil
		}
		return nil, fmt.Errorf("%q has no unit, want %s", s, k.want())
	}
	u, ok := lookupUnit(sym)
	if !ok {
		if (k == kindSize || k == kindBandwidth) && isBits(sym) {
			return nil, fmt.Errorf("%q is in bits, want bytes: %s", s, k.want())
		}
		if hint := suggestUnit(sym, k); hint != "" {
			return nil, fmt.Errorf("%q has unknown unit %q (did you mean %s?), want %s", s, sym, hint, k.want())
		}
		return nil, fmt.Errorf("%q has unknown unit %q, want %s", s, sym, k.want())
	}
	if u.kind != k {
		return nil, fmt.Errorf("%q is %s, want %s", s, u.kind.article(), k.want())
	}
	return r.Mul(r, big.NewRat(u.num, u.den)), nil
}

// parseSize parses a size in bytes; it must be a whole number of bytes.
func parseSize(s string) (int64, error) {
	r, err := parseQuantity(s, kindSize)
	if err != nil {
		return 0, err
	}
	if !r.IsInt() {
		return 0, fmt.Errorf("%q is not a whole number of bytes", strings.TrimSpace(s))
	}
	if !r.Num().IsInt64() {
		return 0, fmt.Errorf("%q is too large", strings.TrimSpace(s))
	}
	return r.Num().Int64(), nil
}

// parseFloat parses a quantity of a floating-point kind, rounding to the nearest float64.
func parseFloat(s string, k kind) (float64, error) {
	r, err := parseQuantity(s, k)
	if err != nil {
		return 0, err
	}
	f, _ := r.Float64()
	if math.IsInf(f, 0) || (f == 0 && r.Sign() != 0) {
		return 0, fmt.Errorf("%q is out of range", strings.TrimSpace(s))
	}
	return f, nil
}

// ParseSize parses a size such as "64KiB", "2MiB", "512KB" (SI: 512000) or "4096" (bytes)
// and returns it in bytes. The sign is kept; checking the range is up to the caller.
func ParseSize(s string) (int64, error) { return parseSize(s) }

// ParseFrequency parses a frequency such as "700MHz" or "1GHz" and returns it in hertz.
func ParseFrequency(s string) (float64, error) { return parseFloat(s, kindFrequency) }

// ParseBandwidth parses a bandwidth such as "34GB/s" or "20GiB/s" and returns it in bytes
// per second.
func ParseBandwidth(s string) (float64, error) { return parseFloat(s, kindBandwidth) }

// ParseEnergy parses an energy such as "0.2pJ", "1nJ" or "20fJ" and returns it in picojoules.
func ParseEnergy(s string) (float64, error) { return parseFloat(s, kindEnergy) }

// ParsePower parses a power such as "0.5W" or "300mW" and returns it in watts.
func ParsePower(s string) (float64, error) { return parseFloat(s, kindPower) }

// FormatSize formats a size in bytes with the unit that needs the fewest digits (ties go to
// the larger unit), such as "64KiB", "28.25MiB" or "6.144MB". ParseSize reads the result
// back exactly.
func FormatSize(bytes int64) string {
	v := new(big.Rat).SetInt64(bytes)
	best, bestDigits := strconv.FormatInt(bytes, 10)+"B", math.MaxInt
	for _, u := range units {
		if u.kind != kindSize {
			continue
		}
		x := new(big.Rat).Quo(v, big.NewRat(u.num, u.den))
		if u.num > 1 && x.Cmp(big.NewRat(1, 1)) < 0 && x.Cmp(big.NewRat(-1, 1)) > 0 {
			continue
		}
		s := strings.TrimRight(strings.TrimRight(x.FloatString(45), "0"), ".")
		if back, ok := new(big.Rat).SetString(s); !ok || back.Cmp(x) != 0 {
			continue // no finite decimal
		}
		if d := sigDigits(s); d < bestDigits {
			best, bestDigits = s+u.sym, d
		}
	}
	return best
}

// formatFloat formats v (in k's base unit) with the unit that needs the fewest digits and
// still reads back as exactly v; ties go to the larger unit.
func formatFloat(v float64, k kind) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64) + baseUnit[k]
	}
	best, bestDigits := "", math.MaxInt
	for _, u := range units {
		if u.kind != k {
			continue
		}
		factor := float64(u.num) / float64(u.den)
		x := v / factor
		min := u.min
		if min == 0 {
			min = 1
		}
		if math.Abs(x) < min {
			continue
		}
		s := strconv.FormatFloat(x, 'f', -1, 64)
		if len(s) > 24 {
			continue
		}
		if back, err := parseFloat(s+u.sym, k); err != nil || back != v {
			continue
		}
		if d := sigDigits(s); d < bestDigits {
			best, bestDigits = s+u.sym, d
		}
	}
	if best == "" {
		best = strconv.FormatFloat(v, 'g', -1, 64) + baseUnit[k]
	}
	return best
}

// sigDigits counts the digits of a decimal string after its leading zeros: "64" 2,
// "0.2" 1, "1000" 4, "28.25" 4. Format picks the unit that minimizes it.
func sigDigits(s string) int {
	s = strings.TrimLeft(s, "+-")
	s = strings.ReplaceAll(s, ".", "")
	s = strings.TrimLeft(s, "0")
	return max(len(s), 1)
}

// FormatFrequency formats a frequency in hertz, such as "700MHz".
func FormatFrequency(hz float64) string { return formatFloat(hz, kindFrequency) }

// FormatBandwidth formats a bandwidth in bytes per second, such as "34GB/s".
func FormatBandwidth(bytesPerSecond float64) string {
	return formatFloat(bytesPerSecond, kindBandwidth)
}

// FormatEnergy formats an energy in picojoules, such as "0.2pJ" or "1.5nJ".
func FormatEnergy(pJ float64) string { return formatFloat(pJ, kindEnergy) }

// FormatPower formats a power in watts, such as "0W" or "40W".
func FormatPower(watts float64) string { return formatFloat(watts, kindPower) }
