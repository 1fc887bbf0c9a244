package csvrow

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type point struct {
	Name string
	N    int64
	X    *float64
}

var cols = []Column[point]{
	Col("name", func(p *point) string { return p.Name }),
	Col("n", func(p *point) string { return Int(p.N) }),
	Col("x", func(p *point) string { return OptFloat(p.X, 'g') }),
}

func TestWrite(t *testing.T) {
	x := 1e-7
	var b bytes.Buffer
	require.NoError(t, Write(&b, cols, []point{{"a,b", 3, nil}, {"c", -1, &x}}))
	assert.Equal(t, "name,n,x\n\"a,b\",3,\nc,-1,1e-07\n", b.String())
	assert.Equal(t, []string{"name", "n", "x"}, Header(cols))
	assert.Equal(t, "0.0000001", Float(x, 'f'))
	assert.Equal(t, "", OptInt(nil))
	v := int64(42)
	assert.Equal(t, "42", OptInt(&v))
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteError(t *testing.T) {
	assert.EqualError(t, Write(failWriter{}, cols, []point{{"a", 1, nil}}), "disk full")
}
