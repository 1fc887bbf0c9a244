package hw

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/vggsim/vggsim/internal/suggest"
)

// DefaultPreset is the name of the preset Default returns.
const DefaultPreset = "edge-32"

//go:embed presets/*.yaml
var presetFS embed.FS

// loadPresets parses every embedded preset once, through Parse like any user file. Each
// file's name must equal the name it declares.
var loadPresets = sync.OnceValues(func() (map[string]*Config, error) {
	files, err := fs.Glob(presetFS, "presets/*.yaml")
	if err != nil {
		return nil, err
	}
	m := make(map[string]*Config, len(files))
	var errs []error
	for _, f := range files {
		data, err := presetFS.ReadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c, err := Parse(f, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if want := strings.TrimSuffix(path.Base(f), ".yaml"); c.Name != want {
			errs = append(errs, fmt.Errorf("%s: preset is named %q, want %q", f, c.Name, want))
			continue
		}
		m[c.Name] = c
	}
	return m, errors.Join(errs...)
})

// PresetNames returns the names of the embedded presets, sorted.
func PresetNames() []string {
	m, _ := loadPresets()
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Preset returns a copy of the embedded preset with this name. For an unknown name the
// error suggests the nearest names and lists them all.
func Preset(name string) (*Config, error) {
	m, err := loadPresets()
	if err != nil {
		return nil, fmt.Errorf("hw: embedded presets are broken: %w", err)
	}
	if c, ok := m[name]; ok {
		return c.Clone(), nil
	}
	names := PresetNames()
	return nil, fmt.Errorf("unknown hardware preset %q%s; presets: %s",
		name, suggest.DidYouMean(suggest.Nearest(name, names)), strings.Join(names, ", "))
}

// Presets returns copies of all embedded presets, sorted by name.
func Presets() []*Config {
	var cs []*Config
	for _, n := range PresetNames() {
		c, _ := Preset(n)
		cs = append(cs, c)
	}
	return cs
}

// Default returns a copy of the default preset, edge-32.
func Default() *Config {
	c, err := Preset(DefaultPreset)
	if err != nil {
		// The presets are embedded and tested; this is a build defect, not user input.
		panic(err)
	}
	return c
}

// Resolve returns the hardware named by a command-line argument: an embedded preset's name,
// or else the path of a YAML file. A name that is neither gets an error suggesting presets.
func Resolve(arg string) (*Config, error) {
	if arg == "" {
		return nil, fmt.Errorf("no hardware given; want a preset (%s) or a YAML file", strings.Join(PresetNames(), ", "))
	}
	c, perr := Preset(arg)
	if perr == nil {
		return c, nil
	}
	if _, err := os.Stat(arg); err == nil || looksLikePath(arg) {
		return Load(arg)
	}
	return nil, fmt.Errorf("%w; nor is it a file", perr)
}

// looksLikePath reports whether arg is evidently meant as a file rather than a preset name.
func looksLikePath(arg string) bool {
	ext := strings.ToLower(path.Ext(arg))
	return strings.ContainsAny(arg, `/\`) || ext == ".yaml" || ext == ".yml"
}
