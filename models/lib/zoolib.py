"""Shared helpers of the model-zoo generators (models/*/make_model.py).

- save_tensors(): writes each tensor as a raw little-endian file and the
  directory's tensors.txt (name, shape, file, element type per line), the
  form `tessera run` and scripts/zoo.py read.
- OnnxNumpy: a small FP32 interpreter for the ONNX ops the zoo's models use,
  in numpy. It lets a generator check an ONNX file it emitted directly
  (without torch.onnx.export) against PyTorch's outputs; it is a test aid,
  not a runtime (Tessera's own FP32 reference executor is `tessera reference`).

Run everything with Debian's /usr/bin/python3 (numpy, onnx, torch).
"""
import math
import os

import numpy as np

DTYPES = {"float32": "<f4", "int64": "<i8"}
SUFFIX = {"float32": "f32", "int64": "i64"}


def save_tensors(directory, inputs, outputs, extra=()):
    """Writes input_<name>.<f32|i64> and expected_<name>.f32 files and
    tensors.txt. `inputs`/`outputs` are ordered lists of (name, array);
    `extra` lines (comments) are appended to tensors.txt."""
    lines = ["# name shape file dtype (raw little-endian, row-major)"]
    for prefix, tensors in (("input", inputs), ("expected", outputs)):
        for name, value in tensors:
            value = np.asarray(value)
            dtype = "int64" if value.dtype.kind in "iu" else "float32"
            fname = "%s_%s.%s" % (prefix, name.replace("/", "_"), SUFFIX[dtype])
            value.astype(DTYPES[dtype]).tofile(os.path.join(directory, fname))
            shape = "x".join(str(d) for d in value.shape) or "1"
            lines.append("%s %s %s %s" % (name, shape, fname, dtype))
    lines.extend("# " + e for e in extra)
    with open(os.path.join(directory, "tensors.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def read_tensors(directory):
    """tensors.txt -> {name: (array, kind)} with kind 'input' or 'expected'."""
    out = {}
    with open(os.path.join(directory, "tensors.txt")) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split()
            name, shape, fname = fields[:3]
            dtype = fields[3] if len(fields) > 3 else "float32"
            dims = [int(d) for d in shape.split("x")]
            arr = np.fromfile(os.path.join(directory, fname), DTYPES[dtype])
            out[name] = (arr.reshape(dims),
                         "input" if fname.startswith("input_") else "expected")
    return out


def op_sequence(model):
    """The op types of a graph's compute nodes in order (Constant and
    Identity left out: torch's export inserts them for deduplicated or
    folded values, they carry no computation)."""
    return [n.op_type for n in model.graph.node
            if n.op_type not in ("Constant", "Identity")]


class OnnxNumpy:
    """Evaluates an ONNX graph in numpy (FP32; int64 for shape values)."""

    def __init__(self, model):
        from onnx import numpy_helper
        self.model = model
        self.values = {}
        for init in model.graph.initializer:
            self.values[init.name] = numpy_helper.to_array(init)

    def run(self, feeds):
        from onnx import helper, numpy_helper
        env = dict(self.values)
        env.update(feeds)
        for node in self.model.graph.node:
            attrs = {a.name: helper.get_attribute_value(a)
                     for a in node.attribute}
            if node.op_type == "Constant":
                env[node.output[0]] = numpy_helper.to_array(attrs["value"])
                continue
            args = [env[i] if i else None for i in node.input]
            fn = getattr(self, "op_" + node.op_type, None)
            if fn is None:
                raise NotImplementedError("OnnxNumpy: op " + node.op_type)
            outs = fn(args, attrs)
            if not isinstance(outs, tuple):
                outs = (outs,)
            for name, value in zip(node.output, outs):
                env[name] = value
        return {o.name: env[o.name] for o in self.model.graph.output}

    # Elementwise and shape ops.
    def op_Identity(self, a, _): return a[0]
    def op_Add(self, a, _): return a[0] + a[1]
    def op_Sub(self, a, _): return a[0] - a[1]
    def op_Mul(self, a, _): return a[0] * a[1]
    def op_Div(self, a, _):
        if a[0].dtype.kind in "iu" and a[1].dtype.kind in "iu":
            return a[0] // a[1]
        return a[0] / a[1]
    def op_Pow(self, a, _): return np.power(a[0], a[1]).astype(a[0].dtype)
    def op_Sqrt(self, a, _): return np.sqrt(a[0])
    def op_Neg(self, a, _): return -a[0]
    def op_Tanh(self, a, _): return np.tanh(a[0])
    def op_Relu(self, a, _): return np.maximum(a[0], 0)
    def op_Sigmoid(self, a, _): return 1 / (1 + np.exp(-a[0]))
    def op_Erf(self, a, _):
        v = np.vectorize(math.erf)(a[0].astype(np.float64))
        return v.astype(np.float32)
    def op_Equal(self, a, _): return a[0] == a[1]
    def op_Not(self, a, _): return np.logical_not(a[0])
    def op_Where(self, a, _): return np.where(a[0], a[1], a[2])
    def op_Cast(self, a, attrs):
        from onnx import mapping
        return a[0].astype(mapping.TENSOR_TYPE_TO_NP_TYPE[attrs["to"]])
    def op_Shape(self, a, _): return np.array(a[0].shape, np.int64)
    def op_ConstantOfShape(self, a, attrs):
        from onnx import numpy_helper
        fill = (numpy_helper.to_array(attrs["value"]) if "value" in attrs
                else np.zeros(1, np.float32))
        return np.full([int(d) for d in a[0]], fill.reshape(-1)[0],
                       fill.dtype)
    def op_Gather(self, a, attrs):
        return np.take(a[0], a[1], axis=attrs.get("axis", 0))
    def op_Unsqueeze(self, a, _):
        x = a[0]
        for ax in sorted(int(v) for v in a[1]):
            x = np.expand_dims(x, ax if ax >= 0 else ax + x.ndim + 1)
        return x
    def op_Squeeze(self, a, _):
        return np.squeeze(a[0], tuple(int(v) for v in a[1]))
    def op_Concat(self, a, attrs):
        return np.concatenate(a, axis=attrs["axis"])
    def op_Reshape(self, a, _):
        shape = [int(d) if d != 0 else a[0].shape[i]
                 for i, d in enumerate(a[1])]
        return a[0].reshape(shape)
    def op_Flatten(self, a, attrs):
        ax = attrs.get("axis", 1)
        return a[0].reshape(int(np.prod(a[0].shape[:ax])), -1)
    def op_Expand(self, a, _):
        return a[0] * np.ones([int(d) for d in a[1]], a[0].dtype)
    def op_Transpose(self, a, attrs):
        return np.transpose(a[0], attrs.get("perm"))
    def op_Slice(self, a, _):
        x = a[0]
        starts, ends = a[1], a[2]
        axes = a[3] if len(a) > 3 and a[3] is not None else range(len(starts))
        steps = a[4] if len(a) > 4 and a[4] is not None else [1] * len(starts)
        index = [slice(None)] * x.ndim
        for s, e, ax, st in zip(starts, ends, axes, steps):
            index[int(ax)] = slice(int(s), int(e), int(st))
        return x[tuple(index)]
    def op_Split(self, a, attrs):
        axis = attrs.get("axis", 0)
        points = np.cumsum(a[1])[:-1]
        return tuple(np.split(a[0], points, axis=axis))
    def op_Dropout(self, a, _): return a[0]

    # Reductions and normalization.
    def op_ReduceMean(self, a, attrs):
        axes = tuple(attrs["axes"]) if "axes" in attrs else tuple(a[1])
        return a[0].mean(axis=axes, keepdims=bool(attrs.get("keepdims", 1)))
    def op_Softmax(self, a, attrs):
        x = a[0] - a[0].max(axis=attrs.get("axis", -1), keepdims=True)
        e = np.exp(x)
        return e / e.sum(axis=attrs.get("axis", -1), keepdims=True)
    def op_LayerNormalization(self, a, attrs):
        axis = attrs.get("axis", -1)
        axes = tuple(range(axis % a[0].ndim, a[0].ndim))
        mean = a[0].mean(axis=axes, keepdims=True)
        var = ((a[0] - mean) ** 2).mean(axis=axes, keepdims=True)
        y = (a[0] - mean) / np.sqrt(var + attrs.get("epsilon", 1e-5)) * a[1]
        return y + a[2] if len(a) > 2 and a[2] is not None else y

    # Matrix ops.
    def op_MatMul(self, a, _): return np.matmul(a[0], a[1])
    def op_Gemm(self, a, attrs):
        x = a[0].T if attrs.get("transA", 0) else a[0]
        w = a[1].T if attrs.get("transB", 0) else a[1]
        y = attrs.get("alpha", 1.0) * (x @ w)
        if len(a) > 2 and a[2] is not None:
            y = y + attrs.get("beta", 1.0) * a[2]
        return y.astype(np.float32)
    def op_Conv(self, a, attrs):
        x, w = a[0], a[1]
        b = a[2] if len(a) > 2 else None
        sh, sw = attrs.get("strides", [1, 1])
        pt, pl, pb, pr = attrs.get("pads", [0, 0, 0, 0])
        groups = attrs.get("group", 1)
        x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
        n, c, h, wd = x.shape
        m, cg, kh, kw = w.shape
        oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
        out = np.zeros((n, m, oh, ow), np.float32)
        mg = m // groups
        for g in range(groups):
            xs = x[:, g * cg:(g + 1) * cg]
            cols = np.empty((n, cg, kh, kw, oh, ow), np.float32)
            for i in range(kh):
                for j in range(kw):
                    cols[:, :, i, j] = xs[:, :, i:i + sh * oh:sh,
                                          j:j + sw * ow:sw]
            wg = w[g * mg:(g + 1) * mg].reshape(mg, -1)
            out[:, g * mg:(g + 1) * mg] = np.einsum(
                "mk,nkp->nmp", wg, cols.reshape(n, cg * kh * kw, oh * ow)
            ).reshape(n, mg, oh, ow)
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        return out
    def op_MaxPool(self, a, attrs):
        x = a[0]
        kh, kw = attrs["kernel_shape"]
        sh, sw = attrs.get("strides", [1, 1])
        pt, pl, pb, pr = attrs.get("pads", [0, 0, 0, 0])
        x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)),
                   constant_values=-np.inf)
        oh = (x.shape[2] - kh) // sh + 1
        ow = (x.shape[3] - kw) // sw + 1
        out = np.full(x.shape[:2] + (oh, ow), -np.inf, np.float32)
        for i in range(kh):
            for j in range(kw):
                out = np.maximum(out, x[:, :, i:i + sh * oh:sh,
                                        j:j + sw * ow:sw])
        return out
    def op_GlobalAveragePool(self, a, _):
        return a[0].mean(axis=(2, 3), keepdims=True)
    def op_BatchNormalization(self, a, attrs):
        x, s, b, m, v = a
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return ((x - m.reshape(shape)) / np.sqrt(v.reshape(shape) +
                attrs.get("epsilon", 1e-5)) * s.reshape(shape)
                + b.reshape(shape)).astype(np.float32)
