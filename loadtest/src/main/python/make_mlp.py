#!/usr/bin/python3
"""Writes the benchmark MLPs (fixed-seed weights, MatMul + Add + Relu layers).

Default: the committed benchmark model, x FP32 [batch,256] -> y FP32 [batch,10],

    x -> MatMul 256x512 -> Add b1 -> Relu -> MatMul 512x512 -> Add b2 -> Relu -> MatMul 512x10 -> Add b3 -> y

about 0.4 M multiply-adds per row (1.6 MB), so the model and not the serving path dominates at large
batches. The output is deterministic and committed, so the Java build never needs Python:

    /usr/bin/python3 loadtest/src/main/python/make_mlp.py

`--wide OUT`: issue 11's MLP, x FP32 [batch,64] -> y FP32 [batch,64], 64-2048-2048-2048-64 (about
8.6 M multiply-adds per row, 35 MB, not committed), written to OUT for loadtest/scripts/serving-path.sh:

    /usr/bin/python3 loadtest/src/main/python/make_mlp.py --wide /tmp/mlp-wide.onnx

Run with Debian's interpreter (python3-onnx, numpy).
"""

import pathlib
import sys

import numpy as np
from onnx import TensorProto as T
from onnx import checker, helper, numpy_helper

ROOT = pathlib.Path(__file__).resolve().parents[4]
OUT = ROOT / "loadtest" / "src" / "main" / "resources" / "models" / "mlp.onnx"

# Same choice as functions/src/test/python/make_models.py: what ORT 1.29 and Debian's onnx both know.
OPSET = 17
IR_VERSION = 8
LAYERS = [(256, 512), (512, 512), (512, 10)]
WIDE_LAYERS = [(64, 2048), (2048, 2048), (2048, 2048), (2048, 64)]


def mlp(name, layers, seed, producer, doc=None):
    rng = np.random.default_rng(seed)
    inits, nodes = [], []
    prev = "x"
    for i, (fan_in, fan_out) in enumerate(layers, start=1):
        # He-style scaling keeps activations bounded through the ReLUs.
        w = (rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        b = (rng.standard_normal(fan_out) * 0.01).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        last = i == len(layers)
        nodes.append(helper.make_node("MatMul", [prev, f"w{i}"], [f"mm{i}"]))
        nodes.append(helper.make_node("Add", [f"mm{i}", f"b{i}"], ["y" if last else f"pre{i}"]))
        if not last:
            nodes.append(helper.make_node("Relu", [f"pre{i}"], [f"h{i}"]))
            prev = f"h{i}"
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", T.FLOAT, ["batch", layers[0][0]])],
        [helper.make_tensor_value_info("y", T.FLOAT, ["batch", layers[-1][1]])],
        initializer=inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                          producer_name=producer, producer_version="1")
    m.ir_version = IR_VERSION
    if doc:
        m.doc_string = doc
    checker.check_model(m)
    return m.SerializeToString()


def main(args):
    if args[:1] == ["--wide"]:
        data = mlp("mlp_wide", WIDE_LAYERS, 20261204, "inferium-make-mlp-wide")
        pathlib.Path(args[1]).write_bytes(data)
        print(f"{args[1]}: {len(data)} bytes")
        return
    data = mlp("mlp", LAYERS, 20261123, "inferium-make-mlp", "Inferium load-test MLP 256-512-512-10, fixed-seed weights")
    assert len(data) < 2 * 1024 * 1024, f"mlp.onnx is {len(data)} bytes"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(data)
    print(f"{OUT.relative_to(ROOT)}: {len(data)} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
