package ir

import (
	"strings"
	"testing"
)

func TestAdaptiveWindow(t *testing.T) {
	// PyTorch: start = ⌊i·in/out⌋, end = ⌈(i+1)·in/out⌉.
	for _, c := range []struct {
		in, out int
		want    [][2]int
	}{
		{5, 3, [][2]int{{0, 2}, {1, 4}, {3, 5}}},                                 // 5/3: overlapping windows of 2, 3, 2
		{1, 7, [][2]int{{0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}}}, // replication
		{7, 7, [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}, {6, 7}}}, // identity
		{4, 2, [][2]int{{0, 2}, {2, 4}}},                                         // a 2x2 stride-2 pool
		{2, 3, [][2]int{{0, 1}, {0, 2}, {1, 2}}},                                 // 2/3: upsampling with a shared middle
		{10, 7, [][2]int{{0, 2}, {1, 3}, {2, 5}, {4, 6}, {5, 8}, {7, 9}, {8, 10}}},
	} {
		for i, w := range c.want {
			if s, e := AdaptiveWindow(i, c.in, c.out); s != w[0] || e != w[1] {
				t.Errorf("AdaptiveWindow(%d, %d, %d) = [%d, %d), want [%d, %d)", i, c.in, c.out, s, e, w[0], w[1])
			}
		}
	}
	// Every window is non-empty and inside the input, the first starts at 0, the last ends
	// at in, starts and ends never decrease, and consecutive windows leave no gap.
	for in := 1; in <= 40; in++ {
		for out := 1; out <= 40; out++ {
			ps, pe := 0, 0
			for i := range out {
				s, e := AdaptiveWindow(i, in, out)
				if s < 0 || e > in || s >= e || s < ps || e < pe || s > pe && i > 0 {
					t.Fatalf("in %d out %d: window %d = [%d, %d) after [%d, %d)", in, out, i, s, e, ps, pe)
				}
				if i == 0 && s != 0 || i == out-1 && e != in {
					t.Fatalf("in %d out %d: window %d = [%d, %d) does not reach the edge", in, out, i, s, e)
				}
				ps, pe = s, e
			}
		}
	}
}

// adaptiveNet is a VGG-like tail: conv, adaptive pool to 3x2, flatten, linear.
func adaptiveNet(t *testing.T) *Graph {
	t.Helper()
	b := NewBuilder("adaptive", Shape{3, 5, 4})
	x := b.ReLU("relu", b.Conv("conv", b.Input(), 8, 3, 1, 1, 1, true))
	x = b.AdaptiveAvgPool("avgpool", x, 3, 2)
	g, err := b.Finish(b.Linear("fc", b.Flatten("flatten", x), 10))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestAdaptiveAvgPoolText(t *testing.T) {
	g := adaptiveNet(t)
	const want = `graph "adaptive"
%0 = input : 3x5x4
%1 = conv[k=3x3 s=1 p=1 g=1 bias] %0 @conv : 8x5x4
%2 = relu %1 @relu : 8x5x4
%3 = adaptiveavgpool[out=3x2] %2 @avgpool : 8x3x2
%4 = flatten %3 @flatten : 48x1x1
%5 = linear %4 @fc : 10x1x1
return %5
`
	if got := g.String(); got != want {
		t.Fatalf("text:\n%s\nwant\n%s", got, want)
	}
	g2, err := Parse("a.ir", strings.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	if got := g2.String(); got != want {
		t.Errorf("round trip:\n%s", got)
	}
	if a := g2.Node("avgpool").Attrs; a != (Attrs{OutH: 3, OutW: 2}) {
		t.Errorf("parsed attrs %+v", a)
	}
	if g2.MACs() != g.MACs() || g2.Params() != g.Params() || g.Node("avgpool").MACs() != 0 || g.Node("avgpool").NumParams() != 0 {
		t.Errorf("counts: the pool has no MACs or parameters")
	}
	// Upsampling to a larger map is allowed (1x1 → 7x7).
	b := NewBuilder("up", Shape{4, 1, 1})
	if _, err := b.Finish(b.AdaptiveAvgPool("avgpool", b.Input(), 7, 7)); err != nil {
		t.Errorf("1x1 to 7x7: %v", err)
	}
}

func TestAdaptiveAvgPoolChecks(t *testing.T) {
	g := adaptiveNet(t)
	g.Node("avgpool").Out.Shape = Shape{8, 2, 3}
	wantVerify(t, "shape", g, "avgpool (adaptiveavgpool): result 8x2x3, want 8x3x2")
	g = adaptiveNet(t)
	g.Node("avgpool").Out.Shape = Shape{4, 3, 2}
	wantVerify(t, "channels", g, "avgpool (adaptiveavgpool): result 4x3x2, want 8x3x2")
	g = adaptiveNet(t)
	g.Node("avgpool").Attrs.OutW = 0
	wantVerify(t, "size 0", g, "avgpool (adaptiveavgpool): bad output size out=3x0")

	b := NewBuilder("bad", Shape{3, 4, 4})
	if _, err := b.Finish(b.AdaptiveAvgPool("p", b.Input(), 0, 7)); err == nil || !strings.Contains(err.Error(), "p: adaptiveavgpool: bad output size 0x7") {
		t.Errorf("builder: %v", err)
	}

	hdr := "graph \"g\"\n%0 = input : 3x4x4\n"
	wantParseErrors(t, []struct{ src, want string }{
		{hdr + "%1 = adaptiveavgpool[out=7] %0 @p : 3x7x7\nreturn %1\n", "x.ir:3:22: bad output size \"7\", want HxW"},
		{hdr + "%1 = adaptiveavgpool[k=7x7] %0 @p : 3x7x7\nreturn %1\n", "x.ir:3:22: unknown attribute \"k\" for adaptiveavgpool"},
		{hdr + "%1 = maxpool[out=2x2] %0 @p : 3x2x2\nreturn %1\n", "unknown attribute \"out\" for maxpool"},
		{hdr + "%1 = adaptiveavgpool %0 @p : 3x7x7\nreturn %1\n", "p (adaptiveavgpool): bad output size out=0x0"},
		{hdr + "%1 = adaptiveavgpool[out=7x7] %0 @p : 3x7x6\nreturn %1\n", "result 3x7x6, want 3x7x7"},
	})
}
