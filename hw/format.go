package hw

import (
	"bytes"

	"go.yaml.in/yaml/v3"
)

// YAML returns c as a hardware file in canonical form: every key in schema order, defaults
// written out, quantities in the unit that needs the fewest digits. Parse reads it back to
// an equal Config, so it is a good starting point for a custom file:
//
//	vggsim presets --format yaml tpu-v1 > my-chip.yaml
func (c *Config) YAML() []byte {
	str := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
	plain := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }
	mapping := func(flow bool, kv ...any) *yaml.Node {
		m := &yaml.Node{Kind: yaml.MappingNode}
		if flow {
			m.Style = yaml.FlowStyle
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m.Content = append(m.Content, plain(kv[i].(string)), kv[i+1].(*yaml.Node))
		}
		return m
	}

	// Every field of the table, in order; each section as one flow mapping.
	value := func(f *Field) *yaml.Node {
		if f.Kind == KindText || f.Kind == KindDataflow || f.Kind == KindDRAMKind {
			return str(f.Format(c))
		}
		return plain(f.Format(c))
	}
	omit := func(f *Field) bool {
		return f.omitZero && (f.Kind == KindText && f.Format(c) == "" || f.Kind.Numeric() && f.raw(c) == 0)
	}
	var kv []any
	for _, key := range topLevelKeys() {
		fs := sectionFields(key)
		if len(fs) == 0 {
			if f := fieldIndex[key]; !omit(f) {
				kv = append(kv, key, value(f))
			}
			continue
		}
		var sec []any
		for _, f := range fs {
			if !omit(f) {
				sec = append(sec, f.Key(), value(f))
			}
		}
		kv = append(kv, key, mapping(true, sec...))
	}

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(mapping(false, kv...)); err != nil {
		// Encoding a tree of plain scalars and mappings cannot fail.
		panic("hw: encoding YAML: " + err.Error())
	}
	enc.Close()
	return buf.Bytes()
}
