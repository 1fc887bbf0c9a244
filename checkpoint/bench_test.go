package checkpoint

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/vggsim/vggsim/tensor"
)

// benchSD returns a state dict of 64 float32 tensors holding params elements in all.
func benchSD(params int) *StateDict {
	sd := New()
	for i := range 64 {
		n := params / 64
		sd.Set(fmt.Sprintf("stage%d.rbr_reparam.weight", i), tensor.FromF32(seq(n), n))
	}
	return sd
}

func BenchmarkSave(b *testing.B) {
	sd := benchSD(4 << 20)
	for _, ext := range []string{".pth", ".safetensors", ".npz"} {
		b.Run(ext[1:]+"/16MiB", func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "w"+ext)
			b.SetBytes(16 << 20)
			for b.Loop() {
				if err := Save(path, sd); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLoad(b *testing.B) {
	sd := benchSD(4 << 20)
	for _, ext := range []string{".pth", ".safetensors", ".npz"} {
		b.Run(ext[1:]+"/16MiB", func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "w"+ext)
			if err := Save(path, sd); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(16 << 20)
			for b.Loop() {
				if _, err := Load(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
