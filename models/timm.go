package models

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vggsim/vggsim/tensor"
)

// Naming is a state_dict naming scheme for RepVGG checkpoints.
type Naming uint8

// The naming schemes: the official RepVGG code's (stage0, stage1.0.rbr_dense.conv, …,
// linear) and timm's byobnet (stem, stages.0.0.conv_kxk.conv, …, head.fc).
const (
	NamesReference Naming = iota
	NamesTimm
)

// String returns "reference" or "timm".
func (n Naming) String() string {
	if n == NamesTimm {
		return "timm"
	}
	return "reference"
}

// ParseNaming parses "reference" or "timm".
func ParseNaming(s string) (Naming, error) {
	switch s {
	case "reference":
		return NamesReference, nil
	case "timm":
		return NamesTimm, nil
	}
	return 0, fmt.Errorf("unknown naming %q: want reference or timm", s)
}

// Module renames inside a RepVGG block, reference → timm. SE blocks (D2se) are timm's
// SEModule: attn.fc1 and attn.fc2.
var timmBlock = [][2]string{
	{"rbr_dense", "conv_kxk"},
	{"rbr_1x1", "conv_1x1"},
	{"rbr_identity", "identity"},
	{"rbr_reparam", "reparam_conv"},
	{"se.down", "attn.fc1"},
	{"se.up", "attn.fc2"},
}

// TimmKey returns the timm name of a reference RepVGG key: stage0.* → stem.*, stageK.M.* →
// stages.(K−1).M.*, linear.* → head.fc.*, with the block's modules renamed (rbr_dense →
// conv_kxk, rbr_1x1 → conv_1x1, rbr_identity → identity, rbr_reparam → reparam_conv,
// se.down/se.up → attn.fc1/attn.fc2). ok is false for a key outside that layout.
func TimmKey(ref string) (key string, ok bool) {
	if rest, ok := strings.CutPrefix(ref, "linear."); ok {
		return "head.fc." + rest, true
	}
	head, rest, ok := strings.Cut(ref, ".")
	if !ok || !strings.HasPrefix(head, "stage") {
		return "", false
	}
	k, err := strconv.Atoi(head[len("stage"):])
	if err != nil || k < 0 || strconv.Itoa(k) != head[len("stage"):] {
		return "", false
	}
	prefix := "stem."
	if k > 0 {
		m, r, ok := strings.Cut(rest, ".")
		if !ok || !isIndex(m) {
			return "", false
		}
		prefix, rest = "stages."+strconv.Itoa(k-1)+"."+m+".", r
	}
	r, ok := renameModule(rest, 0, 1)
	return prefix + r, ok
}

// ReferenceKey is the inverse of TimmKey.
func ReferenceKey(timm string) (key string, ok bool) {
	if rest, ok := strings.CutPrefix(timm, "head.fc."); ok {
		return "linear." + rest, true
	}
	var prefix, rest string
	if r, ok := strings.CutPrefix(timm, "stem."); ok {
		prefix, rest = "stage0.", r
	} else if r, ok := strings.CutPrefix(timm, "stages."); ok {
		parts := strings.SplitN(r, ".", 3)
		if len(parts) != 3 || !isIndex(parts[0]) || !isIndex(parts[1]) {
			return "", false
		}
		k, _ := strconv.Atoi(parts[0])
		prefix, rest = "stage"+strconv.Itoa(k+1)+"."+parts[1]+".", parts[2]
	} else {
		return "", false
	}
	r, ok := renameModule(rest, 1, 0)
	return prefix + r, ok
}

// renameModule renames the module at the start of a block-relative key from column from
// of timmBlock to column to.
func renameModule(rest string, from, to int) (string, bool) {
	for _, p := range timmBlock {
		if r, ok := strings.CutPrefix(rest, p[from]+"."); ok {
			return p[to] + "." + r, true
		}
	}
	return "", false
}

func isIndex(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && strconv.Itoa(n) == s
}

// IsTimm reports whether a checkpoint's keys use timm's RepVGG names: one starts with
// "stem.", "stages." or "head.fc." (after a DataParallel "module." prefix).
func IsTimm(keys []string) bool {
	for _, k := range keys {
		k = strings.TrimPrefix(k, "module.")
		if strings.HasPrefix(k, "stem.") || strings.HasPrefix(k, "stages.") || strings.HasPrefix(k, "head.fc.") {
			return true
		}
	}
	return false
}

// Rename returns a state dict (keys in order, tensors by key) with every key renamed by
// f; keys f does not know (ok false) keep their names, so that binding reports them.
// Tensors are shared. Two keys renamed to one name are an error.
func Rename(keys []string, tensors map[string]*tensor.Tensor, f func(string) (string, bool)) ([]string, map[string]*tensor.Tensor, error) {
	outKeys := make([]string, 0, len(keys))
	out := make(map[string]*tensor.Tensor, len(tensors))
	for _, k := range keys {
		prefix := ""
		if strings.HasPrefix(k, "module.") {
			prefix = "module."
		}
		nk := k
		if r, ok := f(strings.TrimPrefix(k, prefix)); ok {
			nk = prefix + r
		}
		if _, dup := out[nk]; dup {
			return nil, nil, fmt.Errorf("keys %s: two keys map to %s", k, nk)
		}
		outKeys = append(outKeys, nk)
		out[nk] = tensors[k]
	}
	return outKeys, out, nil
}
