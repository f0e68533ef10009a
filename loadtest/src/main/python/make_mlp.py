#!/usr/bin/python3
"""Writes the benchmark model: a compute-bound MLP, x FP32 [batch,256] -> y FP32 [batch,10].

    x -> MatMul 256x512 -> Add b1 -> Relu -> MatMul 512x512 -> Add b2 -> Relu -> MatMul 512x10 -> Add b3 -> y

About 0.4 M multiply-adds per row, weights from a fixed seed (1.6 MB), so the model and not the
serving path dominates at large batches. Run with Debian's interpreter (python3-onnx, numpy):

    /usr/bin/python3 loadtest/src/main/python/make_mlp.py

The output is deterministic and committed, so the Java build never needs Python.
"""

import pathlib

import numpy as np
from onnx import TensorProto as T
from onnx import checker, helper, numpy_helper

ROOT = pathlib.Path(__file__).resolve().parents[4]
OUT = ROOT / "loadtest" / "src" / "main" / "resources" / "models" / "mlp.onnx"

# Same choice as functions/src/test/python/make_models.py: what ORT 1.29 and Debian's onnx both know.
OPSET = 17
IR_VERSION = 8
LAYERS = [(256, 512), (512, 512), (512, 10)]


def main():
    rng = np.random.default_rng(20261123)
    inits, nodes = [], []
    prev = "x"
    for i, (fan_in, fan_out) in enumerate(LAYERS, start=1):
        # He-style scaling keeps activations bounded through the ReLUs.
        w = (rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        b = (rng.standard_normal(fan_out) * 0.01).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        last = i == len(LAYERS)
        nodes.append(helper.make_node("MatMul", [prev, f"w{i}"], [f"mm{i}"]))
        nodes.append(helper.make_node("Add", [f"mm{i}", f"b{i}"], ["y" if last else f"pre{i}"]))
        if not last:
            nodes.append(helper.make_node("Relu", [f"pre{i}"], [f"h{i}"]))
            prev = f"h{i}"
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("x", T.FLOAT, ["batch", 256])],
        [helper.make_tensor_value_info("y", T.FLOAT, ["batch", 10])],
        initializer=inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                          producer_name="inferium-make-mlp", producer_version="1")
    m.ir_version = IR_VERSION
    m.doc_string = "Inferium load-test MLP 256-512-512-10, fixed-seed weights"
    checker.check_model(m)
    data = m.SerializeToString()
    assert len(data) < 2 * 1024 * 1024, f"mlp.onnx is {len(data)} bytes"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(data)
    print(f"{OUT.relative_to(ROOT)}: {len(data)} bytes")


if __name__ == "__main__":
    main()
