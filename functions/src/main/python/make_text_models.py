#!/usr/bin/python3
"""Writes Inferium's two small text models: tiny-gpt (text generation) and tiny-embed (embeddings).

Run from anywhere with Debian's interpreter (python3-onnx and python3-numpy, nothing else):

    /usr/bin/python3 functions/src/main/python/make_text_models.py

Everything is learned here, in pure Python and numpy, from corpus.txt beside this script (a
committed snapshot of license texts and Inferium's own docs, so the output does not depend on the
machine): a byte-level BPE tokenizer in Hugging Face's tokenizer.json format, and the weights of
a GPT-2-style decoder whose token embedding and LM head are a low-rank factorisation of the
corpus's smoothed log-bigram matrix, so that greedy output reads like corpus text. Attention and
MLP weights are fixed random (seeded) and small enough not to drown the bigram signal but large
enough that the context matters (the KV-cache tests rely on that). The output is deterministic
and committed, so the Java build never needs Python.
"""

import collections
import json
import pathlib
import re

import numpy as np
from onnx import TensorProto as T
from onnx import checker, helper, numpy_helper

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[3]
CORPUS = HERE / "corpus.txt"
MODELS = ROOT / "functions" / "src" / "main" / "resources" / "models"

# ONNX Runtime 1.29 runs these; opset 17 / IR 8 is what the Debian onnx (1.12) checker knows.
OPSET = 17
IR_VERSION = 8
PRODUCER = "inferium-make-text-models"

EOS = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
SPECIALS = [EOS, IM_START, IM_END]
VOCAB_SIZE = 640  # 256 byte tokens + learned merges + the special tokens
N_EMBD = 64
N_LAYER = 2
N_HEAD = 4
N_POSITIONS = 256
SEED = 20261123
BETA = 20.0  # logits per unit of bigram probability

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

# GPT-2's pre-tokenizer pattern with Python's classes standing in for \p{L} and \p{N}; it only
# shapes which merges are learned, the Rust tokenizer applies its own (identical in spirit).
PRETOKEN = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")
SPECIAL_SPLIT = re.compile("(" + "|".join(re.escape(s) for s in SPECIALS) + ")")


def bytes_to_unicode():
    """GPT-2's reversible map from bytes to printable characters (space becomes 'Ġ')."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    n = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(printable, chars)}


B2U = bytes_to_unicode()


def pieces(text):
    return [tuple(B2U[b] for b in p.encode("utf-8")) for p in PRETOKEN.findall(text)]


def learn_bpe(text):
    """Classic BPE: repeatedly merge the most frequent adjacent pair (ties: the larger pair)."""
    words = collections.Counter()
    for part in SPECIAL_SPLIT.split(text):
        if part not in SPECIALS:
            words.update(pieces(part))
    words = [[list(w), c] for w, c in sorted(words.items())]
    vocab = {B2U[b]: b for b in range(256)}
    merges = []
    target = VOCAB_SIZE - len(SPECIALS)
    while len(vocab) < target:
        pairs = collections.Counter()
        for syms, c in words:
            for pair in zip(syms, syms[1:]):
                pairs[pair] += c
        if not pairs:
            raise SystemExit("corpus too small for the vocabulary")
        best = max(pairs, key=lambda p: (pairs[p], p))
        merged = best[0] + best[1]
        merges.append(best)
        if merged not in vocab:
            vocab[merged] = len(vocab)
        for entry in words:
            syms = entry[0]
            i = 0
            out = []
            while i < len(syms):
                if i + 1 < len(syms) and syms[i] == best[0] and syms[i + 1] == best[1]:
                    out.append(merged)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            entry[0] = out
    for s in SPECIALS:
        vocab[s] = len(vocab)
    return vocab, merges


class Encoder:
    """The same BPE the Rust tokenizer runs: lowest-rank merge first, per pre-token."""

    def __init__(self, vocab, merges):
        self.vocab = vocab
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.cache = {}

    def word(self, syms):
        if syms in self.cache:
            return self.cache[syms]
        parts = list(syms)
        while len(parts) > 1:
            ranked = [(self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, i = min(ranked)
            if rank == 1 << 30:
                break
            parts[i:i + 2] = [parts[i] + parts[i + 1]]
        ids = [self.vocab[p] for p in parts]
        self.cache[syms] = ids
        return ids

    def encode(self, text):
        ids = []
        for part in SPECIAL_SPLIT.split(text):
            if part in SPECIALS:
                ids.append(self.vocab[part])
            elif part:
                for p in pieces(part):
                    ids.extend(self.word(p))
        return ids


def training_streams(corpus):
    """Prose only (markdown tables and code fences make greedy loops), each document ending in
    EOS, and each document's first paragraph also as a ChatML assistant turn so that the model
    knows how a turn starts and ends."""
    streams = []
    for doc in (d.strip() for d in corpus.split(EOS)):
        lines = [l for l in doc.splitlines() if not l.lstrip().startswith(("|", "```", "#"))]
        prose = "\n".join(lines).replace("`", "").strip()
        if not prose:
            continue
        streams.append(prose + EOS)
        first = re.split(r"\n\s*\n", prose)[0].strip()
        streams.append(f"{IM_START}assistant\n{first}{IM_END}\n")
    return streams


def bigram_factors(encoder, streams):
    """Token embedding and LM head whose product approximates the corpus's bigram probabilities.

    A rank-63 factorisation of the 640x640 next-token probability matrix, rows weighted by how
    often the token occurs so that frequent tokens fit best; the LM head is scaled so that logits
    are BETA times the approximate probabilities (peaked enough to sample from). A bigram model
    loops under greedy decoding; it only has to look like text, not make sense.
    """
    counts = np.zeros((VOCAB_SIZE, VOCAB_SIZE))
    for s in streams:
        ids = encoder.encode(s)
        for a, b in zip(ids, ids[1:]):
            counts[a, b] += 1
    smoothed = counts + 0.02
    p = smoothed / smoothed.sum(axis=1, keepdims=True)
    p -= p.mean(axis=1, keepdims=True)  # softmax ignores a per-row shift
    weight = np.sqrt(counts.sum(axis=1) + 1)[:, None]
    u, s, vt = np.linalg.svd(p * weight)
    rank = N_EMBD - 1  # LayerNorm removes the mean direction, so use the 63 others
    a = u[:, :rank] * np.sqrt(s[:rank]) / weight
    b = vt[:rank].T * np.sqrt(s[:rank])
    # Orthonormal basis of the zero-mean subspace of R^64: LayerNorm leaves those vectors alone
    # up to a per-token scale.
    centred = np.eye(N_EMBD) - 1.0 / N_EMBD
    q, _ = np.linalg.qr(centred[:, :rank])
    wte = a @ q.T
    norms = np.linalg.norm(wte, axis=1)
    typical = float(np.median(norms[norms > 0]))
    # After the final LayerNorm a hidden vector has norm 8 (sqrt of the width); undo that for a
    # typical token.
    lm_head = (q @ b.T) * (BETA * typical / np.sqrt(N_EMBD))
    return wte.astype(np.float32), lm_head.astype(np.float32), typical


def block_weights(rng, typical, mix):
    """One transformer block whose attention and MLP outputs have norm ~ mix * typical."""
    e = N_EMBD
    f = 4 * e
    target = mix * typical
    normal = lambda shape, std: (rng.standard_normal(shape) * std).astype(np.float32)
    return {
        "ln1_g": np.ones(e, np.float32), "ln1_b": np.zeros(e, np.float32),
        "qkv_w": normal((e, 3 * e), 1 / np.sqrt(e) * 2.0), "qkv_b": normal((3 * e,), 0.1),
        "attn_w": normal((e, e), target / e), "attn_b": np.zeros(e, np.float32),
        "ln2_g": np.ones(e, np.float32), "ln2_b": np.zeros(e, np.float32),
        "fc_w": normal((e, f), 1 / np.sqrt(e)), "fc_b": normal((f,), 0.1),
        "proj_w": normal((f, e), target / 81.0), "proj_b": np.zeros(e, np.float32),
    }


class Graph:
    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def const(self, name, value, dtype=None):
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type, inputs, out=None, **attrs):
        self.n += 1
        out = out or f"{op_type.lower()}_{self.n}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=f"n{self.n}_{op_type}", **attrs))
        return out


def transformer(g, h, allowed, layers, past):
    """Pre-LN GPT-2 blocks; with past, concatenates each layer's cache and names it present.*."""
    e, heads, d = N_EMBD, N_HEAD, N_EMBD // N_HEAD
    g.const("split3", [e, e, e], np.int64)
    g.const("heads_shape", [0, 0, heads, d], np.int64)
    g.const("merge_shape", [0, 0, e], np.int64)
    g.const("scale", np.float32(1 / np.sqrt(d)))
    g.const("masked", np.float32(-1e9))
    g.const("half", np.float32(0.5))
    g.const("one_f", np.float32(1.0))
    g.const("inv_sqrt2", np.float32(1 / np.sqrt(2)))
    for i, w in enumerate(layers):
        p = f"h{i}_"
        for k, v in w.items():
            g.const(p + k, v)
        x = g.op("LayerNormalization", [h, p + "ln1_g", p + "ln1_b"], axis=-1, epsilon=1e-5)
        qkv = g.op("Add", [g.op("MatMul", [x, p + "qkv_w"]), p + "qkv_b"])
        g.nodes.append(helper.make_node("Split", [qkv, "split3"], [p + "q", p + "k", p + "v"], axis=2))
        q, k, v = (g.op("Transpose", [g.op("Reshape", [p + t, "heads_shape"])], perm=[0, 2, 1, 3]) for t in "qkv")
        if past:
            k = g.op("Concat", [f"past_key_values.{i}.key", k], f"present.{i}.key", axis=2)
            v = g.op("Concat", [f"past_key_values.{i}.value", v], f"present.{i}.value", axis=2)
        scores = g.op("Mul", [g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])]), "scale"])
        probs = g.op("Softmax", [g.op("Where", [allowed, scores, "masked"])], axis=-1)
        a = g.op("Reshape", [g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3]), "merge_shape"])
        h = g.op("Add", [h, g.op("Add", [g.op("MatMul", [a, p + "attn_w"]), p + "attn_b"])])
        x = g.op("LayerNormalization", [h, p + "ln2_g", p + "ln2_b"], axis=-1, epsilon=1e-5)
        m = g.op("Add", [g.op("MatMul", [x, p + "fc_w"]), p + "fc_b"])
        erf = g.op("Erf", [g.op("Mul", [m, "inv_sqrt2"])])
        gelu = g.op("Mul", [g.op("Mul", [m, "half"]), g.op("Add", [erf, "one_f"])])
        h = g.op("Add", [h, g.op("Add", [g.op("MatMul", [gelu, p + "proj_w"]), p + "proj_b"])])
    return g.op("LayerNormalization", [h, "lnf_g", "lnf_b"], axis=-1, epsilon=1e-5)


def common_inputs(g, wte, wpe):
    g.const("wte", wte)
    g.const("wpe", wpe)
    g.const("lnf_g", np.ones(N_EMBD, np.float32))
    g.const("lnf_b", np.zeros(N_EMBD, np.float32))
    g.const("zero", np.int64(0))
    g.const("one", np.int64(1))
    g.const("axes_0", [0], np.int64)
    g.const("axes_1", [1], np.int64)
    g.const("axes_12", [1, 2], np.int64)
    seq = g.op("Gather", [g.op("Shape", ["input_ids"]), "one"], axis=0)
    total = g.op("Gather", [g.op("Shape", ["attention_mask"]), "one"], axis=0)
    keep = g.op("Unsqueeze", [g.op("Cast", ["attention_mask"], to=T.BOOL), "axes_12"])  # [B,1,1,T]
    return seq, total, keep


def decoder(wte, wpe, lm_head, layers):
    g = Graph()
    seq, total, keep = common_inputs(g, wte, wpe)
    past_len = g.op("Sub", [total, seq])
    # Query i sits at absolute position past_len + i and may see keys 0..past_len + i.
    q_pos = g.op("Unsqueeze", [g.op("Range", [past_len, total, "one"]), "axes_1"])
    k_pos = g.op("Unsqueeze", [g.op("Range", ["zero", total, "one"]), "axes_0"])
    allowed = g.op("And", [keep, g.op("LessOrEqual", [k_pos, q_pos])])  # [B,1,S,T]
    h = g.op("Add", [g.op("Gather", ["wte", "input_ids"]), g.op("Gather", ["wpe", "position_ids"])])
    out = transformer(g, h, allowed, layers, past=True)
    g.const("lm_head", lm_head)
    g.op("MatMul", [out, "lm_head"], "logits")
    d = N_EMBD // N_HEAD
    cache = lambda name, length: helper.make_tensor_value_info(name, T.FLOAT, ["batch", N_HEAD, length, d])
    inputs = [helper.make_tensor_value_info("input_ids", T.INT64, ["batch", "seq"]),
              helper.make_tensor_value_info("attention_mask", T.INT64, ["batch", "total_seq"]),
              helper.make_tensor_value_info("position_ids", T.INT64, ["batch", "seq"])]
    outputs = [helper.make_tensor_value_info("logits", T.FLOAT, ["batch", "seq", VOCAB_SIZE])]
    for i in range(N_LAYER):
        inputs += [cache(f"past_key_values.{i}.key", "past_seq"), cache(f"past_key_values.{i}.value", "past_seq")]
        outputs += [cache(f"present.{i}.key", "total_seq"), cache(f"present.{i}.value", "total_seq")]
    return finish(g, "tiny-gpt", inputs, outputs)


def encoder(wte, wpe, layers):
    g = Graph()
    seq, _, keep = common_inputs(g, wte, wpe)
    positions = g.op("Unsqueeze", [g.op("Range", ["zero", seq, "one"]), "axes_0"])
    h = g.op("Add", [g.op("Gather", ["wte", "input_ids"]), g.op("Gather", ["wpe", positions])])
    out = transformer(g, h, keep, layers, past=False)
    g.op("Identity", [out], "last_hidden_state")
    inputs = [helper.make_tensor_value_info("input_ids", T.INT64, ["batch", "seq"]),
              helper.make_tensor_value_info("attention_mask", T.INT64, ["batch", "seq"])]
    outputs = [helper.make_tensor_value_info("last_hidden_state", T.FLOAT, ["batch", "seq", N_EMBD])]
    return finish(g, "tiny-embed", inputs, outputs)


def finish(g, name, inputs, outputs):
    graph = helper.make_graph(g.nodes, name, inputs, outputs, initializer=g.inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                          producer_name=PRODUCER, producer_version="1")
    m.ir_version = IR_VERSION
    checker.check_model(m)
    return m.SerializeToString()


def tokenizer_json(vocab, merges):
    added = [{"id": vocab[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for s in SPECIALS]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": byte_level,
        "post_processor": dict(byte_level, trim_offsets=False),
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "vocab": {t: i for t, i in sorted(vocab.items(), key=lambda kv: kv[1]) if t not in SPECIALS},
                  "merges": [f"{a} {b}" for a, b in merges]},
    }


def write(directory, name, data):
    directory.mkdir(parents=True, exist_ok=True)
    if isinstance(data, (dict, list)):
        data = (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    assert len(data) < 3 * 1024 * 1024, f"{name} is {len(data)} bytes"
    (directory / name).write_bytes(data)
    print(f"{(directory / name).relative_to(ROOT)}: {len(data)} bytes")


def main():
    rng = np.random.default_rng(SEED)
    corpus = CORPUS.read_text(encoding="utf-8")
    vocab, merges = learn_bpe(corpus)
    enc = Encoder(vocab, merges)
    wte, lm_head, typical = bigram_factors(enc, training_streams(corpus))
    wpe = (rng.standard_normal((N_POSITIONS, N_EMBD)) * 0.05 * typical / np.sqrt(N_EMBD)).astype(np.float32)
    gpt_layers = [block_weights(rng, typical, mix=0.25) for _ in range(N_LAYER)]
    embed_layers = [block_weights(rng, typical, mix=0.5) for _ in range(N_LAYER)]

    tok = tokenizer_json(vocab, merges)
    eos, im_end = vocab[EOS], vocab[IM_END]
    gpt = MODELS / "tiny-gpt"
    write(gpt, "model.onnx", decoder(wte, wpe, lm_head, gpt_layers))
    write(gpt, "tokenizer.json", tok)
    write(gpt, "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": None, "eos_token": EOS, "pad_token": EOS,
        "unk_token": None, "model_max_length": N_POSITIONS, "add_bos_token": False,
        "chat_template": CHAT_TEMPLATE})
    write(gpt, "generation_config.json", {
        "bos_token_id": None, "eos_token_id": [eos, im_end], "pad_token_id": eos, "do_sample": True,
        "temperature": 0.8, "top_p": 0.95, "top_k": 50, "repetition_penalty": 1.1, "max_new_tokens": 64})
    write(gpt, "config.json", {
        "model_type": "gpt2", "vocab_size": VOCAB_SIZE, "n_embd": N_EMBD, "n_layer": N_LAYER, "n_head": N_HEAD,
        "n_positions": N_POSITIONS, "eos_token_id": eos})
    write(gpt, "spec.json", {
        "name": "tiny-gpt", "kind": "text-generation", "category": "text",
        "description": f"Tiny GPT-2-style decoder ({N_LAYER} layers, {N_HEAD} heads, width {N_EMBD}, context "
                       f"{N_POSITIONS}, vocabulary {VOCAB_SIZE}) with a KV cache; its bigram-derived weights "
                       "babble in the style of license texts and Inferium's docs. For demos and tests."})

    emb = MODELS / "tiny-embed"
    write(emb, "model.onnx", encoder(wte, wpe, embed_layers))
    write(emb, "tokenizer.json", tok)
    write(emb, "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": None, "eos_token": EOS, "pad_token": EOS,
        "model_max_length": N_POSITIONS})
    write(emb, "spec.json", {
        "name": "tiny-embed", "kind": "embedding", "category": "embedding",
        "description": f"Tiny bidirectional encoder ({N_LAYER} layers, width {N_EMBD}, up to {N_POSITIONS} "
                       "tokens) sharing tiny-gpt's tokenizer; pool last_hidden_state for sentence vectors."})


if __name__ == "__main__":
    main()
