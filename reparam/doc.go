// Package reparam turns a train-form graph into its deploy form by structural
// re-parameterization (Ding et al., RepVGG, CVPR 2021): every RepVGG block
// ReLU(BN(conv3x3 x) + BN(conv1x1 x) + BN(x)) becomes ReLU(conv3x3+bias x).
//
// The rewrite is a named, ordered table of passes (Passes; ordering constraints in After):
//
//	identity-to-conv  (Add ... (BN x)) => (Add ... (BN (Conv3x3[k=identity] x)))
//	fold-bn           (BN (Conv x)) => (Conv+b x)
//	pad-1x1           (Add (Conv3x3 p=1 x) (Conv1x1 p=0 x) ...) => (Add (Conv3x3 p=1 x) (Conv3x3 p=1 x) ...)
//	merge-branches    (Add (Conv3x3+b x) (Conv3x3+b x) ...) => (Conv3x3+b x)
//	dead-code         drop the nodes whose values do not reach the output
//
// Each pass rewrites the graph in place; unless Options.NoCheck, ir.Verify runs after every
// pass, and a pass's output can be dumped in the IR text form (Options.DumpAfter, `vggsim
// show --dump-after PASS`). testdata/passes holds each pass's before and after text on
// small graphs. The same BN-folding pass gives the deploy form of ResNet and VGG-BN graphs
// (conv+BN → conv with bias); residual adds stay, and such a graph is not plain.
//
// # Cost
//
// Every pass is linear in the number of nodes (BN readers are redirected in one sweep, not
// by a scan per BN) and in the parameter bytes. Passes share a State that records the
// tensors they allocated: those are updated in place by later passes (the identity kernel is
// scaled by its BN, branches are summed into the folded dense kernel) and released as soon
// as they are dead, while the caller's tensors are never written. Deploy allocates about
// 2.1–2.6 times the train-form parameter bytes (RepVGG-A0 to B3); the transients are each
// block's identity kernel and zero-padded 1x1 kernel, which live until merge-branches.
//
// # Bad parameters
//
// A BatchNorm whose running_var is negative or not finite, or whose other parameters are
// not finite, is an error naming the node and channel (CheckBatchNorm reports the same for
// callers that run the train form directly), as is a graph with parameters on some nodes
// but not others.
//
// # Numerics
//
// Every tensor is computed in float32 in exactly the order of the reference code
// (DingXiaoH/RepVGG, repvgg.py, _fuse_bn_tensor and get_equivalent_kernel_bias):
//
//	std = sqrt(var + eps)                  (float32 add, correctly rounded float32 sqrt)
//	K'  = K * (gamma / std)                (per output channel)
//	b'  = beta - ((mean * gamma) / std)
//	K   = (K3 + pad(K1)) + Kid,  b = (b3 + b1) + bid
//
// so fused kernels and biases equal the reference's bit for bit. Each intermediate is
// converted explicitly to float32, which forbids the compiler from fusing a multiply and an
// add into one FMA (Go spec, "Arithmetic operators").
package reparam
