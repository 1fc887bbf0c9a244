package checkpoint

import (
	"fmt"
	"unicode/utf8"

	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/tensor"
)

// StateDict is an ordered map from PyTorch state_dict names ("stage1.0.rbr_dense.conv.weight")
// to tensors. Keys holds every name exactly once, in file order; Tensors holds a tensor for
// every key and nothing else. Use Set to keep the two in step.
type StateDict struct {
	Keys    []string
	Tensors map[string]*tensor.Tensor
}

// New returns an empty StateDict.
func New() *StateDict {
	return &StateDict{Tensors: map[string]*tensor.Tensor{}}
}

// Get returns the tensor stored under key and whether there is one.
func (sd *StateDict) Get(key string) (*tensor.Tensor, bool) {
	t, ok := sd.Tensors[key]
	return t, ok
}

// Set stores t under key, appending key to Keys if it is new and keeping its position if
// not.
func (sd *StateDict) Set(key string, t *tensor.Tensor) {
	if sd.Tensors == nil {
		sd.Tensors = map[string]*tensor.Tensor{}
	}
	if _, ok := sd.Tensors[key]; !ok {
		sd.Keys = append(sd.Keys, key)
	}
	sd.Tensors[key] = t
}

// Len returns the number of entries.
func (sd *StateDict) Len() int { return len(sd.Keys) }

// check reports whether sd is well formed for writing: unique UTF-8 keys, a valid
// tensor for each, and no tensor without a key.
func (sd *StateDict) check() error {
	if sd == nil {
		return fmt.Errorf("nil state dict")
	}
	seen := make(map[string]bool, len(sd.Keys))
	for _, k := range sd.Keys {
		if seen[k] {
			return fmt.Errorf("duplicate key %q", k)
		}
		if !utf8.ValidString(k) {
			return fmt.Errorf("key %q is not valid UTF-8", k)
		}
		seen[k] = true
		t, ok := sd.Tensors[k]
		if !ok {
			return fmt.Errorf("key %q has no tensor", k)
		}
		if err := npy.Validate(t); err != nil {
			return fmt.Errorf("key %q: %v", k, err)
		}
	}
	if len(sd.Tensors) != len(sd.Keys) {
		for k := range sd.Tensors {
			if !seen[k] {
				return fmt.Errorf("tensor %q is missing from Keys", k)
			}
		}
	}
	return nil
}

// CheckFinite returns an error naming the first tensor, in key order, that holds a NaN or
// an infinity, and that element's index; nil if every value is finite.
func (sd *StateDict) CheckFinite() error {
	for _, k := range sd.Keys {
		if err := sd.Tensors[k].CheckFinite(k); err != nil {
			return err
		}
	}
	return nil
}
