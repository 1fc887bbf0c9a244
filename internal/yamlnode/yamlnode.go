// Package yamlnode holds the small yaml.v3 node helpers that vggsim's strict YAML readers
// (hardware descriptions, model specs) share.
package yamlnode

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Deref follows aliases to the node they name (at most 100 hops, so a cycle ends).
func Deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// Describe names a node's kind and value for error messages: "a mapping", "a list",
// "nothing" for a null or empty node, or the quoted scalar (cut at 40 bytes).
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return strconv.Quote(v)
	}
	return "nothing"
}
