package memory

import (
	"slices"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/ir"
)

// The hand-built graphs use 4×8×8 activations at 8 bits: S = 256 bytes per value.
const S = 256

var shape = ir.Shape{C: 4, H: 8, W: 8}

func finish(t *testing.T, b *ir.Builder, out *ir.Value) *ir.Graph {
	t.Helper()
	g, err := b.Finish(out)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// chain: x → conv → relu → conv → relu.
func chainGraph(t *testing.T) *ir.Graph {
	b := ir.NewBuilder("chain", shape)
	x := b.Input()
	y := b.ReLU("l1.relu", b.Conv("l1.conv", x, 4, 3, 1, 1, 1, true))
	z := b.ReLU("l2.relu", b.Conv("l2.conv", y, 4, 3, 1, 1, 1, true))
	return finish(t, b, z)
}

// plainBlock: the deploy-form block of Fig. 3, x → conv3x3+bias → relu.
func plainBlock(t *testing.T) *ir.Graph {
	b := ir.NewBuilder("plain", shape)
	return finish(t, b, b.ReLU("relu", b.Conv("conv", b.Input(), 4, 3, 1, 1, 1, true)))
}

// residualBlock: a ResNet basic block that keeps the feature size,
// relu(conv(relu(conv x)) + x).
func residualBlock(t *testing.T) *ir.Graph {
	b := ir.NewBuilder("residual", shape)
	x := b.Input()
	y := b.ReLU("relu1", b.Conv("conv1", x, 4, 3, 1, 1, 1, true))
	z := b.Conv("conv2", y, 4, 3, 1, 1, 1, true)
	return finish(t, b, b.ReLU("relu2", b.Add("add", z, x)))
}

// repvggTrainBlock: relu(bn(conv3x3 x) + bn(conv1x1 x) + bn(x)), the graph models builds.
func repvggTrainBlock(t *testing.T) *ir.Graph {
	b := ir.NewBuilder("repvgg-train", shape)
	x := b.Input()
	d := b.BatchNorm("rbr_dense.bn", b.Conv("rbr_dense.conv", x, 4, 3, 1, 1, 1, false), 1e-5)
	o := b.BatchNorm("rbr_1x1.bn", b.Conv("rbr_1x1.conv", x, 4, 1, 1, 0, 1, false), 1e-5)
	id := b.BatchNorm("rbr_identity", x, 1e-5)
	return finish(t, b, b.ReLU("relu", b.Add("add", d, o, id)))
}

// fanout3: x read by three 1x1 convs whose results are summed.
func fanout3(t *testing.T) *ir.Graph {
	b := ir.NewBuilder("fanout3", shape)
	x := b.Input()
	p := b.Conv("a", x, 4, 1, 1, 0, 1, true)
	q := b.Conv("b", x, 4, 1, 1, 0, 1, true)
	r := b.Conv("c", x, 4, 1, 1, 0, 1, true)
	return finish(t, b, b.Add("add", p, q, r))
}

func analyze(t *testing.T, g *ir.Graph, o Options) *Report {
	t.Helper()
	r, err := Analyze(g, o)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, r)
	return r
}

func liveSeries(r *Report) (live, res []int64) {
	for _, s := range r.Steps {
		live = append(live, s.LiveBytes/S)
		res = append(res, s.ResidentBytes/S)
	}
	return
}

// checkInvariants checks what holds for every report: the arena plan is valid and between
// its bounds, the series agree with the buffers, and the spill model's extremes are ordered.
func checkInvariants(t *testing.T, r *Report) {
	t.Helper()
	if !(r.PeakBytes <= r.ArenaBytes && r.ArenaBytes <= r.BufferBytes && r.BufferBytes <= r.TotalBytes) {
		t.Errorf("%s: want peak %d ≤ arena %d ≤ buffers %d ≤ total %d", r.Model, r.PeakBytes, r.ArenaBytes, r.BufferBytes, r.TotalBytes)
	}
	if r.ResidentPeakBytes > r.PeakBytes || r.MinSRAMNoSpill > r.PeakBytes {
		t.Errorf("%s: resident peak %d or min SRAM %d above peak %d", r.Model, r.ResidentPeakBytes, r.MinSRAMNoSpill, r.PeakBytes)
	}
	bs := r.Buffers
	for i := range bs {
		if bs[i].Offset < 0 || bs[i].Offset+bs[i].Bytes > r.ArenaBytes {
			t.Fatalf("%s: buffer %d [%d,+%d) outside the arena %d", r.Model, i, bs[i].Offset, bs[i].Bytes, r.ArenaBytes)
		}
		for j := range i {
			a, b := &bs[i], &bs[j]
			if a.Start <= b.End && b.Start <= a.End && a.Offset < b.Offset+b.Bytes && b.Offset < a.Offset+a.Bytes {
				t.Fatalf("%s: buffers %d and %d overlap in time and space", r.Model, i, j)
			}
		}
	}
	for i, s := range r.Steps {
		var sum int64
		for _, id := range s.Live {
			b := bs[id]
			if b.Start > i || b.End < i {
				t.Fatalf("%s: step %d lists buffer %d live over [%d,%d]", r.Model, i, id, b.Start, b.End)
			}
			sum += b.Bytes
		}
		if sum != s.LiveBytes {
			t.Fatalf("%s: step %d: live list sums to %d, LiveBytes %d", r.Model, i, sum, s.LiveBytes)
		}
	}
	if !(r.CompulsoryBytes <= r.Traffic(r.MinSRAMNoSpill).Bytes() && r.Traffic(r.MinSRAMNoSpill).Bytes() == r.CompulsoryBytes && r.CompulsoryBytes <= r.StreamBytes) {
		t.Errorf("%s: compulsory %d, at min SRAM %d, stream %d", r.Model, r.CompulsoryBytes, r.Traffic(r.MinSRAMNoSpill).Bytes(), r.StreamBytes)
	}
	if r.MinSRAMNoSpill > 0 && r.Traffic(r.MinSRAMNoSpill-1).Bytes() <= r.CompulsoryBytes {
		t.Errorf("%s: min SRAM %d is not the smallest: %d bytes already spill-free", r.Model, r.MinSRAMNoSpill, r.MinSRAMNoSpill-1)
	}
}

func TestChain(t *testing.T) {
	r := analyze(t, chainGraph(t), Options{})
	live, res := liveSeries(r)
	if want := []int64{1, 2, 1, 2, 1}; !slices.Equal(live, want) {
		t.Errorf("live = %v, want %v", live, want)
	}
	if want := []int64{1, 1, 1, 1, 1}; !slices.Equal(res, want) {
		t.Errorf("resident = %v, want %v", res, want)
	}
	if len(r.Buffers) != 3 {
		t.Errorf("%d buffers, want 3 (input, layer 1, layer 2; ReLUs in place)", len(r.Buffers))
	}
	check := map[string][2]int64{
		"peak": {r.PeakBytes, 2 * S}, "arena": {r.ArenaBytes, 2 * S}, "total": {r.TotalBytes, 5 * S},
		"buffers": {r.BufferBytes, 3 * S}, "resident": {r.ResidentPeakBytes, S},
		// input streamed to conv1 (1 read), layer 1 written and read, layer 2 written.
		"stream": {r.StreamBytes, 4 * S}, "compulsory": {r.CompulsoryBytes, 2 * S},
		// only layer 1's result must stay: the input and the output stream for free.
		"min sram": {r.MinSRAMNoSpill, S},
		"weights":  {r.WeightsBytes, 2 * (4*4*9 + 4)},
	}
	for k, v := range check {
		if v[0] != v[1] {
			t.Errorf("%s = %d, want %d", k, v[0], v[1])
		}
	}
	if got := r.Traffic(S - 1); got.Bytes() != 4*S || got.SpilledBuffers != 1 {
		t.Errorf("traffic(S-1) = %+v, want 4S with one spilled buffer", got)
	}
	if got := r.Traffic(S); got.Bytes() != 2*S || got.SpilledBuffers != 0 {
		t.Errorf("traffic(S) = %+v, want 2S with no spill", got)
	}
}

func TestNoInPlace(t *testing.T) {
	r := analyze(t, chainGraph(t), Options{NoInPlace: true})
	live, _ := liveSeries(r)
	// conv1 and relu1 are separate: at relu1 both live; at conv2 relu1 and conv2.
	if want := []int64{1, 2, 2, 2, 2}; !slices.Equal(live, want) {
		t.Errorf("live = %v, want %v", live, want)
	}
	if len(r.Buffers) != 5 || r.ArenaBytes != 2*S {
		t.Errorf("%d buffers, arena %d; want 5 and 2S", len(r.Buffers), r.ArenaBytes)
	}
}

// TestPaperFig3 reproduces the RepVGG paper's Fig. 3: a residual block that keeps the
// feature size holds 2× its input in feature maps at its peak, a plain block 1× (the
// resident count: an op's result takes the place of operands that die at it). The
// conservative working set, which holds a conv's input and output at once (a conv cannot
// run in place), is 3× and 2×.
func TestPaperFig3(t *testing.T) {
	for _, c := range []struct {
		g              *ir.Graph
		resident, peak int64
	}{
		{plainBlock(t), 1, 2},
		{residualBlock(t), 2, 3},
		{repvggTrainBlock(t), 3, 3}, // three branch results held until the add
	} {
		r := analyze(t, c.g, Options{})
		in := r.Steps[0].OutBytes
		if r.ResidentPeakBytes != c.resident*in || r.PeakBytes != c.peak*in {
			t.Errorf("%s: resident peak %d = %.2f× input, working peak %d = %.2f×; want %d× and %d×",
				r.Model, r.ResidentPeakBytes, float64(r.ResidentPeakBytes)/float64(in),
				r.PeakBytes, float64(r.PeakBytes)/float64(in), c.resident, c.peak)
		}
	}
}

func TestResidual(t *testing.T) {
	r := analyze(t, residualBlock(t), Options{})
	live, res := liveSeries(r)
	// input, conv1, relu1, conv2, add, relu2
	if want := []int64{1, 2, 2, 3, 2, 1}; !slices.Equal(live, want) {
		t.Errorf("live = %v, want %v", live, want)
	}
	if want := []int64{1, 2, 2, 2, 1, 1}; !slices.Equal(res, want) {
		t.Errorf("resident = %v, want %v", res, want)
	}
	if !r.Steps[4].InPlace || !r.Steps[5].InPlace {
		t.Error("add and relu2 should run in place")
	}
	// x: read by conv1 and add (must stay: 2 reads vs 1 load); layer 1: write+read;
	// conv2: write, read by add, add→relu fused, output written: 3 vs 1 resident.
	if r.StreamBytes != 2*S+2*S+3*S || r.CompulsoryBytes != 2*S || r.MinSRAMNoSpill != 3*S || r.ArenaBytes != 3*S {
		t.Errorf("stream %d, compulsory %d, min SRAM %d, arena %d; want 7S, 2S, 3S, 3S", r.StreamBytes, r.CompulsoryBytes, r.MinSRAMNoSpill, r.ArenaBytes)
	}
	// With 2S on chip the best is to stream the shortcut x (one extra read: +S) rather than
	// layer 1 (+2S) or the output buffer (+2S).
	if got := r.Traffic(2 * S); got.Bytes() != 3*S || got.SpilledBuffers != 1 {
		t.Errorf("traffic(2S) = %+v, want 3S with one spilled buffer", got)
	}
}

func TestRepVGGTrainBlock(t *testing.T) {
	r := analyze(t, repvggTrainBlock(t), Options{})
	live, res := liveSeries(r)
	// input, conv3, bn3, conv1, bn1, bn_id, add, relu
	if want := []int64{1, 2, 2, 3, 3, 3, 3, 1}; !slices.Equal(live, want) {
		t.Errorf("live = %v, want %v", live, want)
	}
	if want := []int64{1, 2, 2, 3, 3, 3, 1, 1}; !slices.Equal(res, want) {
		t.Errorf("resident = %v, want %v", res, want)
	}
	if len(r.Buffers) != 3 {
		t.Errorf("%d buffers, want 3: x (bn_id in place), dense branch (bn, add, relu in place), 1x1 branch", len(r.Buffers))
	}
	// Batch and bits scale every activation: batch 4 at 16 bits is 8× the bytes.
	r8 := analyze(t, repvggTrainBlock(t), Options{Batch: 4, Bits: 16})
	if r8.PeakBytes != 8*r.PeakBytes || r8.ArenaBytes != 8*r.ArenaBytes || r8.WeightsBytes != 2*r.WeightsBytes {
		t.Errorf("batch 4 × 16 bits: peak %d, arena %d, weights %d", r8.PeakBytes, r8.ArenaBytes, r8.WeightsBytes)
	}
	// Weights: conv3 4·4·9, conv1 4·4, three BNs with 4 statistics of 4 channels each.
	if want := int64(4*4*9 + 4*4 + 3*4*4); r.WeightsBytes != want {
		t.Errorf("weights = %d, want %d", r.WeightsBytes, want)
	}
}

func TestFanout3(t *testing.T) {
	r := analyze(t, fanout3(t), Options{})
	live, res := liveSeries(r)
	if want := []int64{1, 2, 3, 4, 3}; !slices.Equal(live, want) {
		t.Errorf("live = %v, want %v", live, want)
	}
	if want := []int64{1, 2, 3, 3, 1}; !slices.Equal(res, want) {
		t.Errorf("resident = %v, want %v", res, want)
	}
	// x read 3 times; a: write, read, add's output written; b and c: write + read.
	if r.StreamBytes != 3*S+3*S+2*S+2*S || r.CompulsoryBytes != 2*S || r.ArenaBytes != 4*S {
		t.Errorf("stream %d, compulsory %d, arena %d; want 10S, 2S, 4S", r.StreamBytes, r.CompulsoryBytes, r.ArenaBytes)
	}
	// While c runs, x and all three branch results are live: peak 4S; the add runs in place
	// in a's buffer (a dies there). Every buffer must stay on chip to avoid spills (x is read
	// three times, each branch written and read), so the minimum SRAM is the peak.
	if r.PeakBytes != 4*S || r.MinSRAMNoSpill != 4*S || r.PeakNode != "c" || !r.Steps[4].InPlace || r.Steps[4].Buffer != r.Steps[1].Buffer {
		t.Errorf("peak %d at %s, min SRAM %d, add in place %v; want 4S at c, 4S, in a's buffer", r.PeakBytes, r.PeakNode, r.MinSRAMNoSpill, r.Steps[4].InPlace)
	}
	// With 3S on chip one buffer must stream; the cheapest is a branch (write + read: +2S).
	if got := r.Traffic(3 * S); got.Bytes() != 4*S || got.SpilledBuffers != 1 {
		t.Errorf("traffic(3S) = %+v, want 4S with one spilled buffer", got)
	}
}

// TestFlatten checks that Flatten is a view (no buffer, no traffic).
func TestFlatten(t *testing.T) {
	b := ir.NewBuilder("head", shape)
	x := b.Input()
	f := b.Flatten("flatten", b.GlobalAvgPool("gap", x))
	g := finish(t, b, b.Linear("linear", f, 10))
	r := analyze(t, g, Options{})
	if len(r.Buffers) != 3 || !r.Steps[2].InPlace {
		t.Fatalf("%d buffers, want 3 (input, gap/flatten, linear)", len(r.Buffers))
	}
	// input read by gap (256), gap written (4) and read by linear (4), output written (10).
	if r.StreamBytes != S+4+4+10 || r.TotalBytes != S+4+10 {
		t.Errorf("stream %d, total %d", r.StreamBytes, r.TotalBytes)
	}
}

func TestAnalyzeErrors(t *testing.T) {
	g := chainGraph(t)
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Bits: -1}, "bits"},
		{Options{Batch: -2}, "batch"},
		{Options{Bits: 65, Batch: -1}, "batch"},
	} {
		if _, err := Analyze(g, c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want one mentioning %q", c.o, err, c.want)
		}
	}
	if _, err := Analyze(nil, Options{}); err == nil {
		t.Error("nil graph: no error")
	}
	bad := chainGraph(t)
	bad.Nodes[1], bad.Nodes[2] = bad.Nodes[2], bad.Nodes[1]
	if _, err := Analyze(bad, Options{}); err == nil || !strings.Contains(err.Error(), "topological") {
		t.Errorf("unordered graph: err %v", err)
	}
}
