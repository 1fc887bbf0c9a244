package models

import (
	"strings"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

// FormError reports that a checkpoint binds to neither form of a model. Its message is
// the deploy form's error when the keys look fused (Fused is then why: "rbr_reparam keys",
// "no BatchNorm statistics"), else the train form's.
type FormError struct {
	Fused         string // why the keys look like a deploy-form checkpoint, or ""
	Train, Deploy error  // each form's binding error
}

// Error returns the more relevant form's binding error.
func (e *FormError) Error() string { return e.Unwrap().Error() }

// Unwrap returns the more relevant form's binding error (see FormError).
func (e *FormError) Unwrap() error {
	if e.Fused != "" {
		return e.Deploy
	}
	return e.Train
}

// BindForm builds the model arg names (a zoo name or a model file, as Resolve) and binds
// the checkpoint's keys and tensors to the form they fit: the train form, or else the
// deploy form (a fused checkpoint: rbr_reparam keys for RepVGG, conv biases and no
// BatchNorm for ResNets). For a model without BatchNorm (VGG-16) both forms are the same
// graph and deploy is false. A model that cannot be built gives Resolve's error; a
// checkpoint that fits neither form gives a *FormError.
func BindForm(arg string, o Options, keys []string, tensors map[string]*tensor.Tensor) (g *ir.Graph, deploy bool, err error) {
	o.Deploy = false
	g, err = Resolve(arg, o)
	if err != nil {
		return nil, false, err
	}
	trainErr := Bind(g, keys, tensors)
	if trainErr == nil {
		return g, false, nil
	}
	o.Deploy = true
	d, err := Resolve(arg, o)
	if err != nil {
		return nil, false, err
	}
	deployErr := Bind(d, keys, tensors)
	if deployErr == nil {
		return d, true, nil
	}
	return nil, false, &FormError{Fused: FusedReason(keys), Train: trainErr, Deploy: deployErr}
}

// FusedReason says why a checkpoint's keys look like the deploy form ("rbr_reparam keys",
// "no BatchNorm statistics"), or returns "".
func FusedReason(keys []string) string {
	r, bn := FormKeys(keys)
	switch {
	case r != "":
		return "rbr_reparam keys"
	case bn == "":
		return "no BatchNorm statistics"
	}
	return ""
}

// FormKeys returns the first deploy-form key (rbr_reparam) and the first BatchNorm key
// (running_var) of a checkpoint, "" for none.
func FormKeys(keys []string) (reparamKey, bnKey string) {
	for _, k := range keys {
		if reparamKey == "" && (strings.Contains(k, ".rbr_reparam.") || strings.HasPrefix(k, "rbr_reparam.")) {
			reparamKey = k
		}
		if bnKey == "" && strings.HasSuffix(k, ".running_var") {
			bnKey = k
		}
	}
	return reparamKey, bnKey
}
