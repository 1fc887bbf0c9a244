// Package checkpoint reads and writes model weights as an ordered state dict: PyTorch
// checkpoints (.pth), safetensors and NumPy .npz archives.
//
// A [StateDict] maps PyTorch state_dict names ("stage1.0.rbr_dense.conv.weight") to
// tensors in file order. Float tensors are float32 and integer tensors (BatchNorm's
// num_batches_tracked, a 0-d int64) are int64; wider, narrower or half-precision data is
// converted on loading and [Info.Converted] says which keys were. The package does not know
// models: checking names and shapes against a network is the caller's job.
//
// # Reading
//
// [Load] recognizes the format from the content. PyTorch's zip format (torch.save since
// 1.6) is unpickled with github.com/nlpodyssey/gopickle's unpickler under our own class
// table and persistent_load: only tensor rebuilds, typed storages and OrderedDict mean
// anything, every other class becomes an inert object, and storages are decoded lazily, so
// only tensors that end up in the state dict are read. The pre-1.6 stream format is read
// too. {"state_dict": …} and {"model": …} wrappers are removed and a "module." prefix is
// stripped from the keys.
//
// Hostile input never panics (a recover turns any decoder panic into an error) and never
// makes the reader allocate much more than the file holds: the pickle is scanned before it
// is executed so that every length it claims is backed by bytes, zip entries must have
// plausible sizes, storages are checked against their records, and safetensors offsets
// must tile the data section exactly.
//
// Every error names the file and the problem on one line; content problems are
// *[FormatError].
//
// # Writing
//
// [SavePTH] writes what torch.save(state_dict) writes, byte for byte up to the state
// dict's optional _metadata: the same zip layout (64-byte aligned, stored entries) and the
// same pickle protocol 2 opcodes and memo numbering. [SaveSafetensors] and [SaveNPZ] write
// the other formats, and [Save] picks one by extension. Writes go to a temporary file that
// is renamed into place.
package checkpoint
