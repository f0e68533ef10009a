#!/usr/bin/env python3
"""Builds the audio demo's tone classifier and a few labelled test clips (run with /usr/bin/python3: numpy and
python3-onnx; no downloads).

It synthesizes one-second clips at 8 kHz of a tone in one of three bands — low (150-400 Hz), mid (600-1,200 Hz),
high (1,800-3,000 Hz) — with a random amplitude, phase, a second weaker harmonic, and noise; fits softmax regression
with numpy on log band energies of 3,000 of them; and reports accuracy on 900 held-out clips. The ONNX graph takes
what the spec's `preprocess` makes — FP32 [N, 8000] (mono, 8 kHz, 1 s) — cuts it into 31 frames of 256 samples,
projects each frame on a fixed cosine and sine basis at 32 frequencies (a DFT done as two MatMuls), averages the
power over frames, takes its log, and applies the fitted linear layer: logits [N, 3] (softmax in `postprocess`).

Writes (relative to the engine module):
- src/main/resources/demo/tones.onnx          the model (about 70 KB)
- src/main/resources/demo/tones-sample.wav    one clip the demo's curl line sends
- src/test/resources/tones/<i>-<label>.wav    12 labelled held-out clips (16-bit PCM)

Usage: /usr/bin/python3 engine/src/test/python/make_tones_model.py
"""
import os
import struct

import numpy as np
import onnx
from onnx import TensorProto as T, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINE = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
DEMO = os.path.join(ENGINE, "src", "main", "resources", "demo")
TESTSET = os.path.join(ENGINE, "src", "test", "resources", "tones")
LABELS = ["low", "mid", "high"]
BANDS = [(150, 400), (600, 1200), (1800, 3000)]
RATE = 8000
SAMPLES = 8000
FRAME = 256
FRAMES = SAMPLES // FRAME  # 31: the last 64 samples are not used
BINS = np.linspace(4, 110, 32).round().astype(int)  # DFT bins: k * 8000 / 256 Hz, i.e. 125 Hz to 3.4 kHz
OPSET = 17


def clip(kind, rng):
    t = np.arange(SAMPLES) / RATE
    f = rng.uniform(*BANDS[kind])
    a = rng.uniform(0.1, 0.8)
    x = a * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    x += 0.3 * a * np.sin(2 * np.pi * 2 * f * t + rng.uniform(0, 2 * np.pi))
    x += rng.normal(0, rng.uniform(0.01, 0.1), SAMPLES)
    return np.clip(x, -1, 32767 / 32768).astype(np.float32)


def basis():
    n = np.arange(FRAME)[:, None]
    k = BINS[None, :]
    return np.cos(2 * np.pi * n * k / FRAME).astype(np.float32), np.sin(2 * np.pi * n * k / FRAME).astype(np.float32)


def features(x):
    """What the graph computes before its Gemm: log of the mean power per bin over frames."""
    c, s = basis()
    frames = x[:, :FRAMES * FRAME].reshape(len(x), FRAMES, FRAME)
    power = (frames @ c) ** 2 + (frames @ s) ** 2
    return np.log(power.mean(axis=1) + 1e-3).astype(np.float32)


def train(x, y, rng, epochs=300, lr=0.05):
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = (x - mu) / sd
    w = np.zeros((x.shape[1], 3), np.float32)
    b = np.zeros(3, np.float32)
    onehot = np.eye(3, dtype=np.float32)[y]
    for _ in range(epochs):
        logits = z @ w + b
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) / len(z)
        w -= lr * z.T @ g
        b -= lr * g.sum(axis=0)
    # Fold the standardisation into the layer, so the graph takes the raw log energies.
    w_raw = (w / sd[:, None]).astype(np.float32)
    b_raw = (b - (mu / sd) @ w).astype(np.float32)
    return w_raw, b_raw


def export(w, b, path):
    c, s = basis()
    nodes = [
        helper.make_node("Slice", ["clip", "starts", "ends", "axes"], ["used"]),
        helper.make_node("Reshape", ["used", "frames_shape"], ["frames"]),  # [N, 31, 256]
        helper.make_node("MatMul", ["frames", "cos"], ["re"]),
        helper.make_node("MatMul", ["frames", "sin"], ["im"]),
        helper.make_node("Mul", ["re", "re"], ["re2"]),
        helper.make_node("Mul", ["im", "im"], ["im2"]),
        helper.make_node("Add", ["re2", "im2"], ["power"]),
        helper.make_node("ReduceMean", ["power"], ["mean"], axes=[1], keepdims=0),  # [N, 32]
        helper.make_node("Add", ["mean", "eps"], ["floored"]),
        helper.make_node("Log", ["floored"], ["energy"]),
        helper.make_node("Gemm", ["energy", "w", "b"], ["logits"]),
    ]
    init = [numpy_helper.from_array(np.array([0], np.int64), "starts"),
            numpy_helper.from_array(np.array([FRAMES * FRAME], np.int64), "ends"),
            numpy_helper.from_array(np.array([1], np.int64), "axes"),
            numpy_helper.from_array(np.array([-1, FRAMES, FRAME], np.int64), "frames_shape"),
            numpy_helper.from_array(c, "cos"), numpy_helper.from_array(s, "sin"),
            numpy_helper.from_array(np.array(1e-3, np.float32), "eps"),
            numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")]
    graph = helper.make_graph(nodes, "tones", [helper.make_tensor_value_info("clip", T.FLOAT, ["N", SAMPLES])],
                              [helper.make_tensor_value_info("logits", T.FLOAT, ["N", 3])], init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="inferium make_tones_model.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def wav(path, x):
    pcm = (np.clip(x, -1, 32767 / 32768) * 32768).astype("<i2").tobytes()
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVE")
        f.write(b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, RATE, RATE * 2, 2, 16))
        f.write(b"data" + struct.pack("<I", len(pcm)) + pcm)


def main():
    rng = np.random.default_rng(20261205)
    y_train = rng.integers(0, 3, 3000)
    x_train = np.stack([clip(k, rng) for k in y_train])
    y_test = rng.integers(0, 3, 900)
    x_test = np.stack([clip(k, rng) for k in y_test])
    w, b = train(features(x_train), y_train, rng)
    acc = lambda x, y: ((features(x) @ w + b).argmax(axis=1) == y).mean()
    print(f"train accuracy {acc(x_train, y_train):.4f} on {len(y_train)} clips; "
          f"held-out accuracy {acc(x_test, y_test):.4f} on {len(y_test)}")
    export(w, b, os.path.join(DEMO, "tones.onnx"))
    wav(os.path.join(DEMO, "tones-sample.wav"), x_test[0])
    os.makedirs(TESTSET, exist_ok=True)
    for old in os.listdir(TESTSET):
        os.remove(os.path.join(TESTSET, old))
    for i in range(12):
        wav(os.path.join(TESTSET, f"{i:02d}-{LABELS[y_test[i]]}.wav"), x_test[i])
    print(f"model {os.path.getsize(os.path.join(DEMO, 'tones.onnx'))} bytes; 12 test clips written")


if __name__ == "__main__":
    main()
