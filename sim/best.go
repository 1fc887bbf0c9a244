package sim

import (
	"math"

	"github.com/vggsim/vggsim/hw"
)

// runKey is what Best ranks a variant's run on: its cycles, energy in joules and DRAM bytes
// (read and written), each summed over the variant's layers in order as Result.Total sums
// them; or lower bounds of them.
type runKey struct {
	cycles, dram int64
	energy       float64
}

// rank returns the figures obj compares first, second and third: latency (cycles, energy,
// DRAM), energy (energy, cycles, DRAM), EDP (energy·cycles, cycles, DRAM) or DRAM (DRAM,
// cycles, energy) — as package memory ranks activation budgets.
func (k runKey) rank(obj Objective) [3]float64 {
	c, e, d := float64(k.cycles), k.energy, float64(k.dram)
	switch obj {
	case ObjectiveEnergy:
		return [3]float64{e, c, d}
	case ObjectiveEDP:
		return [3]float64{e * c, c, d}
	case ObjectiveDRAM:
		return [3]float64{d, c, e}
	}
	return [3]float64{c, e, d}
}

// less compares two ranks lexicographically.
func less(a, b [3]float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// Best simulates the variants of n (PrepareVariants) on cfg, fills r with the figures of
// the best one on obj as Total would give them for it alone, and returns its index. Runs are
// ranked on obj's figures (runKey.rank: the objective's figure first, the others breaking
// ties, as package memory ranks activation budgets); of equal runs the first variant wins. It is the search over
// Totals' results, exact, but it skips what cannot win: it tries the variant that won the
// engine's previous point first, then always the one whose lower bound is smallest, and
// stops when every variant left has a lower bound on obj's first figure that is already
// worse than the best run found. A layer's bound is its exact figures once simulated on this
// point (in any variant), else: cycles at least MACs/(rows·cols) and at least its
// unavoidable DRAM bytes at the DRAM bandwidth, DRAM bytes at least the weights and the
// activations not kept on chip, once each, and energy at least the MACs', those DRAM
// bytes' and the leakage over those cycles. Vector layers are simulated outright (they are
// cheap). When the network is so large for cfg that a cycle count could overflow, or an
// energy coefficient is negative, every variant is simulated and checked, as Totals does.
func (e *Engine) Best(cfg *hw.Config, n *Network, obj Objective, r *Result) (int, error) {
	if err := e.point(cfg, n); err != nil {
		return 0, err
	}
	prune := e.prunable(n)
	e.open = e.open[:0]
	for v := range n.Variants() {
		e.open = append(e.open, v)
	}
	first := 0 // without pruning, in order: the first overflow reported is Totals'
	if prune && e.hintNet == n && e.hint < n.Variants() {
		first = e.hint
	}
	best := -1
	var bestKey [3]float64
	for len(e.open) > 0 {
		// The variant to try: the hint first, then the smallest bound.
		pick, pickAt := -1, -1
		var pickBound [3]float64
		for i, v := range e.open {
			if best < 0 && v == first {
				pick, pickAt = v, i
				break
			}
			if !prune {
				pick, pickAt = v, i
				break
			}
			b := e.variantBound(n, v).rank(obj)
			if pick < 0 || b[0] < pickBound[0] {
				pick, pickAt, pickBound = v, i, b
			}
		}
		if prune && best >= 0 && pickBound[0] > bestKey[0] {
			break // no variant left can beat the best on obj's first figure
		}
		e.open = append(e.open[:pickAt], e.open[pickAt+1:]...)
		lo, hi := n.variant(pick)
		for _, d := range n.of[lo:hi] {
			if !e.done[d] {
				e.layer(n, d)
			}
		}
		if err := checkCycles(cfg, e.results, n.of[lo:hi]); err != nil {
			return 0, err
		}
		k := e.variantKey(n, pick).rank(obj)
		if best < 0 || less(k, bestKey) || (k == bestKey && pick < best) {
			best, bestKey = pick, k
		}
	}
	e.hint, e.hintNet = best, n
	lo, hi := n.variant(best)
	return best, e.sum(cfg, n.of[lo:hi], r)
}

// variantKey returns variant v's figures summed over its layers in order; every layer
// must have been simulated on this point.
func (e *Engine) variantKey(n *Network, v int) runKey {
	lo, hi := n.variant(v)
	var k runKey
	for _, d := range n.of[lo:hi] {
		if !e.done[d] {
			panic("sim: variantKey: layer not simulated")
		}
		l := &e.results[d]
		k.cycles += l.Cycles
		k.dram += l.DRAMReadBytes + l.DRAMWriteBytes
		k.energy += l.EnergyJ
	}
	return k
}

// variantBound returns lower bounds of variant v's figures: exact for the layers simulated
// on this point, bounds for the others, each distinct layer times its count. The energy sum
// is not taken in the layers' order, so it is lowered by a rounding allowance.
func (e *Engine) variantBound(n *Network, v int) runKey {
	var k runKey
	for _, c := range n.counts[v] {
		var b runKey
		if e.done[c.d] {
			l := &e.results[c.d]
			b = runKey{cycles: l.Cycles, dram: l.DRAMReadBytes + l.DRAMWriteBytes, energy: l.EnergyJ}
		} else {
			b = e.bound(n, c.d)
		}
		k.cycles += b.cycles * int64(c.n)
		k.dram += b.dram * int64(c.n)
		k.energy += b.energy * float64(c.n)
	}
	k.energy *= 1 - 1e-9
	return k
}

// bound returns lower bounds of distinct layer d's figures on the current point (see Best).
// A vector layer is simulated instead.
func (e *Engine) bound(n *Network, d int) runKey {
	if e.boundsDone[d] {
		return e.bounds[d]
	}
	l := &n.layers[n.distinct[d]]
	m := &e.m
	if !l.Kind.OnArray() {
		e.layer(n, d)
		r := &e.results[d]
		return runKey{cycles: r.Cycles, dram: r.DRAMReadBytes + r.DRAMWriteBytes, energy: r.EnergyJ}
	}
	M, N, K, g := l.GEMMShape(m.batch)
	G := int64(g)
	macs := l.MACs(m.batch)
	pes := int64(m.R) * int64(m.C)
	cycles := (macs + pes - 1) / pes // every fold does at most rows·cols MACs per stream cycle
	bias := int64(0)
	if l.Bias {
		bias = int64(l.OutC)
	}
	dram := (int64(K)*int64(N)*G + bias) * m.wb // the weights, once
	if !l.InputOnChip(0) {
		dram += uniqueIfmapWords(l, m.batch) * m.wb
	}
	if !l.OutputOnChip {
		dram += int64(M) * int64(N) * G * m.wb
	}
	if m.bwc > 0 {
		// The per-tile roofline never takes less than all the bytes at full bandwidth (less
		// a rounding allowance).
		if t := float64(dram)/m.bwc*(1-1e-6) - 2; t > float64(cycles) {
			cycles = int64(t)
		}
	}
	en := &m.en
	energy := (float64(macs)*en.MACpJ*1e-12 + float64(dram)*en.DRAMpJPerByte*1e-12 +
		en.LeakageW*float64(cycles)/m.cfg.ClockHz) * (1 - 1e-9)
	k := runKey{cycles: cycles, dram: dram, energy: max(0, energy)}
	e.bounds[d], e.boundsDone[d] = k, true
	return k
}

// prunable reports whether Best may skip variants on the current point: no cycle count of
// any variant can reach OverflowCycles (so no skipped variant would have failed), and no
// energy coefficient is negative (so the energy bounds hold). The cycle bound: a GEMM layer
// moves at most (4·word + 2·partial-sum) bytes per unit of work M·N·K·groups and computes
// for at most (1 + 2·rows + 2·cols) cycles per unit; stalls add at most 3 transfers of its
// bytes; vector layers compute at most one cycle per operation.
func (e *Engine) prunable(n *Network) bool {
	m := &e.m
	en := &m.en
	if en.MACpJ < 0 || en.DRAMpJPerByte < 0 || en.LeakageW < 0 || en.IfmapSRAMpJPerByte < 0 ||
		en.FilterSRAMpJPerByte < 0 || en.OfmapSRAMpJPerByte < 0 || en.AccumpJPerByte < 0 {
		return false
	}
	wb, ab := float64(m.wb), float64(m.ab)
	R, C := float64(m.R), float64(m.C)
	perWork := 1 + 2*R + 2*C
	perWord := 0.0
	if m.bwc > 0 {
		perWork += 3 * (4*wb + 2*ab) / m.bwc
		perWord = 3 * wb / m.bwc
	}
	ub := n.work*perWork + n.vecOps + n.vecWords*perWord + float64(len(n.layers))*(3*R+2*C+16)
	return ub < math.Ldexp(1, 60)
}
