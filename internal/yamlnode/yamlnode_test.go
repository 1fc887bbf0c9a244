package yamlnode

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestDescribeAndDeref(t *testing.T) {
	var doc yaml.Node
	src := "a: &x {k: 1}\nb: *x\nc: [1]\nd:\ne: " + strings.Repeat("z", 50) + "\nf: 64KiB\n"
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	m := doc.Content[0].Content
	want := map[string]string{"a": "a mapping", "b": "a mapping", "c": "a list", "d": "nothing",
		"e": `"` + strings.Repeat("z", 40) + `…"`, "f": `"64KiB"`}
	for i := 0; i < len(m); i += 2 {
		if got := Describe(Deref(m[i+1])); got != want[m[i].Value] {
			t.Errorf("%s: Describe = %s, want %s", m[i].Value, got, want[m[i].Value])
		}
	}
}
