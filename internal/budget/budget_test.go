package budget

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCount(t *testing.T) {
	for s, want := range map[string]int64{"1000": 1000, "64M": 64 << 20, "8GiB": 8 << 30, "2k": 2048, "1T": 1 << 40, "3KB": 3072} {
		got, err := ParseCount(s)
		require.NoError(t, err, s)
		assert.Equal(t, want, got, s)
	}
	for _, s := range []string{"", "0", "-1", "1.5G", "9999999T", "M", "1X"} {
		_, err := ParseCount(s)
		assert.Error(t, err, s)
	}
}

func TestEnv(t *testing.T) {
	t.Setenv("VGGSIM_TEST_COUNT", "")
	n, err := Env("VGGSIM_TEST_COUNT", 7)
	require.NoError(t, err)
	assert.Equal(t, int64(7), n)
	t.Setenv("VGGSIM_TEST_COUNT", "2M")
	n, err = Env("VGGSIM_TEST_COUNT", 7)
	require.NoError(t, err)
	assert.Equal(t, int64(2<<20), n)
	t.Setenv("VGGSIM_TEST_COUNT", "two")
	_, err = Env("VGGSIM_TEST_COUNT", 7)
	assert.EqualError(t, err, `$VGGSIM_TEST_COUNT: bad count "two", want a positive integer with an optional K, M, G or T suffix`)
}

func TestBytes(t *testing.T) {
	assert.Equal(t, "1000 B", Bytes(1000))
	assert.Equal(t, "96 MiB", Bytes(96<<20))
	assert.Equal(t, "1.5 GiB", Bytes(3<<29))
	assert.Equal(t, "4 TiB", Bytes(4<<40))
}
