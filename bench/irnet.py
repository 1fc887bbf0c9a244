"""Reads a model exported by bench/export (model.ir + weights.bin) into a PyTorch module.

The ir text form: `%N = op[attrs] %a, %b @name : CxHxW`, one node a line, `return %N` last.
"""
import re
import numpy as np
import torch
import torch.nn.functional as F

LINE = re.compile(r"^%(\d+) = (\w+)(?:\[([^\]]*)\])?((?: %\d+,?)*)(?: @(\S+))? : (\d+)x(\d+)x(\d+)$")


def parse(path):
    nodes, ret = [], None
    for raw in open(path):
        s = raw.strip()
        if not s or s.startswith("graph"):
            continue
        if s.startswith("return"):
            ret = int(s.split("%")[1])
            continue
        m = LINE.match(s)
        if not m:
            raise ValueError(f"{path}: cannot parse {s!r}")
        out, op, attrs, ins, name, c, h, w = m.groups()
        a = {}
        for kv in (attrs or "").split():
            if "=" in kv:
                k, v = kv.split("=", 1)
                a[k] = v
            else:
                a[kv] = True
        nodes.append(dict(id=int(out), op=op, attrs=a, ins=[int(t) for t in re.findall(r"%(\d+)", ins)],
                          name=name, shape=(int(c), int(h), int(w))))
    return nodes, ret


class Net(torch.nn.Module):
    def __init__(self, model_ir, weights_bin):
        super().__init__()
        self.nodes, self.ret = parse(model_ir)
        w = np.fromfile(weights_bin, dtype="<f4")
        shapes = {n["id"]: n["shape"] for n in self.nodes}
        off = 0
        self.params = torch.nn.ParameterDict()

        def take(key, shape):
            nonlocal off
            n = int(np.prod(shape))
            self.params[key] = torch.nn.Parameter(torch.from_numpy(w[off:off + n].copy()).reshape(shape), requires_grad=False)
            off += n

        for n in self.nodes:
            k = str(n["id"])
            if n["op"] == "conv":
                kh, kw = map(int, n["attrs"]["k"].split("x"))
                g = int(n["attrs"]["g"])
                cin = shapes[n["ins"][0]][0]
                take(k + "_w", (n["shape"][0], cin // g, kh, kw))
                if "bias" in n["attrs"]:
                    take(k + "_b", (n["shape"][0],))
            elif n["op"] == "batchnorm":
                for p in ("w", "b", "m", "v"):
                    take(k + "_" + p, (n["shape"][0],))
            elif n["op"] == "linear":
                cin = shapes[n["ins"][0]][0]
                take(k + "_w", (n["shape"][0], cin))
                take(k + "_b", (n["shape"][0],))
        if off != w.size:
            raise ValueError(f"{weights_bin}: {w.size} floats, the graph uses {off}")

    def forward(self, x):
        v = {}
        P = self.params
        for n in self.nodes:
            op, a, k = n["op"], n["attrs"], str(n["id"])
            i = [v[j] for j in n["ins"]]
            if op == "input":
                y = x
            elif op == "conv":
                y = F.conv2d(i[0], P[k + "_w"], P[k + "_b"] if "bias" in a else None,
                             stride=int(a["s"]), padding=int(a["p"]), groups=int(a["g"]))
            elif op == "batchnorm":
                y = F.batch_norm(i[0], P[k + "_m"], P[k + "_v"], P[k + "_w"], P[k + "_b"], False, 0.0, float(a["eps"]))
            elif op == "relu":
                y = F.relu(i[0])
            elif op == "add":
                y = i[0]
                for t in i[1:]:
                    y = y + t
            elif op == "mul":
                y = i[0] * i[1]
            elif op == "sigmoid":
                y = torch.sigmoid(i[0])
            elif op == "maxpool":
                kh = int(a["k"].split("x")[0])
                y = F.max_pool2d(i[0], kh, int(a["s"]), int(a["p"]))
            elif op == "gap":
                y = F.adaptive_avg_pool2d(i[0], 1)
            elif op == "adaptiveavgpool":
                y = F.adaptive_avg_pool2d(i[0], n["shape"][1:])
            elif op == "flatten":
                y = torch.flatten(i[0], 1)
            elif op == "linear":
                y = F.linear(i[0], P[k + "_w"], P[k + "_b"])
            else:
                raise ValueError(f"op {op} not supported")
            v[n["id"]] = y
        return v[self.ret]


def relerr(got, want):
    """max|got-want| / max|want|, the repository's tolerance measure."""
    return float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-30))
