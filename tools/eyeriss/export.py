"""Export the conv layers Eyeriss was measured on (Chen et al., JSSC 2017) as ONNX, for
`vggsim simulate FILE --hw eyeriss --batch N` (docs/hardware.md, "eyeriss").

    /usr/bin/python3 tools/eyeriss/export.py /tmp    # writes alexnet_conv.onnx, vgg16_conv.onnx

AlexNet: Krizhevsky's five conv layers (96-256-384-384-256, conv2/4/5 in two groups, 227x227
input) with ReLU and max pooling. VGG-16: its thirteen conv layers. Each ends in a global
average pool and a small linear layer (a few thousand MACs) so the graph ends as the importer
expects. Weights are random: the simulator needs shapes only.
"""
import sys

import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, features, channels):
        super().__init__()
        self.f = nn.Sequential(*features)
        self.p = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.p(self.f(x)), 1))


def alexnet():
    return Net([
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2)], 256)


def vgg16():
    layers, c = [], 3
    for v in [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M']:
        if v == 'M':
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU()]
            c = v
    return Net(layers, 512)


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    torch.onnx.export(alexnet().eval(), torch.zeros(1, 3, 227, 227), f"{out}/alexnet_conv.onnx", opset_version=13)
    torch.onnx.export(vgg16().eval(), torch.zeros(1, 3, 224, 224), f"{out}/vgg16_conv.onnx", opset_version=13)
