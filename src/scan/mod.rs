//! The unsafe-format scanner.
//!
//! Formats are recognised by content (magic bytes, structure) first and by
//! extension second, and every interpretation a loader could choose is
//! checked: a pickle named `.safetensors` is a pickle, a zip appended to a
//! pickle is opened too. A file that cannot be parsed is a finding, never a
//! pass.
//!
//! # Using it
//!
//! ```no_run
//! use mlprov::scan::{self, ScanOptions, ScanPolicy};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let report = scan::scan_path(std::path::Path::new("model/"), &ScanOptions::default())?;
//! let policy = ScanPolicy::default(); // or ScanPolicy::from(&manifest.policy)
//! let verdict = report.verdict(&policy);
//! if !verdict.pass {
//!     for v in &verdict.violations {
//!         eprintln!("{}: {} ({})", v.file, v.reason, v.fix);
//!     }
//! }
//! // The in-toto predicate for https://mlprov.dev/scan/v1:
//! let predicate = report.predicate(&policy);
//! # let _ = predicate;
//! # Ok(()) }
//! ```
//!
//! * [`scan_path`] scans a file or a directory tree; [`scan_targets`] scans
//!   a given list of files (what `pin` and `build` use, with the digests
//!   they already know).
//! * [`ScanReport::verdict`] applies `[policy] formats.deny` /
//!   `formats.allow` ([`ScanPolicy`]).
//! * [`ScanReport::predicate`] gives the `https://mlprov.dev/scan/v1`
//!   predicate ([`ScanPredicate`]): scanner version, per-file format,
//!   kinds and findings, and the verdict. It is deterministic: files sorted
//!   by path, findings by location.
//!
//! One module per format: [`pickle`], [`zip`], [`torch`] (zip checkpoints,
//! TorchScript, legacy files), [`numpy`], [`keras`], [`safetensors`],
//! [`gguf`], [`code`] (remote code).

pub mod code;
pub mod compress;
pub mod detect;
pub mod finding;
pub mod gguf;
pub mod keras;
pub mod numpy;
pub mod pickle;
mod pystr;
pub mod safetensors;
pub mod source;
pub mod tar;
pub mod template;
pub mod torch;
pub mod zip;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use miette::Diagnostic;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::digest::{Sha256Digest, posix_path_cmp};

pub use detect::{Compression, Format, detect_bytes, detect_file};
pub use finding::{Code, Finding, Kind, Outcome, ScanPolicy, Severity};
use source::{FileSource, ReadAt};

/// The scanner's name in the scan predicate.
pub const SCANNER_NAME: &str = "mlprov-scan";
/// Bumped when a check changes what it reports for the same bytes.
pub const SCANNER_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "+scan.1");

/// JSON files larger than this are data, not configs: not parsed.
const MAX_CONFIG: u64 = 16 * 1024 * 1024;
/// Containers (archives, compressed streams) are opened at most this deep
/// inside one file; deeper is finding `S0805`.
pub const MAX_NESTING: u8 = 4;

/// What one file's scan carries into everything nested in it.
#[derive(Debug, Default)]
pub struct Ctx {
    /// How many containers deep the current bytes are.
    pub depth: u8,
    /// What may still be decompressed for this file.
    pub budget: compress::Budget,
}

/// Settings for a scan.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Also scan `.git/`, `.github/`, `.gitattributes`, `.gitignore` (left
    /// out by default, as in the artifact digest).
    pub include_git: bool,
}

/// One file to scan.
#[derive(Debug, Clone)]
pub struct ScanTarget {
    /// The path recorded in the report (relative POSIX path).
    pub rel: String,
    /// Where to read it.
    pub path: PathBuf,
    /// The file's digest, if the caller knows it (recorded in the predicate).
    pub sha256: Option<Sha256Digest>,
}

/// The result for one file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileReport {
    pub path: String,
    pub size: u64,
    pub sha256: Option<Sha256Digest>,
    /// The format as recognised: `safetensors`, `gguf`, `pickle`,
    /// `pytorch-zip`, `pytorch-legacy`, `torchscript`, `numpy`, `npz`,
    /// `keras`, `keras-h5`, `hdf5`, `zip`, `onnx`, `json`, `python`, `text`,
    /// `unknown`.
    pub format: String,
    /// Format kinds present (`pickle`, `pytorch`, `numpy-object`, …), which
    /// `formats.deny` can refuse even without a finding.
    pub kinds: BTreeSet<Kind>,
    /// Sorted by member, offset, code.
    pub findings: Vec<Finding>,
    /// Claims read from the file (GGUF `general.*`, safetensors metadata).
    pub claims: BTreeMap<String, serde_json::Value>,
    /// Globals its pickles import (allowed or not), sorted.
    pub imports: Vec<String>,
}

/// The result of a scan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScanReport {
    /// Sorted by path (PurePosixPath order).
    pub files: Vec<FileReport>,
    /// Bytes actually read from disk.
    pub bytes_read: u64,
}

/// A scan could not run (not: a file has findings).
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum ScanError {
    #[error("cannot read {path}: {source}")]
    #[diagnostic(
        code(mlprov::scan::io),
        help("check that the path exists and is readable")
    )]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: not a regular file or directory")]
    #[diagnostic(code(mlprov::scan::special), help("scan files and directories only"))]
    Special { path: PathBuf },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ScanError + '_ {
    move |source| ScanError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Scan a file, or every file under a directory. Paths in the report are
/// relative to `root` (a single file is reported under its file name).
/// Symlinks to files are followed (scanning only reads); symlinked
/// directories are not entered.
pub fn scan_path(root: &Path, opts: &ScanOptions) -> Result<ScanReport, ScanError> {
    let meta = std::fs::metadata(root).map_err(io_err(root))?;
    let mut targets = Vec::new();
    if meta.is_file() {
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| root.display().to_string());
        targets.push(ScanTarget {
            rel: name,
            path: root.to_path_buf(),
            sha256: None,
        });
    } else if meta.is_dir() {
        walk(root, "", opts, &mut targets)?;
    } else {
        return Err(ScanError::Special {
            path: root.to_path_buf(),
        });
    }
    scan_targets(&targets)
}

fn walk(
    dir: &Path,
    prefix: &str,
    opts: &ScanOptions,
    out: &mut Vec<ScanTarget>,
) -> Result<(), ScanError> {
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        if !opts.include_git
            && prefix.is_empty()
            && crate::digest::DEFAULT_IGNORES.contains(&name.as_str())
        {
            continue;
        }
        let path = entry.path();
        let ft = entry.file_type().map_err(io_err(&path))?;
        if ft.is_dir() {
            walk(&path, &rel, opts, out)?;
        } else if ft.is_file() || (ft.is_symlink() && path.is_file()) {
            out.push(ScanTarget {
                rel,
                path,
                sha256: None,
            });
        }
    }
    Ok(())
}

/// Scan the given files (in parallel). The report lists them sorted by
/// `rel`.
pub fn scan_targets(targets: &[ScanTarget]) -> Result<ScanReport, ScanError> {
    let counter = AtomicU64::new(0);
    // One file needs no thread pool (and starting one costs more than
    // scanning most headers).
    let mut files = if targets.len() <= 1 {
        targets
            .iter()
            .map(|t| scan_one(t, &counter))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        targets
            .par_iter()
            .map(|t| scan_one(t, &counter))
            .collect::<Result<Vec<_>, _>>()?
    };
    files.sort_by(|a, b| posix_path_cmp(&a.path, &b.path));
    Ok(ScanReport {
        files,
        bytes_read: counter.load(Ordering::Relaxed),
    })
}

fn scan_one(t: &ScanTarget, counter: &AtomicU64) -> Result<FileReport, ScanError> {
    let file = std::fs::File::open(&t.path).map_err(io_err(&t.path))?;
    let src = FileSource::new(file, counter).map_err(io_err(&t.path))?;
    let s = scan_source(&src, &t.rel).map_err(io_err(&t.path))?;
    Ok(s.into_report(t.rel.clone(), src.size(), t.sha256))
}

/// Scan bytes in memory as if they were a file named `name` (fuzzing,
/// tests, and content that is not on disk).
pub fn scan_bytes(data: &[u8], name: &str) -> FileReport {
    match scan_source(&data.to_vec(), name) {
        Ok(s) => s.into_report(name.to_string(), data.len() as u64, None),
        Err(e) => {
            let mut s = Scanned::new("unknown");
            s.push(
                Finding::new(Code::PickleMalformed, None, format!("read error: {e}")),
                "",
            );
            s.into_report(name.to_string(), data.len() as u64, None)
        }
    }
}

/// What scanning one file (or archive) found so far.
#[derive(Debug, Default)]
pub struct Scanned {
    pub format: String,
    pub kinds: BTreeSet<Kind>,
    pub findings: Vec<Finding>,
    pub claims: BTreeMap<String, serde_json::Value>,
    pub imports: BTreeSet<String>,
}

impl Scanned {
    fn new(format: &str) -> Self {
        Self {
            format: format.to_string(),
            ..Default::default()
        }
    }

    /// Add a finding; one without a member gets `member` (when inside an
    /// archive).
    pub fn push(&mut self, mut f: Finding, member: &str) {
        if f.member.is_none() && !member.is_empty() {
            f.member = Some(member.to_string());
        }
        self.findings.push(f);
    }

    /// Merge what was found in nested content (an archive member, a
    /// decompressed stream) labelled `label`: findings without a member get
    /// `label`, findings in a member of it get `label!member`.
    pub fn absorb(&mut self, inner: Scanned, label: &str) {
        self.kinds.extend(inner.kinds);
        self.imports.extend(inner.imports);
        for mut f in inner.findings {
            f.member = Some(match f.member.take() {
                Some(m) if !label.is_empty() => format!("{label}!{m}"),
                Some(m) => m,
                None => label.to_string(),
            })
            .filter(|m| !m.is_empty());
            self.findings.push(f);
        }
    }

    fn into_report(mut self, path: String, size: u64, sha256: Option<Sha256Digest>) -> FileReport {
        self.findings.sort();
        self.findings.dedup();
        FileReport {
            path,
            size,
            sha256,
            format: self.format,
            kinds: self.kinds,
            findings: self.findings,
            claims: self.claims,
            imports: self.imports.into_iter().take(1000).collect(),
        }
    }
}

/// Scan one file, by content first.
pub(crate) fn scan_source(src: &dyn ReadAt, name: &str) -> io::Result<Scanned> {
    scan_content(src, name, &mut Ctx::default())
}

/// Scan bytes found inside another file (an archive member, a
/// decompressed stream) as a file of their own, one container deeper.
pub(crate) fn scan_nested(src: &dyn ReadAt, name: &str, ctx: &mut Ctx) -> io::Result<Scanned> {
    if ctx.depth >= MAX_NESTING {
        let mut s = Scanned::new("unknown");
        s.push(
            Finding::new(
                Code::NestingLimit,
                Some(0),
                format!(
                    "containers nested more than {MAX_NESTING} deep are not opened (the scanner's nesting limit)"
                ),
            ),
            "",
        );
        return Ok(s);
    }
    ctx.depth += 1;
    let r = scan_content(src, name, ctx);
    ctx.depth -= 1;
    r
}

/// A trial walk of data that may be a pickle without saying so (protocol
/// 0/1, or any bytes a loader might unpickle).
fn trial_pickle(src: &dyn ReadAt) -> io::Result<pickle::PickleReport> {
    let size = src.size();
    pickle::scan(
        &mut || Ok(Box::new(source::RangeReader::new(src, 0, size)) as Box<dyn Read + '_>),
        pickle::PickleOptions {
            strict: false,
            torchscript: false,
            total: Some(size),
        },
    )
}

/// Whether a non-strict walk found a pickle: a complete one (ending in
/// STOP), or one that ran something before it broke.
fn found_pickle(r: &pickle::PickleReport) -> bool {
    r.is_pickle
        || !r.imports.is_empty()
        || r.findings.iter().any(|f| f.kind() == Kind::PickleGlobal)
}

fn scan_content(src: &dyn ReadAt, name: &str, ctx: &mut Ctx) -> io::Result<Scanned> {
    let size = src.size();
    let head = source::read_vec_at(src, 0, detect::SNIFF_LEN)?;
    let lower = name.to_ascii_lowercase();
    let mut fmt = detect_bytes(&head, size, base_name(name));
    let mut out = Scanned::new(fmt.as_str());
    let mut handled = false;
    if let Format::Compressed(c) = fmt {
        if scan_compressed(src, name, c, ctx, &mut out)? {
            handled = true;
        } else {
            // A weak signature (zlib, lzma) on bytes that do not decode.
            fmt = detect::plain_format(&head, base_name(name));
            out.format = fmt.as_str().to_string();
        }
    }
    // Content first, extension second: a file named for a format that its
    // bytes do not match is checked as that format, so it is reported as
    // malformed instead of passing as "unknown".
    if matches!(fmt, Format::Unknown | Format::Text) {
        fmt = expected_by_extension(&lower).unwrap_or(fmt);
        out.format = fmt.as_str().to_string();
    }
    // Trust a format's own structure to account for every byte only where
    // the loaders of that extension read that structure.
    let mut tail_check = true;
    // Whether some interpretation already walked the bytes as a pickle.
    let mut walked = false;
    match fmt {
        _ if handled => {}
        Format::Zip => {
            tail_check = false;
            walked = true;
            torch::scan_zip(src, name, "", ctx, &mut out)?;
        }
        Format::Tar => tar::scan_tar(src, "", ctx, &mut out)?,
        Format::Compressed(_) => {}
        Format::Safetensors => {
            tail_check = !lower.ends_with(".safetensors");
            let h = safetensors::scan(src);
            for (k, v) in h.metadata {
                out.claims.insert(
                    format!("safetensors.metadata.{k}"),
                    serde_json::Value::String(v),
                );
            }
            out.findings.extend(h.findings);
        }
        Format::Gguf => {
            tail_check = !lower.ends_with(".gguf");
            let h = gguf::scan(src);
            out.claims.extend(h.claims);
            out.findings.extend(h.findings);
        }
        Format::Numpy => scan_npy(src, &mut out)?,
        Format::Pickle => {
            walked = true;
            if torch::is_legacy_torch(&head) {
                out.format = "pytorch-legacy".into();
                out.kinds.insert(Kind::Pytorch);
            }
            out.kinds.insert(Kind::Pickle);
            scan_pickle(src, true, &mut out)?;
        }
        Format::Hdf5 => {
            let (fs, keras) = keras::scan_h5(src)?;
            if keras {
                out.format = "keras-h5".into();
            }
            out.findings.extend(fs);
        }
        Format::Json => {
            if size <= MAX_CONFIG {
                let text = source::read_vec_at(src, 0, size as usize)?;
                out.findings.extend(code::scan_json(name, &text));
                if memchr::memmem::find(&text, b"class_name").is_some()
                    && let Ok(fs) = keras::scan_json(&text, 0)
                {
                    out.findings.extend(fs);
                }
            }
        }
        Format::Python => out.findings.push(code::python_file(name)),
        Format::Onnx => {}
        Format::Text | Format::Unknown => {
            // A protocol 0/1 pickle has no magic: it is one if it parses as
            // a complete pickle (ending in STOP), or runs something before
            // it breaks. Raw bytes that merely start with an opcode byte are
            // raw data.
            walked = true;
            if pickle::could_start(&head) {
                let r = trial_pickle(src)?;
                if found_pickle(&r) {
                    out.format = "pickle".into();
                    out.kinds.insert(Kind::Pickle);
                    out.imports.extend(r.imports);
                    out.findings.extend(r.findings);
                }
            }
            if out.format == "unknown" {
                out.kinds.insert(Kind::Unknown);
            }
            if lower.ends_with(".py") {
                out.findings.push(code::python_file(name));
            }
        }
    }
    // Whatever the format, bytes that start like a pickle are walked too:
    // a file can be valid as two formats at once, and a loader that fails
    // on one (torch.load on a broken tar) falls back to unpickling.
    if !walked && !handled && pickle::could_start(&head) {
        let r = trial_pickle(src)?;
        if !r.imports.is_empty() || r.findings.iter().any(|f| f.kind() == Kind::PickleGlobal) {
            out.kinds.insert(Kind::Pickle);
            out.imports.extend(r.imports);
            out.findings.extend(r.findings);
        }
    }
    // A zip hidden at the end of another format (zipfile.is_zipfile and
    // loaders choosing by extension would open it).
    if tail_check && size >= 22 && zip::find_eocd(src)?.is_some() {
        out.findings.push(Finding::new(
            Code::ZipPolyglot,
            None,
            format!(
                "a zip archive is appended to this {} file; zip readers open it",
                out.format
            ),
        ));
        let mut inner = Scanned::new("zip");
        torch::scan_zip(src, name, "", ctx, &mut inner)?;
        out.kinds.extend(inner.kinds);
        out.imports.extend(inner.imports);
        out.findings.extend(
            inner
                .findings
                .into_iter()
                .filter(|f| f.code != Code::ZipAmbiguous || f.member.is_some()),
        );
    }
    Ok(out)
}

/// Decompress and scan a compressed stream. `false` when the bytes only
/// looked compressed (a weak signature that does not decode to anything a
/// loader would act on).
fn scan_compressed(
    src: &dyn ReadAt,
    name: &str,
    c: Compression,
    ctx: &mut Ctx,
    out: &mut Scanned,
) -> io::Result<bool> {
    let o = compress::decompress(src, c, &mut ctx.budget)?;
    let data = o.data.as_source();
    let inner_name = strip_compression_ext(name);
    let inner = if data.size() > 0 {
        Some(scan_nested(data, inner_name, ctx)?)
    } else {
        None
    };
    let meaningful = c.strong_magic()
        || (o.complete && data.size() > 0)
        || inner
            .as_ref()
            .is_some_and(|i| !i.findings.is_empty() || i.kinds.contains(&Kind::Pickle));
    if !meaningful {
        return Ok(false);
    }
    let label = format!("[{c}]", c = c.as_str());
    out.format = match &inner {
        Some(i) => format!("{}+{}", c.as_str(), i.format),
        None => c.as_str().to_string(),
    };
    if let Some(why) = &o.error {
        out.push(
            Finding::new(
                Code::CompressedMalformed,
                Some(data.size()),
                format!(
                    "the {} stream is corrupt after {} bytes of output ({why}); loaders stop there, what came before was scanned",
                    c.as_str(),
                    data.size()
                ),
            ),
            "",
        );
    }
    if let Some(limit) = &o.limit {
        out.push(
            Finding::new(
                Code::DecompressionLimit,
                Some(data.size()),
                format!(
                    "the {} stream {limit}; the first {} were scanned, the rest is not inspected",
                    c.as_str(),
                    compress::human(data.size())
                ),
            ),
            "",
        );
    }
    if let Some(i) = inner {
        out.absorb(i, &label);
    }
    Ok(true)
}

/// `model.pkl.gz` → `model.pkl`: the name a decompressed stream is
/// checked under.
fn strip_compression_ext(name: &str) -> &str {
    let lower = name.to_ascii_lowercase();
    for ext in [
        ".gz", ".gzip", ".z", ".zlib", ".bz2", ".xz", ".lzma", ".lz4",
    ] {
        if lower.ends_with(ext) {
            return &name[..name.len() - ext.len()];
        }
    }
    name
}

/// The format a loader would assume from the extension alone. `.bin` is
/// left out: too many formats use it.
fn expected_by_extension(lower: &str) -> Option<Format> {
    let ext = lower.rsplit_once('.')?.1;
    Some(match ext {
        "safetensors" => Format::Safetensors,
        "gguf" => Format::Gguf,
        "npy" => Format::Numpy,
        "npz" | "keras" => Format::Zip,
        "pt" | "pth" | "ckpt" | "pkl" | "pickle" | "joblib" => Format::Pickle,
        _ => return None,
    })
}

fn base_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

fn scan_pickle(src: &dyn ReadAt, strict: bool, out: &mut Scanned) -> io::Result<()> {
    let size = src.size();
    let r = pickle::scan(
        &mut || Ok(Box::new(source::RangeReader::new(src, 0, size)) as Box<dyn Read + '_>),
        pickle::PickleOptions {
            strict,
            torchscript: false,
            total: Some(size),
        },
    )?;
    out.imports.extend(r.imports);
    out.findings.extend(r.findings);
    Ok(())
}

fn scan_npy(src: &dyn ReadAt, out: &mut Scanned) -> io::Result<()> {
    let size = src.size();
    let mut r = source::RangeReader::new(src, 0, size);
    match numpy::read_header(&mut r) {
        Ok(h) if h.object => {
            out.kinds.insert(Kind::NumpyObject);
            out.kinds.insert(Kind::Pickle);
            let off = h.data_offset;
            let rep = pickle::scan(
                &mut || Ok(Box::new(source::RangeReader::new(src, off, size)) as Box<dyn Read + '_>),
                pickle::PickleOptions {
                    strict: true,
                    torchscript: false,
                    total: Some(size.saturating_sub(off)),
                },
            )?;
            out.imports.extend(rep.imports);
            out.findings.extend(rep.findings.into_iter().map(|mut f| {
                f.offset = f.offset.map(|o| o + off);
                f
            }));
        }
        Ok(_) => {}
        Err(why) => out
            .findings
            .push(Finding::new(Code::NumpyMalformed, Some(0), why)),
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Verdict

/// One finding (or a denied format) that decides the verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub file: String,
    /// `None` when a format kind itself is denied.
    pub finding: Option<Finding>,
    pub kind: Kind,
    pub outcome: Outcome,
    /// One line: what is wrong.
    pub reason: String,
    /// One line: how to allow it if it is legitimate, or how to fix it.
    pub fix: String,
}

/// The policy's verdict on a scan.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub pass: bool,
    /// What fails.
    pub violations: Vec<Violation>,
    /// Reported, not failing (low severity, undenied).
    pub warnings: Vec<Violation>,
    /// Findings the policy allows.
    pub allowed: usize,
}

impl ScanReport {
    /// Merge another report (e.g. several command-line paths), prefixing
    /// its paths.
    pub fn extend(&mut self, other: ScanReport, prefix: &str) {
        for mut f in other.files {
            if !prefix.is_empty() {
                f.path = format!("{prefix}/{}", f.path);
            }
            self.files.push(f);
        }
        self.files.sort_by(|a, b| posix_path_cmp(&a.path, &b.path));
        self.bytes_read += other.bytes_read;
    }

    pub fn findings(&self) -> usize {
        self.files.iter().map(|f| f.findings.len()).sum()
    }

    /// Apply a policy.
    pub fn verdict(&self, policy: &ScanPolicy) -> Verdict {
        let mut v = Verdict {
            pass: true,
            violations: Vec::new(),
            warnings: Vec::new(),
            allowed: 0,
        };
        for file in &self.files {
            for k in &file.kinds {
                if policy.denies(*k) {
                    v.violations.push(Violation {
                        file: file.path.clone(),
                        finding: None,
                        kind: *k,
                        outcome: Outcome::Fail,
                        reason: format!("{} file ({}) and `{k}` is denied by policy", file.format, k),
                        fix: format!(
                            "replace it (e.g. convert the weights to safetensors), or remove \"{k}\" from [policy] formats.deny"
                        ),
                    });
                }
            }
            for f in &file.findings {
                let outcome = policy.outcome(f);
                let entry = Violation {
                    file: file.path.clone(),
                    finding: Some(f.clone()),
                    kind: f.kind(),
                    outcome,
                    reason: f.reason.clone(),
                    fix: if policy.denies(f.kind()) {
                        format!(
                            "`{}` is denied by [policy] formats.deny; remove the file or the entry",
                            f.kind()
                        )
                    } else if matches!(f.kind(), Kind::Malformed | Kind::Polyglot) {
                        format!(
                            "the file is damaged or crafted: fetch or rebuild it from a trusted source; to accept it anyway: [policy] formats.allow = [\"{}\"]",
                            f.allow_entry()
                        )
                    } else {
                        format!(
                            "if this is legitimate, allow it in mlprov.toml: [policy] formats.allow = [\"{}\"]",
                            f.allow_entry()
                        )
                    },
                };
                match outcome {
                    Outcome::Fail => v.violations.push(entry),
                    Outcome::Warn => v.warnings.push(entry),
                    Outcome::Allowed => v.allowed += 1,
                }
            }
        }
        v.pass = v.violations.is_empty();
        v
    }

    /// The `https://mlprov.dev/scan/v1` predicate.
    pub fn predicate(&self, policy: &ScanPolicy) -> ScanPredicate {
        let verdict = self.verdict(policy);
        let files = self
            .files
            .iter()
            .map(|f| PredicateFile {
                path: f.path.clone(),
                digest: f
                    .sha256
                    .map(|d| BTreeMap::from([("sha256".to_string(), d.hex())]))
                    .unwrap_or_default(),
                size: f.size,
                format: f.format.clone(),
                kinds: f.kinds.iter().map(|k| k.to_string()).collect(),
                findings: f
                    .findings
                    .iter()
                    .map(|x| PredicateFinding {
                        code: x.code.id().to_string(),
                        name: x.code.name().to_string(),
                        kind: x.kind().to_string(),
                        severity: x.severity(),
                        member: x.member.clone(),
                        offset: x.offset,
                        subject: x.subject.clone(),
                        reason: x.reason.clone(),
                        outcome: policy.outcome(x),
                    })
                    .collect(),
                claims: f.claims.clone(),
            })
            .collect();
        ScanPredicate {
            scanner: ScannerInfo {
                name: SCANNER_NAME.to_string(),
                version: SCANNER_VERSION.to_string(),
            },
            policy: policy.clone(),
            verdict: if verdict.pass { "pass" } else { "fail" }.to_string(),
            summary: Summary {
                files: self.files.len(),
                findings: self.findings(),
                failing: verdict.violations.len(),
                warnings: verdict.warnings.len(),
                allowed: verdict.allowed,
            },
            files,
        }
    }
}

/// The scan attestation predicate (`predicateType`
/// [`crate::intoto::PREDICATE_SCAN`]). Field order is the JSON order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanPredicate {
    pub scanner: ScannerInfo,
    /// The policy the verdict was computed under.
    pub policy: ScanPolicy,
    /// `pass` or `fail`.
    pub verdict: String,
    pub summary: Summary,
    pub files: Vec<PredicateFile>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScannerInfo {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    pub files: usize,
    pub findings: usize,
    pub failing: usize,
    pub warnings: usize,
    pub allowed: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PredicateFile {
    pub path: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digest: BTreeMap<String, String>,
    pub size: u64,
    pub format: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<PredicateFinding>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PredicateFinding {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub reason: String,
    pub outcome: Outcome,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_beats_extension() {
        let r = scan_bytes(
            b"\x80\x04\x95\x0e\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x8c\x06system\x93.",
            "model.safetensors",
        );
        assert_eq!(r.format, "pickle");
        assert_eq!(r.findings[0].code, Code::PickleGlobal);
    }

    /// Raw bytes are raw data, whatever their first byte: only bytes that
    /// parse as a pickle (to STOP, or running something) are a pickle. 256
    /// files per first byte that protocol 0 pickles start with.
    #[test]
    fn raw_bytes_starting_like_protocol_0_are_raw_data() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut flagged = Vec::new();
        for first in *b"(INSV]c}" {
            for i in 0..256 {
                let mut data = vec![first];
                while data.len() < 4096 {
                    data.extend_from_slice(&next().to_le_bytes());
                }
                let r = scan_bytes(&data, &format!("weights-{i}.bin"));
                if !r.findings.is_empty() {
                    flagged.push(format!("{} #{i}: {:?}", char::from(first), r.findings[0]));
                }
            }
        }
        assert!(
            flagged.is_empty(),
            "{} of 2048 flagged: {flagged:?}",
            flagged.len()
        );
    }

    #[test]
    fn predicate_is_deterministic() {
        let a = scan_bytes(b"cos\nsystem\n(S'x'\ntR.", "a.bin");
        let b = scan_bytes(b"{\"x\": 1}", "b.json");
        let r1 = ScanReport {
            files: vec![a.clone(), b.clone()],
            bytes_read: 0,
        };
        let mut r2 = ScanReport::default();
        r2.extend(
            ScanReport {
                files: vec![b, a],
                bytes_read: 0,
            },
            "",
        );
        let p = ScanPolicy::default();
        let j1 = serde_json::to_string(&r1.predicate(&p)).expect("json");
        let j2 = serde_json::to_string(&r2.predicate(&p)).expect("json");
        assert_eq!(j1, j2);
        assert!(j1.contains("\"verdict\":\"fail\""));
    }
}
