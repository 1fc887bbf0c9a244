package ir

import (
	"os"
	"strings"
	"testing"

	"github.com/vggsim/vggsim/internal/golden"
)

// repvggBlock builds one train-form RepVGG block on x.
func repvggBlock(b *Builder, name string, x *Value, cout, stride, groups int) *Value {
	d := b.Conv(name+".rbr_dense.conv", x, cout, 3, stride, 1, groups, false)
	d = b.BatchNorm(name+".rbr_dense.bn", d, 1e-5)
	o := b.Conv(name+".rbr_1x1.conv", x, cout, 1, stride, 0, groups, false)
	o = b.BatchNorm(name+".rbr_1x1.bn", o, 1e-5)
	sum := []*Value{d, o}
	if x.Shape.C == cout && stride == 1 {
		sum = append(sum, b.BatchNorm(name+".rbr_identity", x, 1e-5))
	}
	return b.ReLU(name+".relu", b.Add(name+".add", sum...))
}

func tinyTrain(t *testing.T) *Graph {
	b := NewBuilder("tiny", Shape{3, 16, 16})
	x := repvggBlock(b, "stage0", b.Input(), 8, 2, 1)
	x = repvggBlock(b, "stage1.0", x, 8, 1, 2)
	x = b.GlobalAvgPool("gap", x)
	x = b.Flatten("flatten", x)
	g, err := b.Finish(b.Linear("linear", x, 10))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func plainNet(t *testing.T) *Graph {
	b := NewBuilder("plain", Shape{3, 16, 16})
	x := b.ReLU("stage0.relu", b.Conv("stage0.rbr_reparam", b.Input(), 8, 3, 2, 1, 1, true))
	x = b.ReLU("stage1.0.relu", b.Conv("stage1.0.rbr_reparam", x, 8, 3, 1, 1, 2, true))
	g, err := b.Finish(b.Linear("linear", b.GlobalAvgPool("gap", x), 10))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestPrintGolden(t *testing.T) {
	for name, g := range map[string]*Graph{"tiny_train.ir": tinyTrain(t), "plain.ir": plainNet(t)} {
		golden.Check(t, name, []byte(g.String()))
	}
}

func TestRoundTrip(t *testing.T) {
	for _, g := range []*Graph{tinyTrain(t), plainNet(t)} {
		text := g.String()
		g2, err := Parse("rt.ir", strings.NewReader(text))
		if err != nil {
			t.Fatalf("%s: %v", g.Name, err)
		}
		if got := g2.String(); got != text {
			t.Errorf("round trip changed the text:\n%s\nvs\n%s", got, text)
		}
		if g2.MACs() != g.MACs() || g2.Params() != g.Params() {
			t.Errorf("%s: counts changed in round trip", g.Name)
		}
	}
}

func TestCounts(t *testing.T) {
	g := tinyTrain(t)
	// stage0: dense 8·3·9 + 1x1 8·3 + 2 BNs · 2·8; stage1.0 (g=2): dense 8·4·9 + 1x1 8·4 +
	// 3 BNs · 2·8; linear 8·10+10.
	want := int64(8*3*9 + 8*3 + 2*16 + 8*4*9 + 8*4 + 3*16 + 90)
	if got := g.Params(); got != want {
		t.Errorf("params = %d, want %d", got, want)
	}
	// stage0 out 8x8x8: 64·8·3·9 + 64·8·3; stage1.0: 64·8·4·9 + 64·8·4; linear 80.
	wantMACs := int64(64*8*3*9 + 64*8*3 + 64*8*4*9 + 64*8*4 + 80)
	if got := g.MACs(); got != wantMACs {
		t.Errorf("MACs = %d, want %d", got, wantMACs)
	}
}

func TestIsPlain(t *testing.T) {
	if ok, why := IsPlain(plainNet(t)); !ok {
		t.Errorf("plain net not plain: %s", why)
	}
	if ok, _ := IsPlain(tinyTrain(t)); ok {
		t.Error("train-form graph reported plain")
	}
}

func TestBuilderErrors(t *testing.T) {
	b := NewBuilder("bad", Shape{6, 8, 8})
	x := b.Conv("c", b.Input(), 8, 3, 1, 1, 4, false)
	_, err := b.Finish(x)
	if err == nil || !strings.Contains(err.Error(), "groups=4 does not divide in=6") {
		t.Errorf("err = %v", err)
	}
	b = NewBuilder("bad2", Shape{3, 8, 8})
	y := b.ReLU("r", b.Input())
	b.ReLU("r", y)
	if _, err := b.Finish(y); err == nil || !strings.Contains(err.Error(), "duplicate node name") {
		t.Errorf("err = %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"", "x.ir:1:1: missing graph header"},
		{"graph \"g\"\n%0 = input : 3x4x4\n%1 = frob %0 @f : 3x4x4\n", "x.ir:3:10: unknown op \"frob\""},
		{"graph \"g\"\n%0 = input : 3x4x4\n%1 = relu %7 @r : 3x4x4\n", "x.ir:3:13: undefined value %7"},
		{"graph \"g\"\n%0 = input : 3x4\n", "bad shape"},
		{"graph \"g\"\n%0 = input : 3x4x4\n%1 = relu %0 @r : 3x4x4\n", "missing return"},
		{"graph \"g\"\n%0 = input : 3x4x4\n%1 = conv[k=3x3 s=1 p=1 g=2] %0 @c : 4x4x4\nreturn %1\n", "groups=2 does not divide"},
	}
	wantParseErrors(t, cases)
}

// FuzzParse feeds arbitrary text to the parser, seeded with every golden .ir file of this
// package and of models. Parse must never panic; whatever it accepts must print to text
// that parses back to the same text (and the same counts).
func FuzzParse(f *testing.F) {
	for _, file := range goldenIRFiles() {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("graph \"g\"\n%0 = input : 3x4x4\n%1 = relu %0 @r : 3x4x4\nreturn %1\n")
	f.Add("graph \"a\"\n%0 = input : 8x5x3\n%1 = adaptiveavgpool[out=3x7] %0 @p : 8x3x7\nreturn %1\n")
	f.Add("graph \"se\"\n%0 = input : 16x4x4\n%1 = gap %0 @p : 16x1x1\n%2 = sigmoid %1 @s : 16x1x1\n%3 = mul %0, %2 @m : 16x4x4\n%4 = maxpool[k=3x3 s=2 p=1] %3 @mp : 16x2x2\nreturn %4\n")
	f.Fuzz(func(t *testing.T, src string) {
		g, err := Parse("fuzz.ir", strings.NewReader(src))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.ir:") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		text := g.String()
		g2, err := Parse("fuzz2.ir", strings.NewReader(text))
		if err != nil {
			t.Fatalf("printed graph does not parse: %v\n%s", err, text)
		}
		if g2.String() != text {
			t.Fatalf("round trip not stable")
		}
		if g2.MACs() != g.MACs() || g2.Params() != g.Params() {
			t.Fatalf("round trip changed the counts")
		}
		IsPlain(g) // must not panic on any verified graph
	})
}
