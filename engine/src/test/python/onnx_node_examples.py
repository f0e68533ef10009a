#!/usr/bin/python3
"""Turns ONNX's operator test models into deploy cases with their own inputs as spec examples.

Each `onnx/backend/test/data/node/<test>/` directory holds model.onnx and test_data_set_0/input_*.pb
(TensorProto files, one per graph input in order). This writes one JSON manifest that
OnnxNodeDeployIT reads:

    [{"name": "test_expand_dim_changed", "model": "/.../model.onnx",
      "examples": [{"inputs": [{"name", "datatype", "shape", "data"}, ...]}]   # or null
      "skip": null | "why no examples could be written"}, ...]

Models whose inputs cannot be written as V2 JSON (sequences, optionals, complex numbers, inputs
over 256 KiB of JSON) get "examples": null and a reason; the benchmark still deploys them without.

    /usr/bin/python3 engine/src/test/python/onnx_node_examples.py \
        /usr/share/libonnx-testdata/data/node target/onnx-node-cases.json

(Debian: apt-get install python3-onnx libonnx-testdata.)
"""

import json
import math
import pathlib
import sys

import onnx
from onnx import TensorProto, numpy_helper

V2_TYPES = {
    TensorProto.BOOL: "BOOL", TensorProto.UINT8: "UINT8", TensorProto.UINT16: "UINT16",
    TensorProto.UINT32: "UINT32", TensorProto.UINT64: "UINT64", TensorProto.INT8: "INT8",
    TensorProto.INT16: "INT16", TensorProto.INT32: "INT32", TensorProto.INT64: "INT64",
    TensorProto.FLOAT16: "FP16", TensorProto.FLOAT: "FP32", TensorProto.DOUBLE: "FP64",
    TensorProto.STRING: "BYTES",
}
MAX_CHARS = 256 * 1024


def element(v):
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
    return v


def tensor_json(name, path):
    t = TensorProto()
    try:
        t.ParseFromString(path.read_bytes())
    except Exception as e:  # a SequenceProto or OptionalProto does not parse as a tensor
        raise ValueError(f"{path.name} is not a tensor: {e}")
    if t.data_type not in V2_TYPES:
        raise ValueError(f"{path.name}: element type {t.data_type} has no V2 name")
    array = numpy_helper.to_array(t)
    data = [element(v) for v in array.flatten().tolist()]
    return {"name": name, "datatype": V2_TYPES[t.data_type], "shape": list(array.shape), "data": data}


def case(directory):
    model_path = directory / "model.onnx"
    entry = {"name": directory.name, "model": str(model_path), "examples": None, "skip": None}
    try:
        model = onnx.load(str(model_path), load_external_data=False)
    except Exception as e:
        entry["skip"] = f"model does not load in python3-onnx: {e}"
        return entry
    initializers = {i.name for i in model.graph.initializer}
    names = [i.name for i in model.graph.input if i.name not in initializers]
    files = sorted((directory / "test_data_set_0").glob("input_*.pb"), key=lambda p: int(p.stem.split("_")[1]))
    if len(files) != len(names):
        entry["skip"] = f"{len(files)} input files for {len(names)} graph inputs"
        return entry
    try:
        inputs = [tensor_json(n, f) for n, f in zip(names, files)]
    except ValueError as e:
        entry["skip"] = str(e)
        return entry
    examples = [{"inputs": inputs}]
    if len(json.dumps(examples)) > MAX_CHARS:
        entry["skip"] = "inputs over 256 KiB of JSON"
        return entry
    entry["examples"] = examples
    return entry


def main():
    root, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    cases = [case(d) for d in sorted(root.iterdir()) if (d / "model.onnx").exists()]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(cases))
    with_examples = sum(1 for c in cases if c["examples"] is not None)
    print(f"{out}: {len(cases)} models, {with_examples} with examples")


if __name__ == "__main__":
    main()
