package npy_test

import (
	"bytes"
	"fmt"

	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/tensor"
)

func Example() {
	var buf bytes.Buffer
	x := tensor.FromF32([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	if err := npy.Write(&buf, x); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(buf.Len(), "bytes") // a 128-byte header, then 24 bytes of data

	y, err := npy.Read(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(y, y.F32)
	// Output:
	// 152 bytes
	// float32[2x3] [1 2 3 4 5 6]
}

func ExampleReadHeader() {
	var buf bytes.Buffer
	npy.Write(&buf, tensor.FromI64([]int64{0})) // a 0-d int64 array, like num_batches_tracked
	h, err := npy.ReadHeader(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %v shape=%v exact=%v\n", h.Descr, h.Elem, h.Shape, h.Elem.Exact())
	// Output:
	// <i8 int64 shape=[] exact=true
}
