#!/usr/bin/env python3
"""Generate the scanner corpus in tests/fixtures/scan/ (Python standard library only).

    python3 scripts/gen-scan-corpus.py [OUT_DIR]

Layout:
  malicious/  one file (or directory) per bypass class: every one must fail the
              default scan policy, with at least the codes listed in expected.json
  review/     files whose only findings are low severity (reported, not failing)
  benign/     files that must have no finding at all
  expected.json  path -> {"class": ..., "codes": [...], "why": ...}

The bytes are deterministic (fixed zip timestamps, no randomness), so running the
script again reproduces the committed files exactly. Malicious payloads run
`echo mlprov-corpus` through os.system and similar; nothing here is ever loaded.

The real all-MiniLM-L6-v2 model.safetensors (90 MB) is the benign real-world file;
it is not committed: tests take it from tests/common::minilm().
"""

import bz2
import collections
import gzip
import hashlib
import io
import json
import lzma
import os
import pickle
import struct
import sys
import tarfile
import types
import zipfile
import zlib
import warnings

warnings.filterwarnings("ignore", message="Duplicate name")

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "scan")
EXPECTED = {}
ZIP_DATE = (2024, 1, 1, 0, 0, 0)
CMD = "echo mlprov-corpus"


def write(rel, data, cls, codes, why):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    EXPECTED[rel] = {"class": cls, "codes": sorted(codes), "why": why}


def mal(rel, data, codes, why):
    write("malicious/" + rel, data, "malicious", codes, why)


def benign(rel, data, why):
    write("benign/" + rel, data, "benign", [], why)


# ---------------------------------------------------------------------------
# Pickle opcode helpers (hand-assembled so every byte is deliberate)

def sbu(s):  # SHORT_BINUNICODE
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def binunicode(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def frame(body):
    return b"\x95" + struct.pack("<Q", len(body)) + body


def call_system_stack_global(module=b"os", name=b"system"):
    """PROTO 4, STACK_GLOBAL os.system, call it."""
    return (b"\x80\x04" + sbu(module.decode()) + sbu(name.decode()) + b"\x93"
            + sbu(CMD) + b"\x85R.")


GLOBAL_SYSTEM = b"cos\nsystem\n(S'" + CMD.encode() + b"'\ntR."


def proto2_call(module, name, arg=CMD):
    return (b"\x80\x02c" + module.encode() + b"\n" + name.encode() + b"\n"
            + binunicode(arg) + b"\x85R.")


# ---------------------------------------------------------------------------
# Fake torch/numpy modules, so the standard pickler writes exactly the globals
# torch.save / numpy write (GLOBAL torch FloatStorage, torch._utils
# _rebuild_tensor_v2, numpy.core.multiarray _reconstruct, ...).

def fake_module(name):
    m = types.ModuleType(name)
    sys.modules[name] = m
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, m)
    return m


def fake_callable(module, name):
    def f(*a, **k):
        raise RuntimeError("corpus stub")
    f.__module__ = module.__name__
    f.__qualname__ = name
    f.__name__ = name
    setattr(module, name, f)
    return f


def fake_class(module, name):
    c = type(name, (), {})
    c.__module__ = module.__name__
    c.__qualname__ = name
    setattr(module, name, c)
    return c


torch = fake_module("torch")
torch_utils = fake_module("torch._utils")
rebuild_tensor_v2 = fake_callable(torch_utils, "_rebuild_tensor_v2")
FloatStorage = fake_class(torch, "FloatStorage")

np = fake_module("numpy")
np_core = fake_module("numpy.core")
np_multiarray = fake_module("numpy.core.multiarray")
np_reconstruct = fake_callable(np_multiarray, "_reconstruct")
NdArray = fake_class(np, "ndarray")
DType = fake_class(np, "dtype")


class StorageRef:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class Tensor:
    def __init__(self, key, values, shape):
        self.storage = StorageRef(key, len(values))
        self.values, self.shape = values, shape

    def __reduce_ex__(self, proto):
        stride, acc = [], 1
        for d in reversed(self.shape):
            stride.insert(0, acc)
            acc *= d
        return (rebuild_tensor_v2, (self.storage, 0, tuple(self.shape), tuple(stride), False,
                                    collections.OrderedDict()))


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, StorageRef):
            return ("storage", FloatStorage, obj.key, "cpu", obj.numel)
        return None


def state_dict():
    return collections.OrderedDict([
        ("linear.weight", Tensor("0", [0.5, -0.25, 1.0, 2.0, 0.0, 3.5], [2, 3])),
        ("linear.bias", Tensor("1", [0.125, -1.0], [2])),
    ])


def torch_pickle(obj):
    buf = io.BytesIO()
    TorchPickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def floats(vals):
    return struct.pack("<%df" % len(vals), *vals)


def zip_bytes(members, compress=None):
    """members: list of (name, bytes). Deterministic: fixed dates."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = (compress or {}).get(name, zipfile.ZIP_STORED)
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return buf.getvalue()


def torch_zip(data_pkl, extra=(), prefix="archive"):
    sd = state_dict()
    members = [
        (f"{prefix}/data.pkl", data_pkl),
        (f"{prefix}/.format_version", b"1"),
        (f"{prefix}/.storage_alignment", b"64"),
        (f"{prefix}/byteorder", b"little"),
        (f"{prefix}/data/0", floats(sd["linear.weight"].values)),
        (f"{prefix}/data/1", floats(sd["linear.bias"].values)),
        (f"{prefix}/version", b"3\n"),
        (f"{prefix}/.data/serialization_id", b"1234567890123456789012345678901234567890"),
    ]
    members.extend(extra)
    return zip_bytes(members)


def legacy_torch(main_pickle=None, keys_pickle=None):
    out = io.BytesIO()
    for obj in (0x1950a86a20f9469cfc6c, 1001,
                {"protocol_version": 1001, "little_endian": True,
                 "type_sizes": {"short": 2, "int": 4, "long": 4}}):
        pickle.dump(obj, out, protocol=2)
    sd = state_dict()
    out.write(main_pickle if main_pickle is not None else torch_pickle(sd))
    out.write(keys_pickle if keys_pickle is not None else pickle.dumps(["0", "1"], protocol=2))
    for t in sd.values():
        out.write(struct.pack("<q", len(t.values)))
        out.write(floats(t.values))
    return out.getvalue()


def npy(descr, shape, data, version=(1, 0)):
    header = "{'descr': %s, 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    return b"\x93NUMPY" + bytes(version) + struct.pack("<H", len(header)) + header.encode("latin1") + data


def safetensors(header_obj=None, data=b"", raw_header=None, length=None):
    h = raw_header if raw_header is not None else json.dumps(header_obj, separators=(",", ":")).encode()
    n = len(h) if length is None else length
    return struct.pack("<Q", n) + h + data


def gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf(kvs, tensors, version=3, counts=None, align=32):
    """kvs: list of (key, type, payload bytes); tensors: (name, dims, type, offset, nbytes)."""
    out = b"GGUF" + struct.pack("<I", version)
    nt, nkv = counts if counts else (len(tensors), len(kvs))
    out += struct.pack("<QQ", nt, nkv)
    for key, t, payload in kvs:
        out += gguf_str(key) + struct.pack("<I", t) + payload
    for name, dims, t, off, _ in tensors:
        out += gguf_str(name) + struct.pack("<I", len(dims))
        out += b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", t, off)
    out += b"\0" * ((-len(out)) % align)
    for _, _, _, _, nbytes in tensors:
        out += b"\0" * nbytes + b"\0" * ((-nbytes) % align)
    return out


GGUF_BASE_KVS = [
    ("general.architecture", 8, gguf_str("llama")),
    ("general.name", 8, gguf_str("corpus-tiny")),
    ("general.base_model.count", 4, struct.pack("<I", 1)),
    ("general.base_model.0.name", 8, gguf_str("Tiny Base")),
    ("general.base_model.0.repo_url", 8, gguf_str("https://huggingface.co/example/tiny-base")),
    ("general.datasets", 9, struct.pack("<IQ", 8, 1) + gguf_str("example/corpus-data")),
]
GGUF_TENSORS = [("token_embd.weight", [8, 2], 0, 0, 64), ("output.weight", [32, 1], 8, 64, 34)]


def keras_zip(config):
    return zip_bytes([
        ("metadata.json", json.dumps({"keras_version": "3.6.0", "date_saved": "2024-01-01@00:00:00"}).encode()),
        ("config.json", json.dumps(config).encode() if not isinstance(config, bytes) else config),
        ("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 56),
    ])


def dense(name, module="keras.layers"):
    return {"module": module, "class_name": "Dense", "registered_name": None,
            "config": {"name": name, "units": 4, "activation": {
                "module": "keras.src.activations", "class_name": "function",
                "config": "relu", "registered_name": "function"}}}


def sequential(layers):
    return {"module": "keras", "class_name": "Sequential", "registered_name": None,
            "config": {"name": "sequential", "layers": layers}}


def flip_zip(data, fn):
    b = bytearray(data)
    fn(b)
    return bytes(b)


def find_all(data, needle):
    i, out = -1, []
    while True:
        i = data.find(needle, i + 1)
        if i < 0:
            return out
        out.append(i)


# ---------------------------------------------------------------------------
# Compressed streams, LZ4 frames (hand-built: the standard library has no lz4),
# tar checkpoints, raw bytes.

def xxh32(data, seed=0):
    P1, P2, P3, P4, P5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393
    M = 0xFFFFFFFF

    def rotl(x, r):
        return ((x << r) | (x >> (32 - r))) & M
    n, i = len(data), 0
    if n >= 16:
        v = [(seed + P1 + P2) & M, (seed + P2) & M, seed & M, (seed - P1) & M]
        while i + 16 <= n:
            for k in range(4):
                lane = struct.unpack_from("<I", data, i + 4 * k)[0]
                v[k] = (rotl((v[k] + lane * P2) & M, 13) * P1) & M
            i += 16
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & M
    else:
        h = (seed + P5) & M
    h = (h + n) & M
    while i + 4 <= n:
        h = (rotl((h + struct.unpack_from("<I", data, i)[0] * P3) & M, 17) * P4) & M
        i += 4
    while i < n:
        h = (rotl((h + data[i] * P5) & M, 11) * P1) & M
        i += 1
    h ^= h >> 15
    h = (h * P2) & M
    h ^= h >> 13
    h = (h * P3) & M
    h ^= h >> 16
    return h


def lz4_frame(data):
    """An LZ4 frame with one uncompressed block (valid for every LZ4 reader)."""
    desc = bytes([0x60, 0x70])  # version 01, independent blocks, 4 MiB blocks
    out = b"\x04\x22\x4d\x18" + desc + bytes([(xxh32(desc) >> 8) & 0xFF])
    out += struct.pack("<I", 0x80000000 | len(data)) + data
    return out + struct.pack("<I", 0)


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def raw_bytes(seed, n):
    out, h = b"", seed.encode()
    while len(out) < n:
        h = hashlib.sha256(h).digest()
        out += h
    return out[:n]


def tar_bytes(members):
    """members: list of (name, bytes). A deterministic PAX tar, as old torch.save wrote."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


FloatTensor = fake_class(torch, "FloatTensor")


def legacy_tar(storages_args=None, tensors_args=None, main=None):
    """A legacy tar checkpoint laid out as torch.load's legacy_load reads it."""
    sd = state_dict()
    st = io.BytesIO()
    pickle.dump(2, st, protocol=2)
    for key, t in enumerate(sd.values()):
        if storages_args is not None and key == 1:
            st.write(storages_args)
        else:
            pickle.dump((key, "cpu", FloatStorage), st, protocol=2)
        st.write(struct.pack("<q", len(t.values)) + floats(t.values))
    pickle.dump([], st, protocol=2)
    te = io.BytesIO()
    pickle.dump(2, te, protocol=2)
    for key, t in enumerate(sd.values()):
        if tensors_args is not None and key == 1:
            te.write(tensors_args)
        else:
            pickle.dump((key, key, FloatTensor), te, protocol=2)
        stride, acc = [], 1
        for d in reversed(t.shape):
            stride.insert(0, acc)
            acc *= d
        te.write(struct.pack("<i", len(t.shape)) + b"\0" * 4)
        te.write(struct.pack("<%dq" % len(t.shape), *t.shape))
        te.write(struct.pack("<%dq" % len(t.shape), *stride) + struct.pack("<q", 0))
    if main is None:
        # BINPERSID 0 and 1 name the tensors, as torch wrote it.
        main = (b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01(" + binunicode("linear.weight")
                + b"K\x00Q" + binunicode("linear.bias") + b"K\x01Qu.")
    sys_info = pickle.dumps({"protocol_version": 1001, "little_endian": True,
                             "type_sizes": {"short": 2, "int": 4, "long": 8}}, protocol=2)
    return tar_bytes([("sys_info", sys_info), ("pickle", main), ("tensors", te.getvalue()),
                      ("storages", st.getvalue())])


def zip_lying_local(name, data, local_size, extra=()):
    """Stored members; the first one's local header gives `local_size` as its sizes
    while the central directory has the real ones (miniz, like zipfile, reads the
    central directory; streaming readers would read `local_size` bytes)."""
    body, cd = b"", b""
    for i, (nm, d) in enumerate([(name, data)] + list(extra)):
        crc, off = zlib.crc32(d), len(body)
        ls = local_size if i == 0 else len(d)
        body += struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, 0, 0, 0x21, crc, ls, ls, len(nm), 0) + nm.encode() + d
        cd += (struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, 0, 0, 0x21, crc, len(d), len(d), len(nm),
                           0, 0, 0, 0, 0o644 << 16, off) + nm.encode())
    n = 1 + len(extra)
    return body + cd + struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, n, n, len(cd), len(body), 0)


def npy_raw(header, data):
    """A .npy whose header text is exactly `header` (padded to 64 bytes)."""
    pad = 64 - (10 + len(header) + 1) % 64
    h = header + " " * pad + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode("latin1") + data


def h5_with_attrs(attrs, vlen=()):
    """An HDF5 container reduced to what the scanner reads: the signature, a
    version 0 superblock (8-byte offsets and lengths) and attribute messages
    (version 1: fixed-length strings; names in `vlen`: variable-length
    strings in a global heap collection)."""
    out = bytearray(b"\x89HDF\r\n\x1a\n" + bytes([0, 0, 0, 0, 0, 8, 8, 0]) + b"\0" * 80)
    heap = []
    for name, text in attrs:
        nm = name.encode() + b"\0"
        if name in vlen:
            dt = bytes([0x19, 0x01, 0x00, 0x00]) + struct.pack("<I", 16) + bytes([0x13, 0, 0, 0]) + struct.pack("<I", 1)
            data_ref = len(heap)
            heap.append(text)
            data = None
        else:
            dt = bytes([0x13, 0, 0, 0]) + struct.pack("<I", len(text))
            data = text
        ds = bytes([1, 0, 0, 0, 0, 0, 0, 0])
        body = struct.pack("<BBHHH", 1, 0, len(nm), len(dt), len(ds))
        body += nm + b"\0" * ((-len(nm)) % 8) + dt + b"\0" * ((-len(dt)) % 8) + ds
        if data is None:
            body += b"@@REF%02d" % data_ref + b"@" * 9
        else:
            body += data
        out += struct.pack("<HHB3x", 0x000C, len(body), 0) + body + b"\0" * 16
    if heap:
        coll = bytearray()
        for i, text in enumerate(heap):
            coll += struct.pack("<HH4xQ", i + 1, 1, len(text)) + text + b"\0" * ((-len(text)) % 8)
        gcol_at = len(out)
        size = 16 + len(coll)
        out += b"GCOL" + bytes([1, 0, 0, 0]) + struct.pack("<Q", size) + coll
        for i, text in enumerate(heap):
            ref = struct.pack("<I", len(text)) + struct.pack("<Q", gcol_at) + struct.pack("<I", i + 1)
            out = out.replace(b"@@REF%02d" % i + b"@" * 9, ref)
    return bytes(out + b"\0" * 64)


def main():
    # ---- pickle: format by content ---------------------------------------
    p = call_system_stack_global()
    mal("pickle-named.safetensors", p, ["S0101"], "a pickle named .safetensors is still a pickle")
    mal("pickle-named.png", p, ["S0101"], "a pickle named .png is still a pickle")
    mal("pickle-protocol0-named.txt", GLOBAL_SYSTEM, ["S0101"], "a protocol 0 pickle (no magic) named .txt")
    mal("pytorch_model.bin", proto2_call("os", "system"), ["S0101"], "plain pickle payload as a .bin checkpoint")

    # ---- pickle: allowlist, not denylist (globals denylists missed) --------
    for mod, name in [("runpy", "_run_code"), ("numpy.testing._private.utils", "runstring"),
                      ("cProfile", "run"), ("timeit", "timeit"), ("pydoc", "pipepager"),
                      ("torch.storage", "_load_from_bytes"), ("builtins", "getattr")]:
        mal(f"global-{mod}.{name}.pkl", proto2_call(mod, name), ["S0101"],
            f"{mod}.{name} executes code and is missing from common denylists")
    mal("py2-builtin-eval.pkl", b"c__builtin__\neval\n(S'1+1'\ntR.", ["S0101"],
        "protocol 0 `__builtin__.eval` is renamed to builtins.eval by the unpickler")

    # ---- pickle: STACK_GLOBAL through the memo ---------------------------
    mal("stack-global-memoize.pkl",
        b"\x80\x04" + sbu("os") + b"\x94" + b"0" + sbu("x") + b"0" + b"h\x00" + sbu("system") + b"\x93"
        + sbu(CMD) + b"\x85R.", ["S0101"], "module name stored with MEMOIZE and fetched with BINGET")
    mal("stack-global-binput.pkl",
        b"\x80\x04" + sbu("os") + b"q\x07" + b"0" + sbu("system") + b"q\x08" + b"0" + b"h\x07h\x08\x93"
        + sbu(CMD) + b"\x85R.", ["S0101"], "operands stored with BINPUT, fetched with BINGET")
    mal("stack-global-long-binput.pkl",
        b"\x80\x04" + sbu("os") + b"r\x00\x00\x01\x00" + b"0" + b"j\x00\x00\x01\x00" + sbu("system") + b"\x93"
        + sbu(CMD) + b"\x85R.", ["S0101"], "operand stored with LONG_BINPUT at index 65536, fetched with LONG_BINGET")
    mal("stack-global-put-get.pkl",
        b"\x80\x04" + sbu("os") + b"p42\n0" + sbu("system") + b"p43\n0g42\ng43\n\x93"
        + sbu(CMD) + b"\x85R.", ["S0101"], "operands stored with text PUT and fetched with GET")
    mal("stack-global-memoize-count.pkl",
        b"\x80\x04" + sbu("x") + b"p5\n0" + sbu("os") + b"\x94" + b"0" + b"h\x01" + sbu("system") + b"\x93"
        + sbu(CMD) + b"\x85R.", ["S0101"], "MEMOIZE stores at index len(memo) (1 here), not at the highest index + 1")
    mal("stack-global-dynamic.pkl",
        b"\x80\x02c_codecs\nencode\n" + binunicode("bf") + binunicode("rot13") + b"\x86R"
        + binunicode("system") + b"\x93" + binunicode(CMD) + b"\x85R.", ["S0102"],
        "STACK_GLOBAL on a module name computed at load time (rot13 of 'bf')")

    # ---- pickle: names through STRING / BINSTRING / SHORT_BINSTRING -------
    mal("stack-global-string.pkl", b"S'o\\x73'\nS'sys\\164em'\n\x93S'" + CMD.encode() + b"'\n\x85R.",
        ["S0101"], "STRING operands with escapes (o\\x73 = os)")
    mal("stack-global-binstring.pkl",
        b"\x80\x04T\x02\x00\x00\x00osT\x06\x00\x00\x00system\x93" + sbu(CMD) + b"\x85R.", ["S0101"],
        "BINSTRING operands")
    mal("stack-global-short-binstring.pkl",
        b"\x80\x04U\x02osU\x06system\x93" + sbu(CMD) + b"\x85R.", ["S0101"], "SHORT_BINSTRING operands")
    mal("stack-global-unicode.pkl", b"V\\u006fs\nVsystem\n\x93V" + CMD.encode() + b"\n\x85R.", ["S0101"],
        "UNICODE operands with raw-unicode-escape")

    # ---- pickle: dotted names ---------------------------------------------
    mal("dotted-pathlib-os-system.pkl", call_system_stack_global(b"pathlib", b"os.system"), ["S0101"],
        "pathlib + os.system: an attribute path through an innocent module")
    mal("dotted-global-proto4.pkl",
        b"\x80\x04cpathlib\nos.system\n" + sbu(CMD) + b"\x85R.", ["S0101"], "GLOBAL with a dotted name under protocol 4")

    # ---- pickle: INST / OBJ / NEWOBJ / REDUCE / BUILD ----------------------
    mal("inst.pkl", b"(S'" + CMD.encode() + b"'\nios\nsystem\n.", ["S0101"], "INST instantiates os.system")
    mal("obj.pkl", b"(cos\nsystem\nS'" + CMD.encode() + b"'\no.", ["S0101"], "OBJ calls os.system")
    mal("newobj.pkl", b"\x80\x02csubprocess\nPopen\n" + binunicode(CMD) + b"\x85\x81.", ["S0101"],
        "NEWOBJ on subprocess.Popen")
    mal("newobj-ex.pkl", b"\x80\x04" + sbu("subprocess") + sbu("Popen") + b"\x93)}\x92.", ["S0101"],
        "NEWOBJ_EX on subprocess.Popen")
    mal("reduce.pkl", proto2_call("subprocess", "getoutput"), ["S0101"], "REDUCE on subprocess.getoutput")
    mal("build-global.pkl", b"\x80\x02ccollections\nOrderedDict\nN}\x86b.", ["S0105"],
        "BUILD with slot state on an allowed class itself (monkey-patching)")
    mal("ext-opcode.pkl", b"\x80\x02\x82\x01)R.", ["S0103"], "EXT1 loads a global from the copyreg extension registry")

    # ---- pickle: FRAME as pickle.load(file) reads it ----------------------
    # pickle.loads / pickletools see `collectionsos.system`; torch.load's BytesIO
    # drops the frame's unfinished line and reads os + system.
    body = b"\x80\x04ccollections"
    mal("frame-straddle.pkl",
        b"\x80\x04" + frame(body) + b"os\nsystem\n" + sbu(CMD) + b"\x85R.", ["S0101", "S0111"],
        "a GLOBAL line straddles a frame end: BytesIO readers see os.system, sequential readers do not")
    body = b"cos\nsystem\n" + sbu(CMD) + b"\x85R."
    mal("frame-nested.pkl", b"\x80\x04" + frame(frame(body)[:5]) + frame(body)[5:], ["S0111"],
        "a FRAME opens inside another frame")

    # ---- pickle: stacked pickles and breaks -------------------------------
    mal("stacked.pkl", pickle.dumps({"a": 1}, protocol=2) + proto2_call("os", "system"), ["S0101"],
        "a clean pickle followed by a second pickle with the payload")
    mal("broken-after-payload.pkl", b"\x80\x02cos\nsystem\n" + binunicode(CMD) + b"\x85R\xff\xfe", ["S0101", "S0110"],
        "the payload runs, then the stream breaks (no STOP)")
    mal("unparseable.pkl", b"\x80\x04\x8c\x05hello\xf0garbage", ["S0110"], "a stream the unpickler cannot parse")
    mal("frame-past-end.pkl", b"\x80\x04\x95" + struct.pack("<Q", 1 << 40) + b"cos\nsystem\n.", ["S0110"],
        "a FRAME length larger than the file")
    mal("fence-underflow.pkl", b"cos\nsystem\n(S'x'\n\x85(R.", ["S0101", "S0110"],
        "REDUCE below a MARK: the fence stops the unpickler, but the import already ran")

    # ---- PyTorch zip checkpoints -------------------------------------------
    evil_pkl = proto2_call("os", "system")
    mal("torch-zip-payload.pt", torch_zip(evil_pkl), ["S0101"], "torch zip whose data.pkl runs os.system")
    mal("torch-zip-renamed-member.pt",
        torch_zip(torch_pickle(state_dict()), extra=[("archive/extra/blob", evil_pkl)]), ["S0101"],
        "a pickle member named without .pkl")
    mal("torch-zip-other-prefix.pt", torch_zip(evil_pkl, prefix="weird prefix"), ["S0101"],
        "the archive directory is not `archive`")
    z = torch_zip(evil_pkl)
    def bad_crc(b):
        for i in find_all(bytes(b), b"PK\x03\x04")[:1]:
            b[i + 14] ^= 0xFF
        for i in find_all(bytes(b), b"PK\x01\x02")[:1]:
            b[i + 16] ^= 0xFF
    mal("torch-zip-bad-crc.pt", flip_zip(z, bad_crc), ["S0101"],
        "CRC mismatch on data.pkl (zipfile refuses, torch does not check)")

    def set_flag5(b):
        for i in find_all(bytes(b), b"PK\x03\x04")[:1]:
            b[i + 6] |= 0x20
        for i in find_all(bytes(b), b"PK\x01\x02")[:1]:
            b[i + 8] |= 0x20
    mal("torch-zip-flag-bit.pt", flip_zip(z, set_flag5), ["S0101"],
        "general-purpose flag bit 5 set (zipfile: NotImplementedError; miniz ignores it)")

    def rename_local(b):
        i = find_all(bytes(b), b"PK\x03\x04")[0]
        b[i + 30:i + 30 + 7] = b"zzzzzzz"
    mal("torch-zip-name-mismatch.pt", flip_zip(z, rename_local), ["S0101", "S0202"],
        "local header names the member differently from the central directory")
    mal("torch-zip-prefix.pt", b"JUNK" * 64 + z, ["S0101", "S0205"],
        "256 bytes before the archive (offsets as written, zipfile adjusts them)")
    mal("torch-zip-deflated.pt", zip_bytes([("archive/data.pkl", evil_pkl), ("archive/version", b"3\n")],
                                           compress={"archive/data.pkl": zipfile.ZIP_DEFLATED}),
        ["S0101"], "data.pkl compressed with deflate")
    clean = torch_zip(torch_pickle(state_dict()))
    local = zip_bytes([("archive/hidden.pkl", evil_pkl)])
    cut = local.find(b"PK\x01\x02")
    # The payload member exists only as a local header in front of a clean archive.
    mal("torch-zip-local-only.pt", local[:cut] + clean, ["S0101", "S0202"],
        "a member only local headers show (streaming readers see it)")
    dup = zip_bytes([("archive/data.pkl", torch_pickle(state_dict())), ("archive/data.pkl", evil_pkl)])
    mal("torch-zip-duplicate.pt", dup, ["S0101", "S0202"], "two members named data.pkl")

    # ---- legacy torch.save files ---------------------------------------------
    mal("torch-legacy-main.pt", legacy_torch(main_pickle=evil_pkl), ["S0101"],
        "legacy torch file: the payload is the 4th pickle, after three clean ones")
    mal("torch-legacy-keys.pt", legacy_torch(keys_pickle=evil_pkl), ["S0101"],
        "legacy torch file: the payload is the storage-keys pickle (5th)")

    # ---- TorchScript -------------------------------------------------------
    ts = zip_bytes([
        ("model/data.pkl", torch_pickle(state_dict())),
        ("model/constants.pkl", pickle.dumps((), protocol=2)),
        ("model/code/__torch__/model.py", b"class Model(Module):\n  def forward(self, x):\n    return x\n"),
        ("model/version", b"3\n"),
    ])
    mal("torchscript.pt", ts, ["S0204"], "TorchScript archive with a code member")

    # ---- NumPy -----------------------------------------------------------
    obj_payload = proto2_call("os", "system")
    mal("object-array.npy", npy("'|O'", "(1,)", obj_payload), ["S0101"],
        "object-dtype .npy: np.load(allow_pickle=True) unpickles the data")
    mal("structured-object.npy", npy("[('a', '<f4'), ('b', '|O')]", "(1,)", obj_payload), ["S0101"],
        "a structured dtype with an object field")
    mal("object-member.npz", zip_bytes([("x.npy", npy("'<f4'", "(2,)", floats([1, 2]))),
                                        ("y.npy", npy("'|O'", "(1,)", obj_payload))]), ["S0101"],
        ".npz with one object member")
    mal("object-member-deflated.npz", zip_bytes([("y.npy", npy("'|O'", "(1,)", obj_payload))],
                                                 compress={"y.npy": zipfile.ZIP_DEFLATED}), ["S0101"],
        ".npz with a deflated object member")
    mal("bad-header.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", 24) + b"__import__('os')      \n",
        ["S0301"], "a .npy header that is not a dict literal")

    # ---- Keras -----------------------------------------------------------
    lam = {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
           "config": {"name": "lambda", "function": {"module": "builtins", "class_name": "function",
                                                     "config": {"code": "4wEAAAAAAAAA"}, "registered_name": "function"}}}
    td = {"module": "keras.layers", "class_name": "TimeDistributed", "registered_name": None,
          "config": {"name": "td", "layer": lam}}
    mal("lambda-wrapped.keras", keras_zip(sequential([dense("d1"), td])), ["S0401"],
        "a Lambda layer inside TimeDistributed")
    mal("lambda-escaped.keras",
        keras_zip(json.dumps(sequential([dense("d1")])).replace('"Dense"', '"L\\u0061mbda"').encode()),
        ["S0401"], "a Lambda class name written with a JSON escape")
    mal("module-outside-keras.keras", keras_zip(sequential([dense("d1", module="os")])), ["S0402"],
        "a layer imported from a module outside keras")
    deep = lam
    for i in range(200):
        deep = {"class_name": "Bidirectional", "config": {"layer": deep}}
    h5 = (b"\x89HDF\r\n\x1a\n" + b"\0" * 200 + b"model_config\0"
          + json.dumps({"class_name": "Functional", "config": {"layers": [deep]}}).encode() + b"\0" * 64)
    mal("lambda-deep.h5", h5, ["S0401"],
        "legacy .h5 whose model_config attribute nests a Lambda 200 wrappers deep "
        "(an HDF5 container reduced to the attribute bytes the scanner reads)")
    write("malicious/keras-config/config.json", json.dumps({"class_name": "Sequential", "config": {
        "layers": [{"class_name": "Lambda", "config": {"function": ["4wEAAAAAAAAA", None, None]}}]}}).encode(),
        "malicious", ["S0401"], "a standalone Keras config with a Lambda")

    # ---- safetensors -------------------------------------------------------
    good_h = {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
    st = lambda name, data, codes, why: mal("safetensors/" + name, data, codes, why)
    st("header-too-large.safetensors", safetensors(good_h, floats([1, 2]), length=100_000_001),
       ["S0501"], "header length above the 100 MB limit")
    st("header-past-end.safetensors", safetensors(good_h, floats([1, 2]), length=4096),
       ["S0501"], "header length past the end of the file")
    st("header-not-utf8.safetensors", safetensors(raw_header=b'{"w":"\xff\xfe"}'), ["S0501"], "header is not UTF-8")
    st("header-not-brace.safetensors", safetensors(raw_header=b' {"w":1}'), ["S0501"], "header does not start with {")
    st("metadata-not-string.safetensors",
       safetensors({"__metadata__": {"format": "pt", "evil": {"nested": True}}, **good_h}, floats([1, 2])),
       ["S0502"], "__metadata__ with a non-string value")
    st("unknown-dtype.safetensors",
       safetensors({"w": {"dtype": "Q4_K", "shape": [2], "data_offsets": [0, 8]}}, floats([1, 2])),
       ["S0503"], "unknown dtype")
    st("offsets-gap.safetensors",
       safetensors({"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}, b"\0" * 16),
       ["S0504"], "tensor data does not start at 0")
    st("offsets-overlap.safetensors",
       safetensors({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                    "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12),
       ["S0504"], "two tensors overlap")
    st("size-mismatch.safetensors",
       safetensors({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, floats([1, 2])),
       ["S0504"], "shape × dtype size differs from the data length")
    st("size-overflow.safetensors",
       safetensors({"w": {"dtype": "F64", "shape": [4294967296, 4294967296, 2], "data_offsets": [0, 8]}},
                   floats([1, 2])), ["S0504"], "prod(shape) × dtype size overflows 64 bits")
    st("trailing-bytes.safetensors", safetensors(good_h, floats([1, 2]) + b"hidden payload"),
       ["S0505"], "bytes after the last tensor")
    st("duplicate-name.safetensors",
       safetensors(raw_header=b'{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                              b'"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', data=floats([1, 2])),
       ["S0506"], "the same tensor name twice (the reference keeps the last)")
    st("unknown-key.safetensors",
       safetensors({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8], "loader": "os.system"}},
                   floats([1, 2])), ["S0507"], "an unknown key inside a tensor entry")
    st("polyglot-zip.keras",
       safetensors(good_h, floats([1, 2]) + torch_zip(evil_pkl)), ["S0505", "S0205", "S0101"],
       "valid safetensors header + an appended torch zip, named .keras (Keras opens it with zipfile)")

    # ---- GGUF -------------------------------------------------------------
    gg = lambda name, data, codes, why: mal("gguf/" + name, data, codes, why)
    gg("bad-version.gguf", gguf(GGUF_BASE_KVS, GGUF_TENSORS, version=7), ["S0601"], "unsupported version")
    gg("kv-count-huge.gguf", gguf(GGUF_BASE_KVS, GGUF_TENSORS, counts=(2, 1 << 60)), ["S0601"],
       "a key-value count that cannot fit in the file")
    big = list(GGUF_BASE_KVS)
    big[0] = ("general.architecture", 8, struct.pack("<Q", 1 << 62) + b"llama")
    gg("string-length-huge.gguf", gguf(big, GGUF_TENSORS), ["S0601"], "a string length far past the end of the file")
    gg("tensor-dims-overflow.gguf",
       gguf(GGUF_BASE_KVS, [("w", [1 << 40, 1 << 40], 0, 0, 64)]), ["S0601"], "tensor dimensions overflow")
    gg("tensor-offset-outside.gguf",
       gguf(GGUF_BASE_KVS, [("w", [8, 2], 0, 0, 64), ("v", [8, 2], 0, 1 << 30, 64)]), ["S0601"],
       "a tensor offset beyond the file")
    gg("too-many-dims.gguf", gguf(GGUF_BASE_KVS, [("w", [2, 2, 2, 2, 2], 0, 0, 128)]), ["S0601"],
       "five tensor dimensions (GGML_MAX_DIMS is 4)")
    tmpl = "{% for m in messages %}{{ cycler.__init__.__globals__.os.popen('" + CMD + "').read() }}{% endfor %}"
    gg("chat-template-injection.gguf",
       gguf(GGUF_BASE_KVS + [("tokenizer.chat_template", 8, gguf_str(tmpl))], GGUF_TENSORS),
       ["S0603", "S0602"], "a chat template reaching Python internals (Jinja SSTI)")

    # ---- remote code -------------------------------------------------------
    write("malicious/remote-code/config.json", json.dumps({
        "architectures": ["EvilModel"], "model_type": "evil",
        "auto_map": {"AutoConfig": "configuration_evil.EvilConfig", "AutoModel": "modeling_evil.EvilModel"}},
        indent=2).encode(), "malicious", ["S0702"], "auto_map runs the repository's code with trust_remote_code")
    write("malicious/remote-code/modeling_evil.py", b"import os\nos.system('" + CMD.encode() + b"')\n",
          "malicious", ["S0701"], "Python source beside the weights")
    write("malicious/remote-code/tokenizer_config.json", json.dumps({
        "auto_map": {"AutoTokenizer": ["other-org/other-repo--tokenization_x.XTokenizer", None]}}).encode(),
        "malicious", ["S0702"], "auto_map pointing at code in another repository")
    write("malicious/st-modules/modules.json", json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Custom", "type": "custom_pkg.layers.Evil"}]).encode(),
        "malicious", ["S0703"], "sentence-transformers module class outside sentence_transformers")

    # ---- polyglots -------------------------------------------------------------
    mal("pickle-with-zip.bin", pickle.dumps({"ok": True}, protocol=2) + torch_zip(evil_pkl),
        ["S0205", "S0101"], "a clean pickle with a torch zip appended (zip readers find the end record)")

    # ---- formats the real loaders accept (scripts/loader-oracle.py confirms) ----
    # NumPy: every spelling numpy accepts for an object dtype.
    for tag, descr in [("O", "'O'"), ("object", "'object'"), ("O8-double-quoted", '"|O8"'),
                       ("lt-O", "'<O'"), ("comma-string", "'f4,O'"), ("subarray-string", "'(2,)O'"),
                       ("repeat-string", "'2O'"),
                       ("nested-struct", "[('a', '<f4'), ('b', [('c', [('d', '|O')])])]"),
                       ("subarray-tuple", "('|O', (2,))"), ("field-shape", "[('a', '|O', (2, 2))]"),
                       ("list-fields", "[['a', '|O']]"), ("two-char-field", "['aO']"),
                       ("dict-fields", "{'aO': 0}"), ("title", "[(('t', 'a'), '|O')]"),
                       ("hex-escape", "'\\x4f'"), ("octal-escape", "'\\117'"), ("concatenated", "'|' 'O'"),
                       ("unicode-prefix", "u'O'"), ("struct-subarray", "[('a', ('|O', (3,)))]")]:
        mal(f"numpy/object-{tag}.npy",
            npy_raw("{'descr': %s, 'fortran_order': False, 'shape': (1,), }" % descr, obj_payload),
            ["S0101"], f"an object-dtype spelled {descr} (np.load(allow_pickle=True) unpickles the data)")
    mal("numpy/object-keys-reordered.npy",
        npy_raw("{'shape': (1,), \"fortran_order\": False, 'descr':'object'}", obj_payload), ["S0101"],
        "object-dtype: header keys in another order and quoting")
    mal("numpy/object-member-named-meta.npz",
        zip_bytes([("weights.npy", npy("'<f4'", "(2,)", floats([1, 2]))),
                   ("meta", npy_raw("{'descr': [('x', 'object')], 'fortran_order': False, 'shape': (1,), }",
                                    obj_payload))], compress={"meta": zipfile.ZIP_DEFLATED}),
        ["S0101"], ".npz member without the .npy extension with a structured object-dtype field, deflated")
    mal("numpy/descr-not-understood.npy",
        npy_raw("{'descr': 'Q1x', 'fortran_order': False, 'shape': (1,), }", obj_payload), ["S0301"],
        "a dtype the scanner does not understand is a finding, never a pass")
    sizes = {"f8": 8, "field-named-O": 4, "two-fields": 12, "comma": 12, "unicode": 20, "datetime": 8,
             "field-shape": 8, "bool": 1}
    for tag, descr in [("f8", "'<f8'"), ("field-named-O", "[('O', '<f4')]"), ("two-fields", "[('a', '<f4'), ('b', '<i8')]"),
                       ("comma", "'f4,i8'"), ("unicode", "'<U5'"), ("datetime", "'<M8[ns]'"),
                       ("field-shape", "[('a', '<f4', (2,))]"), ("bool", "'|b1'")]:
        benign(f"numpy/plain-{tag}.npy",
               npy_raw("{'descr': %s, 'fortran_order': False, 'shape': (1,), }" % descr, b"\0" * sizes[tag]),
               f"a plain dtype {descr}: no pickle")

    # Raw binary .bin files whose first byte is a protocol 0 opcode: raw data.
    for c in "(INSV]c}":
        label = {"(": "mark", "]": "list", "}": "dict"}.get(c, c)
        benign(f"raw/raw-{label}.bin", c.encode() + raw_bytes(c, 4095),
               f"raw bytes starting with {c!r}: not a pickle (they do not parse to STOP)")
    benign("raw/starts-like-zlib.txt", b"80 epochs of training, lr 0.1\n",
           "text whose first two bytes pass the zlib header check")

    # Compressed pickles, whatever the extension (joblib.load decompresses them).
    evil = proto2_call("os", "system")
    mal("compressed/payload.pkl.gz", gz(evil), ["S0101"], "gzip-compressed pickle (joblib compress='gzip')")
    mal("compressed/payload.joblib", zlib.compress(evil, 3), ["S0101"],
        "zlib-compressed pickle (joblib.dump(compress=3))")
    mal("compressed/payload-named.bin", bz2.compress(evil, 9), ["S0101"], "bz2-compressed pickle named .bin")
    mal("compressed/payload.xz", lzma.compress(evil, format=lzma.FORMAT_XZ), ["S0101"], "xz-compressed pickle")
    mal("compressed/payload.lzma", lzma.compress(evil, format=lzma.FORMAT_ALONE), ["S0101"],
        "lzma (alone) compressed pickle, which joblib routes on 5D 00")
    mal("compressed/payload-protocol0.dat", gz(GLOBAL_SYSTEM), ["S0101"], "gzip of a protocol 0 pickle named .dat")
    mal("compressed/payload.lz4", lz4_frame(evil), ["S0101"], "an LZ4 frame (joblib with lz4 installed)")
    mal("compressed/two-members.gz", gz(evil[:9]) + gz(evil[9:]), ["S0101"],
        "a pickle split across two gzip members (gzip.open joins them: pandas.read_pickle)")
    mal("compressed/torch-zip.pt.gz", gz(torch_zip(evil)), ["S0101"], "a torch zip inside gzip")
    mal("compressed/nested.xz", lzma.compress(gz(bz2.compress(evil)), format=lzma.FORMAT_XZ), ["S0101"],
        "bz2 inside gzip inside xz")
    mal("compressed/corrupt.gz", gz(evil + b"\0" * (16 << 20))[:-8] + b"\xff" * 8, ["S0801", "S0101"],
        "a gzip stream corrupt after the payload: loaders run it before they fail")
    mal("compressed/bomb.bz2", bz2.compress(b"\0" * (80 * 1024 * 1024), 9), ["S0802"],
        "80 MiB of zeros in a few hundred bytes (past the decompression ratio limit)")
    benign("compressed/state.pkl.gz", gz(pickle.dumps({"a": [1, 2.5, "x"]}, protocol=4)), "a gzip'd plain pickle")
    benign("compressed/state.joblib", zlib.compress(pickle.dumps({"w": [0.5, 1.5]}, protocol=4), 3),
           "a zlib'd plain pickle (joblib.dump(compress=3))")
    benign("compressed/state.xz", lzma.compress(pickle.dumps([1, 2, 3], protocol=2)), "an xz'd plain pickle")
    benign("compressed/state.bz2", bz2.compress(pickle.dumps((1, "b"), protocol=2)), "a bz2'd plain pickle")
    benign("compressed/state.lz4", lz4_frame(pickle.dumps({"k": None}, protocol=2)), "an LZ4 frame of a plain pickle")
    benign("compressed/text.gz", gz(b"hello, this is just text\n" * 20), "gzip'd text")

    # Legacy PyTorch tar checkpoints (torch.load reads them with weights_only=False).
    benign("legacy-tar.pt", legacy_tar(), "legacy tar checkpoint (storages, tensors, pickle) as old torch.save wrote it")
    mal("torch-tar/pickle-member.tar", legacy_tar(main=evil), ["S0101"], "legacy tar: the payload is the `pickle` member")
    mal("torch-tar/storages-member.pt", legacy_tar(storages_args=evil), ["S0101"],
        "legacy tar: the payload is a storage record in `storages`")
    mal("torch-tar/tensors-member.pt", legacy_tar(tensors_args=evil), ["S0101"],
        "legacy tar: the payload is a tensor record in `tensors`")

    # PyTorch zips read as miniz reads them.
    mal("torch-zip-upper-case.pt", zip_bytes([(n.upper(), d) for n, d in [
        ("archive/data.pkl", evil_pkl), ("archive/version", b"3\n"), ("archive/byteorder", b"little")]]),
        ["S0101"], "member names in upper case (miniz matches data.pkl case-insensitively)")
    benign("state-dict-upper-case.pt", zip_bytes([(n.upper(), d) for n, d in [
        ("archive/data.pkl", torch_pickle(state_dict())), ("archive/version", b"3\n"),
        ("archive/data/0", floats(state_dict()["linear.weight"].values)),
        ("archive/data/1", floats(state_dict()["linear.bias"].values))]]),
        "a clean torch zip with upper-case member names")
    mal("torch-zip-crafted-size.pt", zip_lying_local("ARCHIVE/DATA.PKL", evil_pkl, 6, [("ARCHIVE/VERSION", b"3\n")]),
        ["S0101", "S0202"], "DATA.PKL whose local header claims 6 bytes (torch reads the central directory's size)")

    # Keras v3 archives without metadata.json; Lambda and modules inside wrappers.
    inner_model = {"module": "keras", "class_name": "Functional", "registered_name": None,
                   "config": {"name": "inner", "layers": [
                       {"module": "keras.layers", "class_name": "Bidirectional", "registered_name": None,
                        "config": {"name": "bi", "layer": {"module": "keras.layers", "class_name": "TimeDistributed",
                                                           "config": {"layer": lam}}}}]}}
    mal("keras/no-metadata.keras", zip_bytes([("config.json", json.dumps(sequential([dense("d1"), td])).encode()),
                                              ("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 56)]),
        ["S0401"], "a .keras without metadata.json (keras.saving.load_model reads config.json anyway)")
    mal("keras/config-only.zip", zip_bytes([("config.json", json.dumps(sequential([inner_model])).encode())]),
        ["S0401"], "a zip with only config.json: a Lambda in TimeDistributed in Bidirectional in Functional")
    mod_deep = {"class_name": "Sequential", "config": {"layers": [{"class_name": "TimeDistributed", "config": {
        "layer": dense("d", module="subprocess")}}]}}
    mal("keras/module-in-wrapper.keras", keras_zip(mod_deep), ["S0402"], "a foreign module inside a wrapper")

    # Legacy Keras .h5: the model_config / training_config attributes parsed as JSON.
    lam_h5 = {"class_name": "Lambda", "config": {"name": "l", "function": ["4wEAAAAAAAAA", None, None],
                                                  "function_type": "lambda", "module": "__main__"}}
    h5_model = {"class_name": "Functional", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4]}},
        {"class_name": "Bidirectional", "config": {"layer": {"class_name": "TimeDistributed",
                                                             "config": {"layer": lam_h5}}}}]}}
    mal("keras-h5/indented.h5", h5_with_attrs([("model_config", json.dumps(h5_model, indent=4).encode())]),
        ["S0401"], "legacy .h5 whose model_config JSON is indented (a Lambda in TimeDistributed in Bidirectional)")
    reordered = json.dumps({"config": {"layers": [{"config": lam_h5["config"], "class_name": "Lambda"}]},
                            "class_name": "Sequential"}, separators=(" , ", " : "))
    mal("keras-h5/keys-reordered.h5", h5_with_attrs([("model_config", b"\n  " + reordered.encode())]),
        ["S0401"], "legacy .h5: keys in another order, spaces around separators, leading whitespace")
    mal("keras-h5/vlen-string.h5",
        h5_with_attrs([("model_config", json.dumps(h5_model).encode())], vlen={"model_config"}),
        ["S0401"], "legacy .h5 whose model_config is a variable-length string in the global heap")
    mal("keras-h5/training-config.h5", h5_with_attrs([
        ("model_config", json.dumps({"class_name": "Sequential", "config": {"layers": []}}).encode()),
        ("training_config", json.dumps({"loss": {"module": "subprocess", "class_name": "function",
                                                  "config": "getoutput"}}, indent=1).encode())]),
        ["S0402"], "legacy .h5 whose training_config loss comes from a module outside keras")
    mal("keras-h5/not-json.h5", h5_with_attrs([("model_config", b"{'class_name': 'Lambda'}")]), ["S0403"],
        "legacy .h5 whose model_config is not JSON")
    benign("keras-h5/dense.h5", h5_with_attrs([("model_config", json.dumps(
        {"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense", "config": {"units": 2}}]}},
        indent=2).encode())]), "legacy .h5 with only Dense layers")

    # GGUF chat templates that reach Python internals by Jinja means (jinja2 runs each).
    popen = ".os.popen('" + CMD + "').read()"
    for tag, tmpl in [
        ("concat", "{{ cycler['__in' ~ 'it__']['__glo' ~ 'bals__']" + popen + " }}"),
        ("plus", "{{ cycler[\"_\" + \"_init__\"][\"_\" + \"_globals__\"]" + popen + " }}"),
        ("hex-escapes", "{{ cycler[\"\\x5f\\x5finit\\x5f\\x5f\"][\"\\x5f\\x5fglobals\\x5f\\x5f\"]" + popen + " }}"),
        ("unicode-escapes", "{{ cycler['\\u005f\\u005finit__']['\\u005f_globals__']" + popen + " }}"),
        ("attr-filter", "{{ (cycler|attr('__init__')|attr('__globals__'))" + popen + " }}"),
        ("variables", "{% set a = '__init' ~ '__' %}{% set g = '__glo' ~ 'bals__' %}{{ cycler[a][g]" + popen + " }}"),
        ("reversed", "{{ cycler['__tini__'[::-1]]['__slabolg__'[::-1]]" + popen + " }}"),
        ("percent-c", "{% set u = '%c' % 95 %}{{ cycler[u*2 ~ 'init' ~ u*2][u*2 ~ 'globals' ~ u*2]" + popen + " }}"),
        ("lipsum", "{% for m in messages %}{{ lipsum.__globals__['os'].popen('" + CMD + "').read() }}{% endfor %}"),
        ("macro-arg", "{% macro g(k) %}{{ cycler[k].__globals__" + popen + " }}{% endmacro %}{{ g('__in' ~ 'it__') }}"),
        ("bos-token-key", "{{ cycler[bos_token] }}"),
    ]:
        mal(f"gguf/template-{tag}.gguf",
            gguf(GGUF_BASE_KVS + [("tokenizer.chat_template", 8, gguf_str(tmpl))], GGUF_TENSORS),
            ["S0603", "S0602"], f"a chat template reaching Python internals ({tag})")
    for tag, tmpl in [
        ("chatml", "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"),
        ("system-split", "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set system = messages[0]['content']|trim %}{% set messages = messages[1:] %}{% else %}{% set system = '' %}{% endif %}{{ system }}{% for m in messages %}{{ '[' + m['role']|upper + '] ' + m['content'] }}{% endfor %}"),
        ("loop-index", "{%- set ns = namespace(last=messages|length - 1) %}{%- for message in messages[::-1] %}{%- set index = (messages|length - 1) - loop.index0 %}{%- if message.role == 'user' %}{%- set ns.last = index %}{%- endif %}{%- endfor %}{%- for message in messages %}{%- if loop.index0 > ns.last and messages[loop.index0 - 1].role != 'tool' %}{{ message.content.split('</think>')[-1].lstrip('\\n') }}{%- endif %}{%- endfor %}"),
        ("macro-dict", "{%- macro py_type(spec) %}{%- set types = {'string': 'str', 'integer': 'int'} %}{%- if types[spec.type] is defined %}{{ types[spec.type] }}{%- else %}Any{%- endif %}{%- endmacro %}{%- for tool in tools %}{%- for name, field in tool.parameters.properties|items %}{{ name }}: {{ py_type(field) }}{%- endfor %}{%- endfor %}"),
        ("dunder-text", "{{ 'Call obj.__init__() first' }}{% for m in messages %}{{ m.content }}{% endfor %}"),
    ]:
        write(f"review/templates/{tag}.gguf",
              gguf(GGUF_BASE_KVS + [("tokenizer.chat_template", 8, gguf_str(tmpl))], GGUF_TENSORS),
              "review", ["S0602"], f"an ordinary chat template ({tag}), reported for review")

    # ---- review: only low-severity findings ------------------------------------
    write("review/chat-template.gguf",
          gguf(GGUF_BASE_KVS + [("tokenizer.chat_template", 8, gguf_str(
              "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"))], GGUF_TENSORS),
          "review", ["S0602"], "a GGUF with an ordinary chat template, reported for review")

    # ---- benign ------------------------------------------------------------------
    sd = state_dict()
    benign("state-dict.pt", torch_zip(torch_pickle(sd)), "torch-style zip state dict (protocol 2)")
    benign("legacy.pt", legacy_torch(), "legacy (non-zip) torch.save file: five pickles and raw storages")
    benign("float.npy", npy("'<f4'", "(2, 3)", floats([1, 2, 3, 4, 5, 6])), "float32 .npy")
    benign("arrays.npz", zip_bytes([("a.npy", npy("'<f4'", "(3,)", floats([1, 2, 3]))),
                                    ("b.npy", npy("'<i8'", "(2,)", struct.pack("<2q", 7, 8)))],
                                   compress={"b.npy": zipfile.ZIP_DEFLATED}), ".npz with a stored and a deflated member")
    benign("valid.gguf", gguf(GGUF_BASE_KVS, GGUF_TENSORS), "valid GGUF v3 with base-model and dataset claims")
    benign("small.safetensors", safetensors(
        {"__metadata__": {"format": "pt"}, "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
         "b": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [8, 16]}}, floats([1, 2]) + b"\0" * 8),
        "valid safetensors with metadata")
    class NumpyArray:
        def __reduce__(self):
            return (np_reconstruct, (NdArray, (0,), b"b"), (1, (3,), DType(), False, b"\0" * 12))
    DType.__reduce__ = lambda self: (DType, ("f4", False, True), (3, "<", None, None, None, -1, -1, 0))
    benign("numpy-array-protocol2.pkl", pickle.dumps({"weights": NumpyArray()}, protocol=2),
           "a NumPy array pickled with protocol 2 (_reconstruct, ndarray, dtype, _codecs.encode)")
    benign("protocol0.pkl", pickle.dumps({"a": [1, 2.5, "x"], "b": (None, True)}, protocol=0), "protocol 0 text pickle")
    benign("protocol5-bytearray.pkl", pickle.dumps({"buf": bytearray(b"abc"), "s": {1, 2}}, protocol=5),
           "protocol 5 with BYTEARRAY8, sets and frames")
    # Every kind of plain value, with shared and recursive references, in each
    # protocol: covers most opcodes of protocols 0-5 and the memo.
    shared = [1, 2]
    rec = []
    rec.append(rec)
    rtuple = ([],)
    rtuple[0].append(rtuple)
    values = {
        "none": None, "bools": (True, False), "ints": [0, 1, -1, 255, 256, 65535, -65536, 2 ** 31, 2 ** 64,
                                                       -(2 ** 100), 10 ** 700],
        "floats": [0.5, -1e300, float("inf")], "complex": 1 + 2j, "text": ["", "é", "x" * 300],
        "bytes": [b"", b"\x00\xff", b"y" * 300], "bytearray": bytearray(b"ba"),
        "tuples": [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)], "set": {1, 2}, "frozenset": frozenset({3}),
        "nested": {"a": {"b": [shared, shared]}}, "recursive_list": rec, "recursive_tuple": rtuple,
        "dict_big": {i: str(i) for i in range(300)},
    }
    late = [9]
    values["dict_big"][299] = late
    values["late_ref"] = late
    for proto in range(6):
        benign(f"all-types-protocol{proto}.pkl", pickle.dumps(values, protocol=proto),
               f"plain values, shared and recursive references, protocol {proto}")
    big = {"k%05d" % i: "v" * 8 for i in range(7000)}
    benign("multi-frame.pkl", pickle.dumps(big, protocol=4), "protocol 4 pickle with more than one FRAME")
    benign("keras-dense.keras", keras_zip(sequential([dense("d1"), dense("d2")])), "Keras archive with Dense layers only")
    benign("model-dir/config.json", json.dumps({"architectures": ["BertModel"], "model_type": "bert",
                                                "hidden_size": 8}, indent=2).encode(), "a transformers config without auto_map")
    benign("model-dir/modules.json", json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]).encode(),
        "sentence-transformers modules from the library")
    benign("model-dir/README.md", b"---\nlicense: apache-2.0\n---\n# Tiny\n\nN. B.: not a pickle.\n", "model card")
    benign("model-dir/vocab.txt", b"[PAD]\n[UNK]\n(\ncos\nsystem\n", "text that starts like protocol 0 opcodes")

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(dict(sorted(EXPECTED.items())), f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(EXPECTED)} files to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
