#!/usr/bin/env python3
"""Builds the image demo's classifier and its labelled test images (run with /usr/bin/python3:
numpy and python3-onnx; no downloads, no PIL).

It draws images of three shapes (circle, square, triangle) itself: random size, position, rotation
(triangles), foreground and background colours, anti-aliased by 4x supersampling; fits a small MLP
with numpy (Adam, cross-entropy) on 6,000 of them; reports its accuracy on 1,500 held-out images it
never trained on; and exports the network to ONNX with onnx.helper. The graph takes what the spec's
`preprocess` produces — FP32 [N, 3, 20, 20] (NCHW, RGB, (v/255 - 0.5) / 0.5) — averages the
channels, and emits logits [N, 3]; the spec's `postprocess` applies softmax.

Writes (paths relative to the engine module):
- src/main/resources/demo/shapes.onnx           the model (about 50 KB)
- src/main/resources/demo/shapes-sample.png     one image the demo's curl line sends
- src/test/resources/shapes/<i>-<label>.png     a small labelled held-out set (30 PNGs)

Usage: python3 engine/src/test/python/make_shapes_model.py
"""
import os
import struct
import zlib

import numpy as np
import onnx
from onnx import TensorProto as T, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINE = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
DEMO = os.path.join(ENGINE, "src", "main", "resources", "demo")
TESTSET = os.path.join(ENGINE, "src", "test", "resources", "shapes")
LABELS = ["circle", "square", "triangle"]
SIZE = 20
HIDDEN = 32
OPSET = 17
SS = 4  # supersampling factor


def draw(kind, rng):
    """One SIZE x SIZE RGB uint8 image of shape `kind` (0 circle, 1 square, 2 triangle)."""
    n = SIZE * SS
    ys, xs = np.mgrid[0:n, 0:n].astype(np.float64) + 0.5
    r = rng.uniform(0.22, 0.42) * n  # half-extent
    cx = rng.uniform(r, n - r)
    cy = rng.uniform(r, n - r)
    if kind == 0:
        mask = (xs - cx) ** 2 + (ys - cy) ** 2 <= r * r
    elif kind == 1:
        a = rng.uniform(0, np.pi / 2)
        u = (xs - cx) * np.cos(a) + (ys - cy) * np.sin(a)
        v = -(xs - cx) * np.sin(a) + (ys - cy) * np.cos(a)
        s = r * 0.8
        mask = (np.abs(u) <= s) & (np.abs(v) <= s)
    else:
        a = rng.uniform(0, 2 * np.pi)
        pts = [(cx + r * np.cos(a + k * 2 * np.pi / 3), cy + r * np.sin(a + k * 2 * np.pi / 3)) for k in range(3)]
        mask = np.ones_like(xs, dtype=bool)
        for k in range(3):
            (x1, y1), (x2, y2) = pts[k], pts[(k + 1) % 3]
            ox, oy = pts[(k + 2) % 3]
            side = (x2 - x1) * (ys - y1) - (y2 - y1) * (xs - x1)
            inside = (x2 - x1) * (oy - y1) - (y2 - y1) * (ox - x1)
            mask &= np.sign(side) == np.sign(inside)
    while True:
        fg = rng.integers(0, 256, 3)
        bg = rng.integers(0, 256, 3)
        if abs(fg.mean() - bg.mean()) > 70:
            break
    cover = mask.reshape(SIZE, SS, SIZE, SS).mean(axis=(1, 3))[:, :, None]
    img = cover * fg[None, None, :] + (1 - cover) * bg[None, None, :]
    noise = rng.normal(0, 6, img.shape)
    return np.clip(np.rint(img + noise), 0, 255).astype(np.uint8)


def dataset(count, rng):
    y = rng.integers(0, 3, count)
    x = np.stack([draw(k, rng) for k in y])
    return x, y


def features(images):
    """What the ONNX graph computes before its first MatMul: preprocess, then the channel mean, flattened."""
    x = (images.astype(np.float32) / 255.0 - 0.5) / 0.5  # [N, H, W, 3]
    return x.mean(axis=3).reshape(len(images), -1)


def train(x, y, rng, epochs=60, lr=3e-3, batch=64):
    d = x.shape[1]
    w1 = (rng.normal(0, 1, (d, HIDDEN)) * np.sqrt(2.0 / d)).astype(np.float32)
    b1 = np.zeros(HIDDEN, np.float32)
    w2 = (rng.normal(0, 1, (HIDDEN, 3)) * np.sqrt(1.0 / HIDDEN)).astype(np.float32)
    b2 = np.zeros(3, np.float32)
    params = [w1, b1, w2, b2]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    step = 0
    onehot = np.eye(3, dtype=np.float32)[y]
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            xb, tb = x[idx], onehot[idx]
            h = np.maximum(xb @ w1 + b1, 0)
            logits = h @ w2 + b2
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            g = (p - tb) / len(idx)
            gw2 = h.T @ g
            gb2 = g.sum(axis=0)
            gh = g @ w2.T * (h > 0)
            gw1 = xb.T @ gh
            gb1 = gh.sum(axis=0)
            step += 1
            for k, (param, grad) in enumerate(zip(params, [gw1, gb1, gw2, gb2])):
                m[k] = 0.9 * m[k] + 0.1 * grad
                v[k] = 0.999 * v[k] + 0.001 * grad * grad
                mh = m[k] / (1 - 0.9 ** step)
                vh = v[k] / (1 - 0.999 ** step)
                param -= (lr * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
    return params


def predict(params, x):
    w1, b1, w2, b2 = params
    return (np.maximum(x @ w1 + b1, 0) @ w2 + b2).argmax(axis=1)


def export(params, path):
    w1, b1, w2, b2 = params
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["gray"], axes=[1], keepdims=0),  # [N, H, W]
        helper.make_node("Flatten", ["gray"], ["flat"], axis=1),  # [N, H*W]
        helper.make_node("Gemm", ["flat", "w1", "b1"], ["h"]),
        helper.make_node("Relu", ["h"], ["hr"]),
        helper.make_node("Gemm", ["hr", "w2", "b2"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes, "shapes",
        [helper.make_tensor_value_info("image", T.FLOAT, ["N", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("logits", T.FLOAT, ["N", 3])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"),
         numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(b2, "b2")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="inferium make_shapes_model.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def png(path, img):
    """A minimal RGB PNG (8-bit, no filter), so the script needs no imaging library."""
    h, w, _ = img.shape
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    rng = np.random.default_rng(20261205)
    x_train, y_train = dataset(6000, rng)
    x_test, y_test = dataset(1500, rng)
    params = train(features(x_train), y_train, rng)
    train_acc = (predict(params, features(x_train)) == y_train).mean()
    test_acc = (predict(params, features(x_test)) == y_test).mean()
    print(f"train accuracy {train_acc:.4f} on {len(y_train)} images; held-out accuracy {test_acc:.4f} on {len(y_test)}")
    os.makedirs(DEMO, exist_ok=True)
    export(params, os.path.join(DEMO, "shapes.onnx"))
    png(os.path.join(DEMO, "shapes-sample.png"), x_test[0])
    os.makedirs(TESTSET, exist_ok=True)
    for old in os.listdir(TESTSET):
        os.remove(os.path.join(TESTSET, old))
    for i in range(30):
        png(os.path.join(TESTSET, f"{i:02d}-{LABELS[y_test[i]]}.png"), x_test[i])
    held = (predict(params, features(x_test[:30])) == y_test[:30]).mean()
    print(f"committed test set: 30 images, accuracy {held:.4f}; model {os.path.getsize(os.path.join(DEMO, 'shapes.onnx'))} bytes")


if __name__ == "__main__":
    main()
