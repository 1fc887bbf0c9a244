package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"a0", "a0", 0}, {"kitten", "sitting", 3}, {"", "abc", 3}, {"b1g4", "b1g2", 1}} {
		if got := Distance(c.a, c.b); got != c.d {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}

func TestNearest(t *testing.T) {
	names := []string{"edge-32", "tpu-v1", "eyeriss", "nvdla-small", "nvdla-large"}
	if got := Nearest("tpu-v9", names); len(got) == 0 || got[0] != "tpu-v1" {
		t.Errorf("Nearest(tpu-v9) = %v", got)
	}
	if got := Nearest("nvdla", names); len(got) != 2 {
		t.Errorf("Nearest(nvdla) = %v, want both NVDLA presets", got)
	}
	if got := Nearest("zzzzzzzz", names); len(got) != 0 {
		t.Errorf("Nearest(zzzzzzzz) = %v, want none", got)
	}
	if got := DidYouMean([]string{"a", "b", "c"}); got != " (did you mean a, b or c?)" {
		t.Errorf("DidYouMean = %q", got)
	}
}
