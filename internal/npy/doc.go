// Package npy reads and writes NumPy arrays: single .npy files (format versions 1.0, 2.0 and
// 3.0) and .npz archives of them, as vggsim tensors.
//
// Reading accepts C-order arrays of the dtypes '<f2', '<f4', '<f8', '|i1', '<i2', '<i4',
// '<i8', '|u1', '<u2', '<u4', '<u8' and '|b1' (big-endian '>' variants too). Floating-point
// data becomes a float32 tensor and integer or boolean data an int64 tensor, the two element
// types of [tensor.Tensor]. Every conversion is exact except float64, which is rounded to
// float32; a caller that must know reads the header first with [ReadHeader] and checks
// [Elem.Exact]. Fortran-order arrays, structured dtypes and object arrays are errors. A 0-d
// array becomes a tensor with an empty shape.
//
// Writing produces '<f4' (Float32) or '<i8' (Int64) version 1.0 files byte for byte as
// numpy.save writes them, header padding included.
//
// Hostile input never panics and never makes the reader allocate much more than the input
// holds: headers are capped, shapes are checked for overflow, and data whose size is not
// known up front is buffered as it arrives rather than allocated from the header's claim.
//
// The element codec ([Elem], [ReadElems], [WriteElems]) is shared with package checkpoint,
// which decodes PyTorch and safetensors storages with it.
package npy
