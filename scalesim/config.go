package scalesim

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/sim"
)

// ini is a parsed INI file with Python configparser semantics: case-insensitive keys,
// `key = value` or `key: value`, full-line comments starting with # or ;, indented
// continuation lines, no inline comments, duplicate sections and keys rejected.
type ini struct {
	sections map[string]map[string]iniValue // section name (as written) → lower-cased key
	order    []string
}

// iniValue is one value of an INI file and where it starts.
type iniValue struct {
	value string
	line  int
	col   int // column of the value's first byte (1-based)
}

// posError is an error at a position in a named file.
type posError struct {
	file      string
	line, col int
	msg       string
}

// Error formats the problem as file:line:col: message, leaving out the unknown parts.
func (e *posError) Error() string {
	switch {
	case e.line == 0:
		return fmt.Sprintf("%s: %s", e.file, e.msg)
	case e.col == 0:
		return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.file, e.line, e.col, e.msg)
}

// parseINI parses data, the INI file name, and returns it with every problem found.
func parseINI(name string, data []byte) (*ini, []error) {
	f := &ini{sections: map[string]map[string]iniValue{}}
	var errs []error
	var cur map[string]iniValue
	var curName string
	lastKey := ""
	lastIndent := -1
	lines := strings.Split(string(data), "\n")
	for i, raw := range lines {
		ln := i + 1
		line := strings.TrimRight(raw, "\r")
		trimmed := strings.TrimSpace(line)
		indent := len(line) - len(strings.TrimLeft(line, " \t"))
		if trimmed == "" {
			lastKey = "" // a blank line ends a multi-line value
			continue
		}
		if strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, ";") {
			continue
		}
		if cur != nil && lastKey != "" && indent > lastIndent {
			v := cur[lastKey]
			v.value += "\n" + trimmed
			cur[lastKey] = v
			continue
		}
		if strings.HasPrefix(trimmed, "[") {
			end := strings.LastIndexByte(trimmed, ']')
			if end < 2 {
				errs = append(errs, &posError{name, ln, indent + 1, fmt.Sprintf("malformed section header %q", trimmed)})
				cur, lastKey = nil, ""
				continue
			}
			curName = trimmed[1:end]
			if _, dup := f.sections[curName]; dup {
				errs = append(errs, &posError{name, ln, indent + 1, fmt.Sprintf("duplicate section [%s]", curName)})
			} else {
				f.sections[curName] = map[string]iniValue{}
				f.order = append(f.order, curName)
			}
			cur, lastKey = f.sections[curName], ""
			continue
		}
		eq := strings.IndexAny(trimmed, "=:")
		if eq < 0 {
			errs = append(errs, &posError{name, ln, indent + 1, fmt.Sprintf("expected `key = value`, got %q", trimmed)})
			lastKey = ""
			continue
		}
		if cur == nil {
			errs = append(errs, &posError{name, ln, indent + 1, "key outside any [section]"})
			continue
		}
		key := strings.ToLower(strings.TrimSpace(trimmed[:eq]))
		if key == "" {
			errs = append(errs, &posError{name, ln, indent + 1, "empty key"})
			lastKey = ""
			continue
		}
		rest := trimmed[eq+1:]
		val := strings.TrimSpace(rest)
		col := indent + eq + 2 + (len(rest) - len(strings.TrimLeft(rest, " \t")))
		if _, dup := cur[key]; dup {
			errs = append(errs, &posError{name, ln, indent + 1, fmt.Sprintf("duplicate key %q in [%s]", key, curName)})
			lastKey = ""
			continue
		}
		cur[key] = iniValue{value: val, line: ln, col: col}
		lastKey, lastIndent = key, indent
	}
	return f, errs
}

// get looks key up in section, falling back to [DEFAULT] as configparser does.
func (f *ini) get(section, key string) (iniValue, bool) {
	key = strings.ToLower(key)
	if s, ok := f.sections[section]; ok {
		if v, ok := s[key]; ok {
			return v, true
		}
	}
	if s, ok := f.sections["DEFAULT"]; ok {
		if v, ok := s[key]; ok {
			return v, true
		}
	}
	return iniValue{}, false
}

// ReadConfig reads a SCALE-Sim .cfg file. See ParseConfig.
func ReadConfig(path string) (*sim.ScaleSimConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, data)
}

// ParseConfig parses the SCALE-Sim configuration in data; name is used in error messages.
// Required: [architecture_presets] ArrayHeight, ArrayWidth, IfmapSramSzkB, FilterSramSzkB,
// OfmapSramSzkB, Dataflow. Optional, with SCALE-Sim's defaults: [general] run_name
// ("scale_run"), the three offsets (0, 10000000, 20000000), Bandwidth, MemoryBanks (1) and
// [run_presets] InterfaceBandwidth (CALC). Every problem is reported, each as file:line:col.
func ParseConfig(name string, data []byte) (*sim.ScaleSimConfig, error) {
	f, errs := parseINI(name, data)
	cfg := &sim.ScaleSimConfig{
		RunName:            "scale_run",
		FilterOffset:       10000000,
		OfmapOffset:        20000000,
		MemoryBanks:        1,
		InterfaceBandwidth: "CALC",
	}
	if v, ok := f.get("general", "run_name"); ok {
		cfg.RunName = v.value
	}
	const arch = "architecture_presets"
	// intValue parses key of [architecture_presets] as an integer; it reports a bad value, or
	// a missing key when required, and then returns ok=false.
	intValue := func(key string, required bool) (n int64, v iniValue, ok bool) {
		v, found := f.get(arch, key)
		if !found {
			if required {
				errs = append(errs, &posError{file: name, msg: fmt.Sprintf("[%s] %s: missing", arch, key)})
			}
			return 0, v, false
		}
		n, err := parsePyInt(v.value)
		if err != nil {
			errs = append(errs, &posError{name, v.line, v.col, fmt.Sprintf("%s: %v", key, err)})
			return 0, v, false
		}
		return n, v, true
	}
	// size reads a count that must be between 1 and 2^30.
	size := func(key string, dst *int, required bool) {
		n, v, ok := intValue(key, required)
		if !ok {
			return
		}
		if n < 1 || n > 1<<30 {
			errs = append(errs, &posError{name, v.line, v.col, fmt.Sprintf("%s: must be between %d and %d, got %d", key, 1, 1<<30, n)})
			return
		}
		*dst = int(n)
	}
	offset := func(key string, dst *int64) {
		if n, _, ok := intValue(key, false); ok {
			*dst = n
		}
	}
	if _, ok := f.sections[arch]; !ok {
		errs = append(errs, &posError{file: name, msg: "missing section [architecture_presets]"})
	} else {
		size("ArrayHeight", &cfg.ArrayHeight, true)
		size("ArrayWidth", &cfg.ArrayWidth, true)
		size("IfmapSramSzkB", &cfg.IfmapSRAMkB, true)
		size("FilterSramSzkB", &cfg.FilterSRAMkB, true)
		size("OfmapSramSzkB", &cfg.OfmapSRAMkB, true)
		size("MemoryBanks", &cfg.MemoryBanks, false)
		offset("IfmapOffset", &cfg.IfmapOffset)
		offset("FilterOffset", &cfg.FilterOffset)
		offset("OfmapOffset", &cfg.OfmapOffset)
		if v, ok := f.get(arch, "Dataflow"); !ok {
			errs = append(errs, &posError{file: name, msg: fmt.Sprintf("[%s] Dataflow: missing", arch)})
		} else if df := hw.Dataflow(v.value); df.Valid() {
			cfg.Dataflow = df
		} else {
			errs = append(errs, &posError{name, v.line, v.col, fmt.Sprintf("Dataflow: must be os, ws or is, got %q", v.value)})
		}
		if v, ok := f.get(arch, "Bandwidth"); ok && v.value != "" {
			for part := range strings.SplitSeq(v.value, ",") {
				n, err := parsePyInt(part)
				if err != nil || n < 1 || n > 1<<30 {
					errs = append(errs, &posError{name, v.line, v.col, fmt.Sprintf("Bandwidth: want positive integers separated by commas, got %q", v.value)})
					cfg.Bandwidth = nil
					break
				}
				cfg.Bandwidth = append(cfg.Bandwidth, int(n))
			}
		}
	}
	if v, ok := f.get("run_presets", "InterfaceBandwidth"); ok {
		switch v.value {
		case "CALC":
			cfg.InterfaceBandwidth = v.value
		case "USER":
			cfg.InterfaceBandwidth = v.value
			if _, given := f.get(arch, "Bandwidth"); !given {
				errs = append(errs, &posError{name, v.line, v.col, "InterfaceBandwidth: USER needs [architecture_presets] Bandwidth (words per cycle)"})
			}
		default:
			errs = append(errs, &posError{name, v.line, v.col, fmt.Sprintf("InterfaceBandwidth: must be CALC or USER, got %q", v.value)})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cfg, nil
}

// parsePyInt parses an integer the way Python's int() does for the values SCALE-Sim reads:
// surrounding spaces, an optional sign, decimal digits with single underscores between them.
func parsePyInt(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if strings.Contains(t, "__") || strings.HasPrefix(strings.TrimLeft(t, "+-"), "_") || strings.HasSuffix(t, "_") {
		return 0, fmt.Errorf("not an integer: %q", s)
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(t, "_", ""), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not an integer: %q", s)
	}
	return n, nil
}
