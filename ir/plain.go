package ir

import "fmt"

// IsPlain reports whether g is a deploy-form VGG-style network: a single chain of
// conv3x3(+bias, padding 1) → ReLU pairs, followed by a head of GlobalAvgPool, an optional
// Flatten, and a Linear. It returns a reason when g is not plain.
func IsPlain(g *Graph) (bool, string) {
	users := g.Users()
	nodes := g.Nodes[1:]
	i := 0
	for ; i+1 < len(nodes) && nodes[i].Op == Conv; i += 2 {
		c, r := nodes[i], nodes[i+1]
		a := c.Attrs
		if a.KH != 3 || a.KW != 3 || a.Pad != 1 || !a.Bias {
			return false, fmt.Sprintf("%s is not a conv3x3 with padding 1 and bias", c.Name)
		}
		if r.Op != ReLU || r.In[0] != c.Out || len(users[c.Out.ID]) != 1 {
			return false, fmt.Sprintf("%s is not followed by exactly one ReLU", c.Name)
		}
		if want := g.Nodes[i].Out; c.In[0] != want { // g.Nodes is shifted by one
			return false, fmt.Sprintf("%s does not read the previous layer's output", c.Name)
		}
	}
	if i == 0 {
		return false, "no conv3x3+ReLU layers"
	}
	head := nodes[i:]
	if len(head) > 0 && head[0].Op == GlobalAvgPool {
		head = head[1:]
	} else {
		return false, fmt.Sprintf("%s: expected conv3x3+ReLU or the GlobalAvgPool head", nodeName(head))
	}
	if len(head) > 0 && head[0].Op == Flatten {
		head = head[1:]
	}
	if len(head) != 1 || head[0].Op != Linear || head[0].Out != g.Output {
		return false, fmt.Sprintf("%s: expected a final Linear after GlobalAvgPool", nodeName(head))
	}
	for _, n := range nodes[i:] {
		if n.In[0] != g.Nodes[n.Out.ID-1].Out {
			return false, fmt.Sprintf("%s is not on the single chain", n.Name)
		}
	}
	return true, ""
}

func nodeName(ns []*Node) string {
	if len(ns) == 0 {
		return "end of graph"
	}
	return ns[0].Name
}
