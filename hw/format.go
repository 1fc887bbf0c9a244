package hw

import (
	"bytes"
	"strconv"

	"gopkg.in/yaml.v3"
)

// YAML returns c as a hardware file in canonical form: every key in schema order, defaults
// written out, quantities in the unit that needs the fewest digits. Parse reads it back to
// an equal Config, so it is a good starting point for a custom file:
//
//	vggsim presets --format yaml tpu-v1 > my-chip.yaml
func (c *Config) YAML() []byte {
	str := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
	plain := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }
	num := func(i int) *yaml.Node { return plain(strconv.Itoa(i)) }
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

	kv := []any{"name", str(c.Name)}
	if c.Description != "" {
		kv = append(kv, "description", str(c.Description))
	}
	if c.Source != "" {
		kv = append(kv, "source", str(c.Source))
	}
	kv = append(kv,
		"array", mapping(true, "rows", num(c.Rows), "cols", num(c.Cols)),
		"dataflow", str(string(c.Dataflow)),
		"clock", plain(FormatFrequency(c.ClockHz)),
		"data_bits", num(c.DataBits),
		"acc_bits", num(c.AccBitsOrDefault()),
	)
	sram := []any{
		"ifmap", plain(FormatSize(c.IfmapSRAMBytes)),
		"filter", plain(FormatSize(c.FilterSRAMBytes)),
		"ofmap", plain(FormatSize(c.OfmapSRAMBytes)),
	}
	if c.AccumBytes != 0 {
		sram = append(sram, "accumulator", plain(FormatSize(c.AccumBytes)))
	}
	kv = append(kv,
		"sram", mapping(true, sram...),
		"dram", mapping(true, "bandwidth", plain(FormatBandwidth(c.DRAMBandwidth))),
		"energy", mapping(true,
			"mac", plain(FormatEnergy(c.Energy.MACpJ)),
			"sram_access_per_byte", plain(FormatEnergy(c.Energy.SRAMpJPerByte)),
			"dram_access_per_byte", plain(FormatEnergy(c.Energy.DRAMpJPerByte)),
			"leakage", plain(FormatPower(c.Energy.LeakageW))),
	)

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
