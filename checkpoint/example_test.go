package checkpoint_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/vggsim/vggsim/checkpoint"
	"github.com/vggsim/vggsim/tensor"
)

// A deploy-form state dict written in each format and read back. Load recognizes the
// format from the content.
func Example() {
	dir, err := os.MkdirTemp("", "checkpoint-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	sd := checkpoint.New()
	sd.Set("stage0.rbr_reparam.weight", tensor.New(8, 3, 3, 3))
	sd.Set("stage0.rbr_reparam.bias", tensor.New(8))
	sd.Set("bn.num_batches_tracked", tensor.FromI64([]int64{0})) // 0-d int64, as in PyTorch

	for _, name := range []string{"deploy.pth", "deploy.safetensors", "deploy.npz"} {
		path := filepath.Join(dir, name)
		if err := checkpoint.Save(path, sd); err != nil {
			fmt.Println(err)
			return
		}
		back, info, err := checkpoint.LoadWithInfo(path)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%-18s %-11s", name, info.Format)
		for _, k := range back.Keys {
			t, _ := back.Get(k)
			fmt.Print(" ", t)
		}
		fmt.Println()
	}
	// Output:
	// deploy.pth         pytorch     float32[8x3x3x3] float32[8] int64[scalar]
	// deploy.safetensors safetensors float32[8x3x3x3] float32[8] int64[scalar]
	// deploy.npz         npz         float32[8x3x3x3] float32[8] int64[scalar]
}

// Errors name the file and the problem on one line.
func ExampleLoadBytes() {
	_, err := checkpoint.LoadBytes("model.pth", []byte("definitely not a checkpoint"))
	fmt.Println(err)
	_, err = checkpoint.LoadBytes("model.safetensors", []byte("\xff\xff\xff\xff\x00\x00\x00\x00{}"))
	fmt.Println(err)
	// Output:
	// model.pth: not a zip archive (torch.save and numpy.savez write zip files); the file is damaged or not a checkpoint
	// model.safetensors: corrupt safetensors header: header length 4294967295 exceeds the 100000000-byte limit
}

func ExampleStateDict_Set() {
	sd := checkpoint.New()
	sd.Set("linear.weight", tensor.New(10, 32))
	sd.Set("linear.bias", tensor.New(10))
	sd.Set("linear.weight", tensor.New(10, 32)) // replaces the tensor, keeps its position
	fmt.Println(sd.Keys, sd.Len())
	// Output:
	// [linear.weight linear.bias] 2
}
