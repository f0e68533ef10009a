#!/usr/bin/env python3
"""Builds the scoring demo's bundled files (run with /usr/bin/python3: numpy and python3-onnx).

- engine/src/main/resources/demo/iris.csv: the 150-row Iris data set (Fisher 1936, UCI copy) as
  features + expected label. It is converted once from the UCI `iris.arff` that scipy ships in its
  test data (pass its path as the first argument); afterwards the committed CSV is the source.
- engine/src/main/resources/demo/iris-centroid.onnx: a nearest-centroid classifier built by hand
  with onnx.helper from that CSV: per-class feature means; scores = softmax(-squared distance);
  label = argmin distance. A different model from `iris` (logistic regression), so the leaderboard
  has two classifiers to compare.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as T, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.normpath(os.path.join(HERE, "..", "..", "main", "resources", "demo"))
LABELS = ["setosa", "versicolor", "virginica"]
OPSET = 17


def csv_from_arff(path):
    rows = []
    with open(path) as f:
        data = False
        for line in f:
            line = line.strip()
            if not line or line.startswith("%"):
                continue
            if line.lower().startswith("@data"):
                data = True
                continue
            if data:
                *x, cls = line.split(",")
                rows.append([float(v) for v in x] + [cls.replace("Iris-", "")])
    assert len(rows) == 150, len(rows)
    with open(os.path.join(DEMO, "iris.csv"), "w") as out:
        out.write("sepal_length,sepal_width,petal_length,petal_width,expected\n")
        for r in rows:
            out.write(",".join(str(v) for v in r[:4]) + "," + r[4] + "\n")


def read_csv():
    x, y = [], []
    with open(os.path.join(DEMO, "iris.csv")) as f:
        next(f)
        for line in f:
            *v, label = line.strip().split(",")
            x.append([float(a) for a in v])
            y.append(LABELS.index(label))
    return np.array(x, dtype=np.float32), np.array(y)


def centroid_model(x, y):
    centroids = np.stack([x[y == c].mean(axis=0) for c in range(3)]).astype(np.float32)  # [3, 4]
    init = [numpy_helper.from_array(centroids[None, :, :], "centroids"),  # [1, 3, 4]
            numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
            numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2")]
    nodes = [
        helper.make_node("Unsqueeze", ["features", "axis1"], ["f3"]),  # [b, 1, 4]
        helper.make_node("Sub", ["f3", "centroids"], ["diff"]),  # [b, 3, 4]
        helper.make_node("Mul", ["diff", "diff"], ["sq"]),
        helper.make_node("ReduceSum", ["sq", "axis2"], ["dist"], keepdims=0),  # [b, 3]
        helper.make_node("Neg", ["dist"], ["neg"]),
        helper.make_node("Softmax", ["neg"], ["scores"], axis=1),
        helper.make_node("ArgMin", ["dist"], ["label"], axis=1, keepdims=0),
    ]
    graph = helper.make_graph(nodes, "iris_centroid",
                              [helper.make_tensor_value_info("features", T.FLOAT, ["batch", 4])],
                              [helper.make_tensor_value_info("scores", T.FLOAT, ["batch", 3]),
                               helper.make_tensor_value_info("label", T.INT64, ["batch"])],
                              initializer=init)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="inferium-tests",
                          producer_version="1")
    m.ir_version = 8
    m.doc_string = "Iris species by the nearest class centroid of sepal and petal length and width in cm."
    onnx.checker.check_model(m)
    d = ((x[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    print(f"nearest-centroid accuracy on the 150 rows: {(d.argmin(axis=1) == y).mean():.3f}")
    return m


def main():
    if len(sys.argv) > 1:
        csv_from_arff(sys.argv[1])
    x, y = read_csv()
    onnx.save(centroid_model(x, y), os.path.join(DEMO, "iris-centroid.onnx"))


if __name__ == "__main__":
    main()
