"""The reference perception network: a parametric vision transformer over 8
synchronized cameras, emitted as ONNX directly (no torch.onnx.export).

Structure (docs/reference-network.md has the arithmetic behind the defaults):
  images [cameras, 3, rows*patch, cols*patch]   one frame of every camera; the
        cameras are the batch of the patch embedding (one shared Conv)
  Conv(patch x patch, stride patch) -> [cameras, D, rows, cols]
  flatten(2).transpose(1, 2)        -> [cameras, T, D]      T = rows*cols
  + pos_embed [1, T, D] + cam_embed [cameras, 1, D]
  reshape                           -> [1, cameras*T, D]    tokens of all
        cameras concatenated: attention spans the whole camera bundle
  depth x pre-norm layer: x + MHA(LN(x)); x + MLP(LN(x)); MHA is
        nn.MultiheadAttention (batch_first) with its packed in_proj
        ([3D, D], split with Slice), MLP Linear-GELU(erf)-Linear
  LayerNorm, mean over tokens, Linear -> features [1, outputs]

The node sequence mirrors what torch.onnx.export (torch 1.13, opset 17)
produces for torch_model.PerceptionNet, node for node (check_torch.py checks
it on a small configuration, and the outputs against PyTorch's). Weights are
seeded numpy draws, generated one layer at a time and written straight into
the protobuf, so memory stays near the size of the model file.
"""
import dataclasses
import math

import numpy as np

OPSET = 17


@dataclasses.dataclass
class Config:
    width: int = 448           # D, model width
    heads: int = 7             # attention heads (head dim = width / heads = 64)
    tokens_per_camera: int = 96  # patch tokens per camera (rows x cols grid)
    depth: int = 40            # transformer layers
    mlp_ratio: int = 4         # MLP hidden = mlp_ratio * width
    cameras: int = 8
    patch: int = 16            # patch size in pixels
    outputs: int = 128         # pooled head's features
    seed: int = 20261129

    def __post_init__(self):
        if self.width % self.heads:
            raise ValueError("width %d is not a multiple of heads %d" %
                             (self.width, self.heads))
        for f in ("width", "heads", "tokens_per_camera", "depth",
                  "mlp_ratio", "cameras", "patch", "outputs"):
            if getattr(self, f) < 1:
                raise ValueError("%s must be at least 1" % f)

    @property
    def tokens(self):
        return self.tokens_per_camera

    @property
    def mlp(self):
        return self.mlp_ratio * self.width

    @property
    def grid(self):
        """Patch grid rows x cols: the largest divisor of T not above
        sqrt(T) as rows (96 -> 8 x 12, 128 -> 8 x 16)."""
        t = self.tokens_per_camera
        rows = max(r for r in range(1, int(math.isqrt(t)) + 1) if t % r == 0)
        return rows, t // rows

    @property
    def rows(self):
        return self.grid[0]

    @property
    def cols(self):
        return self.grid[1]

    @property
    def image_shape(self):
        return [self.cameras, 3, self.rows * self.patch, self.cols * self.patch]


def weights(cfg):
    """Yields (name, float32 array) in PyTorch's parameter layout and
    state_dict names, in a fixed order, from one seeded generator."""
    rng = np.random.default_rng(cfg.seed)
    d, m = cfg.width, cfg.mlp

    def normal(shape, std):
        # Uniform with the given standard deviation (PyTorch's default
        # Linear/Conv init is uniform too); uniform draws are several times
        # faster than normal ones, which matters at 96 M weights.
        a = np.float32(std * math.sqrt(3.0))
        return (rng.random(shape, dtype=np.float32) * (2 * a) - a)

    def uniform(shape, lo, hi):
        return rng.uniform(lo, hi, shape).astype(np.float32)

    fan = 3 * cfg.patch * cfg.patch
    yield "patch.weight", normal((d, 3, cfg.patch, cfg.patch), fan ** -0.5)
    yield "patch.bias", normal((d,), 0.02)
    yield "pos_embed", normal((1, cfg.tokens, d), 0.5)
    yield "cam_embed", normal((cfg.cameras, 1, d), 0.5)
    for i in range(cfg.depth):
        p = "layers.%d." % i
        yield p + "ln1.weight", uniform((d,), 0.5, 1.5)
        yield p + "ln1.bias", uniform((d,), -0.2, 0.2)
        yield p + "attn.in_proj_weight", normal((3 * d, d), d ** -0.5)
        yield p + "attn.in_proj_bias", normal((3 * d,), 0.02)
        yield p + "attn.out_proj.weight", normal((d, d), d ** -0.5)
        yield p + "attn.out_proj.bias", normal((d,), 0.02)
        yield p + "ln2.weight", uniform((d,), 0.5, 1.5)
        yield p + "ln2.bias", uniform((d,), -0.2, 0.2)
        yield p + "mlp.0.weight", normal((m, d), d ** -0.5)
        yield p + "mlp.0.bias", normal((m,), 0.02)
        yield p + "mlp.2.weight", normal((d, m), m ** -0.5)
        yield p + "mlp.2.bias", normal((d,), 0.02)
    yield "norm.weight", uniform((d,), 0.5, 1.5)
    yield "norm.bias", uniform((d,), -0.2, 0.2)
    yield "head.weight", normal((cfg.outputs, d), d ** -0.5)
    yield "head.bias", normal((cfg.outputs,), 0.02)


def input_images(cfg):
    """The saved input frame: seeded, unit-variance pixels."""
    rng = np.random.default_rng(cfg.seed + 1)
    return rng.standard_normal(cfg.image_shape, dtype=np.float32)


class _Emitter:
    """Appends nodes named and wired as torch.onnx.export names them."""

    def __init__(self):
        from onnx import helper, numpy_helper
        self.h, self.nh = helper, numpy_helper
        self.nodes, self.inits = [], []
        self.counts = {}

    def init(self, name, array):
        self.inits.append(self.nh.from_array(np.ascontiguousarray(array),
                                             name))
        return name

    def node(self, scope, op, inputs, **attrs):
        """One node called <scope>/<op>[_k] with output <name>_output_0."""
        key = (scope, op)
        k = self.counts.get(key, 0)
        self.counts[key] = k + 1
        name = "%s/%s%s" % (scope, op, "_%d" % k if k else "")
        out = name + "_output_0"
        self.nodes.append(self.h.make_node(op, inputs, [out], name=name,
                                           **attrs))
        return out

    def const(self, scope, value, dtype=np.int64):
        t = self.nh.from_array(np.array(value, dtype=dtype))
        return self.node(scope, "Constant", [], value=t)


def _layer(e, cfg, i, x, w):
    """One pre-norm layer, as torch exports Block (torch_model.py)."""
    d, heads, n = cfg.width, cfg.heads, cfg.cameras * cfg.tokens
    hd = d // heads
    s = "/layers.%d" % i
    p = "layers.%d." % i
    ln1 = e.node(s + "/ln1", "LayerNormalization",
                 [x, e.init(p + "ln1.weight", w[p + "ln1.weight"]),
                  e.init(p + "ln1.bias", w[p + "ln1.bias"])],
                 axis=-1, epsilon=1e-5)
    a = s + "/attn"
    t = e.node(a, "Transpose", [ln1], perm=[1, 0, 2])
    qkv_w = e.init("onnx::MatMul_" + p + "attn.in_proj_weight",
                   w[p + "attn.in_proj_weight"].T)
    mm = e.node(a, "MatMul", [t, qkv_w])
    qkv = e.node(a, "Add", [e.init(p + "attn.in_proj_bias",
                                   w[p + "attn.in_proj_bias"]), mm])
    # The packed projection's split: Slice bounds computed from its shape.
    shape = e.node(a, "Shape", [qkv])
    last = e.const(a, [-1])
    g = e.node(a, "Gather", [shape, last], axis=0)
    zero = e.const(a, [0])
    two = e.const(a, [2])
    g2 = e.node(a, "Add", [g, two])
    three = e.const(a, [3])
    third = e.node(a, "Div", [g2, three])
    one = e.const(a, [1])
    end_q = e.node(a, "Mul", [third, one])
    q = e.node(a, "Slice", [qkv, zero, end_q, last])
    c2 = e.const(a, [2])
    end_k = e.node(a, "Mul", [third, c2])
    k = e.node(a, "Slice", [qkv, end_q, end_k, last])
    c3 = e.const(a, [3])
    end_v = e.node(a, "Mul", [third, c3])
    v = e.node(a, "Slice", [qkv, end_k, end_v, last])
    q = e.node(a, "Reshape", [q, e.const(a, [n, heads, hd])], allowzero=0)
    q = e.node(a, "Transpose", [q], perm=[1, 0, 2])
    k = e.node(a, "Reshape", [k, e.const(a, [n, heads, hd])], allowzero=0)
    v = e.node(a, "Reshape", [v, e.const(a, [n, heads, hd])], allowzero=0)
    v = e.node(a, "Transpose", [v], perm=[1, 0, 2])
    q = e.node(a, "Div", [q, e.const(a, math.sqrt(hd), np.float32)])
    k = e.node(a, "Transpose", [k], perm=[1, 2, 0])
    scores = e.node(a, "MatMul", [q, k])
    probs = e.node(a, "Softmax", [scores], axis=-1)
    o = e.node(a, "MatMul", [probs, v])
    o = e.node(a, "Transpose", [o], perm=[1, 0, 2])
    o = e.node(a, "Reshape", [o, e.const(a, [n, d])], allowzero=0)
    o = e.node(a, "Gemm", [o, e.init(p + "attn.out_proj.weight",
                                     w[p + "attn.out_proj.weight"]),
                           e.init(p + "attn.out_proj.bias",
                                  w[p + "attn.out_proj.bias"])],
               alpha=1.0, beta=1.0, transB=1)
    o = e.node(a, "Reshape", [o, e.const(a, [n, 1, d])], allowzero=0)
    o = e.node(a, "Transpose", [o], perm=[1, 0, 2])
    x = e.node(s, "Add", [x, o])
    ln2 = e.node(s + "/ln2", "LayerNormalization",
                 [x, e.init(p + "ln2.weight", w[p + "ln2.weight"]),
                  e.init(p + "ln2.bias", w[p + "ln2.bias"])],
                 axis=-1, epsilon=1e-5)
    m0, m1, m2 = s + "/mlp/mlp.0", s + "/mlp/mlp.1", s + "/mlp/mlp.2"
    h = e.node(m0, "MatMul", [ln2, e.init("onnx::MatMul_" + p + "mlp.0.weight",
                                          w[p + "mlp.0.weight"].T)])
    h = e.node(m0, "Add", [e.init(p + "mlp.0.bias", w[p + "mlp.0.bias"]), h])
    r = e.node(m1, "Div", [h, e.const(m1, math.sqrt(2.0), np.float32)])
    r = e.node(m1, "Erf", [r])
    r = e.node(m1, "Add", [r, e.const(m1, 1.0, np.float32)])
    r = e.node(m1, "Mul", [h, r])
    r = e.node(m1, "Mul", [r, e.const(m1, 0.5, np.float32)])
    r = e.node(m2, "MatMul", [r, e.init("onnx::MatMul_" + p + "mlp.2.weight",
                                        w[p + "mlp.2.weight"].T)])
    r = e.node(m2, "Add", [e.init(p + "mlp.2.bias", w[p + "mlp.2.bias"]), r])
    return e.node(s, "Add", [x, r])


def build(cfg, sink=None):
    """The network as an onnx.ModelProto (weights generated layer by
    layer). With `sink`, the graph is handed over in pieces instead: after
    the embedding, each layer and the head, sink(GraphProto) receives the
    nodes and initializers made since the last call, and the returned
    model's graph is empty (write() streams the pieces to a file)."""
    from onnx import TensorProto, helper
    e = _Emitter()

    def flush():
        if sink is None:
            return
        sink(helper.make_graph(e.nodes, "perception", [], [], e.inits))
        e.nodes, e.inits = [], []
    gen = weights(cfg)
    per_layer = 12

    def take(count):
        return dict(next(gen) for _ in range(count))

    w = take(4)
    d, n = cfg.width, cfg.cameras * cfg.tokens
    x = e.node("/patch", "Conv",
               ["images", e.init("patch.weight", w["patch.weight"]),
                e.init("patch.bias", w["patch.bias"])],
               dilations=[1, 1], group=1, kernel_shape=[cfg.patch] * 2,
               pads=[0, 0, 0, 0], strides=[cfg.patch] * 2)
    # x.flatten(2): Reshape to Shape(x)[0:2] ++ [-1].
    shape = e.node("", "Shape", [x])
    c0 = e.const("", [0])
    c1 = e.const("", [0])
    c2 = e.const("", [2])
    head = e.node("", "Slice", [shape, c1, c2, c0])
    flat = e.node("", "Concat", [head, e.const("", [-1])], axis=0)
    x = e.node("", "Reshape", [x, flat], allowzero=0)
    x = e.node("", "Transpose", [x], perm=[0, 2, 1])
    x = e.node("", "Add", [x, e.init("pos_embed", w["pos_embed"])])
    x = e.node("", "Add", [x, e.init("cam_embed", w["cam_embed"])])
    x = e.node("", "Reshape", [x, e.const("", [1, n, d])], allowzero=0)
    flush()
    for i in range(cfg.depth):
        w = take(per_layer)
        x = _layer(e, cfg, i, x, w)
        flush()
    w = take(4)
    x = e.node("/norm", "LayerNormalization",
               [x, e.init("norm.weight", w["norm.weight"]),
                e.init("norm.bias", w["norm.bias"])], axis=-1, epsilon=1e-5)
    x = e.node("", "ReduceMean", [x], axes=[1], keepdims=0)
    y = e.node("/head", "Gemm", [x, e.init("head.weight", w["head.weight"]),
                                 e.init("head.bias", w["head.bias"])],
               alpha=1.0, beta=1.0, transB=1)
    e.nodes[-1].output[0] = "features"
    flush()
    graph = helper.make_graph(
        e.nodes, "perception",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT,
                                       cfg.image_shape)],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT,
                                       [1, cfg.outputs])],
        e.inits)
    model = helper.make_model(graph, producer_name="tessera-perception",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    return model


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def write(cfg, path):
    """Writes the network to `path` holding one layer in memory at a time.

    A protobuf parser merges repeated occurrences of a singular message
    field (here ModelProto.graph, field 7) and concatenates their repeated
    fields, in order. So the file is the model's header fields, then one
    graph field per piece that build() hands over: the same model as
    onnx.save(build(cfg)), in bounded memory."""
    with open(path, "wb") as f:
        def sink(piece):
            data = piece.SerializeToString()
            f.write(b"\x3a" + _varint(len(data)))  # field 7, wire type 2
            f.write(data)
        model = build(cfg, sink)
        # The remaining header (ir_version, opset, producer) and the graph's
        # inputs/outputs, after the pieces (field order does not matter).
        f.write(model.SerializeToString())


def macs(cfg):
    """Multiply-accumulates of one frame, by part."""
    n, d, m, hd = cfg.cameras * cfg.tokens, cfg.width, cfg.mlp, cfg.width
    per_layer = {
        "qkv": n * d * 3 * d,
        "scores": n * n * d,      # heads x (n x hd x n), hd * heads = d
        "weighted_sum": n * n * d,
        "out_proj": n * d * d,
        "mlp": 2 * n * d * m,
    }
    patch = n * d * 3 * cfg.patch * cfg.patch
    return patch, per_layer, d * cfg.outputs
