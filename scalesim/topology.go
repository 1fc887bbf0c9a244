package scalesim

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/vggsim/vggsim/sim"
)

// TopologyFormat names the two topology CSV layouts SCALE-Sim reads.
type TopologyFormat int

// The topology layouts.
const (
	// AutoFormat picks GEMM when the header has exactly four fields, conv otherwise.
	AutoFormat TopologyFormat = iota
	// ConvFormat: `Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width,
	// Channels, Num Filter, Strides,` with an optional column stride after Strides.
	ConvFormat
	// GEMMFormat: `Layer, M, N, K,`.
	GEMMFormat
)

// maxTopoValue bounds every topology number so products stay far from overflow.
const maxTopoValue = 1 << 24

// DefaultMaxLayers bounds the layers one topology file may produce, depthwise rows
// expanded (MobileNet-style networks give a few thousand). $VGGSIM_MAX_TOPOLOGY_LAYERS
// raises it.
const DefaultMaxLayers = 1 << 16

// EnvMaxLayers is the environment variable that overrides DefaultMaxLayers.
const EnvMaxLayers = "VGGSIM_MAX_TOPOLOGY_LAYERS"

// MaxLayers returns the layer limit: $VGGSIM_MAX_TOPOLOGY_LAYERS if set, else
// DefaultMaxLayers.
func MaxLayers() (int, error) {
	s := os.Getenv(EnvMaxLayers)
	if s == "" {
		return DefaultMaxLayers, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("$%s: want a positive integer, got %q", EnvMaxLayers, s)
	}
	return n, nil
}

// ReadTopology reads a SCALE-Sim topology CSV, conv or GEMM layout (detected from the header).
// See ParseTopology.
func ReadTopology(path string) ([]sim.ScaleSimLayer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseTopology(path, data, AutoFormat)
}

// ParseTopology parses a topology CSV; name is used in error messages. As in SCALE-Sim the first
// line is a header and blank lines are skipped; each row ends with a comma (a row without the
// trailing comma is accepted too). A conv row whose name contains "DP" is SCALE-Sim's
// depthwise form: it becomes one single-channel layer per channel, named name+"Channel_"+i.
// A GEMM row `name, M, N, K` becomes sim.GEMMLayer. Every bad row is reported as
// file:line:col. At most MaxLayers() layers are accepted.
func ParseTopology(name string, data []byte, format TopologyFormat) ([]sim.ScaleSimLayer, error) {
	limit, err := MaxLayers()
	if err != nil {
		return nil, err
	}
	return ParseTopologyLimit(name, data, format, limit)
}

// ParseTopologyLimit is ParseTopology with an explicit bound on the number of layers,
// checked before a depthwise row is expanded.
func ParseTopologyLimit(name string, data []byte, format TopologyFormat, maxLayers int) ([]sim.ScaleSimLayer, error) {
	lines := strings.Split(string(data), "\n")
	var layers []sim.ScaleSimLayer
	var errs []error
	headerSeen := false
	for i, raw := range lines {
		ln := i + 1
		line := strings.TrimSpace(strings.TrimRight(raw, "\r"))
		if !headerSeen {
			headerSeen = true
			if format == AutoFormat {
				format = ConvFormat
				if len(splitFields(line)) == 4 {
					format = GEMMFormat
				}
			}
			continue
		}
		if line == "" {
			continue
		}
		if len(layers) >= maxLayers {
			errs = append(errs, &posError{name, ln, 1, fmt.Sprintf("more than %d layers (set $%s to allow more)", maxLayers, EnvMaxLayers)})
			break
		}
		fields := splitFields(line)
		if format == GEMMFormat && len(fields) != 4 {
			errs = append(errs, &posError{name, ln, 1, fmt.Sprintf("want 4 fields (Layer, M, N, K), got %d", len(fields))})
			continue
		}
		if format == ConvFormat && len(fields) != 8 && len(fields) != 9 {
			errs = append(errs, &posError{name, ln, 1, fmt.Sprintf("want 8 or 9 fields (Layer name, IFMAP Height, IFMAP Width, "+
				"Filter Height, Filter Width, Channels, Num Filter, Strides[, column stride]), got %d", len(fields))})
			continue
		}
		cols := fieldColumns(raw, len(fields))
		nums := make([]int, 0, len(fields))
		ok := true
		for j := 1; j < len(fields); j++ {
			v, err := strconv.Atoi(strings.TrimPrefix(fields[j], "+"))
			if err != nil || v < 1 || v > maxTopoValue {
				errs = append(errs, &posError{name, ln, cols[j], fmt.Sprintf("want an integer between 1 and %d, got %q", maxTopoValue, fields[j])})
				ok = false
				continue
			}
			nums = append(nums, v)
		}
		if !ok {
			continue
		}
		lname := fields[0]
		var l sim.ScaleSimLayer
		if format == GEMMFormat {
			l = sim.GEMMLayer(lname, nums[0], nums[1], nums[2])
		} else {
			l = sim.ScaleSimLayer{Name: lname, IfmapH: nums[0], IfmapW: nums[1], FilterH: nums[2],
				FilterW: nums[3], Channels: nums[4], NumFilters: nums[5], StrideH: nums[6], StrideW: nums[6]}
			if len(nums) == 8 {
				l.StrideW = nums[7]
			}
		}
		if err := l.Validate(); err != nil {
			errs = append(errs, &posError{name, ln, 1, fmt.Sprintf("layer %q: %s", lname, strings.ReplaceAll(err.Error(), "\n", "; "))})
			continue
		}
		if format == ConvFormat && strings.Contains(lname, "DP") {
			if len(layers)+l.Channels > maxLayers {
				errs = append(errs, &posError{name, ln, cols[5], fmt.Sprintf("depthwise row of %d channels makes more than %d layers (set $%s to allow more)",
					l.Channels, maxLayers, EnvMaxLayers)})
				break
			}
			for c := range l.Channels {
				d := l
				d.Name = lname + "Channel_" + strconv.Itoa(c)
				d.Channels = 1
				layers = append(layers, d)
			}
			continue
		}
		layers = append(layers, l)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(layers) == 0 {
		return nil, &posError{file: name, msg: "no layers (the first line is the header)"}
	}
	return layers, nil
}

// splitFields splits a CSV line on commas, trims each field and drops the empty field after a
// trailing comma.
func splitFields(line string) []string {
	line = strings.TrimSpace(line)
	if line == "" {
		return nil
	}
	parts := strings.Split(line, ",")
	if strings.TrimSpace(parts[len(parts)-1]) == "" {
		parts = parts[:len(parts)-1]
	}
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// fieldColumns returns the 1-based column where each of the first n fields of raw starts
// (after leading spaces).
func fieldColumns(raw string, n int) []int {
	cols := make([]int, 0, n)
	start := 0
	for range n {
		p := start
		for p < len(raw) && (raw[p] == ' ' || raw[p] == '\t') {
			p++
		}
		cols = append(cols, p+1)
		next := strings.IndexByte(raw[start:], ',')
		if next < 0 {
			start = len(raw)
		} else {
			start += next + 1
		}
	}
	return cols
}
