//! Findings: stable codes, kinds, severities, and the policy verdict.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How bad a finding is. `critical`, `high` and `medium` fail by default;
/// `low` is reported for review and fails only when its kind is denied.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Whether a finding of this severity fails when the policy says nothing
    /// about its kind.
    pub fn fails_by_default(self) -> bool {
        self >= Severity::Medium
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a finding (or a file) is about, in the words `[policy] formats.deny`
/// and `formats.allow` use. The names are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// The file (or a member) is a pickle, whatever it imports.
    Pickle,
    /// A PyTorch checkpoint (zip or legacy), which is pickle-based.
    Pytorch,
    /// A TorchScript archive, or one of its code members.
    Torchscript,
    /// A NumPy array of dtype object (a pickle inside `.npy`).
    NumpyObject,
    /// A Keras `Lambda` layer (serialized Python bytecode).
    KerasLambda,
    /// Python code beside the weights, or a config that loads it.
    RemoteCode,
    /// A GGUF chat template (Jinja), reported for review.
    GgufChatTemplate,
    /// A file whose format mlprov does not recognise.
    Unknown,
    /// A pickle imports a global outside the allowlist (or calls something
    /// it cannot know statically).
    PickleGlobal,
    /// A Keras config references a module or function outside `keras`.
    KerasModule,
    /// A file that cannot be parsed, or whose structure lies (lengths,
    /// offsets, framing, duplicate or hidden members).
    Malformed,
    /// A file that is two formats at once (trailing bytes, an appended zip).
    Polyglot,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::Pickle,
        Kind::Pytorch,
        Kind::Torchscript,
        Kind::NumpyObject,
        Kind::KerasLambda,
        Kind::RemoteCode,
        Kind::GgufChatTemplate,
        Kind::Unknown,
        Kind::PickleGlobal,
        Kind::KerasModule,
        Kind::Malformed,
        Kind::Polyglot,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pickle => "pickle",
            Kind::Pytorch => "pytorch",
            Kind::Torchscript => "torchscript",
            Kind::NumpyObject => "numpy-object",
            Kind::KerasLambda => "keras-lambda",
            Kind::RemoteCode => "remote-code",
            Kind::GgufChatTemplate => "gguf-chat-template",
            Kind::Unknown => "unknown",
            Kind::PickleGlobal => "pickle-global",
            Kind::KerasModule => "keras-module",
            Kind::Malformed => "malformed",
            Kind::Polyglot => "polyglot",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $id:literal, $name:literal, $kind:ident, $sev:ident; )*) => {
        /// A stable finding code. The id (`S0101`) and the name
        /// (`pickle-global`) never change meaning; new checks get new codes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The stable id, e.g. `S0101`.
            pub fn id(self) -> &'static str {
                match self { $( Code::$variant => $id, )* }
            }

            /// The code with this id (`S0101`), if it exists.
            pub fn from_id(id: &str) -> Option<Code> {
                Self::ALL.iter().copied().find(|c| c.id() == id)
            }

            /// The stable short name, e.g. `pickle-global`.
            pub fn name(self) -> &'static str {
                match self { $( Code::$variant => $name, )* }
            }

            /// The policy kind the finding belongs to.
            pub fn kind(self) -> Kind {
                match self { $( Code::$variant => Kind::$kind, )* }
            }

            pub fn severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$sev, )* }
            }
        }
    };
}

codes! {
    /// A pickle imports a global that is not on the allowlist.
    PickleGlobal = "S0101", "pickle-global", PickleGlobal, Critical;
    /// `STACK_GLOBAL` takes a module or name computed while loading.
    PickleDynamicGlobal = "S0102", "pickle-dynamic-global", PickleGlobal, Critical;
    /// `EXT1`/`EXT2`/`EXT4` loads a global through the extension registry.
    PickleExtension = "S0103", "pickle-extension", PickleGlobal, Critical;
    /// A call on an object that is not an imported global.
    PickleDynamicCall = "S0104", "pickle-dynamic-call", PickleGlobal, High;
    /// `BUILD` sets attributes on a class or function (monkey-patching).
    PickleBuildGlobal = "S0105", "pickle-build-global", PickleGlobal, Critical;
    /// The opcode stream cannot be parsed as CPython would.
    PickleMalformed = "S0110", "pickle-malformed", Malformed, High;
    /// An opcode straddles a FRAME boundary, or a frame starts inside
    /// another: readers disagree on what such a stream means.
    PickleFraming = "S0111", "pickle-framing", Malformed, High;
    /// The pickle is too large or too deep for the analysis limits.
    PickleLimit = "S0112", "pickle-limit", Malformed, High;
    /// The zip structure is broken (no end record, bad central directory,
    /// bad local header).
    ZipMalformed = "S0201", "zip-malformed", Malformed, High;
    /// Readers disagree about the zip's members: names differ between local
    /// and central headers, duplicate names, members only in local headers,
    /// data before the archive, overlapping members.
    ZipAmbiguous = "S0202", "zip-ambiguous", Malformed, High;
    /// A member cannot be inspected: encrypted, an unsupported compression
    /// method, bad deflate data, or a nested archive too large to open.
    ZipUninspectable = "S0203", "zip-uninspectable", Malformed, High;
    /// A TorchScript archive ships code.
    TorchscriptCode = "S0204", "torchscript-code", Torchscript, Medium;
    /// A zip archive is hidden inside or after another format.
    ZipPolyglot = "S0205", "zip-polyglot", Polyglot, High;
    /// A `.npy` header is malformed.
    NumpyMalformed = "S0301", "numpy-malformed", Malformed, High;
    /// A Keras `Lambda` layer (arbitrary Python bytecode).
    KerasLambda = "S0401", "keras-lambda", KerasLambda, Critical;
    /// A Keras config imports a module or function outside `keras`.
    KerasModule = "S0402", "keras-module", KerasModule, Critical;
    /// A Keras archive or config cannot be parsed.
    KerasMalformed = "S0403", "keras-malformed", Malformed, High;
    /// The safetensors header length or text is invalid.
    SafetensorsHeader = "S0501", "safetensors-header", Malformed, High;
    /// `__metadata__` is not a map of strings.
    SafetensorsMetadata = "S0502", "safetensors-metadata", Malformed, High;
    /// A tensor has an unknown dtype or an invalid shape.
    SafetensorsDtype = "S0503", "safetensors-dtype", Malformed, High;
    /// Tensor offsets are not sorted, contiguous, from 0, or do not match
    /// the shape and dtype.
    SafetensorsOffsets = "S0504", "safetensors-offsets", Malformed, High;
    /// Bytes after the last tensor (a polyglot file).
    SafetensorsTrailing = "S0505", "safetensors-trailing", Polyglot, High;
    /// The same tensor name (or key) appears twice in the header.
    SafetensorsDuplicate = "S0506", "safetensors-duplicate", Malformed, High;
    /// A tensor entry has a key other than dtype, shape and data_offsets.
    SafetensorsUnknownKey = "S0507", "safetensors-unknown-key", Malformed, High;
    /// The GGUF header is invalid (magic, version, counts, lengths, tensor
    /// dimensions or offsets).
    GgufMalformed = "S0601", "gguf-malformed", Malformed, High;
    /// The GGUF carries `tokenizer.chat_template` (Jinja): review it.
    GgufChatTemplate = "S0602", "gguf-chat-template", GgufChatTemplate, Low;
    /// The chat template reaches into Python internals (`__class__`,
    /// `__globals__`, …), the shape of a template-injection exploit.
    GgufTemplateInjection = "S0603", "gguf-template-injection", GgufChatTemplate, Critical;
    /// A compressed stream is corrupt: loaders stop there (what decoded
    /// before the damage was scanned).
    CompressedMalformed = "S0801", "compressed-malformed", Malformed, High;
    /// A compressed stream exceeds the scanner's decompression limits (size
    /// or ratio): the rest is not inspected.
    DecompressionLimit = "S0802", "decompression-limit", Malformed, High;
    /// A tar archive is broken (header, sizes), or a legacy PyTorch tar
    /// checkpoint's layout cannot be followed.
    TarMalformed = "S0803", "tar-malformed", Malformed, High;
    /// Readers disagree about a tar archive's members: duplicate names, PAX
    /// records that rename or resize a member, links where torch expects
    /// data.
    TarAmbiguous = "S0804", "tar-ambiguous", Malformed, High;
    /// Archives and compressed streams nested deeper than the scanner
    /// opens.
    NestingLimit = "S0805", "nesting-limit", Malformed, High;
    /// Python source shipped beside the weights.
    PythonSource = "S0701", "python-source", RemoteCode, Medium;
    /// `auto_map` in a config makes transformers run the repo's code with
    /// `trust_remote_code=True`.
    AutoMap = "S0702", "auto-map", RemoteCode, Medium;
    /// A sentence-transformers `modules.json` loads a class outside
    /// `sentence_transformers`.
    CustomModule = "S0703", "custom-module", RemoteCode, Medium;
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// One problem found in one file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    /// Archive member (`archive/data.pkl`), if the finding is inside one.
    pub member: Option<String>,
    /// Byte offset in the file, or in the member's (uncompressed) bytes.
    pub offset: Option<u64>,
    pub code: Code,
    /// What the finding is about, for `formats.allow = ["KIND:SUBJECT"]`:
    /// a pickle global (`os.system`), a Keras module, a file name, …
    pub subject: Option<String>,
    /// One line, no trailing period.
    pub reason: String,
}

impl Finding {
    pub fn new(code: Code, offset: Option<u64>, reason: impl Into<String>) -> Self {
        Self {
            member: None,
            offset,
            code,
            subject: None,
            reason: reason.into(),
        }
    }

    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    pub fn in_member(mut self, member: &str) -> Self {
        if self.member.is_none() {
            self.member = Some(member.to_string());
        }
        self
    }

    pub fn kind(&self) -> Kind {
        self.code.kind()
    }

    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    /// The `formats.allow` entry that would allow exactly this finding.
    pub fn allow_entry(&self) -> String {
        match &self.subject {
            Some(s) => format!("{}:{s}", self.kind()),
            None => self.kind().to_string(),
        }
    }

    /// `member @ offset` for messages, or empty.
    pub fn location(&self) -> String {
        match (&self.member, self.offset) {
            (Some(m), Some(o)) => format!("{m}, byte {o}"),
            (Some(m), None) => m.clone(),
            (None, Some(o)) => format!("byte {o}"),
            (None, None) => String::new(),
        }
    }
}

/// The part of `[policy]` the scanner obeys.
///
/// A finding **fails** when its kind is in `deny`, or when its severity is
/// medium or worse and no `allow` entry matches it. A finding that does not
/// fail is a warning (low) or allowed. A file whose format kinds (`pickle`,
/// `pytorch`, …) meet `deny` fails too. `deny` wins over `allow`.
///
/// An `allow` entry is a kind (`remote-code`: allow every such finding) or
/// `KIND:SUBJECT`, where SUBJECT is exact or ends in `*` for a prefix
/// (`pickle-global:sklearn.*`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScanPolicy {
    #[serde(default)]
    pub deny: Vec<String>,
    #[serde(default)]
    pub allow: Vec<String>,
}

impl ScanPolicy {
    pub fn denies(&self, kind: Kind) -> bool {
        self.deny.iter().any(|d| d == kind.as_str())
    }

    pub fn allows(&self, f: &Finding) -> bool {
        let kind = f.kind().as_str();
        self.allow.iter().any(|entry| match entry.split_once(':') {
            None => entry == kind,
            Some((k, pat)) => {
                k == kind
                    && f.subject
                        .as_deref()
                        .is_some_and(|s| match pat.strip_suffix('*') {
                            Some(prefix) => s.starts_with(prefix),
                            None => s == pat,
                        })
            }
        })
    }

    /// What the policy does with one finding.
    pub fn outcome(&self, f: &Finding) -> Outcome {
        if self.denies(f.kind()) {
            Outcome::Fail
        } else if self.allows(f) {
            Outcome::Allowed
        } else if f.severity().fails_by_default() {
            Outcome::Fail
        } else {
            Outcome::Warn
        }
    }
}

/// The policy's answer for one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Fail,
    Warn,
    Allowed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Fail => "fail",
            Outcome::Warn => "warn",
            Outcome::Allowed => "allowed",
        }
    }
}

/// Check an entry of `formats.deny` (`KIND`) or `formats.allow`
/// (`KIND` or `KIND:SUBJECT`). Returns the problem in words.
pub fn check_policy_entry(entry: &str, allow: bool) -> Result<(), String> {
    let (kind, subject) = match entry.split_once(':') {
        Some((k, s)) if allow => (k, Some(s)),
        Some(_) => return Err("formats.deny takes kinds only, without `:SUBJECT`".into()),
        None => (entry, None),
    };
    if Kind::parse(kind).is_none() {
        return Err(format!("unknown kind `{kind}`"));
    }
    if let Some(s) = subject {
        if s.is_empty() || s == "*" {
            return Err(format!(
                "`{entry}`: give a subject, or allow the whole kind with `{kind}`"
            ));
        }
        if s[..s.len() - 1].contains('*') {
            return Err(format!("`{entry}`: `*` may only end the subject"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_stable() {
        let mut ids: Vec<&str> = Code::ALL.iter().map(|c| c.id()).collect();
        let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        names.sort();
        names.dedup();
        assert_eq!(ids.len(), n, "duplicate code id");
        assert_eq!(names.len(), n, "duplicate code name");
        assert_eq!(Code::PickleGlobal.id(), "S0101");
        assert_eq!(Code::SafetensorsTrailing.name(), "safetensors-trailing");
    }

    #[test]
    fn policy_outcomes() {
        let f = Finding::new(Code::PickleGlobal, Some(3), "imports os.system")
            .with_subject("os.system");
        let p = ScanPolicy::default();
        assert_eq!(p.outcome(&f), Outcome::Fail);
        let p = ScanPolicy {
            deny: vec![],
            allow: vec!["pickle-global:os.*".into()],
        };
        assert_eq!(p.outcome(&f), Outcome::Allowed);
        let p = ScanPolicy {
            deny: vec!["pickle-global".into()],
            allow: vec!["pickle-global".into()],
        };
        assert_eq!(p.outcome(&f), Outcome::Fail, "deny wins");
        let t = Finding::new(Code::GgufChatTemplate, None, "template");
        assert_eq!(ScanPolicy::default().outcome(&t), Outcome::Warn);
        let p = ScanPolicy {
            deny: vec!["gguf-chat-template".into()],
            allow: vec![],
        };
        assert_eq!(p.outcome(&t), Outcome::Fail);
        let p = ScanPolicy {
            deny: vec![],
            allow: vec!["pickle-global:os.sys".into()],
        };
        assert_eq!(p.outcome(&f), Outcome::Fail, "exact subject must match");
    }

    #[test]
    fn policy_entries() {
        assert!(check_policy_entry("pickle", false).is_ok());
        assert!(check_policy_entry("pickle-global:sklearn.*", true).is_ok());
        assert!(check_policy_entry("pickle-global:sklearn.*", false).is_err());
        assert!(check_policy_entry("pickles", true).is_err());
        assert!(check_policy_entry("pickle-global:*", true).is_err());
        assert!(check_policy_entry("pickle-global:a*b", true).is_err());
    }
}
