package models

import (
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

// InitWeights gives every parameterized node of g (Conv, BatchNorm, Linear) fresh
// parameters drawn deterministically from seed, replacing any it had:
//
//   - conv weight ~ N(0, 2/fan_in) (Kaiming normal, fan_in = Cin/groups·kh·kw);
//     conv bias ~ U(−1/√fan_in, 1/√fan_in);
//   - linear weight and bias ~ U(−1/√in, 1/√in) (PyTorch's default);
//   - BatchNorm weight (gamma) ~ U(0.5, 1.5)/√k, where k is the operand count of the Add
//     the BN feeds (1 if none), bias (beta) ~ N(0, 0.1²), running_mean ~ N(0, 0.1²),
//     running_var ~ U(0.5, 1.5), num_batches_tracked = 0 (int64, 0-d) — non-trivial
//     statistics, so that BN folding is exercised. The 1/√k keeps the sum of a RepVGG
//     block's branches at about the scale of one branch, so the activations of a random
//     RepVGG of any depth stay near unit scale instead of growing ~3× per block (deep
//     ResNets, whose shortcuts carry no BN, still grow, but slowly).
//
// Each node draws from its own PCG stream seeded with seed and a hash of the node's name, so
// a node's values depend only on the seed, its name and its shape: the same seed gives the
// same bits on every platform, and a node keeps its values when other nodes change.
func InitWeights(g *ir.Graph, seed uint64) {
	users := g.Users()
	for _, n := range g.Nodes {
		specs := n.ParamSpecs()
		if len(specs) == 0 {
			continue
		}
		gammaScale := 1.0
		if u := users[n.Out.ID]; n.Op == ir.BatchNorm && len(u) == 1 && u[0].Op == ir.Add {
			gammaScale = 1 / math.Sqrt(float64(len(u[0].In)))
		}
		h := fnv.New64a()
		h.Write([]byte(n.Name))
		r := rand.New(rand.NewPCG(seed, h.Sum64()))
		params := make(map[string]*tensor.Tensor, len(specs))
		for _, s := range specs {
			params[s.Name] = initParam(r, n, s, gammaScale)
		}
		n.Params = params
	}
}

func initParam(r *rand.Rand, n *ir.Node, s ir.ParamSpec, gammaScale float64) *tensor.Tensor {
	if s.DType == tensor.Int64 {
		return tensor.FromI64(make([]int64, tensor.Numel(s.Shape)), s.Shape...)
	}
	t := tensor.New(s.Shape...)
	uniform := func(lo, hi float64) {
		for i := range t.F32 {
			t.F32[i] = float32(lo + (hi-lo)*r.Float64())
		}
	}
	normal := func(std float64) {
		for i := range t.F32 {
			t.F32[i] = float32(std * r.NormFloat64())
		}
	}
	fanIn := 1
	switch n.Op {
	case ir.Conv:
		fanIn = n.In[0].Shape.C / max(n.Attrs.Groups, 1) * n.Attrs.KH * n.Attrs.KW
	case ir.Linear:
		fanIn = n.In[0].Shape.C
	}
	bound := 1 / math.Sqrt(float64(max(fanIn, 1)))
	switch {
	case n.Op == ir.Conv && s.Name == "weight":
		normal(math.Sqrt(2 / float64(max(fanIn, 1))))
	case n.Op == ir.BatchNorm && s.Name == "weight":
		uniform(0.5*gammaScale, 1.5*gammaScale)
	case n.Op == ir.BatchNorm && s.Name == "running_var":
		uniform(0.5, 1.5)
	case n.Op == ir.BatchNorm:
		normal(0.1)
	default: // conv bias, linear weight and bias
		uniform(-bound, bound)
	}
	return t
}
