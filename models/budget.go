package models

import (
	"fmt"

	"github.com/vggsim/vggsim/internal/budget"
	"github.com/vggsim/vggsim/ir"
)

// Budget bounds the memory a model may take once it has weights and runs, checked on the
// graph's structure before anything is allocated, so that a model file within the
// documented limits (num_blocks up to 128, large width multipliers) fails with a message
// saying what it would need instead of running out of memory. Zero fields mean their
// defaults.
type Budget struct {
	MaxParamBytes      int64 // float32 parameters and BatchNorm buffers; $VGGSIM_MAX_PARAM_BYTES
	MaxActivationBytes int64 // peak live activations of a batch in the reference interpreter; $VGGSIM_MAX_ACTIVATION_BYTES
	MaxLayers          int   // graph nodes; $VGGSIM_MAX_LAYERS
}

// Budget defaults: the largest zoo model (RepVGG-B3, train form) takes ~0.5 GiB of
// parameters and ~0.3 GiB of live activations per 224×224 image, ~1500 nodes.
const (
	DefaultMaxParamBytes      = 4 << 30
	DefaultMaxActivationBytes = 8 << 30
	DefaultMaxLayers          = 20000
)

// The environment variables BudgetFromEnv reads.
const (
	EnvMaxParamBytes      = "VGGSIM_MAX_PARAM_BYTES"
	EnvMaxActivationBytes = "VGGSIM_MAX_ACTIVATION_BYTES"
	EnvMaxLayers          = "VGGSIM_MAX_LAYERS"
)

// BudgetFromEnv returns the Budget set by the environment; unset variables keep the
// defaults. Byte counts take the suffixes K, M, G, T ("8G", "512MiB").
func BudgetFromEnv() (Budget, error) {
	var b Budget
	var err error
	if b.MaxParamBytes, err = budget.Env(EnvMaxParamBytes, DefaultMaxParamBytes); err != nil {
		return b, err
	}
	if b.MaxActivationBytes, err = budget.Env(EnvMaxActivationBytes, DefaultMaxActivationBytes); err != nil {
		return b, err
	}
	layers, err := budget.Env(EnvMaxLayers, DefaultMaxLayers)
	b.MaxLayers = int(min(layers, 1<<40))
	return b, err
}

// Check reports whether running g on a batch of batch images fits b: its layer count,
// its parameter bytes (parameters and buffers as float32) and its peak live activation
// bytes (float32, freeing each value after its last reader, as the interpreter does). The
// error names the model, what it needs and the variable that raises the limit.
func (b Budget) Check(g *ir.Graph, batch int) error {
	if b.MaxParamBytes <= 0 {
		b.MaxParamBytes = DefaultMaxParamBytes
	}
	if b.MaxActivationBytes <= 0 {
		b.MaxActivationBytes = DefaultMaxActivationBytes
	}
	if b.MaxLayers <= 0 {
		b.MaxLayers = DefaultMaxLayers
	}
	if n := len(g.Nodes); n > b.MaxLayers {
		return fmt.Errorf("model %s has %d layers, more than the limit of %d (set $%s to allow more)", g.Name, n, b.MaxLayers, EnvMaxLayers)
	}
	c := Count(g)
	if floats := c.Params + c.Buffers; floats > b.MaxParamBytes/4 {
		return fmt.Errorf("model %s needs %s for its %d parameters, more than the limit of %s (set $%s to allow more)",
			g.Name, budget.Bytes(satMul(floats, 4)), floats, budget.Bytes(b.MaxParamBytes), EnvMaxParamBytes)
	}
	peak := PeakActivationElems(g)
	if need := satMul(satMul(peak, int64(max(batch, 1))), 4); need > b.MaxActivationBytes {
		return fmt.Errorf("model %s needs %s of activations for a batch of %d (%dx%d input), more than the limit of %s (set $%s to allow more)",
			g.Name, budget.Bytes(need), max(batch, 1), g.Input().Shape.H, g.Input().Shape.W, budget.Bytes(b.MaxActivationBytes), EnvMaxActivationBytes)
	}
	return nil
}

// CheckBudget is BudgetFromEnv().Check(g, batch).
func CheckBudget(g *ir.Graph, batch int) error {
	b, err := BudgetFromEnv()
	if err != nil {
		return err
	}
	return b.Check(g, batch)
}

// PeakActivationElems returns the largest number of activation elements live at once when
// g's nodes run in order for one image, each value freed after its last reader (the graph
// input included, Flatten counted as a copy).
func PeakActivationElems(g *ir.Graph) int64 {
	last := map[*ir.Value]int{}
	for i, n := range g.Nodes {
		for _, in := range n.In {
			last[in] = i
		}
	}
	var live, peak int64
	for i, n := range g.Nodes {
		live += int64(n.Out.Shape.Elems())
		peak = max(peak, live)
		for _, in := range n.In {
			if last[in] == i && in != g.Output {
				live -= int64(in.Shape.Elems())
				last[in] = -1 // a node reading the same value twice frees it once
			}
		}
	}
	return peak
}

// satMul returns a·b for non-negative a, b, saturating at the largest int64.
func satMul(a, b int64) int64 {
	if a != 0 && b > (1<<63-1)/a {
		return 1<<63 - 1
	}
	return a * b
}
