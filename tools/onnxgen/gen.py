#!/usr/bin/python3
"""Makes the PyTorch-exported ONNX test data of the onnx package and the timm-named checkpoint
of the models package (run by `make onnx-testdata`; not part of `make test`).

Needs Debian's python3-torch (1.13) and python3-onnx. Models are the official RepVGG code
(ported in tools/torchcheck/check.py) and ports of torchvision's ResNet-18 and VGG-16
(torchvision 0.14 resnet.py / vgg.py, same module names). Every model is seeded, its
BatchNorm statistics randomized, and exported with torch.onnx.export at opset 13.

Written to onnx/testdata/torch:
  <name>.onnx             scaled-down models with weights (about 400 KB in all):
                          tiny_repvgg_train (BatchNorms kept: TrainingMode.PRESERVE),
                          tiny_repvgg_deploy (the reference conversion of the same weights),
                          se_small_train (models/testdata/se_small.yaml's SE RepVGG at 32x32),
                          resnet18_small (ResNet-18, widths /16, 10 classes, BN folded by the exporter),
                          vgg16_small (VGG-16, widths /32, classifier 32 wide, 10 classes)
  <name>.input.npy        the input each was run on; <name>.output.npy PyTorch's output
  <full>.structure.onnx   full-size RepVGG-A0 train and deploy, ResNet-18 and VGG-16 at 224x224
                          with the weights moved to external data that is then deleted: the
                          graph of the real file, for structure-only import (a few KB each)
Written to models/testdata/timm:
  tiny_repvgg_train.pth         the reference-named train checkpoint
  tiny_repvgg_train_timm.pth    the same tensors under timm's names (renamed by this script)
  tiny_repvgg_deploy.pth        the reference conversion (rbr_reparam), for bit-exact checks
"""

import importlib.util
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx.external_data_helper import convert_model_to_external_data

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, 'onnx', 'testdata', 'torch')
TIMM = os.path.join(ROOT, 'models', 'testdata', 'timm')

spec = importlib.util.spec_from_file_location('torchcheck', os.path.join(ROOT, 'tools', 'torchcheck', 'check.py'))
tc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tc)


# ---- torchvision ports (torchvision 0.14, models/resnet.py and models/vgg.py) ---------------

class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet18(nn.Module):
    def __init__(self, widths=(64, 128, 256, 512), num_classes=1000):
        super().__init__()
        self.inplanes = widths[0]
        self.conv1 = nn.Conv2d(3, self.inplanes, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(widths[0], 1)
        self.layer2 = self._make_layer(widths[1], 2)
        self.layer3 = self._make_layer(widths[2], 2)
        self.layer4 = self._make_layer(widths[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3], num_classes)

    def _make_layer(self, planes, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers.append(BasicBlock(planes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


class VGG16(nn.Module):
    def __init__(self, div=1, hidden=4096, num_classes=1000):
        super().__init__()
        cfg = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M']
        layers, c = [], 3
        for v in cfg:
            if v == 'M':
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c, v // div, 3, padding=1), nn.ReLU(inplace=True)]
                c = v // div
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(c * 49, hidden), nn.ReLU(True), nn.Dropout(),
            nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(),
            nn.Linear(hidden, num_classes))

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def se_forward(self, inputs):
    """The reference SEBlock.forward with the pooling window as a Python int: torch 1.13's
    tracer hands inputs.size(3) over as a tensor, which avg_pool2d refuses."""
    x = F.avg_pool2d(inputs, kernel_size=int(inputs.size(3)))
    x = self.up(F.relu(self.down(x)))
    x = torch.sigmoid(x)
    x = x.view(-1, self.input_channels, 1, 1)
    return inputs * x


tc.SEBlock.forward = se_forward


# ---- helpers -------------------------------------------------------------------------------

def randomize(model, seed):
    """Seeded weights and BatchNorm statistics far from the identity."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) / fan_in ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
    return model.eval()


def export(model, name, size, preserve=False, seed=7, batch=2, dynamic=True):
    x = torch.randn((batch, 3, size, size), generator=torch.Generator().manual_seed(seed))
    path = os.path.join(OUT, name + '.onnx')
    training = torch.onnx.TrainingMode.PRESERVE if preserve else torch.onnx.TrainingMode.EVAL
    torch.onnx.export(model, x, path, opset_version=13, input_names=['input'], output_names=['output'],
                      dynamic_axes={'input': {0: 'N'}, 'output': {0: 'N'}} if dynamic else None, training=training)
    onnx.checker.check_model(onnx.load(path))
    with torch.no_grad():
        y = model(x)
    np.save(os.path.join(OUT, name + '.input.npy'), x.numpy())
    np.save(os.path.join(OUT, name + '.output.npy'), y.numpy())
    print('wrote', path, os.path.getsize(path), 'bytes')


def export_structure(model, name, preserve=False):
    x = torch.zeros((1, 3, 224, 224))
    tmp = os.path.join(OUT, name + '.tmp.onnx')
    training = torch.onnx.TrainingMode.PRESERVE if preserve else torch.onnx.TrainingMode.EVAL
    torch.onnx.export(model, x, tmp, opset_version=13, input_names=['input'], output_names=['output'],
                      training=training)
    m = onnx.load(tmp)
    os.remove(tmp)
    convert_model_to_external_data(m, all_tensors_to_one_file=True, location=name + '.weights', size_threshold=0)
    path = os.path.join(OUT, name + '.structure.onnx')
    onnx.save_model(m, path)
    os.remove(os.path.join(OUT, name + '.weights'))  # keep the graph, drop the weights
    print('wrote', path, os.path.getsize(path), 'bytes')


def timm_name(k):
    """The reference RepVGG state_dict key k under timm's byobnet names."""
    parts = k.split('.')
    if parts[0] == 'stage0':
        head = ['stem']
        rest = parts[1:]
    elif parts[0].startswith('stage'):
        head = ['stages', str(int(parts[0][5:]) - 1), parts[1]]
        rest = parts[2:]
    elif parts[0] == 'linear':
        return 'head.fc.' + '.'.join(parts[1:])
    else:
        raise ValueError(k)
    sub = {'rbr_dense': 'conv_kxk', 'rbr_1x1': 'conv_1x1', 'rbr_identity': 'identity',
           'rbr_reparam': 'reparam_conv'}
    rest[0] = sub.get(rest[0], rest[0])
    if rest[0] == 'se':
        rest = ['attn', {'down': 'fc1', 'up': 'fc2'}[rest[1]]] + rest[2:]
    return '.'.join(head + rest)


def main():
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(TIMM, exist_ok=True)
    torch.manual_seed(0)

    # RepVGG, scaled down: tiny_repvgg (models/testdata/tiny_repvgg.yaml), 10 classes, 32x32.
    train = randomize(tc.build('tiny_repvgg', deploy=False, num_classes=10), 1)
    deploy = tc.build('tiny_repvgg', deploy=True, num_classes=10)
    deploy_sd = tc.reference_convert(train)
    deploy.load_state_dict(deploy_sd, strict=True)
    export(train, 'tiny_repvgg_train', 32, preserve=True)
    export(deploy.eval(), 'tiny_repvgg_deploy', 32)
    # SE blocks (D2se-style): models/testdata/se_small.yaml at a square 32x32 input (the
    # reference SE pools with a square window of the input's width, so its batch is fixed:
    # a traced size would be a tensor there).
    tc.SPECS['se_small'] = ([1, 1, 1, 1], [0.25, 0.25, 0.25, 0.0625], None, True)
    export(randomize(tc.build('se_small', deploy=False, num_classes=5), 8), 'se_small_train', 32, preserve=True, dynamic=False)
    export(randomize(ResNet18(widths=(4, 8, 16, 32), num_classes=10), 2), 'resnet18_small', 32)
    export(randomize(VGG16(div=32, hidden=32, num_classes=10), 3), 'vgg16_small', 224, batch=1)

    # Full size, structure only.
    export_structure(randomize(tc.build('RepVGG-A0', deploy=False), 4), 'repvgg_a0_train', preserve=True)
    export_structure(tc.build('RepVGG-A0', deploy=True), 'repvgg_a0_deploy')
    export_structure(randomize(ResNet18(), 5), 'resnet18')
    export_structure(randomize(VGG16(), 6), 'vgg16')

    # timm names.
    sd = train.state_dict()
    torch.save(sd, os.path.join(TIMM, 'tiny_repvgg_train.pth'))
    torch.save({timm_name(k): v for k, v in sd.items()}, os.path.join(TIMM, 'tiny_repvgg_train_timm.pth'))
    torch.save(deploy.state_dict(), os.path.join(TIMM, 'tiny_repvgg_deploy.pth'))
    print('wrote', TIMM)


if __name__ == '__main__':
    sys.exit(main())
