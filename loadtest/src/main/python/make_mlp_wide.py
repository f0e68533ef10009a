#!/usr/bin/python3
"""Writes issue 11's MLP, x FP32 [batch,64] -> y FP32 [batch,64], to the path given (not committed: 35 MB).

    x -> MatMul 64x2048 -> Add -> Relu -> (MatMul 2048x2048 -> Add -> Relu) x 2 -> MatMul 2048x64 -> Add -> y

About 8.6 M multiply-adds per row, fixed-seed weights. loadtest/scripts/serving-path.sh runs it with
Debian's interpreter (python3-onnx, numpy):

    /usr/bin/python3 loadtest/src/main/python/make_mlp_wide.py /tmp/mlp-wide.onnx
"""

import sys

import numpy as np
from onnx import TensorProto as T
from onnx import checker, helper, numpy_helper

OPSET = 17
IR_VERSION = 8
LAYERS = [(64, 2048), (2048, 2048), (2048, 2048), (2048, 64)]


def main(out):
    rng = np.random.default_rng(20261204)
    inits, nodes = [], []
    prev = "x"
    for i, (fan_in, fan_out) in enumerate(LAYERS, start=1):
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
        nodes, "mlp_wide",
        [helper.make_tensor_value_info("x", T.FLOAT, ["batch", 64])],
        [helper.make_tensor_value_info("y", T.FLOAT, ["batch", 64])],
        initializer=inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                          producer_name="inferium-make-mlp-wide", producer_version="1")
    m.ir_version = IR_VERSION
    checker.check_model(m)
    with open(out, "wb") as f:
        f.write(m.SerializeToString())


if __name__ == "__main__":
    main(sys.argv[1])
