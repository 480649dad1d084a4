//! A static walk of pickle opcode streams that follows CPython's C unpickler
//! (`Modules/_pickle.c`, what `pickle.load` and `torch.load` run) opcode for
//! opcode, without executing anything.
//!
//! # What is modelled
//!
//! * Every opcode of protocols 0–5, with the unpickler's stack, its separate
//!   mark stack and the *fence* (nothing below the top mark can be popped),
//!   and the memo (`PUT`, `BINPUT`, `LONG_BINPUT`, `MEMOIZE` at index
//!   "number of memo entries", the `GET`s). Values are tracked only as far as
//!   it matters: a string's text, an imported global, or "something computed
//!   at load time". So `STACK_GLOBAL` sees exactly the operands the
//!   unpickler would, whether they come straight from `SHORT_BINUNICODE`,
//!   from `STRING`/`BINSTRING`/`SHORT_BINSTRING` (decoded as the unpickler
//!   decodes them) or through the memo.
//! * `find_class`: Python 2 names are mapped to Python 3 ones for protocols
//!   below 3 (`__builtin__` → `builtins`, `copy_reg` → `copyreg`, …) before
//!   the allowlist is consulted; a dotted name (`pathlib` + `os.system`) is
//!   an attribute path and is never on the allowlist.
//! * FRAME as `pickle.load(file)` reads it. On a file object without `peek`
//!   (the `io.BytesIO` that `torch.load` wraps around `data.pkl`), or for a
//!   frame larger than the prefetch, the C unpickler reads the whole frame
//!   into its buffer; a fixed-size read or a line that runs past the frame's
//!   end then *drops* the rest of the frame and continues after it, while
//!   `pickle.loads(bytes)` (and a peekable file with a small frame) reads on
//!   sequentially. The walk runs both readings when a stream has frames,
//!   reports the globals of each, and reports any opcode that straddles a
//!   frame boundary or any frame opened inside another (`S0111`): no pickler
//!   writes those, and readers disagree on them.
//! * Several pickles stacked in one file (`pickle.load` called again on the
//!   same file, as legacy `torch.save` files are read). Each starts with an
//!   empty stack and protocol 0, as `load()` resets them; a `GET` of an
//!   index only an earlier pickle stored is resolved from that pickle's
//!   memo, as a reused `Unpickler` would.
//! * A stream that breaks (unknown opcode, stack underflow, truncation):
//!   everything before the break has already run in the real unpickler, so
//!   findings before the break are kept, and the break itself is a finding.
//!
//! # The allowlist
//!
//! Only the globals needed to rebuild tensors, arrays and plain containers
//! may be imported; any other global is a finding (`S0101`). See
//! [`ALLOWED_GLOBALS`] for the list and why each entry is harmless.

use std::collections::{BTreeSet, HashMap};
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use super::finding::{Code, Finding};

/// Globals a pickle may import. Each is a `(module, name)` pair matched
/// exactly, after Python 2 → 3 renaming.
///
/// Why each is safe: they build data from data. None imports other modules
/// by name, evaluates code, touches files or the network, or returns a
/// callable that could be turned against the loader. Functions that call
/// something they are given (`_rebuild_from_type_v2`, `copyreg._reconstructor`)
/// only receive objects the same pickle imported, and those go through this
/// list too.
///
/// * `collections.OrderedDict`: the state-dict container.
/// * `builtins.set`, `frozenset`, `bytearray`, `bytes`, `complex`: plain
///   containers and numbers written with `REDUCE` by protocols below 4
///   (`bytes()` is how protocols 0–2 write an empty `bytes`).
/// * `copyreg._reconstructor`: how protocols 0–1 rebuild objects of a class
///   (which must itself be allowed).
/// * `_codecs.encode`: how protocols below 3 write `bytes` (a codec name and
///   text in, bytes or text out).
/// * `numpy.core.multiarray._reconstruct`, `scalar` (also under
///   `numpy._core`, NumPy 2), `numpy.ndarray`, `numpy.dtype`,
///   `numpy.core.numeric._frombuffer`: NumPy arrays, scalars and dtypes.
/// * `torch._utils._rebuild_tensor`, `_rebuild_tensor_v2`, `_rebuild_tensor_v3`,
///   `_rebuild_parameter`, `_rebuild_parameter_with_state`, `_rebuild_qtensor`,
///   `_rebuild_sparse_tensor`, `_rebuild_meta_tensor_no_storage`,
///   `_rebuild_device_tensor_from_numpy`, `torch._tensor._rebuild_from_type_v2`,
///   `_rebuild_from_type`, `torch.serialization._get_layout`: the helpers
///   `torch.save` names to rebuild tensors from storages.
/// * `torch.*Storage`, `torch.storage.UntypedStorage`/`TypedStorage`: the
///   storage types named in persistent ids.
/// * `torch.Size`, `torch.device`, dtypes (`torch.float32`, …), layouts,
///   memory formats and quantization schemes: plain values.
///
/// Not allowed, on purpose: `builtins.getattr`/`eval`/`exec`/`__import__`,
/// `torch.storage._load_from_bytes` (calls `torch.load` again without
/// `weights_only`), `functools.partial`, `operator.*`, anything from `os`,
/// `subprocess`, `sys`, `runpy`, `pickle`, `importlib`, and every other
/// module: an allowlist, not a denylist.
pub const ALLOWED_GLOBALS: &[(&str, &str)] = &[
    ("_codecs", "encode"),
    ("builtins", "bytearray"),
    ("builtins", "bytes"),
    ("builtins", "complex"),
    ("builtins", "frozenset"),
    ("builtins", "set"),
    ("collections", "OrderedDict"),
    ("copyreg", "_reconstructor"),
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("torch._tensor", "_rebuild_from_type"),
    ("torch._tensor", "_rebuild_from_type_v2"),
    ("torch._utils", "_rebuild_device_tensor_from_numpy"),
    ("torch._utils", "_rebuild_meta_tensor_no_storage"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"),
    ("torch._utils", "_rebuild_qtensor"),
    ("torch._utils", "_rebuild_sparse_tensor"),
    ("torch._utils", "_rebuild_tensor"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_tensor_v3"),
    ("torch.serialization", "_get_layout"),
    ("torch.storage", "TypedStorage"),
    ("torch.storage", "UntypedStorage"),
];

/// Names in the `torch` module itself that are plain values, storage types
/// or legacy tensor types (`torch.float32`, `torch.FloatStorage`,
/// `torch.Size`, `torch.FloatTensor`, which legacy tar checkpoints name as
/// each tensor's original type), …).
const TORCH_VALUES: &[&str] = &[
    "BFloat16Storage",
    "BFloat16Tensor",
    "BoolStorage",
    "BoolTensor",
    "ByteStorage",
    "ByteTensor",
    "CharStorage",
    "CharTensor",
    "ComplexDoubleStorage",
    "ComplexFloatStorage",
    "DoubleStorage",
    "DoubleTensor",
    "FloatStorage",
    "FloatTensor",
    "HalfStorage",
    "HalfTensor",
    "IntStorage",
    "IntTensor",
    "LongStorage",
    "LongTensor",
    "QInt32Storage",
    "QInt8Storage",
    "QUInt2x4Storage",
    "QUInt4x2Storage",
    "QUInt8Storage",
    "ShortStorage",
    "ShortTensor",
    "Size",
    "TypedStorage",
    "UntypedStorage",
    "bfloat16",
    "bool",
    "cdouble",
    "cfloat",
    "chalf",
    "channels_last",
    "channels_last_3d",
    "complex128",
    "complex32",
    "complex64",
    "contiguous_format",
    "device",
    "double",
    "float",
    "float16",
    "float32",
    "float4_e2m1fn_x2",
    "float64",
    "float8_e4m3fn",
    "float8_e4m3fnuz",
    "float8_e5m2",
    "float8_e5m2fnuz",
    "float8_e8m0fnu",
    "half",
    "int",
    "int16",
    "int32",
    "int64",
    "int8",
    "long",
    "per_channel_affine",
    "per_channel_affine_float_qparams",
    "per_channel_symmetric",
    "per_tensor_affine",
    "per_tensor_symmetric",
    "preserve_format",
    "qint32",
    "qint8",
    "quint2x4",
    "quint4x2",
    "quint8",
    "short",
    "sparse_bsc",
    "sparse_bsr",
    "sparse_coo",
    "sparse_csc",
    "sparse_csr",
    "strided",
    "uint16",
    "uint32",
    "uint64",
    "uint8",
];

/// Whether `module.name` may be imported. Inside a TorchScript archive the
/// C++ unpickler also resolves `__torch__.*` classes (compiled TorchScript,
/// reported separately as code) and `torch.jit._pickle` list builders.
pub fn is_allowed(module: &str, name: &str, torchscript: bool) -> bool {
    if ALLOWED_GLOBALS.binary_search(&(module, name)).is_ok() {
        return true;
    }
    if module == "torch" && TORCH_VALUES.binary_search(&name).is_ok() {
        return true;
    }
    if torchscript {
        if module == "__torch__" || module.starts_with("__torch__.") {
            return true;
        }
        if module == "torch.jit._pickle" {
            return matches!(
                name,
                "build_intlist"
                    | "build_tensorlist"
                    | "build_doublelist"
                    | "build_boollist"
                    | "build_tensor_from_id"
                    | "restore_type_tag"
            );
        }
    }
    false
}

/// `_compat_pickle.IMPORT_MAPPING` for the module names that matter here.
fn compat_module(m: &str) -> Option<&'static str> {
    Some(match m {
        "__builtin__" => "builtins",
        "copy_reg" => "copyreg",
        "exceptions" => "builtins",
        "cPickle" => "pickle",
        "commands" => "subprocess",
        "Queue" => "queue",
        "repr" => "reprlib",
        "thread" => "_thread",
        "cStringIO" | "StringIO" => "io",
        "urllib2" => "urllib.request",
        "httplib" => "http.client",
        "SocketServer" => "socketserver",
        "ConfigParser" => "configparser",
        "Tkinter" => "tkinter",
        "_winreg" => "winreg",
        "dbm" => "dbm.ndbm",
        "anydbm" | "whichdb" => "dbm",
        "gdbm" => "dbm.gnu",
        "xmlrpclib" => "xmlrpc.client",
        "cookielib" => "http.cookiejar",
        "htmlentitydefs" => "html.entities",
        "HTMLParser" => "html.parser",
        "urlparse" => "urllib.parse",
        "robotparser" => "urllib.robotparser",
        "UserDict" | "UserList" | "UserString" => "collections",
        _ => return None,
    })
}

/// `_compat_pickle.NAME_MAPPING` entries (a few that rename builtins).
fn compat_name(m: &str, n: &str) -> Option<(&'static str, &'static str)> {
    Some(match (m, n) {
        ("__builtin__", "xrange") => ("builtins", "range"),
        ("__builtin__", "reduce") => ("functools", "reduce"),
        ("__builtin__", "intern") => ("sys", "intern"),
        ("__builtin__", "unichr") => ("builtins", "chr"),
        ("__builtin__", "unicode") => ("builtins", "str"),
        ("__builtin__", "long") => ("builtins", "int"),
        ("__builtin__", "basestring") => ("builtins", "str"),
        ("itertools", "izip") => ("builtins", "zip"),
        ("itertools", "imap") => ("builtins", "map"),
        ("itertools", "ifilter") => ("builtins", "filter"),
        ("UserDict", "IterableUserDict") => ("collections", "UserDict"),
        _ => return None,
    })
}

/// Options for one pickle walk.
#[derive(Debug, Clone, Copy, Default)]
pub struct PickleOptions {
    /// The bytes are known to be a pickle (by content or by the container's
    /// rules): a first pickle that cannot be parsed is a finding. Otherwise
    /// (a sniffed zip member, a trial parse of an unknown file) a stream that
    /// breaks without importing anything is just not a pickle.
    pub strict: bool,
    /// Inside a TorchScript archive: `__torch__.*` classes are allowed.
    pub torchscript: bool,
    /// The total length of the stream, when known: a FRAME longer than the
    /// rest of the data fails at the FRAME, as in the unpickler.
    pub total: Option<u64>,
}

/// What the walk found.
#[derive(Debug, Default)]
pub struct PickleReport {
    pub findings: Vec<Finding>,
    /// Whether the bytes are a pickle: a complete stream, or any import.
    pub is_pickle: bool,
    /// Complete pickles read (ending in STOP).
    pub pickles: usize,
    /// Every global imported (after renaming), allowed or not.
    pub imports: BTreeSet<String>,
    /// Whether the stream has FRAME opcodes (it was walked twice).
    pub framed: bool,
    /// An opcode straddles a frame boundary, a frame nests, or a pickle
    /// stops before its frame ends (the two readings may differ).
    pub frame_anomaly: bool,
    /// The data ended in the middle of a pickle.
    pub truncated: bool,
    /// The data ended right after a STOP (nothing but pickles in it).
    pub clean_end: bool,
}

/// How many bytes of a string are kept for name matching.
const KEEP_STR: usize = 64 * 1024;
/// Total bytes of strings kept across the memo and stack.
const KEEP_BUDGET: usize = 64 * 1024 * 1024;
/// Maximum stack, mark-stack and memo sizes.
const MAX_ITEMS: usize = 1 << 22;
/// Findings of one code kept per walk (the rest are counted in the last).
const MAX_FINDINGS_PER_CODE: usize = 64;

/// Walk the pickles in a stream. `open` returns a fresh reader over the same
/// bytes each time (the walk may read twice, once per framing reading).
pub fn scan<'a>(
    open: &mut dyn FnMut() -> io::Result<Box<dyn Read + 'a>>,
    opts: PickleOptions,
) -> io::Result<PickleReport> {
    let mut report = walk(open()?, Mode::Sequential, opts)?;
    // Without a read across a frame boundary, a nested frame or a STOP
    // before its frame's end, the buffered reading sees the same bytes in
    // the same order: only then is one walk enough.
    if report.frame_anomaly {
        let second = walk(open()?, Mode::Buffered, opts)?;
        report.is_pickle |= second.is_pickle;
        report.imports.extend(second.imports);
        for f in second.findings {
            if !report
                .findings
                .iter()
                .any(|g| g.code == f.code && g.subject == f.subject)
            {
                report.findings.push(f);
            }
        }
    }
    report.findings.sort();
    Ok(report)
}

/// Walk a byte slice (tests, fuzzing).
pub fn scan_bytes(data: &[u8], opts: PickleOptions) -> PickleReport {
    let opts = PickleOptions {
        total: Some(data.len() as u64),
        ..opts
    };
    let mut open = || -> io::Result<Box<dyn Read + '_>> { Ok(Box::new(data)) };
    // Reading from memory cannot fail.
    scan(&mut open, opts).unwrap_or_default()
}

/// Whether `head` (the first bytes of some data) could begin a pickle:
/// walking it does not hit an error before the bytes run out.
pub fn could_start(head: &[u8]) -> bool {
    let opts = PickleOptions::default();
    match walk(Box::new(head), Mode::Sequential, opts) {
        Ok(r) => r.is_pickle || r.truncated,
        Err(_) => false,
    }
}

/// How FRAME is read (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `pickle.loads(bytes)`, or a peekable file: frames do not change what
    /// is read.
    Sequential,
    /// A file without `peek` (`io.BytesIO`): the frame is the buffer, and a
    /// read past its end drops the rest of it.
    Buffered,
}

/// Why a walk stopped.
enum Stop {
    /// Clean end of data at an opcode boundary.
    Eof,
    /// The data ended inside an opcode or before STOP.
    Truncated,
    /// The unpickler would raise here (the message says why).
    Error(String),
    /// An analysis limit was reached.
    Limit(String),
    Io(io::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            Stop::Truncated
        } else {
            Stop::Io(e)
        }
    }
}

type R<T> = Result<T, Stop>;

fn err<T>(msg: impl Into<String>) -> R<T> {
    Err(Stop::Error(msg.into()))
}

#[derive(Clone)]
enum V {
    /// A `str` whose text is known (possibly cut at [`KEEP_STR`]).
    Str(Rc<str>),
    /// A `str` too long, or over the budget, to keep.
    OpaqueStr,
    /// An imported global (`module.name`).
    Global(Rc<str>),
    /// Something computed while loading (a call's result, a persistent
    /// object): its type is unknown.
    Dyn,
    /// A known value that is not a `str` (numbers, bytes, containers, None).
    Other,
}

/// Reads the stream the way the C unpickler does in the given mode.
struct Input<B> {
    r: B,
    pos: u64,
    mode: Mode,
    /// End of the current frame's buffer.
    frame_end: Option<u64>,
    total: Option<u64>,
    /// Offsets where an opcode straddled a frame or a frame nested.
    framing: Vec<u64>,
    saw_frame: bool,
}

impl<B: BufRead> Input<B> {
    /// Skip exactly `n` bytes.
    fn discard(&mut self, mut n: u64) -> R<()> {
        while n > 0 {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
            }
            let k = buf.len().min(usize::try_from(n).unwrap_or(usize::MAX));
            self.r.consume(k);
            self.pos += k as u64;
            n -= k as u64;
        }
        Ok(())
    }

    /// Before a fixed-size read of `n` bytes the unpickler serves from its
    /// buffer (`_Unpickler_Read`): in buffered mode, a read running past the
    /// frame's end drops what is left of the frame.
    fn enter_read(&mut self, n: u64, at: u64) -> R<()> {
        if let Some(end) = self.frame_end {
            if self.pos >= end {
                self.frame_end = None;
            } else if self.pos.saturating_add(n) > end {
                self.framing.push(at);
                if self.mode == Mode::Buffered {
                    let drop = end - self.pos;
                    self.discard(drop)?;
                }
                self.frame_end = None;
            }
        }
        Ok(())
    }

    /// `_Unpickler_ReadInto` (bytes payloads): continues across the frame
    /// end in both modes.
    fn enter_read_into(&mut self, n: u64, at: u64) {
        if let Some(end) = self.frame_end {
            if self.pos >= end {
                self.frame_end = None;
            } else if self.pos.saturating_add(n) > end {
                self.framing.push(at);
                self.frame_end = None;
            }
        }
    }

    fn read_arg<const N: usize>(&mut self, at: u64) -> R<[u8; N]> {
        self.enter_read(N as u64, at)?;
        let mut b = [0u8; N];
        self.r.read_exact(&mut b)?;
        self.pos += N as u64;
        Ok(b)
    }

    fn read_u8(&mut self, at: u64) -> R<u8> {
        Ok(self.read_arg::<1>(at)?[0])
    }

    /// Read `n` bytes of data, keeping them if `n <= keep`.
    fn read_data(&mut self, n: u64, keep: usize, into: bool, at: u64) -> R<Option<Vec<u8>>> {
        if into {
            self.enter_read_into(n, at);
        } else {
            self.enter_read(n, at)?;
        }
        if let Some(total) = self.total
            && self.pos.saturating_add(n) > total
        {
            return Err(Stop::Truncated);
        }
        if n <= keep as u64 {
            let mut v = vec![0u8; n as usize];
            self.r.read_exact(&mut v)?;
            self.pos += n;
            Ok(Some(v))
        } else {
            self.discard(n)?;
            Ok(None)
        }
    }

    /// Read a line (`_Unpickler_Readline`), without its newline. Keeps at
    /// most `keep` bytes; the bool says whether the line was longer.
    fn read_line(&mut self, keep: usize, at: u64) -> R<(Vec<u8>, bool)> {
        if let Some(end) = self.frame_end {
            if self.pos >= end {
                self.frame_end = None;
            } else if self.mode == Mode::Buffered {
                // The line must end inside the buffer; if not, the rest of
                // the buffer is dropped and the line is read from the file.
                let (line, long, ended) = self.scan_line(keep, Some(end - self.pos))?;
                if ended {
                    return Ok((line, long));
                }
                self.framing.push(at);
                self.frame_end = None;
                let (line, long, ended) = self.scan_line(keep, None)?;
                return if ended {
                    Ok((line, long))
                } else {
                    Err(Stop::Truncated)
                };
            }
        }
        let start = self.pos;
        let (line, long, ended) = self.scan_line(keep, None)?;
        if !ended {
            return Err(Stop::Truncated);
        }
        if let Some(end) = self.frame_end
            && start < end
            && self.pos > end
        {
            self.framing.push(at);
            self.frame_end = None;
        }
        Ok((line, long))
    }

    /// Consume bytes up to and including `\n`, at most `limit` bytes.
    /// Returns (kept bytes without the newline, longer than keep, found).
    fn scan_line(&mut self, keep: usize, limit: Option<u64>) -> R<(Vec<u8>, bool, bool)> {
        let mut out = Vec::new();
        let mut long = false;
        let mut left = limit.unwrap_or(u64::MAX);
        loop {
            if left == 0 {
                return Ok((out, long, false));
            }
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                return Ok((out, long, false));
            }
            let span = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let (take, found) = match memchr::memchr(b'\n', &buf[..span]) {
                Some(i) => (i + 1, true),
                None => (span, false),
            };
            let content = if found {
                &buf[..take - 1]
            } else {
                &buf[..take]
            };
            let room = keep.saturating_sub(out.len());
            if content.len() > room {
                long = true;
            }
            out.extend_from_slice(&content[..content.len().min(room)]);
            self.r.consume(take);
            self.pos += take as u64;
            left -= take as u64;
            if found {
                return Ok((out, long, true));
            }
        }
    }

    /// FRAME: `_Unpickler_Read(frame_len)` then rewind.
    fn frame(&mut self, len: u64, at: u64) -> R<()> {
        self.saw_frame = true;
        if let Some(total) = self.total
            && self.pos.saturating_add(len) > total
        {
            return err(format!(
                "FRAME of {len} bytes runs past the end of the data"
            ));
        }
        match (self.mode, self.frame_end) {
            (Mode::Buffered, Some(end)) if self.pos < end => {
                if self.pos.saturating_add(len) <= end {
                    // Served from the current buffer: nothing changes.
                    self.framing.push(at);
                    return Ok(());
                }
                self.framing.push(at);
                let drop = end - self.pos;
                self.discard(drop)?;
            }
            (Mode::Sequential, Some(end)) if self.pos < end => self.framing.push(at),
            _ => {}
        }
        self.frame_end = Some(self.pos.saturating_add(len));
        Ok(())
    }
}

/// The unpickler's memo: dense for the small indices picklers write,
/// a map beyond. `len` counts the occupied slots (what `MEMOIZE` uses).
#[derive(Default)]
struct Memo {
    dense: Vec<Option<V>>,
    sparse: HashMap<u64, V>,
    len: usize,
}

impl Memo {
    const DENSE: u64 = 1 << 16;

    fn get(&self, idx: u64) -> Option<&V> {
        if idx < Self::DENSE {
            self.dense.get(idx as usize).and_then(Option::as_ref)
        } else {
            self.sparse.get(&idx)
        }
    }

    fn put(&mut self, idx: u64, v: V) {
        let fresh = if idx < Self::DENSE {
            let i = idx as usize;
            if i >= self.dense.len() {
                self.dense.resize(i + 1, None);
            }
            self.dense[i].replace(v).is_none()
        } else {
            self.sparse.insert(idx, v).is_none()
        };
        if fresh {
            self.len += 1;
        }
    }

    /// Keep `newer`'s entries over this one's.
    fn absorb(&mut self, newer: Memo) {
        for (i, v) in newer.dense.into_iter().enumerate() {
            if let Some(v) = v {
                self.put(i as u64, v);
            }
        }
        for (i, v) in newer.sparse {
            self.put(i, v);
        }
    }
}

struct Walker<B> {
    input: Input<B>,
    opts: PickleOptions,
    stack: Vec<V>,
    marks: Vec<usize>,
    memo: Memo,
    /// The memo of the pickles before this one in the stream.
    old_memo: Memo,
    proto: u8,
    kept: usize,
    findings: Vec<Finding>,
    imports: BTreeSet<String>,
    /// Whether the current pickle imported anything (or found anything).
    signal: bool,
}

fn walk(reader: Box<dyn Read + '_>, mode: Mode, opts: PickleOptions) -> io::Result<PickleReport> {
    let mut w = Walker {
        input: Input {
            r: BufReader::with_capacity(64 * 1024, reader),
            pos: 0,
            mode,
            frame_end: None,
            total: opts.total,
            framing: Vec::new(),
            saw_frame: false,
        },
        opts,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: Memo::default(),
        old_memo: Memo::default(),
        proto: 0,
        kept: 0,
        findings: Vec::new(),
        imports: BTreeSet::new(),
        signal: false,
    };
    let mut report = PickleReport::default();
    let mut index = 0usize;
    loop {
        let start = w.input.pos;
        w.stack.clear();
        w.marks.clear();
        w.proto = 0;
        w.signal = false;
        let findings_before = w.findings.len();
        let outcome = w.one_pickle();
        match outcome {
            Ok(()) => {
                report.pickles += 1;
                report.is_pickle = true;
                // In buffered mode the file position after `load()` is the
                // end of the frame buffer, not the byte after STOP.
                if let (Mode::Buffered, Some(end)) = (mode, w.input.frame_end)
                    && w.input.pos < end
                {
                    let drop = end - w.input.pos;
                    if w.input.discard(drop).is_err() {
                        break;
                    }
                }
                w.input.frame_end = None;
                let old = std::mem::take(&mut w.memo);
                w.old_memo.absorb(old);
            }
            Err(Stop::Eof) if w.input.pos == start => {
                if index == 0 && opts.strict {
                    w.findings.push(Finding::new(
                        Code::PickleMalformed,
                        Some(start),
                        "empty pickle stream",
                    ));
                }
                break;
            }
            Err(Stop::Io(e)) => return Err(e),
            Err(stop) => {
                let (code, msg) = match stop {
                    Stop::Limit(m) => (Code::PickleLimit, m),
                    Stop::Error(m) => (Code::PickleMalformed, m),
                    Stop::Eof | Stop::Truncated => {
                        report.truncated = true;
                        (
                            Code::PickleMalformed,
                            "pickle data was truncated".to_string(),
                        )
                    }
                    Stop::Io(_) => unreachable_io(),
                };
                let signal = w.signal;
                let report_break = signal || (index == 0 && opts.strict);
                if signal {
                    report.is_pickle = true;
                }
                if report_break {
                    let what = if index == 0 {
                        "pickle".to_string()
                    } else {
                        format!("pickle #{} in the stream", index + 1)
                    };
                    w.findings.push(Finding::new(
                        code,
                        Some(w.input.pos),
                        format!("{what} breaks at byte {}: {msg}", w.input.pos),
                    ));
                } else {
                    // Not a pickle (or trailing data after the last one):
                    // nothing in it could have run.
                    w.findings.truncate(findings_before);
                }
                break;
            }
        }
        index += 1;
        if w.input.r.fill_buf()?.is_empty() {
            report.clean_end = true;
            break;
        }
    }
    let framing = std::mem::take(&mut w.input.framing);
    report.frame_anomaly = !framing.is_empty();
    if let Some(&at) = framing.first() {
        w.findings.push(Finding::new(
            Code::PickleFraming,
            Some(at),
            format!(
                "opcode data straddles a FRAME boundary or a frame opens inside another ({} place{}); \
                 pickle.load(file) and pickle.loads(bytes) read such a stream differently",
                framing.len(),
                if framing.len() == 1 { "" } else { "s" }
            ),
        ));
    }
    report.framed = w.input.saw_frame;
    if report.pickles == 0 {
        report.clean_end = false;
    }
    report.imports = w.imports;
    report.findings = cap_findings(w.findings);
    Ok(report)
}

fn unreachable_io() -> (Code, String) {
    (Code::PickleMalformed, "read error".into())
}

/// Keep at most [`MAX_FINDINGS_PER_CODE`] findings per code.
fn cap_findings(mut v: Vec<Finding>) -> Vec<Finding> {
    v.sort_by_key(|f| (f.code, f.offset));
    let mut out: Vec<Finding> = Vec::with_capacity(v.len());
    let mut run = 0usize;
    let mut dropped = 0usize;
    for f in v {
        let same = out.last().is_some_and(|l| l.code == f.code);
        run = if same { run + 1 } else { 1 };
        if run > MAX_FINDINGS_PER_CODE {
            dropped += 1;
            continue;
        }
        if !same && dropped > 0 {
            note_dropped(&mut out, dropped);
            dropped = 0;
        }
        out.push(f);
    }
    if dropped > 0 {
        note_dropped(&mut out, dropped);
    }
    out
}

fn note_dropped(out: &mut [Finding], n: usize) {
    if let Some(last) = out.last_mut() {
        last.reason.push_str(&format!(" (and {n} more like it)"));
    }
}

impl<B: BufRead> Walker<B> {
    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn underflow<T>(&self) -> R<T> {
        if self.marks.is_empty() {
            err("unpickling stack underflow")
        } else {
            err("unexpected MARK found")
        }
    }

    fn push(&mut self, v: V) -> R<()> {
        if self.stack.len() >= MAX_ITEMS {
            return Err(Stop::Limit(format!(
                "more than {MAX_ITEMS} items on the unpickling stack"
            )));
        }
        self.stack.push(v);
        Ok(())
    }

    fn pop(&mut self) -> R<V> {
        if self.stack.len() <= self.fence() {
            return self.underflow();
        }
        Ok(self.stack.pop().unwrap_or(V::Other))
    }

    fn top(&self) -> R<V> {
        if self.stack.len() <= self.fence() {
            return self.underflow();
        }
        Ok(self.stack.last().cloned().unwrap_or(V::Other))
    }

    /// `marker()`: pop the top mark, returning the stack size it recorded.
    fn marker(&mut self) -> R<usize> {
        match self.marks.pop() {
            Some(m) => Ok(m),
            None => err("could not find MARK"),
        }
    }

    /// `Pdata_poptuple(start)` / `Pdata_poplist(start)`.
    fn pop_to(&mut self, start: usize) -> R<()> {
        if start < self.fence() || start > self.stack.len() {
            return self.underflow();
        }
        self.stack.truncate(start);
        Ok(())
    }

    fn memo_put(&mut self, idx: u64, v: V) -> R<()> {
        if self.memo.len >= MAX_ITEMS && self.memo.get(idx).is_none() {
            return Err(Stop::Limit(format!("more than {MAX_ITEMS} memo entries")));
        }
        self.memo.put(idx, v);
        Ok(())
    }

    fn memo_get(&self, idx: u64) -> R<V> {
        match self.memo.get(idx).or_else(|| self.old_memo.get(idx)) {
            Some(v) => Ok(v.clone()),
            None => err(format!("Memo value not found at index {idx}")),
        }
    }

    /// Make a `str` value, keeping its text within the budget.
    fn make_str(&mut self, text: Option<String>) -> V {
        match text {
            Some(t) if self.kept + t.len() <= KEEP_BUDGET => {
                self.kept += t.len();
                V::Str(Rc::from(t))
            }
            _ => V::OpaqueStr,
        }
    }

    /// Make a `str` value from UTF-8 bytes (decoded leniently).
    fn make_str_utf8(&mut self, data: Option<Vec<u8>>) -> V {
        match data {
            Some(d) if self.kept + d.len() <= KEEP_BUDGET => {
                self.kept += d.len();
                match std::str::from_utf8(&d) {
                    Ok(t) => V::Str(Rc::from(t)),
                    Err(_) => V::Str(Rc::from(String::from_utf8_lossy(&d).as_ref())),
                }
            }
            _ => V::OpaqueStr,
        }
    }

    fn finding(&mut self, code: Code, at: u64, subject: Option<String>, reason: String) {
        if let Some(s) = &subject
            && self
                .findings
                .iter()
                .any(|f| f.code == code && f.subject.as_deref() == Some(s.as_str()))
        {
            return;
        }
        let mut f = Finding::new(code, Some(at), reason);
        f.subject = subject;
        self.findings.push(f);
    }

    /// `find_class(module, name)`: record the import and check it.
    fn find_class(&mut self, module: &str, name: &str, at: u64, via: &str) -> V {
        // Only a name Python could import counts as evidence that bytes
        // which merely might be a pickle are one (raw tensor data after a
        // legacy checkpoint's pickles can contain a `c`).
        let importable = is_dotted_identifier(module) && is_dotted_identifier(name);
        if importable {
            self.signal = true;
        }
        let (m, n) = if self.proto < 3 {
            match compat_name(module, name) {
                Some((m, n)) => (m.to_string(), n.to_string()),
                None => (
                    compat_module(module).unwrap_or(module).to_string(),
                    name.to_string(),
                ),
            }
        } else {
            (module.to_string(), name.to_string())
        };
        let full = format!("{m}.{n}");
        if importable && self.imports.len() < 10_000 {
            self.imports.insert(full.clone());
        }
        if !is_allowed(&m, &n, self.opts.torchscript) {
            let renamed = if m != module || n != name {
                format!(" (written as {module}.{name})")
            } else {
                String::new()
            };
            let dotted = if n.contains('.') {
                format!("; `{n}` is an attribute path inside `{m}`")
            } else {
                String::new()
            };
            let reason = format!(
                "{via} imports `{}`{renamed}{dotted}, which is not on the allowlist of tensor-rebuilding globals",
                printable(&full)
            );
            self.finding(Code::PickleGlobal, at, Some(printable(&full)), reason);
        }
        V::Global(Rc::from(full))
    }

    /// A call (`REDUCE`, `NEWOBJ`, `OBJ`) on `callable`.
    fn call(&mut self, callable: V, at: u64, op: &str) -> R<()> {
        match callable {
            V::Global(_) => {}
            V::Dyn => self.finding(
                Code::PickleDynamicCall,
                at,
                None,
                format!("{op} calls an object computed while loading, not an imported global"),
            ),
            V::Str(_) | V::OpaqueStr | V::Other => {
                return err(format!("{op} on an object that is not callable"));
            }
        }
        self.push(V::Dyn)
    }

    /// A module or class name line, decoded as the unpickler decodes it
    /// (`GLOBAL`: UTF-8, `INST`: ASCII, both strict): bytes that do not
    /// decode make it raise before anything is imported.
    fn name_line(&mut self, at: u64, ascii: bool) -> R<(String, bool)> {
        let (line, long) = self.input.read_line(KEEP_STR, at)?;
        let ok = if ascii {
            line.is_ascii()
        } else {
            match std::str::from_utf8(&line) {
                Ok(_) => true,
                // A line cut at the kept length may end inside a character.
                Err(e) => long && e.error_len().is_none(),
            }
        };
        if !ok {
            return err(format!(
                "a {} name is not valid {}",
                if ascii { "INST" } else { "GLOBAL" },
                if ascii { "ASCII" } else { "UTF-8" }
            ));
        }
        Ok((String::from_utf8_lossy(&line).into_owned(), long))
    }

    /// Read one pickle up to and including STOP.
    fn one_pickle(&mut self) -> R<()> {
        loop {
            let at = self.input.pos;
            let op = {
                self.input.enter_read(1, at)?;
                let buf = self.input.r.fill_buf()?;
                let Some(&b) = buf.first() else {
                    return Err(Stop::Eof);
                };
                self.input.r.consume(1);
                self.input.pos += 1;
                b
            };
            match op {
                b'(' => {
                    if self.marks.len() >= MAX_ITEMS {
                        return Err(Stop::Limit(format!("more than {MAX_ITEMS} marks")));
                    }
                    self.marks.push(self.stack.len());
                }
                b'.' => {
                    // STOP: load() returns the top of the stack. A frame that
                    // goes on after it is read differently by the two readings.
                    if self.input.frame_end.is_some_and(|end| end > self.input.pos) {
                        self.input.framing.push(at);
                    }
                    self.pop()?;
                    return Ok(());
                }
                b'0' => {
                    let len = self.stack.len();
                    if self.marks.last() == Some(&len) {
                        self.marks.pop();
                    } else if len <= self.fence() {
                        return self.underflow();
                    } else {
                        self.stack.pop();
                    }
                }
                b'1' => {
                    let k = self.marker()?;
                    self.pop_to(k)?;
                }
                b'2' => {
                    let v = self.top()?;
                    self.push(v)?;
                }
                b'F' | b'I' | b'L' => {
                    self.input.read_line(0, at)?;
                    self.push(V::Other)?;
                }
                b'J' => {
                    self.input.read_arg::<4>(at)?;
                    self.push(V::Other)?;
                }
                b'K' => {
                    self.input.read_arg::<1>(at)?;
                    self.push(V::Other)?;
                }
                b'M' => {
                    self.input.read_arg::<2>(at)?;
                    self.push(V::Other)?;
                }
                b'G' => {
                    self.input.read_arg::<8>(at)?;
                    self.push(V::Other)?;
                }
                b'N' | 0x88 | 0x89 | b')' | b']' | b'}' | 0x8f => self.push(V::Other)?,
                0x8a => {
                    let n = self.input.read_u8(at)?;
                    self.input.read_data(u64::from(n), 0, false, at)?;
                    self.push(V::Other)?;
                }
                0x8b => {
                    let n = i32::from_le_bytes(self.input.read_arg::<4>(at)?);
                    if n < 0 {
                        return err("LONG pickle has negative byte count");
                    }
                    self.input.read_data(n as u64, 0, false, at)?;
                    self.push(V::Other)?;
                }
                // SHORT_BINBYTES, BINBYTES, BINBYTES8, BYTEARRAY8
                b'C' | b'B' | 0x8e | 0x96 => {
                    let n = match op {
                        b'C' => u64::from(self.input.read_u8(at)?),
                        b'B' => u64::from(u32::from_le_bytes(self.input.read_arg::<4>(at)?)),
                        _ => size8(self.input.read_arg::<8>(at)?)?,
                    };
                    self.input.read_data(n, 0, true, at)?;
                    self.push(V::Other)?;
                }
                // NEXT_BUFFER: an out-of-band buffer.
                0x97 => self.push(V::Other)?,
                // READONLY_BUFFER
                0x98 => {
                    self.top()?;
                }
                // SHORT_BINSTRING, BINSTRING: decoded with the unpickler's
                // encoding (ASCII by default, UTF-8 under torch.load).
                b'U' | b'T' => {
                    let n = if op == b'U' {
                        u64::from(self.input.read_u8(at)?)
                    } else {
                        u64::from(u32::from_le_bytes(self.input.read_arg::<4>(at)?))
                    };
                    let data = self.input.read_data(n, KEEP_STR, false, at)?;
                    let v = self.make_str(data.map(|d| decode_8bit(&d)));
                    self.push(v)?;
                }
                // STRING: a quoted, backslash-escaped line.
                b'S' => {
                    let (line, long) = self.input.read_line(KEEP_STR, at)?;
                    let text = if long {
                        None
                    } else {
                        let q = line.first().copied();
                        if line.len() < 2
                            || q != line.last().copied()
                            || !matches!(q, Some(b'\'' | b'"'))
                        {
                            return err("the STRING opcode argument must be quoted");
                        }
                        Some(decode_8bit(&decode_escape(&line[1..line.len() - 1])?))
                    };
                    let v = self.make_str(text);
                    self.push(v)?;
                }
                // UNICODE: raw-unicode-escape line.
                b'V' => {
                    let (line, long) = self.input.read_line(KEEP_STR, at)?;
                    let text = if long {
                        None
                    } else {
                        Some(decode_raw_unicode_escape(&line)?)
                    };
                    let v = self.make_str(text);
                    self.push(v)?;
                }
                // SHORT_BINUNICODE, BINUNICODE, BINUNICODE8
                0x8c | b'X' | 0x8d => {
                    let n = match op {
                        0x8c => u64::from(self.input.read_u8(at)?),
                        b'X' => u64::from(u32::from_le_bytes(self.input.read_arg::<4>(at)?)),
                        _ => size8(self.input.read_arg::<8>(at)?)?,
                    };
                    let data = self.input.read_data(n, KEEP_STR, false, at)?;
                    let v = self.make_str_utf8(data);
                    self.push(v)?;
                }
                // TUPLE1..3
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    if self.stack.len() < n {
                        return self.underflow();
                    }
                    self.pop_to(self.stack.len() - n)?;
                    self.push(V::Other)?;
                }
                // TUPLE, LIST, FROZENSET
                b't' | b'l' | 0x91 => {
                    let k = self.marker()?;
                    self.pop_to(k)?;
                    self.push(V::Other)?;
                }
                b'd' => {
                    let k = self.marker()?;
                    if !self.stack.len().saturating_sub(k).is_multiple_of(2) {
                        return err("odd number of items for DICT");
                    }
                    self.pop_to(k)?;
                    self.push(V::Other)?;
                }
                // APPENDS, SETITEMS, ADDITEMS
                b'e' | b'u' | 0x90 => {
                    let k = self.marker()?;
                    let len = self.stack.len();
                    if k > len || k <= self.fence() {
                        return self.underflow();
                    }
                    if op == b'u' && !(len - k).is_multiple_of(2) {
                        return err("odd number of items for SETITEMS");
                    }
                    self.stack.truncate(k);
                }
                b'a' => {
                    let len = self.stack.len();
                    if len == 0 || len - 1 <= self.fence() {
                        return self.underflow();
                    }
                    self.stack.pop();
                }
                b's' => {
                    let len = self.stack.len();
                    if len < 2 || len - 2 <= self.fence() {
                        return self.underflow();
                    }
                    self.stack.truncate(len - 2);
                }
                b'o' => {
                    let k = self.marker()?;
                    if self.stack.len() < k + 1 {
                        return self.underflow();
                    }
                    self.pop_to(k + 1)?;
                    let cls = self.pop()?;
                    self.call(cls, at, "OBJ")?;
                }
                b'i' => {
                    let k = self.marker()?;
                    let (module, long_m) = self.name_line(at, true)?;
                    if module.is_empty() && !long_m {
                        return err("pickle data was truncated");
                    }
                    let (name, long_n) = self.name_line(at, true)?;
                    if name.is_empty() && !long_n {
                        return err("pickle data was truncated");
                    }
                    self.find_class(&module, &name, at, "INST");
                    self.pop_to(k)?;
                    self.push(V::Dyn)?;
                }
                0x81 | 0x92 => {
                    if op == 0x92 {
                        self.pop()?;
                    }
                    self.pop()?;
                    let cls = self.pop()?;
                    self.call(cls, at, if op == 0x81 { "NEWOBJ" } else { "NEWOBJ_EX" })?;
                }
                b'c' => {
                    let (module, long_m) = self.name_line(at, false)?;
                    if module.is_empty() && !long_m {
                        return err("pickle data was truncated");
                    }
                    let (name, long_n) = self.name_line(at, false)?;
                    if name.is_empty() && !long_n {
                        return err("pickle data was truncated");
                    }
                    let v = self.find_class(&module, &name, at, "GLOBAL");
                    self.push(v)?;
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let v = match (&module, &name) {
                        (V::Str(m), V::Str(n)) => {
                            let (m, n) = (m.clone(), n.clone());
                            self.find_class(&m, &n, at, "STACK_GLOBAL")
                        }
                        (V::Dyn | V::OpaqueStr | V::Str(_), V::Dyn | V::OpaqueStr | V::Str(_)) => {
                            let show = |v: &V| match v {
                                V::Str(s) => format!("`{}`", printable(s)),
                                V::OpaqueStr => "a string too long to analyse".to_string(),
                                _ => "a value computed while loading".to_string(),
                            };
                            let reason = format!(
                                "STACK_GLOBAL imports a global whose module is {} and name is {}",
                                show(&module),
                                show(&name)
                            );
                            self.finding(Code::PickleDynamicGlobal, at, None, reason);
                            V::Dyn
                        }
                        _ => return err("STACK_GLOBAL requires str"),
                    };
                    self.push(v)?;
                }
                b'b' => {
                    if self.stack.len() < self.fence() + 2 {
                        return self.underflow();
                    }
                    self.stack.pop();
                    if let Some(V::Global(g)) = self.stack.last() {
                        let g = g.to_string();
                        self.finding(
                            Code::PickleBuildGlobal,
                            at,
                            Some(printable(&g)),
                            format!("BUILD sets attributes on `{}` itself (monkey-patching a class or function)", printable(&g)),
                        );
                    }
                }
                b'g' => {
                    let idx = self.line_index(at)?;
                    let v = self.memo_get(idx)?;
                    self.push(v)?;
                }
                b'h' => {
                    let idx = u64::from(self.input.read_u8(at)?);
                    let v = self.memo_get(idx)?;
                    self.push(v)?;
                }
                b'j' => {
                    let idx = u64::from(u32::from_le_bytes(self.input.read_arg::<4>(at)?));
                    let v = self.memo_get(idx)?;
                    self.push(v)?;
                }
                b'p' => {
                    let (line, _) = self.input.read_line(64, at)?;
                    if line.is_empty() {
                        return err("pickle data was truncated");
                    }
                    let v = self.top()?;
                    let idx = parse_index(&line)
                        .ok_or_else(|| Stop::Error("invalid PUT argument".into()))?;
                    self.memo_put(idx, v)?;
                }
                b'q' => {
                    let idx = u64::from(self.input.read_u8(at)?);
                    let v = self.top()?;
                    self.memo_put(idx, v)?;
                }
                b'r' => {
                    let idx = u64::from(u32::from_le_bytes(self.input.read_arg::<4>(at)?));
                    let v = self.top()?;
                    self.memo_put(idx, v)?;
                }
                0x94 => {
                    let v = self.top()?;
                    let idx = self.memo.len as u64;
                    self.memo_put(idx, v)?;
                }
                b'P' => {
                    self.input.read_line(0, at)?;
                    self.push(V::Dyn)?;
                }
                b'Q' => {
                    self.pop()?;
                    self.push(V::Dyn)?;
                }
                b'R' => {
                    self.pop()?;
                    let callable = self.pop()?;
                    self.call(callable, at, "REDUCE")?;
                }
                0x80 => {
                    let p = self.input.read_u8(at)?;
                    if p > 5 {
                        return err(format!("unsupported pickle protocol: {p}"));
                    }
                    self.proto = p;
                }
                0x95 => {
                    let len = size8(self.input.read_arg::<8>(at)?)?;
                    self.input.frame(len, at)?;
                }
                0x82..=0x84 => {
                    let code: i64 = match op {
                        0x82 => i64::from(self.input.read_u8(at)?),
                        0x83 => i64::from(u16::from_le_bytes(self.input.read_arg::<2>(at)?)),
                        _ => i64::from(i32::from_le_bytes(self.input.read_arg::<4>(at)?)),
                    };
                    if code <= 0 {
                        return err("EXT specifies code <= 0");
                    }
                    self.finding(
                        Code::PickleExtension,
                        at,
                        Some(format!("ext:{code}")),
                        format!("EXT opcode loads global #{code} from the copyreg extension registry, whatever it names at load time"),
                    );
                    self.push(V::Dyn)?;
                }
                _ => {
                    return err(format!("invalid load key, '\\x{op:02x}'"));
                }
            }
        }
    }

    fn line_index(&mut self, at: u64) -> R<u64> {
        let (line, _) = self.input.read_line(64, at)?;
        if line.is_empty() {
            return err("pickle data was truncated");
        }
        parse_index(&line).ok_or_else(|| Stop::Error("invalid memo index".into()))
    }
}

/// `a.b.c` where each part is a Python identifier.
fn is_dotted_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            let mut chars = part.chars();
            chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
                && chars.all(|c| c == '_' || c.is_alphanumeric())
        })
}

/// `calc_binsize` of 8 bytes: larger than `PY_SSIZE_T_MAX` is an error.
fn size8(b: [u8; 8]) -> R<u64> {
    let n = u64::from_le_bytes(b);
    if n > i64::MAX as u64 {
        return err("size exceeds the system's maximum");
    }
    Ok(n)
}

/// A memo index as `PyLong_FromString(s, NULL, 10)` reads it.
fn parse_index(line: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(line).ok()?.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.starts_with('_') || s.ends_with('_') || s.contains("__") {
        return None;
    }
    s.replace('_', "").parse().ok()
}

/// Bytes to text the way a Python 2 `str` would be decoded: UTF-8 when it
/// is valid, else Latin-1 (an `encoding="latin1"` unpickler). Either way a
/// name the allowlist does not hold is reported.
fn decode_8bit(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => b.iter().map(|&c| char::from(c)).collect(),
    }
}

/// `PyBytes_DecodeEscape`: Python 2 string-literal escapes.
fn decode_escape(s: &[u8]) -> R<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = s.get(i) else {
            return err("Trailing \\ in string");
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\\' => out.push(b'\\'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(11),
            b'a' => out.push(7),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match s.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => {
                let h = s.get(i..i + 2).and_then(|h| std::str::from_utf8(h).ok());
                match h.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => return err(format!("invalid \\x escape at position {}", i - 2)),
                }
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

/// `raw_unicode_escape`: only `\uXXXX` and `\UXXXXXXXX` after an odd number
/// of backslashes are escapes; every other byte is Latin-1.
fn decode_raw_unicode_escape(s: &[u8]) -> R<String> {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' {
            out.push(char::from(s[i]));
            i += 1;
            continue;
        }
        let run_start = i;
        while i < s.len() && s[i] == b'\\' {
            i += 1;
        }
        let run = i - run_start;
        let escape = run % 2 == 1 && matches!(s.get(i), Some(b'u' | b'U'));
        let keep = if escape { run - 1 } else { run };
        out.extend(std::iter::repeat_n('\\', keep));
        if escape {
            let digits = if s[i] == b'u' { 4 } else { 8 };
            let hex = s
                .get(i + 1..i + 1 + digits)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u32::from_str_radix(h, 16).ok());
            let Some(cp) = hex else {
                return err("truncated \\uXXXX escape");
            };
            let Some(ch) = char::from_u32(cp) else {
                if cp <= 0x10ffff {
                    // A lone surrogate: representable in Python, never a name
                    // on the allowlist.
                    out.push(char::REPLACEMENT_CHARACTER);
                    i += 1 + digits;
                    continue;
                }
                return err("\\Uxxxxxxxx out of range");
            };
            out.push(ch);
            i += 1 + digits;
        }
    }
    Ok(out)
}

/// A name safe to print on one line.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(200));
    for (n, c) in s.chars().enumerate() {
        if n >= 200 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> PickleOptions {
        PickleOptions {
            strict: true,
            ..Default::default()
        }
    }

    fn codes(r: &PickleReport) -> Vec<(&'static str, Option<String>)> {
        r.findings
            .iter()
            .map(|f| (f.code.id(), f.subject.clone()))
            .collect()
    }

    #[test]
    fn allowlist_is_sorted() {
        assert!(ALLOWED_GLOBALS.windows(2).all(|w| w[0] < w[1]));
        assert!(TORCH_VALUES.windows(2).all(|w| w[0] < w[1]));
        assert!(is_allowed("torch._utils", "_rebuild_tensor_v2", false));
        assert!(is_allowed("torch", "FloatStorage", false));
        assert!(!is_allowed("torch", "load", false));
        assert!(!is_allowed("__torch__.Foo", "Bar", false));
        assert!(is_allowed("__torch__.Foo", "Bar", true));
    }

    #[test]
    fn global_protocol0() {
        let r = scan_bytes(b"cos\nsystem\n(S'echo hi'\ntR.", strict());
        assert_eq!(codes(&r), [("S0101", Some("os.system".into()))]);
        assert!(r.is_pickle);
        assert_eq!(r.pickles, 1);
    }

    #[test]
    fn benign_protocol2_state_dict() {
        // collections.OrderedDict() with protocol 2
        let r = scan_bytes(
            b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01.",
            strict(),
        );
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert!(r.imports.contains("collections.OrderedDict"));
    }

    #[test]
    fn py2_names_are_mapped_below_protocol_3() {
        let r = scan_bytes(b"\x80\x02c__builtin__\nset\n]\x85R.", strict());
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        let r = scan_bytes(b"\x80\x03c__builtin__\nset\n]\x85R.", strict());
        assert_eq!(codes(&r), [("S0101", Some("__builtin__.set".into()))]);
        let r = scan_bytes(b"c__builtin__\neval\n(S'1'\ntR.", strict());
        assert_eq!(codes(&r), [("S0101", Some("builtins.eval".into()))]);
    }

    #[test]
    fn stack_global_through_memo() {
        // SHORT_BINUNICODE 'os' MEMOIZE POP ... BINGET 0, SHORT_BINUNICODE 'system', STACK_GLOBAL
        let p = b"\x80\x04\x8c\x02os\x94\x30\x8c\x05dummy\x30h\x00\x8c\x06system\x93)R.";
        let r = scan_bytes(p, strict());
        assert_eq!(codes(&r), [("S0101", Some("os.system".into()))]);
    }

    #[test]
    fn memoize_index_is_entry_count() {
        // PUT 5 'x'; MEMOIZE on 'os' goes to index 1 (one entry so far).
        let p = b"\x80\x04\x8c\x01xp5\n0\x8c\x02os\x94\x30h\x01\x8c\x06system\x93.";
        let r = scan_bytes(p, strict());
        assert_eq!(codes(&r), [("S0101", Some("os.system".into()))]);
    }

    #[test]
    fn binstring_operands_and_dotted_names() {
        let p = b"\x80\x04U\x07pathlibU\x09os.system\x93.";
        let r = scan_bytes(p, strict());
        assert_eq!(codes(&r), [("S0101", Some("pathlib.os.system".into()))]);
        assert!(r.findings[0].reason.contains("attribute path"));
    }

    #[test]
    fn string_escapes() {
        let p = b"S'o\\x73'\nS'sys\\164em'\n\x93.";
        let r = scan_bytes(p, strict());
        assert_eq!(codes(&r), [("S0101", Some("os.system".into()))]);
        let p = b"V\\u006fs\nVsystem\n\x93.";
        let r = scan_bytes(p, strict());
        assert_eq!(codes(&r), [("S0101", Some("os.system".into()))]);
    }

    #[test]
    fn dynamic_operands() {
        // _codecs.encode('bf', 'rot13') -> 'os' at load time
        let p = b"\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00bfX\x05\x00\x00\x00rot13\x86RX\x06\x00\x00\x00system\x93.";
        let r = scan_bytes(p, strict());
        assert_eq!(codes(&r), [("S0102", None)]);
    }

    #[test]
    fn payload_before_break_is_reported() {
        let r = scan_bytes(b"cos\nsystem\n(S'id'\ntR\xff\xff", strict());
        let c = codes(&r);
        assert!(c.contains(&("S0101", Some("os.system".into()))), "{c:?}");
        assert!(c.iter().any(|(id, _)| *id == "S0110"), "{c:?}");
    }

    #[test]
    fn stacked_pickles() {
        let mut p = b"\x80\x02K\x01.".to_vec();
        p.extend_from_slice(b"\x80\x02cos\nsystem\n.");
        let r = scan_bytes(&p, strict());
        assert_eq!(codes(&r), [("S0101", Some("os.system".into()))]);
        assert_eq!(r.pickles, 2);
    }

    #[test]
    fn trailing_raw_data_is_not_a_finding() {
        let mut p = b"\x80\x02K\x01.".to_vec();
        p.extend_from_slice(&[0x10, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3]);
        let r = scan_bytes(&p, strict());
        assert!(r.findings.is_empty(), "{:?}", r.findings);
    }

    #[test]
    fn not_a_pickle_when_sniffing() {
        let r = scan_bytes(b"(hello world", PickleOptions::default());
        assert!(!r.is_pickle);
        assert!(r.findings.is_empty());
        let r = scan_bytes(b"(hello world", strict());
        assert_eq!(codes(&r)[0].0, "S0110");
    }

    #[test]
    fn fence_is_enforced() {
        // MARK then REDUCE: the callable is below the fence.
        let r = scan_bytes(b"cos\nsystem\n(S'x'\n\x85(R.", strict());
        let c = codes(&r);
        assert!(c.contains(&("S0101", Some("os.system".into()))));
        assert!(
            r.findings
                .iter()
                .any(|f| f.code == Code::PickleMalformed && f.reason.contains("MARK"))
        );
    }

    #[test]
    fn frame_straddle_both_readings() {
        // GLOBAL line straddling a frame end: loads() reads os.system,
        // BytesIO reads os + the line after the frame.
        let body1 = b"cos\nsys";
        let body2 = b"tem\n(S'echo hi'\ntR.";
        let mut p = b"\x80\x04\x95".to_vec();
        p.extend_from_slice(&(body1.len() as u64).to_le_bytes());
        p.extend_from_slice(body1);
        p.extend_from_slice(body2);
        let r = scan_bytes(&p, strict());
        let c = codes(&r);
        assert!(c.contains(&("S0101", Some("os.system".into()))), "{c:?}");
        assert!(c.contains(&("S0101", Some("os.tem".into()))), "{c:?}");
        assert!(c.contains(&("S0111", None)), "{c:?}");
    }

    #[test]
    fn frame_longer_than_data_fails_at_frame() {
        let mut p = b"\x80\x04\x95".to_vec();
        p.extend_from_slice(&(1u64 << 40).to_le_bytes());
        p.extend_from_slice(b"cos\nsystem\n.");
        let r = scan_bytes(&p, strict());
        assert_eq!(codes(&r), [("S0110", None)]);
    }

    #[test]
    fn lying_lengths_do_not_allocate() {
        let mut p = b"\x80\x04\x8d".to_vec();
        p.extend_from_slice(&(u64::MAX / 4).to_le_bytes());
        let r = scan_bytes(&p, strict());
        assert_eq!(codes(&r)[0].0, "S0110");
        let mut p = b"\x80\x04\x8e".to_vec();
        p.extend_from_slice(&(1u64 << 62).to_le_bytes());
        let r = scan_bytes(&p, strict());
        assert_eq!(codes(&r)[0].0, "S0110");
    }

    #[test]
    fn ext_and_build_global() {
        let r = scan_bytes(b"\x80\x02\x82\x01.", strict());
        assert_eq!(codes(&r), [("S0103", Some("ext:1".into()))]);
        let r = scan_bytes(b"\x80\x02ccollections\nOrderedDict\n}b.", strict());
        assert_eq!(
            codes(&r),
            [("S0105", Some("collections.OrderedDict".into()))]
        );
    }

    #[test]
    fn every_data_opcode_is_understood() {
        let mut p: Vec<u8> = b"\x80\x05(".to_vec();
        p.extend_from_slice(b"N\x88\x89I1\nI01\nL12L\nF1.5\nG\x3f\xf0\0\0\0\0\0\0");
        p.extend_from_slice(b"J\x01\0\0\0K\x01M\x01\x00\x8a\x01\x05\x8b\x02\0\0\0\x01\x02");
        p.extend_from_slice(
            b"C\x01aB\x01\0\0\0b\x8e\x01\0\0\0\0\0\0\0c\x96\x01\0\0\0\0\0\0\0d\x98",
        );
        p.extend_from_slice(
            b"U\x01aT\x01\0\0\0bS'c'\nVd\n\x8c\x01eX\x01\0\0\0f\x8d\x01\0\0\0\0\0\0\0g",
        );
        p.extend_from_slice(b")K\x01\x85K\x01K\x02\x86K\x01K\x02K\x03\x87(K\x01t");
        p.extend_from_slice(b"](K\x01ea}(K\x01K\x02uK\x03K\x04s(K\x01K\x02d(K\x01l");
        p.extend_from_slice(b"\x8f(K\x01\x90(K\x01\x91");
        p.extend_from_slice(b"2r\x00\x01\x00\x000j\x00\x01\x00\x00q\x01h\x01p7\ng7\n\x94");
        p.extend_from_slice(b"(K\x01K\x021");
        p.extend_from_slice(b"l.");
        let opts = PickleOptions {
            strict: true,
            ..Default::default()
        };
        let r = scan_bytes(&p, opts);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.pickles, 1);
        assert!(r.clean_end);
        // Persistent ids and NEXT_BUFFER load values the loader supplies.
        let r = scan_bytes(b"\x80\x05Pabc\n0K\x01Q0\x97\x98.", opts);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
    }

    #[test]
    fn inst_and_obj() {
        let r = scan_bytes(b"(S'id'\nios\nsystem\n.", strict());
        assert_eq!(codes(&r), [("S0101", Some("os.system".into()))]);
        let r = scan_bytes(b"(cos\nsystem\nS'id'\no.", strict());
        assert_eq!(codes(&r), [("S0101", Some("os.system".into()))]);
    }
}
