// Package reparam turns a train-form graph into its deploy form by structural
// re-parameterization (Ding et al., RepVGG, CVPR 2021): every RepVGG block
// ReLU(BN(conv3x3 x) + BN(conv1x1 x) + BN(x)) becomes ReLU(conv3x3+bias x).
//
// The rewrite is a named, ordered table of passes (Passes). Each pass rewrites the graph in
// place; with checking on, ir.Verify runs after every pass, and a pass's output can be
// dumped in the IR text form (Options.DumpAfter). The same BN-folding pass gives the deploy
// form of ResNet and VGG-BN graphs (conv+BN → conv with bias); residual adds stay.
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
