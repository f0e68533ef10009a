#!/usr/bin/env python3
"""Builds a classifier trained on log-mel features, its held-out test clips, and the reference values the node's
Java log-mel (`io.inferium.functions.media.LogMel`) is checked against (run with /usr/bin/python3: numpy and
python3-onnx; no downloads).

It synthesizes one-second clips at 16 kHz whose class is a time-frequency shape, so only a spectrogram over time
tells them apart: a rising chirp, a falling chirp (exponential sweeps between random frequencies at least an octave
apart), a steady tone (random frequency, slight vibrato), and two tones alternating every 80-250 ms; each with a
random amplitude, phase, a weaker second harmonic and noise. It computes log-mel features with its own numpy code,
written to librosa's and torchaudio's conventions (periodic Hann window centred in n_fft, frames centred with zero
padding, power spectrum |X|^2, triangular mel filters built as librosa.filters.mel does, HTK or Slaney mel scale,
optional Slaney area normalisation), with the spec below (HTK scale and no filter normalisation: torchaudio's
MelSpectrogram defaults), fits a small MLP with numpy (40 x 101 features -> 24 ReLU units -> 4 logits, Adam) on
2,400 clips, and reports accuracy on 600 held-out ones. The ONNX graph takes the features tensor
FP32 [N, 1, 40, 101] (what the spec's `preprocess.features` makes for a rank-4 model input) and returns logits [N, 4].

Writes (relative to the repository root):
- engine/src/test/resources/chirps.onnx                 the model (about 400 KB)
- engine/src/test/resources/chirps/<i>-<label>.wav      8 labelled held-out clips (16-bit PCM, 16 kHz, 1 s)
- functions/node/src/test/resources/logmel/*.wav        3 fixed clips (one shorter than n_fft)
- functions/node/src/test/resources/logmel/reference.json  this script's log-mel of each under 3 specs

Usage: /usr/bin/python3 engine/src/test/python/make_chirps_model.py
"""
import json
import os
import struct

import numpy as np
import onnx
from onnx import TensorProto as T, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))
MODEL = os.path.join(ROOT, "engine", "src", "test", "resources", "chirps.onnx")
TESTSET = os.path.join(ROOT, "engine", "src", "test", "resources", "chirps")
REFERENCE = os.path.join(ROOT, "functions", "node", "src", "test", "resources", "logmel")
LABELS = ["rising", "falling", "steady", "alternating"]
RATE = 16000
SAMPLES = 16000
# The spec's preprocess.features (the Java defaults fill what is not given; here everything is given).
FEATURES = {"type": "log_mel", "n_fft": 512, "hop": 160, "win": 400, "n_mels": 40, "fmin": 0, "fmax": 8000,
            "mel_scale": "htk", "mel_norm": "none", "log": "ln", "floor": 1e-6, "center": True, "normalize": "per_clip"}
HIDDEN = 24
OPSET = 17


# ---- log-mel, to librosa's conventions ----

def hz_to_mel(f, htk):
    f = np.asanyarray(f, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-12) / min_log_hz) / logstep, mels)


def mel_to_hz(m, htk):
    m = np.asanyarray(m, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    f_sp = 200.0 / 3
    freqs = f_sp * m
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)


def mel_filters(rate, n_fft, n_mels, fmin, fmax, htk, slaney_norm):
    fft_freqs = np.linspace(0, rate / 2, 1 + n_fft // 2)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n_mels + 2), htk)
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    weights = np.zeros((n_mels, 1 + n_fft // 2))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    if slaney_norm:
        weights *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights


def log_mel(x, rate, f):
    """x: [N, samples] float; f: a features object with every field. Returns [N, n_mels, frames] float64."""
    n_fft, hop, win = f["n_fft"], f["hop"], f["win"]
    x = np.asarray(x, dtype=np.float64)
    if f["center"]:
        x = np.pad(x, ((0, 0), (n_fft // 2, n_fft // 2)))
    frames = 1 + (x.shape[1] - n_fft) // hop
    n = np.arange(win)
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * n / win)  # periodic
    window = np.zeros(n_fft)
    left = (n_fft - win) // 2
    window[left:left + win] = hann
    idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    spec = np.abs(np.fft.rfft(x[:, idx] * window, axis=-1)) ** 2  # [N, frames, bins]
    fb = mel_filters(rate, n_fft, f["n_mels"], f["fmin"], f["fmax"], f["mel_scale"] == "htk", f["mel_norm"] == "slaney")
    mel = np.einsum("mb,ntb->nmt", fb, spec)
    mel = np.maximum(mel, f["floor"])
    out = {"ln": np.log, "log10": np.log10, "db": lambda v: 10.0 * np.log10(v)}[f["log"]](mel)
    if f["normalize"] == "per_clip":
        mean = out.mean(axis=(1, 2), keepdims=True)
        std = out.std(axis=(1, 2), keepdims=True)
        out = (out - mean) / np.maximum(std, 1e-5)
    return out


# ---- the clips ----

def sweep(f0, f1, t, seconds):
    """Phase of an exponential sweep from f0 to f1 over `seconds`."""
    k = np.log(f1 / f0) / seconds
    return 2 * np.pi * f0 * (np.exp(k * t) - 1) / k


def clip(kind, rng):
    t = np.arange(SAMPLES) / RATE
    if kind in (0, 1):
        lo = rng.uniform(200, 1500)
        hi = lo * rng.uniform(2.0, min(5.0, 6000 / lo))
        f0, f1 = (lo, hi) if kind == 0 else (hi, lo)
        phase = sweep(f0, f1, t, SAMPLES / RATE)
    elif kind == 2:
        f = rng.uniform(200, 6000)
        phase = 2 * np.pi * f * t + (f * 0.01 / 5) * np.sin(2 * np.pi * 5 * t)
    else:
        fa = rng.uniform(200, 2500)
        fb = fa * rng.uniform(1.5, min(3.0, 6000 / fa))
        period = rng.uniform(0.08, 0.25)
        which = (np.floor((t + rng.uniform(0, period)) / period) % 2).astype(bool)
        inst = np.where(which, fb, fa)
        phase = 2 * np.pi * np.cumsum(inst) / RATE
    a = rng.uniform(0.05, 0.8)
    p0 = rng.uniform(0, 2 * np.pi)
    x = a * np.sin(phase + p0) + 0.25 * a * np.sin(2 * phase + rng.uniform(0, 2 * np.pi))
    x += rng.normal(0, rng.uniform(0.002, 0.05), SAMPLES)
    return quantize(x)


def quantize(x):
    """What a 16-bit PCM WAV holds, as the worker decodes it (v / 32768)."""
    return (np.clip(np.round(x * 32768), -32768, 32767) / 32768).astype(np.float64)


def wav(path, x, rate):
    pcm = np.clip(np.round(np.asarray(x) * 32768), -32768, 32767).astype("<i2").tobytes()
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVE")
        f.write(b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16))
        f.write(b"data" + struct.pack("<I", len(pcm)) + pcm)


# ---- the classifier ----

def train(x, y, rng, epochs=40, batch=64, lr=2e-3, decay=1e-4):
    n, d = x.shape
    params = {"w1": rng.normal(0, np.sqrt(2 / d), (d, HIDDEN)), "b1": np.zeros(HIDDEN),
              "w2": rng.normal(0, np.sqrt(1 / HIDDEN), (HIDDEN, len(LABELS))), "b2": np.zeros(len(LABELS))}
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(v) for k, v in params.items()}
    onehot = np.eye(len(LABELS))[y]
    step = 0
    for _ in range(epochs):
        order = rng.permutation(n)
        for s in range(0, n, batch):
            i = order[s:s + batch]
            h = np.maximum(0, x[i] @ params["w1"] + params["b1"])
            logits = h @ params["w2"] + params["b2"]
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            g2 = (p - onehot[i]) / len(i)
            gh = (g2 @ params["w2"].T) * (h > 0)
            grads = {"w2": h.T @ g2 + decay * params["w2"], "b2": g2.sum(axis=0),
                     "w1": x[i].T @ gh + decay * params["w1"], "b1": gh.sum(axis=0)}
            step += 1
            for k in params:
                m[k] = 0.9 * m[k] + 0.1 * grads[k]
                v[k] = 0.999 * v[k] + 0.001 * grads[k] ** 2
                params[k] -= lr * (m[k] / (1 - 0.9 ** step)) / (np.sqrt(v[k] / (1 - 0.999 ** step)) + 1e-8)
    return {k: val.astype(np.float32) for k, val in params.items()}


def predict(params, x):
    h = np.maximum(0, x @ params["w1"] + params["b1"])
    return h @ params["w2"] + params["b2"]


def export(params, frames, path):
    n_mels = FEATURES["n_mels"]
    nodes = [
        helper.make_node("Flatten", ["features"], ["flat"], axis=1),  # [N, 40 * 101]
        helper.make_node("Gemm", ["flat", "w1", "b1"], ["hidden_in"]),
        helper.make_node("Relu", ["hidden_in"], ["hidden"]),
        helper.make_node("Gemm", ["hidden", "w2", "b2"], ["logits"]),
    ]
    init = [numpy_helper.from_array(params[k], k) for k in ("w1", "b1", "w2", "b2")]
    graph = helper.make_graph(nodes, "chirps",
                              [helper.make_tensor_value_info("features", T.FLOAT, ["N", 1, n_mels, frames])],
                              [helper.make_tensor_value_info("logits", T.FLOAT, ["N", len(LABELS)])], init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="inferium make_chirps_model.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def synthesize(labels, rng, keep=0):
    """Features of one clip per label, made 200 at a time to keep memory small; and the first `keep` clips."""
    out, kept = [], []
    for s in range(0, len(labels), 200):
        clips = np.stack([clip(k, rng) for k in labels[s:s + 200]])
        kept.extend(clips[:max(0, keep - len(kept))])
        out.append(log_mel(clips, RATE, FEATURES).astype(np.float32))
    return np.concatenate(out), kept


def reference(rng):
    """Fixed clips and this script's log-mel of each under three specs, for the node's unit test."""
    os.makedirs(REFERENCE, exist_ok=True)
    rate, seconds = 8000, 0.25
    n = int(rate * seconds)
    t = np.arange(n) / rate
    clips = {
        "chirp.wav": quantize(0.5 * np.sin(sweep(300, 3000, t, seconds)) + rng.normal(0, 0.01, n)),
        "tones.wav": quantize(0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 2500 * t)),
        "short.wav": quantize(0.6 * np.sin(2 * np.pi * 1000 * np.arange(100) / rate)),  # 100 samples, < n_fft
    }
    specs = [
        {"type": "log_mel", "n_fft": 256, "hop": 64, "win": 256, "n_mels": 32, "fmin": 0, "fmax": 4000,
         "mel_scale": "slaney", "mel_norm": "slaney", "log": "db", "floor": 1e-10, "center": True, "normalize": "none"},
        {"type": "log_mel", "n_fft": 256, "hop": 100, "win": 200, "n_mels": 24, "fmin": 100, "fmax": 3800,
         "mel_scale": "htk", "mel_norm": "none", "log": "ln", "floor": 1e-6, "center": False, "normalize": "none"},
        {"type": "log_mel", "n_fft": 512, "hop": 80, "win": 400, "n_mels": 40, "fmin": 20, "fmax": 4000,
         "mel_scale": "htk", "mel_norm": "slaney", "log": "log10", "floor": 1e-8, "center": True,
         "normalize": "per_clip"},
    ]
    cases = []
    for name, x in clips.items():
        wav(os.path.join(REFERENCE, name), x, rate)
        padded = np.zeros(n)
        padded[:len(x)] = x
        for f in specs:
            got = log_mel(padded[None, :], rate, f)[0]
            cases.append({"clip": name, "features": f, "shape": list(got.shape),
                          "values": [float(f"{v:.7g}") for v in got.ravel()]})
    doc = {"sample_rate": rate, "seconds": seconds, "cases": cases,
           "made_by": "engine/src/test/python/make_chirps_model.py"}
    with open(os.path.join(REFERENCE, "reference.json"), "w") as out:
        json.dump(doc, out, separators=(",", ":"))


def main():
    rng = np.random.default_rng(20261205)
    reference(rng)
    y_train = rng.integers(0, len(LABELS), 2400)
    x_train, _ = synthesize(y_train, rng)
    y_test = rng.integers(0, len(LABELS), 600)
    x_test, clips_test = synthesize(y_test, rng, keep=8)
    frames = x_train.shape[2]
    params = train(x_train.reshape(len(x_train), -1), y_train, rng)
    acc = lambda x, y: (predict(params, x.reshape(len(x), -1)).argmax(axis=1) == y).mean()
    print(f"train accuracy {acc(x_train, y_train):.4f} on {len(y_train)} clips; "
          f"held-out accuracy {acc(x_test, y_test):.4f} on {len(y_test)}")
    export(params, frames, MODEL)
    os.makedirs(TESTSET, exist_ok=True)
    for old in os.listdir(TESTSET):
        os.remove(os.path.join(TESTSET, old))
    for i in range(8):
        wav(os.path.join(TESTSET, f"{i:02d}-{LABELS[y_test[i]]}.wav"), clips_test[i], RATE)
    print(f"model {os.path.getsize(MODEL)} bytes, input [N, 1, {FEATURES['n_mels']}, {frames}]; 8 test clips written")


if __name__ == "__main__":
    main()
