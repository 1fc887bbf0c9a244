package yamlnode

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// TestSyntaxError places each kind of YAML syntax error at the line and column a reader
// would point at.
func TestSyntaxError(t *testing.T) {
	const head = "name: x\narray: 8\ndataflow: os\n"
	for _, c := range []struct {
		doc       string
		line, col int
		msg       string
	}{
		// The case: an unclosed '[' on line 4 was reported at line 3.
		{head + "sizes: [1, 2\nclock: 1GHz\n", 4, 8, "did not find expected ',' or ']' (unclosed '[')"},
		{head + "sizes: [1, 2\n", 4, 8, "did not find expected ',' or ']' (unclosed '[')"},
		{head + "sizes: {a: 1, b: 2\nclock: 1GHz\n", 4, 8, "did not find expected ',' or '}' (unclosed '{')"},
		{head + "sizes: {a: [1, 2}\n", 4, 12, "did not find expected ',' or ']' (unclosed '[')"},
		{head + "sizes: x: y\nclock: 1GHz\n", 4, 9, "mapping values are not allowed in this context"},
		{"name: x\narray: 8\n  dataflow: os\nsizes: 3\n", 3, 11, "mapping values are not allowed in this context"},
		{head + "sizes: @x\nclock: 1GHz\n", 4, 8, "found character that cannot start any token"},
		{head + "\tsizes: 2\nclock: 1GHz\n", 4, 1, "found a tab character that violates indentation"},
		{"name: x\narray:\n\trows: 32\n", 3, 1, "found character that cannot start any token (a tab in the indentation)"},
		{head + "sizes: \"abc\nclock: 1GHz\n", 4, 8, "unclosed quote (found unexpected end of stream)"},
		{head + "sizes: 'it''s\n", 4, 8, "unclosed quote (found unexpected end of stream)"},
		{"name: x\narray:\n  a: 1\n b: 2\nsizes: 3\n", 4, 2, "did not find expected key"},
		{head + "- sizes\n", 4, 1, "did not find expected key"},
		{head + "sizes: [a, b]]\n", 4, 1, "did not find expected key"},
		{head + "sizes: ]\n", 4, 1, "did not find expected node content"},
		{"# it's a comment with [\n" + head + "sizes: [1, 2\n", 5, 8, "did not find expected ',' or ']' (unclosed '[')"},
	} {
		var n yaml.Node
		err := yaml.Unmarshal([]byte(c.doc), &n)
		require.Error(t, err, "%q", c.doc)
		line, col, msg := SyntaxError([]byte(c.doc), err)
		assert.Equal(t, fmt.Sprintf("%d:%d: %s", c.line, c.col, c.msg), fmt.Sprintf("%d:%d: %s", line, col, msg), "%q (decoder: %v)", c.doc, err)
	}
	line, col, msg := SyntaxError(nil, errors.New("yaml: unknown anchor 'nope' referenced"))
	assert.Equal(t, 0, line)
	assert.Equal(t, 0, col)
	assert.Equal(t, "unknown anchor 'nope' referenced", msg)
}

// FuzzSyntaxError: for any document the decoder rejects with a line, SyntaxError never
// panics and places the error on a line of the document (or the line after its end) at a
// column within that line.
func FuzzSyntaxError(f *testing.F) {
	for _, s := range []string{"a: [1, 2\nb: 3\n", "a: 'x\n", "a:\n\tb: 1\n", "a: b: c\n", "- a\nb: c\n", "{a: [1}\n", "\"\\\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var n yaml.Node
		err := yaml.Unmarshal(data, &n)
		if err == nil {
			return
		}
		line, col, msg := SyntaxError(data, err)
		if msg == "" {
			t.Fatalf("empty message for %v", err)
		}
		if line == 0 {
			return
		}
		lines := strings.Split(string(data), "\n")
		if line < 1 || line > len(lines)+1 {
			t.Fatalf("line %d of a %d-line document (%v)", line, len(lines), err)
		}
		width := 0
		if line <= len(lines) {
			width = len(lines[line-1])
		}
		if col < 1 || col > width+1 {
			t.Fatalf("%d:%d: column outside a %d-byte line (%v)", line, col, width, err)
		}
	})
}
