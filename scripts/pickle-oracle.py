#!/usr/bin/env python3
"""CPython's own unpickler as an oracle for the globals a pickle imports.

    python3 scripts/pickle-oracle.py FILE...

For each file, runs the C unpickler three ways, as loaders do:
  loads    pickle.loads(bytes)                       (sequential reading; emulated with a
           peekable reader that buffers all the data, since loads() has no find_class hook)
  bytesio  Unpickler(io.BytesIO(bytes)).load()       (torch.load's data.pkl: no peek)
  file     Unpickler(open(path, 'rb')).load()        (a real file, with peek)
each repeated while data remains (stacked pickles, a fresh Unpickler per load, as
pickle.load in a loop does), and prints JSON {file: {mode: [module.name, ...]}}.

Nothing is executed: find_class records the name and returns an inert stub, except
for the few harmless constructors on mlprov's allowlist, which are returned for real
so that values computed from them (a rot13'd module name) are what CPython would see.
Python 2 names are reported after _compat_pickle renaming, as mlprov reports them.
"""

import _compat_pickle
import codecs
import collections
import io
import json
import pickle
import sys

REAL = {
    ("_codecs", "encode"): codecs.encode,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "bytearray"): bytearray,
    ("builtins", "complex"): complex,
}


class Stub:
    def __init__(self, *a, **k):
        pass

    def __call__(self, *a, **k):
        return Stub()

    def __setstate__(self, state):
        pass

    def append(self, x):
        pass

    def extend(self, x):
        pass

    def __setitem__(self, k, v):
        pass


def stub_class(full):
    return type("Stub_" + full.replace(".", "_"), (Stub,), {})


def renamed(module, name):
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


class Recorder(pickle.Unpickler):
    def __init__(self, f, seen):
        super().__init__(f)
        self.seen = seen

    def find_class(self, module, name):
        m, n = renamed(module, name)
        self.seen.append(f"{m}.{n}")
        if (m, n) in REAL:
            return REAL[(m, n)]
        return stub_class(f"{m}.{n}")

    def persistent_load(self, pid):
        return Stub()


def run(make, total):
    seen = []
    f = make()
    for _ in range(64):
        try:
            Recorder(f, seen).load()
        except Exception:
            break
        if f.tell() >= total:
            break
    return sorted(set(seen))


def main():
    out = {}
    for path in sys.argv[1:]:
        data = open(path, "rb").read()
        modes = {}
        # A peekable reader holding all the data reads like pickle.loads(bytes).
        modes["loads"] = run(lambda: io.BufferedReader(io.BytesIO(data), buffer_size=2 * len(data) + 16), len(data))
        modes["bytesio"] = run(lambda: io.BytesIO(data), len(data))
        with open(path, "rb") as fh:
            modes["file"] = run(lambda: fh, len(data))
        out[path] = modes
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
