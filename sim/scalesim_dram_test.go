package sim

import (
	"bufio"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestPySetOrder checks pySet against CPython: testdata/pyset_order.txt holds, for random
// sets of the kinds SCALE-Sim's read buffer builds (consecutive, strided and scattered
// addresses, with and without offsets, up to 655 elements), the order the keys were added
// and the order python3 lists the set in.
func TestPySetOrder(t *testing.T) {
	f, err := os.Open("testdata/pyset_order.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var lines [][]int64
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		var v []int64
		for _, w := range strings.Fields(sc.Text()) {
			x, err := strconv.ParseInt(w, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			v = append(v, x)
		}
		lines = append(lines, v)
	}
	if len(lines) < 20 || len(lines)%2 != 0 {
		t.Fatalf("%d lines", len(lines))
	}
	for i := 0; i < len(lines); i += 2 {
		s := newPySet()
		for _, k := range lines[i] {
			s.add(k)
		}
		if got := s.list(); !slices.Equal(got, lines[i+1]) {
			t.Errorf("case %d (%d keys): order differs from CPython's at %d", i/2, len(lines[i]), firstDiff(got, lines[i+1]))
		}
	}
}

func firstDiff(a, b []int64) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
