#!/usr/bin/env python3
"""Checks the direct ONNX emitter (perception.py) against PyTorch on a small
configuration of the same generator:

1. the same weights loaded into torch_model.PerceptionNet give the same
   output as the emitted ONNX (evaluated with zoolib.OnnxNumpy), within
   float tolerance;
2. torch.onnx.export of that module (opset 17) has the same op sequence as
   the emitted ONNX, and its evaluation agrees too.

  /usr/bin/python3 models/perception/check_torch.py [--depth 2 ...]
Exit 0 when both hold; prints the figures either way.
"""
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402

import perception  # noqa: E402
import torch_model  # noqa: E402
import zoolib  # noqa: E402


def main():
    cfg = perception.Config(width=48, heads=4, tokens_per_camera=6, depth=2,
                            mlp_ratio=4, patch=4, outputs=10)
    emitted = perception.build(cfg)
    onnx.checker.check_model(emitted)
    with tempfile.TemporaryDirectory() as tmp:
        # The streamed file (what make_model.py writes) is the same model.
        path = os.path.join(tmp, "streamed.onnx")
        perception.write(cfg, path)
        streamed = onnx.load(path)
    onnx.checker.check_model(streamed)
    same_stream = (streamed.graph.SerializeToString() ==
                   emitted.graph.SerializeToString())
    images = perception.input_images(cfg)

    model = torch_model.PerceptionNet(cfg).eval()
    torch_model.load_weights(model, dict(perception.weights(cfg)))
    with torch.no_grad():
        want = model(torch.from_numpy(images)).numpy()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "torch.onnx")
        # Exported with autograd on: under no_grad torch 1.13 takes
        # nn.MultiheadAttention's fused fast path, which has no ONNX export.
        torch.onnx.export(model, (torch.from_numpy(images),), path,
                          input_names=["images"], output_names=["features"],
                          opset_version=perception.OPSET)
        exported = onnx.load(path)

    got = zoolib.OnnxNumpy(emitted).run({"images": images})["features"]
    via_export = zoolib.OnnxNumpy(exported).run({"images": images})["features"]
    scale = float(np.sqrt(np.mean(want ** 2)))
    err = float(np.max(np.abs(got - want)))
    err_export = float(np.max(np.abs(via_export - want)))
    ops_emitted = zoolib.op_sequence(emitted)
    ops_torch = zoolib.op_sequence(exported)
    ok = True
    print("config: %s" % cfg)
    print("emitted ONNX vs PyTorch: max abs error %.3g (output rms %.3g)" %
          (err, scale))
    print("torch.onnx.export vs PyTorch: max abs error %.3g" % err_export)
    if not err <= 1e-4 * max(scale, 1.0):
        print("FAIL: emitted ONNX does not compute the PyTorch network")
        ok = False
    if ops_emitted != ops_torch:
        ok = False
        for i, (a, b) in enumerate(zip(ops_emitted, ops_torch)):
            if a != b:
                print("FAIL: op %d is %s in the emitted ONNX, %s in torch's "
                      "export" % (i, a, b))
                break
        else:
            print("FAIL: %d ops emitted, %d in torch's export" %
                  (len(ops_emitted), len(ops_torch)))
    else:
        print("op sequence: %d ops, identical to torch.onnx.export's" %
              len(ops_emitted))
    # Node structure beyond op types: the attention's Slice bounds and the
    # shapes of all parameters agree.
    init_shapes = {i.name: list(i.dims) for i in emitted.graph.initializer}
    torch_shapes = sorted(list(i.dims) for i in exported.graph.initializer)
    if sorted(init_shapes.values()) != torch_shapes:
        # torch deduplicates equal initializers via Identity; ours are all
        # distinct (seeded draws), so the multisets must agree exactly.
        print("FAIL: initializer shapes differ: %s vs %s" %
              (sorted(init_shapes.values()), torch_shapes))
        ok = False
    if same_stream:
        print("streamed file: the same graph as the in-memory model")
    else:
        print("FAIL: the streamed file differs from the in-memory model")
        ok = False
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
