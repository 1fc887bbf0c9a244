package sim

import (
	"errors"
	"fmt"

	"github.com/vggsim/vggsim/hw"
)

// Network is a list of layers prepared once for simulation on many hardware points (a
// sweep): validated once, and its distinct layers found — layers equal but for their names
// (RepVGG's stages, ResNet's blocks) cost the same on any hardware, so an Engine simulates
// each distinct layer once per point. A Network is immutable and safe for concurrent use.
type Network struct {
	layers   []Layer
	opts     Options
	distinct []int // index into layers of each distinct layer's first occurrence
	of       []int // per layer: its distinct layer
	ends     []int // per variant: the end of its layers in layers (PrepareVariants); nil: one

	// Sums over every layer (of every variant, repeats counted) for Engine.Best's check
	// that no cycle count can overflow: GEMM work M·N·K·groups, vector operations and the
	// words vector layers move.
	work, vecOps, vecWords float64

	counts [][]layerCount // per variant: its distinct layers and how often each occurs (Best's bounds)
}

// layerCount is a distinct layer and how many times a variant runs it.
type layerCount struct{ d, n int }

// Prepare checks layers and opts as Simulate does and returns them as a Network. The
// layers are copied. Options.ChainResidency is not supported (it depends on the hardware):
// apply the residency to the layers' on-chip flags first.
func Prepare(layers []Layer, opts Options) (*Network, error) {
	if opts.ChainResidency {
		return nil, errors.New("sim: Prepare: ChainResidency depends on the hardware; set the layers' on-chip flags instead")
	}
	if err := checkLayers(layers, opts); err != nil {
		return nil, err
	}
	n := &Network{layers: make([]Layer, len(layers)), opts: opts, of: make([]int, len(layers))}
	copy(n.layers, layers)
	b := or1(opts.Batch)
	for i := range n.layers {
		l := &n.layers[i]
		if l.Kind.OnArray() {
			m, nn, k, g := l.GEMMShape(b)
			n.work += float64(m) * float64(nn) * float64(k) * float64(g)
			continue
		}
		n.vecOps += float64(l.VectorOps()) * float64(b)
		n.vecWords += float64(int64(l.Inputs())*l.InElems()+l.WeightWords()+l.OutElems()) * float64(b)
	}
	seen := make(map[layerKey]int, len(layers))
	for i := range n.layers {
		k, ok := keyOf(&n.layers[i])
		if ok {
			if d, hit := seen[k]; hit {
				n.of[i] = d
				continue
			}
			seen[k] = len(n.distinct)
		}
		n.of[i] = len(n.distinct)
		n.distinct = append(n.distinct, i)
	}
	n.countVariants()
	return n, nil
}

// PrepareVariants prepares several lowerings of one workload as one Network whose variants
// an Engine simulates together (Engine.Totals): variants of one graph (the same layers with
// other activations kept on chip, say) share most of their layers, and a layer that is the
// same in several variants is simulated once per hardware point for all of them. Each
// variant is checked as Prepare checks it; there must be at least one.
func PrepareVariants(variants [][]Layer, opts Options) (*Network, error) {
	if len(variants) == 0 {
		return nil, errors.New("sim: PrepareVariants: no variants")
	}
	var all []Layer
	ends := make([]int, len(variants))
	for v, ls := range variants {
		all = append(all, ls...)
		ends[v] = len(all)
	}
	n, err := Prepare(all, opts)
	if err != nil {
		return nil, err
	}
	n.ends = ends
	n.countVariants()
	return n, nil
}

// countVariants lists per variant its distinct layers with their multiplicities.
func (n *Network) countVariants() {
	n.counts = make([][]layerCount, n.Variants())
	at := make([]int, len(n.distinct)) // d → index in the variant's list + 1
	for v := range n.counts {
		lo, hi := n.variant(v)
		var cs []layerCount
		for _, d := range n.of[lo:hi] {
			if at[d] == 0 {
				cs = append(cs, layerCount{d: d})
				at[d] = len(cs)
			}
			cs[at[d]-1].n++
		}
		for _, c := range cs {
			at[c.d] = 0
		}
		n.counts[v] = cs
	}
}

// Len returns the number of layers (of every variant together).
func (n *Network) Len() int { return len(n.layers) }

// Variants returns the number of variants: 1 for a Network from Prepare.
func (n *Network) Variants() int { return max(len(n.ends), 1) }

// VariantLen returns the number of layers of variant v.
func (n *Network) VariantLen(v int) int {
	lo, hi := n.variant(v)
	return hi - lo
}

// variant returns the bounds of variant v's layers.
func (n *Network) variant(v int) (lo, hi int) {
	if n.ends == nil {
		return 0, len(n.layers)
	}
	if v > 0 {
		lo = n.ends[v-1]
	}
	return lo, n.ends[v]
}

// Distinct returns the number of distinct layers: the layer simulations an Engine runs per
// hardware point.
func (n *Network) Distinct() int { return len(n.distinct) }

// Engine runs the native analytical model (the same as Simulate, bit for bit) for one
// goroutine at a time, keeping its scratch space between calls: a sweep worker owns one and
// simulates a Network on point after point with no allocation per layer. It also keeps the
// timed mapspaces of the last few points' Conv and GEMM layers: a layer's mapspace (its
// loop orders, tiles, traffic words and fold timings) does not depend on the DRAM bandwidth,
// the clock or the energy table, so a point that differs from a recent one only there
// re-scores the kept mappings instead of building them again. The zero value is ready to
// use; an Engine must not be used by two goroutines at once.
type Engine struct {
	m       model
	results []LayerResult // the current point's distinct layers
	done    []bool        // per distinct layer: simulated on the current point (Best)
	slots   [mapspaceSlots]mapspaceSlot
	next    int   // the slot to replace next
	sims    int64 // layer simulations run so far
	slot    *mapspaceSlot

	// Best's scratch: the variants not yet decided, the first one it tries.
	open       []int
	hint       int
	hintNet    *Network
	boundsDone []bool
	bounds     []runKey // per distinct layer: lower bounds of its figures (Best)
}

// mapspaceSlots is how many points' mapspaces an Engine keeps.
const mapspaceSlots = 8

// mapspaceSlot holds the timed mapspaces of one network's distinct layers on one hardware
// point, as far as they depend on it (mapspaceKey).
type mapspaceSlot struct {
	net   *Network
	key   hw.Config
	cands [][]mapping // per distinct layer; empty for vector layers
	ok    []bool      // per distinct layer: cands holds its mapspace
}

// mapspaceKey returns cfg without the fields a layer's mapspace does not depend on: the
// names, the DRAM bandwidth, the clock and the energy table with what it is derived from
// beyond the SRAM sizes, the process node and the DRAM kind (they only score mappings).
func mapspaceKey(cfg *hw.Config) hw.Config {
	k := *cfg
	k.Name, k.Description, k.Source = "", "", ""
	k.DRAMBandwidth, k.ClockHz, k.Energy = 0, 0, hw.Energy{}
	k.ProcessNM, k.DRAMKind = 0, ""
	return k
}

// findSlot returns the slot holding n's mapspaces on key's hardware, or an emptied slot
// for them.
func (e *Engine) findSlot(n *Network, key *hw.Config) *mapspaceSlot {
	for i := range e.slots {
		if s := &e.slots[i]; s.net == n && s.key == *key {
			return s
		}
	}
	s := &e.slots[e.next]
	e.next = (e.next + 1) % mapspaceSlots
	s.net, s.key = n, *key
	if cap(s.cands) < len(n.distinct) {
		s.cands = make([][]mapping, len(n.distinct))
		s.ok = make([]bool, len(n.distinct))
	}
	s.cands = s.cands[:len(n.distinct)]
	s.ok = s.ok[:len(n.distinct)]
	clear(s.ok)
	return s
}

// LayerSims returns the number of layer simulations the engine has run: distinct layers,
// each counted once per hardware point it was simulated on (layers a point shares, and
// variants Best skips, cost none).
func (e *Engine) LayerSims() int64 { return e.sims }

// Total simulates n on cfg and fills r with the network-wide figures: r.Total (sums over
// every layer in order, as Simulate's) and the derived latency, throughput, TOPS, energy and
// utilization; r.Layers is left empty and r.Total.Order too. r is overwritten; reusing one
// Result across calls allocates nothing.
func (e *Engine) Total(cfg *hw.Config, n *Network, r *Result) error {
	if err := e.distinctLayers(cfg, n); err != nil {
		return err
	}
	return e.sum(cfg, n.of, r)
}

// Totals simulates every variant of n (PrepareVariants) on cfg, each layer that is the same
// in several variants once, and fills rs[v] with variant v's figures as Total would give
// them for that variant alone. rs must have n.Variants() elements.
func (e *Engine) Totals(cfg *hw.Config, n *Network, rs []Result) error {
	if len(rs) != n.Variants() {
		return fmt.Errorf("sim: Totals: %d results for %d variants", len(rs), n.Variants())
	}
	if err := e.distinctLayers(cfg, n); err != nil {
		return err
	}
	for v := range rs {
		lo, hi := n.variant(v)
		if err := e.sum(cfg, n.of[lo:hi], &rs[v]); err != nil {
			return err
		}
	}
	return nil
}

// distinctLayers simulates n's distinct layers on cfg into e.results.
func (e *Engine) distinctLayers(cfg *hw.Config, n *Network) error {
	if err := e.point(cfg, n); err != nil {
		return err
	}
	for d := range n.distinct {
		e.layer(n, d)
	}
	return nil
}

// point prepares the engine for simulating n on cfg: no distinct layer done yet.
func (e *Engine) point(cfg *hw.Config, n *Network) error {
	if cfg == nil {
		return errors.New("sim: no hardware configuration")
	}
	if err := checkConfig(cfg); err != nil {
		return err
	}
	e.m.reset(cfg, n.opts)
	e.m.noOrder = true
	nd := len(n.distinct)
	if cap(e.results) < nd {
		e.results = make([]LayerResult, nd)
		e.done = make([]bool, nd)
		e.bounds = make([]runKey, nd)
		e.boundsDone = make([]bool, nd)
	}
	e.results, e.done = e.results[:nd], e.done[:nd]
	e.bounds, e.boundsDone = e.bounds[:nd], e.boundsDone[:nd]
	clear(e.done)
	clear(e.boundsDone)
	key := mapspaceKey(cfg)
	e.slot = e.findSlot(n, &key)
	return nil
}

// layer simulates n's distinct layer d on the current point into e.results[d], re-scoring
// the mapspace kept for it when there is one.
func (e *Engine) layer(n *Network, d int) {
	l := &n.layers[n.distinct[d]]
	s := e.slot
	e.m.reuse = nil
	on := l.Kind.OnArray()
	if on && s.ok[d] {
		e.m.reuse = s.cands[d]
	}
	e.results[d] = e.m.layer(l)
	if on && !s.ok[d] {
		s.cands[d] = append(s.cands[d][:0], e.m.last...)
		s.ok[d] = true
	}
	e.m.reuse, e.m.last = nil, nil
	e.done[d] = true
	e.sims++
}

// sum fills r with the figures of the layers of, given as indices into e.results, in order.
func (e *Engine) sum(cfg *hw.Config, of []int, r *Result) error {
	if err := checkCycles(cfg, e.results, of); err != nil {
		return err
	}
	*r = Result{Hardware: cfg.Name, Dataflow: cfg.Dataflow, Batch: e.m.batch}
	t := &r.Total
	for _, d := range of {
		t.add(&e.results[d])
	}
	r.finish(cfg)
	return nil
}

// checkLayers reports every problem Simulate refuses in layers and opts, joined.
func checkLayers(layers []Layer, opts Options) error {
	var errs []error
	for i := range layers {
		if err := layers[i].Validate(); err != nil {
			errs = append(errs, fmt.Errorf("layer %d (%s): %w", i, layers[i].Name, err))
		}
	}
	if opts.Batch < 0 || opts.Batch > 1<<20 || opts.VectorLanes < 0 {
		errs = append(errs, fmt.Errorf("sim: Batch must be in [0, 2^20] and VectorLanes not negative, got %d and %d", opts.Batch, opts.VectorLanes))
	}
	for i := range layers {
		// Keep every product the model forms (M·K·N, bytes·folds) far from int64 overflow.
		m, n, k, g := layers[i].GEMMShape(or1(opts.Batch))
		work := float64(m) * float64(n) * float64(k) * float64(g)
		elems := float64(layers[i].InElems()+layers[i].OutElems()) * float64(or1(opts.Batch)) * float64(layers[i].Inputs())
		if work > 1<<52 || elems > 1<<48 {
			errs = append(errs, fmt.Errorf("layer %d (%s): too large for the model", i, layers[i].Name))
		}
	}
	return errors.Join(errs...)
}
