#!/usr/bin/python3
"""Checks vggsim's deploy export against real PyTorch (run by `make torch-check`).

Needs PyTorch (Debian's python3-torch 1.13 is enough) and numpy; it is not part of
`make test`. It drives the vggsim binary given by --vggsim and checks, with the official
RepVGG code ported below (DingXiaoH/RepVGG repvgg.py, commit eae7c52, deploy and train
forms, SE blocks included):

  tiny_repvgg (the golden case)
    1. `vggsim fuse tiny_repvgg.yaml --weights tiny_repvgg_train.pth -o deploy.pth`;
    2. torch.load(weights_only=True) reads it; its keys, in order, are the deploy model's
       state_dict keys; load_state_dict(strict=True) accepts it;
    3. the deploy model on the golden input.npy reproduces deploy.logits.npy;
    4. every tensor equals, bit for bit, the reference's own conversion of the train
       checkpoint (get_equivalent_kernel_bias) and the golden tiny_repvgg_deploy.pth.

  zoo models (default RepVGG-A0, RepVGG-B1g4, RepVGG-D2se), random weights
    1. PyTorch builds the train model (seeded, BN statistics randomized) and torch.save's it;
    2. `vggsim fuse MODEL --weights train.pth -o deploy.pth`;
    3. steps 2 and 4 above, against the reference conversion of the same train model;
    4. the deploy model with our weights agrees with the train model on a random batch, and
       `vggsim infer MODEL --form deploy` on our .pth agrees with PyTorch.

Exit status 0 when every check passes, 1 otherwise.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


# ---- the reference model: a minimal port of DingXiaoH/RepVGG repvgg.py (eae7c52) ----------

def conv_bn(in_channels, out_channels, kernel_size, stride, padding, groups=1):
    result = nn.Sequential()
    result.add_module('conv', nn.Conv2d(in_channels=in_channels, out_channels=out_channels,
                                        kernel_size=kernel_size, stride=stride, padding=padding,
                                        groups=groups, bias=False))
    result.add_module('bn', nn.BatchNorm2d(num_features=out_channels))
    return result


class SEBlock(nn.Module):
    def __init__(self, input_channels, internal_neurons):
        super().__init__()
        self.down = nn.Conv2d(input_channels, internal_neurons, kernel_size=1, stride=1, bias=True)
        self.up = nn.Conv2d(internal_neurons, input_channels, kernel_size=1, stride=1, bias=True)
        self.input_channels = input_channels

    def forward(self, inputs):
        x = F.avg_pool2d(inputs, kernel_size=inputs.size(3))
        x = self.down(x)
        x = F.relu(x)
        x = self.up(x)
        x = torch.sigmoid(x)
        x = x.view(-1, self.input_channels, 1, 1)
        return inputs * x


class RepVGGBlock(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 groups=1, deploy=False, use_se=False):
        super().__init__()
        self.deploy = deploy
        self.groups = groups
        self.in_channels = in_channels
        assert kernel_size == 3 and padding == 1
        padding_11 = padding - kernel_size // 2
        self.nonlinearity = nn.ReLU()
        self.se = SEBlock(out_channels, internal_neurons=out_channels // 16) if use_se else nn.Identity()
        if deploy:
            self.rbr_reparam = nn.Conv2d(in_channels, out_channels, kernel_size=kernel_size, stride=stride,
                                         padding=padding, groups=groups, bias=True)
        else:
            self.rbr_identity = nn.BatchNorm2d(in_channels) if out_channels == in_channels and stride == 1 else None
            self.rbr_dense = conv_bn(in_channels, out_channels, kernel_size, stride, padding, groups)
            self.rbr_1x1 = conv_bn(in_channels, out_channels, 1, stride, padding_11, groups)

    def forward(self, inputs):
        if hasattr(self, 'rbr_reparam'):
            return self.nonlinearity(self.se(self.rbr_reparam(inputs)))
        id_out = 0 if self.rbr_identity is None else self.rbr_identity(inputs)
        return self.nonlinearity(self.se(self.rbr_dense(inputs) + self.rbr_1x1(inputs) + id_out))

    def get_equivalent_kernel_bias(self):
        kernel3x3, bias3x3 = self._fuse_bn_tensor(self.rbr_dense)
        kernel1x1, bias1x1 = self._fuse_bn_tensor(self.rbr_1x1)
        kernelid, biasid = self._fuse_bn_tensor(self.rbr_identity)
        return kernel3x3 + self._pad_1x1_to_3x3_tensor(kernel1x1) + kernelid, bias3x3 + bias1x1 + biasid

    def _pad_1x1_to_3x3_tensor(self, kernel1x1):
        return 0 if kernel1x1 is None else F.pad(kernel1x1, [1, 1, 1, 1])

    def _fuse_bn_tensor(self, branch):
        if branch is None:
            return 0, 0
        if isinstance(branch, nn.Sequential):
            kernel = branch.conv.weight
            running_mean, running_var = branch.bn.running_mean, branch.bn.running_var
            gamma, beta, eps = branch.bn.weight, branch.bn.bias, branch.bn.eps
        else:
            assert isinstance(branch, nn.BatchNorm2d)
            if not hasattr(self, 'id_tensor'):
                input_dim = self.in_channels // self.groups
                kernel_value = np.zeros((self.in_channels, input_dim, 3, 3), dtype=np.float32)
                for i in range(self.in_channels):
                    kernel_value[i, i % input_dim, 1, 1] = 1
                self.id_tensor = torch.from_numpy(kernel_value).to(branch.weight.device)
            kernel = self.id_tensor
            running_mean, running_var = branch.running_mean, branch.running_var
            gamma, beta, eps = branch.weight, branch.bias, branch.eps
        std = (running_var + eps).sqrt()
        t = (gamma / std).reshape(-1, 1, 1, 1)
        return kernel * t, beta - running_mean * gamma / std


class RepVGG(nn.Module):
    def __init__(self, num_blocks, num_classes=1000, width_multiplier=None, override_groups_map=None,
                 deploy=False, use_se=False):
        super().__init__()
        assert len(width_multiplier) == 4
        self.deploy = deploy
        self.override_groups_map = override_groups_map or dict()
        self.use_se = use_se
        assert 0 not in self.override_groups_map
        self.in_planes = min(64, int(64 * width_multiplier[0]))
        self.stage0 = RepVGGBlock(3, self.in_planes, kernel_size=3, stride=2, padding=1, deploy=deploy, use_se=use_se)
        self.cur_layer_idx = 1
        self.stage1 = self._make_stage(int(64 * width_multiplier[0]), num_blocks[0], stride=2)
        self.stage2 = self._make_stage(int(128 * width_multiplier[1]), num_blocks[1], stride=2)
        self.stage3 = self._make_stage(int(256 * width_multiplier[2]), num_blocks[2], stride=2)
        self.stage4 = self._make_stage(int(512 * width_multiplier[3]), num_blocks[3], stride=2)
        self.gap = nn.AdaptiveAvgPool2d(output_size=1)
        self.linear = nn.Linear(int(512 * width_multiplier[3]), num_classes)

    def _make_stage(self, planes, num_blocks, stride):
        blocks = []
        for s in [stride] + [1] * (num_blocks - 1):
            g = self.override_groups_map.get(self.cur_layer_idx, 1)
            blocks.append(RepVGGBlock(self.in_planes, planes, kernel_size=3, stride=s, padding=1, groups=g,
                                      deploy=self.deploy, use_se=self.use_se))
            self.in_planes = planes
            self.cur_layer_idx += 1
        return nn.Sequential(*blocks)

    def forward(self, x):
        out = self.stage0(x)
        out = self.stage1(out)
        out = self.stage2(out)
        out = self.stage3(out)
        out = self.stage4(out)
        out = self.gap(out)
        out = out.view(out.size(0), -1)
        return self.linear(out)


_groupwise = [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26]
G2 = {l: 2 for l in _groupwise}
G4 = {l: 4 for l in _groupwise}
SPECS = {  # num_blocks, width_multiplier, override_groups_map, use_se
    'RepVGG-A0': ([2, 4, 14, 1], [0.75, 0.75, 0.75, 2.5], None, False),
    'RepVGG-A1': ([2, 4, 14, 1], [1, 1, 1, 2.5], None, False),
    'RepVGG-A2': ([2, 4, 14, 1], [1.5, 1.5, 1.5, 2.75], None, False),
    'RepVGG-B0': ([4, 6, 16, 1], [1, 1, 1, 2.5], None, False),
    'RepVGG-B1': ([4, 6, 16, 1], [2, 2, 2, 4], None, False),
    'RepVGG-B1g2': ([4, 6, 16, 1], [2, 2, 2, 4], G2, False),
    'RepVGG-B1g4': ([4, 6, 16, 1], [2, 2, 2, 4], G4, False),
    'RepVGG-B2': ([4, 6, 16, 1], [2.5, 2.5, 2.5, 5], None, False),
    'RepVGG-B2g2': ([4, 6, 16, 1], [2.5, 2.5, 2.5, 5], G2, False),
    'RepVGG-B2g4': ([4, 6, 16, 1], [2.5, 2.5, 2.5, 5], G4, False),
    'RepVGG-B3': ([4, 6, 16, 1], [3, 3, 3, 5], None, False),
    'RepVGG-B3g2': ([4, 6, 16, 1], [3, 3, 3, 5], G2, False),
    'RepVGG-B3g4': ([4, 6, 16, 1], [3, 3, 3, 5], G4, False),
    'RepVGG-D2se': ([8, 14, 24, 1], [2.5, 2.5, 2.5, 5], None, True),
    # models/testdata/tiny_repvgg.yaml
    'tiny_repvgg': ([1, 2, 2, 1], [0.125, 0.125, 0.125, 0.0625], {2: 2, 3: 2}, False),
}


def build(name, deploy, num_classes=1000):
    blocks, widths, groups, se = SPECS[name]
    return RepVGG(blocks, num_classes=num_classes, width_multiplier=widths, override_groups_map=groups,
                  deploy=deploy, use_se=se).eval()


def reference_convert(train_model):
    """The reference's repvgg_model_convert, as a state dict (no model round trip)."""
    out = {}
    with torch.no_grad():
        for name, module in train_model.named_modules():
            if hasattr(module, 'get_equivalent_kernel_bias'):
                k, b = module.get_equivalent_kernel_bias()
                out[name + '.rbr_reparam.weight'] = k
                out[name + '.rbr_reparam.bias'] = b
            elif isinstance(module, (nn.Linear,)) or (isinstance(module, nn.Conv2d) and '.se.' in name + '.'):
                out[name + '.weight'] = module.weight.detach().clone()
                out[name + '.bias'] = module.bias.detach().clone()
    return out


# ---- checks -----------------------------------------------------------------------------

failures = []


def check(ok, what):
    print(('ok    ' if ok else 'FAIL  ') + what, flush=True)
    if not ok:
        failures.append(what)


def vggsim(binary, *args):
    t = time.time()
    r = subprocess.run([binary, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit('vggsim %s: exit %d\n%s%s' % (' '.join(args), r.returncode, r.stdout, r.stderr))
    return r.stdout.strip(), time.time() - t


def bits_equal(a, b):
    a, b = a.detach().contiguous(), b.detach().contiguous()
    return a.dtype == b.dtype == torch.float32 and a.shape == b.shape and torch.equal(a.view(torch.int32), b.view(torch.int32))


def check_deploy_pth(path, name, ref_sd, num_classes):
    """torch.load + strict load; keys in state_dict order; tensors bit-equal to ref_sd."""
    sd = torch.load(path, map_location='cpu', weights_only=True)
    model = build(name, deploy=True, num_classes=num_classes)
    want_keys = list(model.state_dict().keys())
    check(isinstance(sd, dict) and list(sd.keys()) == want_keys,
          '%s: torch.load(weights_only=True) gives the %d deploy keys in state_dict order' % (name, len(want_keys)))
    try:
        res = model.load_state_dict(sd, strict=True)
        check(not res.missing_keys and not res.unexpected_keys, '%s: load_state_dict(strict=True)' % name)
    except RuntimeError as e:
        check(False, '%s: load_state_dict(strict=True): %s' % (name, str(e).splitlines()[0]))
    differ = [k for k in want_keys if k not in ref_sd or not bits_equal(sd[k], ref_sd[k])]
    check(not differ, '%s: all %d tensors bit-equal to the reference conversion%s' %
          (name, len(want_keys), '' if not differ else ' (differ: %s)' % ', '.join(differ[:5])))
    return model


def rel(a, b):
    return float((a - b).abs().max() / b.abs().max())


def randomize_bn(model, gen):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
                m.num_batches_tracked.fill_(7)


def tiny(binary, golden, work, yaml):
    d = os.path.join(golden, 'tiny_repvgg')
    out = os.path.join(work, 'tiny_deploy.pth')
    msg, _ = vggsim(binary, 'fuse', yaml, '--weights', os.path.join(d, 'tiny_repvgg_train.pth'), '-o', out)
    print('      ' + msg)
    train = build('tiny_repvgg', deploy=False, num_classes=10)
    train.load_state_dict(torch.load(os.path.join(d, 'tiny_repvgg_train.pth'), map_location='cpu'), strict=True)
    model = check_deploy_pth(out, 'tiny_repvgg', reference_convert(train), 10)
    golden_sd = torch.load(os.path.join(d, 'tiny_repvgg_deploy.pth'), map_location='cpu')
    ours = torch.load(out, map_location='cpu')
    check(list(golden_sd) == list(ours) and all(bits_equal(ours[k], golden_sd[k]) for k in golden_sd),
          'tiny_repvgg: bit-equal to the golden tiny_repvgg_deploy.pth')
    x = torch.from_numpy(np.load(os.path.join(d, 'input.npy')))
    want = torch.from_numpy(np.load(os.path.join(d, 'deploy.logits.npy')))
    with torch.no_grad():
        y = model(x)
    diff = float((y - want).abs().max())
    check(diff <= 1e-5, 'tiny_repvgg: deploy model with our weights on input.npy vs deploy.logits.npy: max |diff| %.3g' % diff)


def zoo(binary, name, work, size, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    train = build(name, deploy=False)
    randomize_bn(train, gen)
    train_pth = os.path.join(work, name + '_train.pth')
    deploy_pth = os.path.join(work, name + '_deploy.pth')
    torch.save(train.state_dict(), train_pth)
    msg, secs = vggsim(binary, 'fuse', name, '--weights', train_pth, '-o', deploy_pth)
    print('      %s (%.1f s)' % (msg, secs))
    model = check_deploy_pth(deploy_pth, name, reference_convert(train), 1000)
    x = torch.randn(2, 3, size, size, generator=gen)
    with torch.no_grad():
        yt, yd = train(x), model(x)
    r = rel(yd, yt)
    check(r <= 1e-4, '%s: PyTorch deploy (our weights) vs PyTorch train at %dx%d: max rel diff %.3g' % (name, size, size, r))
    xin, yout = os.path.join(work, name + '_x.npy'), os.path.join(work, name + '_y.npy')
    np.save(xin, x.numpy())
    _, secs = vggsim(binary, 'infer', name, '--form', 'deploy', '--weights', deploy_pth, '--input', xin, '-o', yout)
    r = rel(torch.from_numpy(np.load(yout)), yd)
    check(r <= 1e-4, '%s: vggsim infer --form deploy vs PyTorch deploy: max rel diff %.3g (%.1f s)' % (name, r, secs))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--vggsim', required=True, help='the vggsim binary')
    ap.add_argument('--golden', default=os.path.join(root, '..', 'shared', 'reference', 'golden'))
    ap.add_argument('--models', default='RepVGG-A0,RepVGG-B1g4,RepVGG-D2se', help='comma-separated zoo models')
    ap.add_argument('--size', type=int, default=64, help='input size of the zoo forward checks')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--work', help='directory for the files (default: a temporary one, removed)')
    args = ap.parse_args()
    print('torch %s, numpy %s' % (torch.__version__, np.__version__))
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or tmp
        os.makedirs(work, exist_ok=True)
        tiny(args.vggsim, args.golden, work, os.path.join(root, 'models', 'testdata', 'tiny_repvgg.yaml'))
        for name in filter(None, args.models.split(',')):
            zoo(args.vggsim, name, work, args.size, args.seed)
    if failures:
        print('%d check(s) failed' % len(failures))
        return 1
    print('all checks passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
