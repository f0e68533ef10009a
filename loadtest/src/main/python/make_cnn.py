#!/usr/bin/python3
"""Writes the compute-bound benchmark model: a small CNN, x FP32 [batch,3,32,32] -> y FP32 [batch,10].

    x -> Conv 3->C1 3x3 pad 1 -> Relu -> Conv C1->C2 3x3 pad 1 -> Relu -> Conv C2->C3 3x3 pad 1 -> Relu
      -> GlobalAveragePool -> Flatten -> MatMul C3x10 -> Add b -> y

With C1, C2, C3 = 32, 64, 128 that is about 95 M multiply-adds per row (all at 32x32 resolution)
but only ~94 k weights (~0.38 MB): the model, not the serving path, dominates even at batch 1
(about 1 ms per row on one core of the 2-core benchmark machine; 3-32-64-64 measured 0.6 ms), the
regime where serving overhead is small next to compute. Fixed-seed weights; run with Debian's interpreter (python3-onnx, numpy):

    /usr/bin/python3 loadtest/src/main/python/make_cnn.py

The output is deterministic and committed, so the Java build never needs Python.
"""

import pathlib

import numpy as np
from onnx import TensorProto as T
from onnx import checker, helper, numpy_helper

ROOT = pathlib.Path(__file__).resolve().parents[4]
OUT = ROOT / "loadtest" / "src" / "main" / "resources" / "models" / "cnn.onnx"

# Same choice as make_mlp.py: what ORT 1.29 and Debian's onnx both know.
OPSET = 17
IR_VERSION = 8
CHANNELS = [3, 32, 64, 128]
CLASSES = 10
SIDE = 32


def main():
    rng = np.random.default_rng(20261124)
    inits, nodes = [], []
    prev = "x"
    for i, (cin, cout) in enumerate(zip(CHANNELS, CHANNELS[1:]), start=1):
        fan_in = cin * 9
        w = (rng.standard_normal((cout, cin, 3, 3)) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        b = (rng.standard_normal(cout) * 0.01).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes.append(helper.make_node("Conv", [prev, f"w{i}", f"b{i}"], [f"conv{i}"],
                                      kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", [f"conv{i}"], [f"h{i}"]))
        prev = f"h{i}"
    nodes.append(helper.make_node("GlobalAveragePool", [prev], ["gap"]))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], axis=1))
    wf = (rng.standard_normal((CHANNELS[-1], CLASSES)) * np.sqrt(1.0 / CHANNELS[-1])).astype(np.float32)
    bf = (rng.standard_normal(CLASSES) * 0.01).astype(np.float32)
    inits += [numpy_helper.from_array(wf, "wf"), numpy_helper.from_array(bf, "bf")]
    nodes.append(helper.make_node("MatMul", ["flat", "wf"], ["logits"]))
    nodes.append(helper.make_node("Add", ["logits", "bf"], ["y"]))
    graph = helper.make_graph(
        nodes, "cnn",
        [helper.make_tensor_value_info("x", T.FLOAT, ["batch", CHANNELS[0], SIDE, SIDE])],
        [helper.make_tensor_value_info("y", T.FLOAT, ["batch", CLASSES])],
        initializer=inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                          producer_name="inferium-make-cnn", producer_version="1")
    m.ir_version = IR_VERSION
    m.doc_string = "Inferium load-test CNN conv3x3 " + "-".join(map(str, CHANNELS)) + ", GAP, FC 10, fixed-seed weights"
    checker.check_model(m)
    data = m.SerializeToString()
    assert len(data) < 1024 * 1024, f"cnn.onnx is {len(data)} bytes"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(data)
    macs = sum(SIDE * SIDE * cout * cin * 9 for cin, cout in zip(CHANNELS, CHANNELS[1:])) + CHANNELS[-1] * CLASSES
    print(f"{OUT.relative_to(ROOT)}: {len(data)} bytes, {macs / 1e6:.1f} M multiply-adds per row")


if __name__ == "__main__":
    main()
