package checkpoint

import "github.com/vggsim/vggsim/internal/budget"

// Limits bounds what loading one checkpoint may cost, so that a small hostile file cannot
// take gigabytes of memory or minutes of CPU. The zero value of a field means its default.
// Genuine giant checkpoints raise the limits with the environment variables named below
// (read by [LimitsFromEnv], which [Load] uses) or by passing Limits to [LoadWithLimits].
type Limits struct {
	// MaxBytes bounds the tensor bytes the loader decompresses or copies: zip entries as
	// they inflate, plus the copies made for strided or shared views of a storage. The
	// default is DefaultMaxBytes, but never more than DefaultExpansion times the file's
	// size plus DefaultSlack; setting MaxBytes replaces both. $VGGSIM_MAX_CHECKPOINT_BYTES.
	MaxBytes int64
	// MaxPickleOps bounds the opcodes of one pickle. $VGGSIM_MAX_PICKLE_OPS.
	MaxPickleOps int
	// MaxPickleObjects bounds the opcodes that push a new object (or another reference
	// to one) onto the unpickler's stack. $VGGSIM_MAX_PICKLE_OBJECTS.
	MaxPickleObjects int
}

// Defaults for Limits. torch.save of a 1000-tensor state dict pickles ~30 000 opcodes.
const (
	DefaultMaxBytes         = 4 << 30  // tensor bytes decoded from one checkpoint
	DefaultExpansion        = 32       // decoded bytes per file byte, beyond DefaultSlack
	DefaultSlack            = 64 << 20 // decoded bytes any file may take
	DefaultMaxPickleOps     = 4 << 20
	DefaultMaxPickleObjects = 1 << 20
	// MaxLongBytes bounds a pickled integer (LONG1/LONG4 bytes, INT/LONG text digits).
	// gopickle decodes long integers in quadratic time; checkpoints hold small ones only.
	MaxLongBytes = 64
)

// The environment variables LimitsFromEnv reads.
const (
	EnvMaxBytes         = "VGGSIM_MAX_CHECKPOINT_BYTES"
	EnvMaxPickleOps     = "VGGSIM_MAX_PICKLE_OPS"
	EnvMaxPickleObjects = "VGGSIM_MAX_PICKLE_OBJECTS"
)

// LimitsFromEnv returns the Limits set by the environment ($VGGSIM_MAX_CHECKPOINT_BYTES,
// $VGGSIM_MAX_PICKLE_OPS, $VGGSIM_MAX_PICKLE_OBJECTS; unset fields keep their defaults).
// Counts take the suffixes K, M, G, T (powers of 1024, optionally followed by "iB").
func LimitsFromEnv() (Limits, error) {
	var l Limits
	var err error
	if l.MaxBytes, err = budget.Env(EnvMaxBytes, 0); err != nil {
		return Limits{}, err
	}
	ops, err := budget.Env(EnvMaxPickleOps, 0)
	if err != nil {
		return Limits{}, err
	}
	objs, err := budget.Env(EnvMaxPickleObjects, 0)
	if err != nil {
		return Limits{}, err
	}
	l.MaxPickleOps, l.MaxPickleObjects = int(min(ops, 1<<40)), int(min(objs, 1<<40))
	return l, nil
}

// resolve fills in defaults for a file of size bytes.
func (l Limits) resolve(size int64) Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
		if size <= (DefaultMaxBytes-DefaultSlack)/DefaultExpansion {
			l.MaxBytes = min(l.MaxBytes, DefaultSlack+DefaultExpansion*size)
		}
	}
	if l.MaxPickleOps <= 0 {
		l.MaxPickleOps = DefaultMaxPickleOps
	}
	if l.MaxPickleObjects <= 0 {
		l.MaxPickleObjects = DefaultMaxPickleObjects
	}
	return l
}

// byteBudget tracks the bytes one load has decoded against Limits.MaxBytes.
type byteBudget struct {
	max  int64
	used int64
}

// charge accounts for n more bytes of what, failing once the budget is exceeded.
func (b *byteBudget) charge(n int64, what string) error {
	if n < 0 || n > b.max-b.used {
		return errorf("%s would take the checkpoint past its budget of %s decoded bytes (set $%s to allow more)",
			what, budget.Bytes(b.max), EnvMaxBytes)
	}
	b.used += n
	return nil
}
