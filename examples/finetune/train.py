#!/usr/bin/env python3
"""A tiny, dependency-free fine-tune for the mlprov example.

It reads a BERT-style base model directory (safetensors word embeddings and
vocab.txt), embeds each text of a JSONL dataset as the mean of its token
embeddings, trains a softmax classification head on top with plain SGD, and
writes the head as a valid safetensors file plus a config and eval metrics.
Python standard library only; deterministic: the same inputs give the same
bytes.

    python3 train.py --config configs/finetune.yaml
"""

import argparse
import json
import math
import random
import re
import shutil
import struct
from pathlib import Path


def read_config(path):
    """The small YAML subset the example config uses: `key: value` lines and
    one level of indented mappings."""
    cfg, parent = {}, None
    for raw in Path(path).read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        key, _, value = line.strip().partition(":")
        value = value.strip()
        nested = raw.startswith((" ", "\t"))
        target = cfg[parent] if nested and parent else cfg
        if not value:
            cfg[key] = {}
            parent = key
            continue
        if not nested:
            parent = None
        target[key] = scalar(value)
    return cfg


def scalar(v):
    for conv in (int, float):
        try:
            return conv(v)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(v, v.strip("\"'"))


class SafeTensors:
    """Reads tensors from a safetensors file without loading it whole."""

    DTYPES = {"F32": ("f", 4)}

    def __init__(self, path):
        self.f = open(path, "rb")
        (n,) = struct.unpack("<Q", self.f.read(8))
        self.header = json.loads(self.f.read(n))
        self.base = 8 + n

    def row(self, name, i):
        meta = self.header[name]
        code, size = self.DTYPES[meta["dtype"]]
        width = meta["shape"][1]
        self.f.seek(self.base + meta["data_offsets"][0] + i * width * size)
        return struct.unpack("<%d%s" % (width, code), self.f.read(width * size))

    def shape(self, name):
        return self.header[name]["shape"]


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        shape, values = tensors[name]
        data = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    h += b" " * (-len(h) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    cfg = read_config(ap.parse_args().config)

    base = Path(cfg["base_model"])
    weights = SafeTensors(base / "model.safetensors")
    emb = "embeddings.word_embeddings.weight"
    vocab = {w: i for i, w in enumerate((base / "vocab.txt").read_text(encoding="utf-8").split("\n")) if w}
    unk = vocab.get("[UNK]", 0)
    vocab_size, hidden = weights.shape(emb)

    def embed(text):
        tokens = re.findall(r"[a-z0-9]+", text.lower())[: cfg["max_tokens"]] or ["[UNK]"]
        acc = [0.0] * hidden
        for t in tokens:
            for j, x in enumerate(weights.row(emb, min(vocab.get(t, unk), vocab_size - 1))):
                acc[j] += x
        return [x / len(tokens) for x in acc]

    def load(path):
        rows = [json.loads(l) for l in Path(path).read_text().splitlines() if l.strip()]
        return [(embed(r["text"]), r["label"]) for r in rows]

    train, test = load(cfg["train_file"]), load(cfg["eval_file"])
    labels = sorted({y for _, y in train})
    index = {y: i for i, y in enumerate(labels)}
    w = [[0.0] * hidden for _ in labels]
    b = [0.0] * len(labels)

    def scores(x):
        z = [sum(wi * xi for wi, xi in zip(row, x)) + bi for row, bi in zip(w, b)]
        m = max(z)
        e = [math.exp(v - m) for v in z]
        s = sum(e)
        return [v / s for v in e]

    rng = random.Random(cfg["seed"])
    lr, decay = cfg["learning_rate"], cfg["optimizer"]["weight_decay"]
    order = list(range(len(train)))
    for _ in range(cfg["epochs"]):
        rng.shuffle(order)
        for n in order:
            x, y = train[n]
            p = scores(x)
            for k in range(len(labels)):
                g = p[k] - (1.0 if k == index[y] else 0.0)
                row = w[k]
                for j in range(hidden):
                    row[j] -= lr * (g * x[j] + decay * row[j])
                b[k] -= lr * g

    correct = sum(1 for x, y in test if labels[max(range(len(labels)), key=lambda k: scores(x)[k])] == y)
    out = Path(cfg["output_dir"])
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    write_safetensors(
        out / "model.safetensors",
        {
            "classifier.weight": ([len(labels), hidden], [v for row in w for v in row]),
            "classifier.bias": ([len(labels)], b),
        },
        {"format": "pt", "base_model": str(base)},
    )
    config = {
        "architectures": ["MeanPoolingClassifier"],
        "base_model": str(base),
        "hidden_size": hidden,
        "id2label": {str(i): y for i, y in enumerate(labels)},
        "label2id": index,
        "max_tokens": cfg["max_tokens"],
    }
    (out / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    metrics = {"eval_accuracy": round(correct / len(test), 4), "eval_examples": len(test), "train_examples": len(train)}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    print(f"trained a {len(labels)}-label head on {len(train)} examples; eval accuracy {metrics['eval_accuracy']:.2f}")


if __name__ == "__main__":
    main()
