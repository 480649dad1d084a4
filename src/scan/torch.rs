//! Archives: PyTorch zip checkpoints, TorchScript, `.npz`, `.keras` and any
//! other zip. Every member is examined by its content, whatever its name:
//! pickles (`data.pkl` or not) are walked, `.npy` members are checked (and
//! their object pickles walked), TorchScript code is reported, nested
//! archives are opened, and a Keras `config.json` is searched for `Lambda`
//! layers. Also: legacy (non-zip) `torch.save` files.

use std::io::{self, Read};

use super::detect::{self, Format};
use super::finding::{Code, Finding, Kind};
use super::pickle::{self, PickleOptions};
use super::source::{ReadAt, Window};
use super::{Ctx, Scanned, compress, keras, numpy, zip};

/// A config member is read into memory up to this.
const MAX_IN_MEMORY: u64 = 64 * 1024 * 1024;
/// How many leading bytes of a member decide its format.
const SNIFF: usize = detect::SNIFF_LEN;

/// The raw bytes legacy `torch.save` starts with: PROTO 2, LONG1 10 bytes of
/// the magic number 0x1950a86a20f9469cfc6c.
const LEGACY_MAGIC: &[u8] = b"\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";

/// Whether a pickle is a legacy torch file.
pub fn is_legacy_torch(head: &[u8]) -> bool {
    head.len() >= 14 && head[0] == 0x80 && head[2..14] == *LEGACY_MAGIC
}

fn base(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// What kind of archive, by its member names. torch finds records with
/// miniz, which compares names case-insensitively; Keras opens
/// `config.json` with zipfile (exact name) and needs nothing else.
fn classify(entries: &[zip::Entry], file_name: &str) -> &'static str {
    let files: Vec<String> = entries
        .iter()
        .filter(|e| !e.is_dir())
        .map(|e| e.name.to_ascii_lowercase())
        .collect();
    let has = |f: &dyn Fn(&str) -> bool| files.iter().any(|n| f(n));
    let torchscript = has(&|n| base(n) == "constants.pkl")
        && has(&|n| n.starts_with("code/") || n.contains("/code/"));
    if torchscript {
        "torchscript"
    } else if has(&|n| base(n) == "data.pkl") {
        "pytorch-zip"
    } else if entries.iter().any(|e| e.name == "config.json") {
        "keras"
    } else if (!files.is_empty() && files.iter().all(|n| n.ends_with(".npy")))
        || file_name.to_ascii_lowercase().ends_with(".npz")
    {
        "npz"
    } else {
        "zip"
    }
}

/// Scan a zip archive into `out` (format, kinds, findings). `prefix` is the
/// member path of this archive inside an outer one.
pub fn scan_zip(
    src: &dyn ReadAt,
    file_name: &str,
    prefix: &str,
    ctx: &mut Ctx,
    out: &mut Scanned,
) -> io::Result<()> {
    let member_name = |n: &str| {
        if prefix.is_empty() {
            n.to_string()
        } else {
            format!("{prefix}!{n}")
        }
    };
    let ar = match zip::read(src) {
        Ok(a) => a,
        Err(f) => {
            out.push(f, prefix);
            return Ok(());
        }
    };
    for f in ar.findings {
        let f = match &f.member {
            Some(m) => {
                let m = member_name(m);
                Finding {
                    member: Some(m),
                    ..f
                }
            }
            None => f,
        };
        out.push(f, prefix);
    }
    let class = classify(&ar.entries, file_name);
    if prefix.is_empty() {
        out.format = class.to_string();
    }
    match class {
        "pytorch-zip" => {
            out.kinds.insert(Kind::Pytorch);
        }
        "torchscript" => {
            out.kinds.insert(Kind::Torchscript);
        }
        _ => {}
    }
    let torchscript = class == "torchscript";
    for e in ar.entries.iter().filter(|e| !e.is_dir()) {
        let m = member_name(&e.name);
        let at = Some(e.header_offset);
        if e.encrypted() {
            out.push(
                Finding::new(
                    Code::ZipUninspectable,
                    at,
                    "member is flagged as encrypted: it cannot be inspected (its bytes are scanned as stored)",
                )
                .in_member(&m),
                "",
            );
        }
        let head = match zip::head(src, e, SNIFF) {
            Ok(h) => h,
            Err(why) => {
                out.push(
                    Finding::new(Code::ZipUninspectable, at, why).in_member(&m),
                    "",
                );
                continue;
            }
        };
        let name = e.name.as_str();
        let lname = name.to_ascii_lowercase();
        if torchscript
            && (lname.starts_with("code/") || lname.contains("/code/"))
            && lname.ends_with(".py")
        {
            out.push(
                Finding::new(
                    Code::TorchscriptCode,
                    at,
                    "TorchScript code member: the model runs it when loaded and called",
                )
                .in_member(&m)
                .with_subject(m.clone()),
                "",
            );
            continue;
        }
        if base(&lname) == "config.json" && !head.starts_with(b"PK") {
            match zip::read_all(src, e, MAX_IN_MEMORY) {
                Ok(text) => match keras::scan_json(&text, 0) {
                    Ok(fs) => fs.into_iter().for_each(|f| out.push(f.in_member(&m), "")),
                    Err(why) if class == "keras" => out.push(
                        Finding::new(
                            Code::KerasMalformed,
                            Some(0),
                            format!("config.json is not JSON: {why}"),
                        )
                        .in_member(&m),
                        "",
                    ),
                    Err(_) => {}
                },
                Err(why) => out.push(
                    Finding::new(Code::ZipUninspectable, at, why).in_member(&m),
                    "",
                ),
            }
            continue;
        }
        if lname.ends_with(".py") {
            out.push(super::code::python_file(&m).in_member(&m), "");
            continue;
        }
        // A `.pkl` member is a pickle by the loaders' rules (torch unpickles
        // `data.pkl` and `constants.pkl` by name, in any letter case).
        let strict = lname.ends_with(".pkl");
        let fmt = detect::detect_bytes(&head, e.read_len(), base(name));
        match fmt {
            Format::Numpy if !strict => {
                scan_npy_member(src, e, &m, out)?;
                continue;
            }
            Format::Zip
            | Format::Tar
            | Format::Compressed(_)
            | Format::Hdf5
            | Format::Gguf
            | Format::Safetensors
                if !strict =>
            {
                scan_member_as_file(src, e, &m, ctx, out)?;
                continue;
            }
            _ => {}
        }
        // Anything else may be a pickle: walk it when its first bytes could
        // start one.
        if !strict && !pickle::could_start(&head) {
            continue;
        }
        let total = (e.method == 0).then(|| e.read_len());
        let mut open = || -> io::Result<Box<dyn Read + '_>> {
            zip::open_entry(src, e).map_err(|w| io::Error::new(io::ErrorKind::InvalidData, w))
        };
        let r = pickle::scan(
            &mut open,
            PickleOptions {
                strict,
                torchscript,
                total,
            },
        );
        match r {
            Ok(r) => {
                if r.is_pickle {
                    out.kinds.insert(Kind::Pickle);
                }
                out.imports.extend(r.imports);
                for f in r.findings {
                    out.push(f.in_member(&m), "");
                }
            }
            Err(err) => out.push(
                Finding::new(
                    Code::ZipUninspectable,
                    at,
                    format!("cannot read member: {err}"),
                )
                .in_member(&m),
                "",
            ),
        }
    }
    Ok(())
}

/// Scan a member that is itself a container or a format of its own (a
/// nested archive, a tar, a compressed stream, HDF5, GGUF, safetensors) as
/// a file. A stored member is read in place; a deflated one is inflated
/// within the file's decompression budget.
fn scan_member_as_file(
    src: &dyn ReadAt,
    e: &zip::Entry,
    m: &str,
    ctx: &mut Ctx,
    out: &mut Scanned,
) -> io::Result<()> {
    if e.method == 0 {
        let w = Window::new(src, e.data_offset, e.read_len());
        let inner = super::scan_nested(&w, &e.name, ctx)?;
        out.absorb(inner, m);
        return Ok(());
    }
    let r = match zip::open_entry(src, e) {
        Ok(r) => r,
        Err(why) => {
            out.push(
                Finding::new(Code::ZipUninspectable, Some(e.header_offset), why).in_member(m),
                "",
            );
            return Ok(());
        }
    };
    let o = compress::materialize(r, e.compressed_size, &mut ctx.budget)?;
    if let Some(why) = &o.error {
        out.push(
            Finding::new(
                Code::ZipUninspectable,
                Some(e.header_offset),
                format!("cannot inflate the member: {why}"),
            )
            .in_member(m),
            "",
        );
    }
    if let Some(limit) = &o.limit {
        out.push(
            Finding::new(
                Code::DecompressionLimit,
                Some(e.header_offset),
                format!("the member {limit}; the rest is not inspected"),
            )
            .in_member(m),
            "",
        );
    }
    let inner = super::scan_nested(o.data.as_source(), &e.name, ctx)?;
    out.absorb(inner, m);
    Ok(())
}

fn scan_npy_member(src: &dyn ReadAt, e: &zip::Entry, m: &str, out: &mut Scanned) -> io::Result<()> {
    let header = zip::open_entry(src, e)
        .map_err(|w| w.to_string())
        .and_then(|mut r| numpy::read_header(&mut r));
    match header {
        Ok(h) if h.object => {
            out.kinds.insert(Kind::NumpyObject);
            out.kinds.insert(Kind::Pickle);
            let mut open = || -> io::Result<Box<dyn Read + '_>> {
                let mut r = zip::open_entry(src, e)
                    .map_err(|w| io::Error::new(io::ErrorKind::InvalidData, w))?;
                io::copy(&mut (&mut r).take(h.data_offset), &mut io::sink())?;
                Ok(r)
            };
            let total = (e.method == 0).then(|| e.compressed_size.saturating_sub(h.data_offset));
            let r = pickle::scan(
                &mut open,
                PickleOptions {
                    strict: true,
                    torchscript: false,
                    total,
                },
            )?;
            out.imports.extend(r.imports);
            for mut f in r.findings {
                f.offset = f.offset.map(|o| o + h.data_offset);
                out.push(f.in_member(m), "");
            }
        }
        Ok(_) => {}
        Err(why) => out.push(
            Finding::new(Code::NumpyMalformed, Some(0), why).in_member(m),
            "",
        ),
    }
    Ok(())
}
