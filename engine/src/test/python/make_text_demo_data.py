#!/usr/bin/env python3
"""Builds the text and embedding evaluation sets that `./inferium demo` uploads (plain Python, no
packages). Deterministic: the output is committed and the demo never needs Python.

Everything comes from functions/src/main/python/corpus.txt, the text the tiny models were built
from, so the tasks are ones those models can partly do:

- demo/embedding-pairs.jsonl (category `embedding`): 40 (query, passage) pairs. The passage is a
  sentence of the corpus; the query is four of its longest words, lower-cased and shuffled, the way
  someone types a search. Scored by recall@k.
- demo/text-next-word.jsonl (category `text`): 40 rows {prompt, reference, max_tokens: 1}. The prompt
  is the start of a corpus sentence, the reference its next word, chosen only where that word (with
  its leading space) is a single token of tiny-gpt's vocabulary, so one greedy token can match it.
  Scored by exact match.
- demo/text-instructions.jsonl (category `text`): 24 prompts with IFEval-style verifiable
  instructions (length limits, words to avoid, lower case, ...). Scored by prompt following.
- demo/text-choice.jsonl (category `text`): 30 multiple-choice rows {prompt, choices, gold}: the start
  of a corpus sentence, its true next word and three other one-token words of the corpus, in a
  shuffled order. Scored by log-likelihood (acc, acc_norm).
"""
import json
import os
import random
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))
CORPUS = os.path.join(ROOT, "functions", "src", "main", "python", "corpus.txt")
VOCAB = os.path.join(ROOT, "functions", "src", "main", "resources", "models", "tiny-gpt", "tokenizer.json")
DEMO = os.path.join(ROOT, "engine", "src", "main", "resources", "demo")
SEED = 20261123


def sentences():
    text = re.sub(r"\s+", " ", open(CORPUS, encoding="utf-8").read())
    seen = set()
    out = []
    for s in re.split(r"(?<=[.;:])\s+", text):
        s = s.strip()
        words = s.split(" ")
        if 8 <= len(words) <= 30 and re.fullmatch(r"[A-Za-z0-9 ,.;:()'\"-]+", s) and s.lower() not in seen:
            seen.add(s.lower())
            out.append(s)
    return out


def write(name, rows):
    with open(os.path.join(DEMO, name), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(name, len(rows), "rows")


def embedding_pairs(rng, pool):
    rows = []
    for s in rng.sample(pool, len(pool)):
        words = sorted({w.strip(",.;:()\"'").lower() for w in s.split(" ")}, key=lambda w: (-len(w), w))
        words = [w for w in words if len(w) > 3][:4]
        if len(words) < 4:
            continue
        rng.shuffle(words)
        rows.append({"query": " ".join(words), "passage": s})
        if len(rows) == 40:
            break
    return rows


def next_word(rng, pool, vocab):
    rows = []
    for s in rng.sample(pool, len(pool)):
        words = s.split(" ")
        cuts = [i for i in range(4, len(words)) if re.fullmatch(r"[a-z]+", words[i]) and "\u0120" + words[i] in vocab]
        if not cuts:
            continue
        i = rng.choice(cuts)
        rows.append({"prompt": " ".join(words[:i]), "reference": words[i], "max_tokens": 1})
        if len(rows) == 40:
            break
    return rows


TOPICS = ["the license", "a worker", "the gateway", "a contribution", "the mempool", "a benchmark",
          "the copyright notice", "a derivative work"]
INSTRUCTIONS = [
    ("Describe {t} in at most 12 words.", [{"type": "max_words", "value": 12}]),
    ("Write a short note on {t}, under 25 words, in lower case.",
     [{"type": "max_words", "value": 25}, {"type": "lowercase"}]),
    ("Explain {t} without using the words 'warranty' or 'liability'.",
     [{"type": "exclude", "words": ["warranty", "liability"]}]),
]


def instructions():
    rows = []
    for t in TOPICS:
        for template, checks in INSTRUCTIONS:
            rows.append({"prompt": template.format(t=t), "instructions": checks})
    return rows


def choice(rng, pool, vocab):
    words = sorted({w for s in pool for w in s.split(" ") if re.fullmatch(r"[a-z]+", w) and "\u0120" + w in vocab})
    rows = []
    for s in rng.sample(pool, len(pool)):
        ws = s.split(" ")
        cuts = [i for i in range(4, len(ws)) if re.fullmatch(r"[a-z]+", ws[i]) and "\u0120" + ws[i] in vocab]
        if not cuts:
            continue
        i = rng.choice(cuts)
        options = [ws[i]] + rng.sample([w for w in words if w != ws[i]], 3)
        rng.shuffle(options)
        rows.append({"prompt": " ".join(ws[:i]), "choices": [" " + o for o in options], "gold": options.index(ws[i])})
        if len(rows) == 30:
            break
    return rows


def main():
    rng = random.Random(SEED)
    vocab = json.load(open(VOCAB, encoding="utf-8"))["model"]["vocab"]
    pool = sentences()
    write("embedding-pairs.jsonl", embedding_pairs(rng, pool))
    write("text-next-word.jsonl", next_word(rng, pool, vocab))
    write("text-instructions.jsonl", instructions())
    write("text-choice.jsonl", choice(rng, pool, vocab))


if __name__ == "__main__":
    main()
