//! The bounds on what mlprov reads from outside, and how to change them.
//!
//! Every size, count and duration that comes from a file, a registry or the
//! Hub has a [`Limit`]: a name the error shows (`MAX_BUNDLE_BYTES`), a
//! default far above what real projects produce, and the variable that
//! changes it (`MLPROV_MAX_BUNDLE_BYTES=64MiB`). The settings layer reads
//! the variables once ([`crate::settings::limits`]) and [`install`]s the
//! result before any work starts; the domain asks [`Limit::get`]. Nesting
//! depths that protect the stack (configs, Rego, certificate chains) and the
//! scanner's bounds (changed per finding with `formats.allow`) are fixed.

use std::sync::OnceLock;
use std::time::Duration;

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Count,
    Seconds,
}

/// One bound on outside input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    ManifestBytes,
    LockBytes,
    ConfigBytes,
    ConfigNodes,
    ConfigExpandedBytes,
    RunRecordBytes,
    BundleBytes,
    RegistryManifestBytes,
    RegistryTokenBytes,
    TagListBytes,
    TagPages,
    Referrers,
    ReferrerBytes,
    HubAnswerBytes,
    TreePages,
    PolicyBytes,
    PolicyLines,
    PolicyColumns,
    ModelCardBytes,
    RegoParseSeconds,
    RegoEvalSeconds,
}

impl Limit {
    /// Every limit, in the order the README's table lists them.
    pub const ALL: [Limit; 21] = [
        Limit::ManifestBytes,
        Limit::LockBytes,
        Limit::ConfigBytes,
        Limit::ConfigNodes,
        Limit::ConfigExpandedBytes,
        Limit::RunRecordBytes,
        Limit::BundleBytes,
        Limit::RegistryManifestBytes,
        Limit::RegistryTokenBytes,
        Limit::TagListBytes,
        Limit::TagPages,
        Limit::Referrers,
        Limit::ReferrerBytes,
        Limit::HubAnswerBytes,
        Limit::TreePages,
        Limit::PolicyBytes,
        Limit::PolicyLines,
        Limit::PolicyColumns,
        Limit::ModelCardBytes,
        Limit::RegoParseSeconds,
        Limit::RegoEvalSeconds,
    ];

    /// The name errors show (`MAX_BUNDLE_BYTES`).
    pub fn name(self) -> &'static str {
        &self.variable()["MLPROV_".len()..]
    }

    /// The variable that changes it: `MLPROV_` and the name.
    pub const fn variable(self) -> &'static str {
        match self {
            Limit::ManifestBytes => "MLPROV_MAX_MANIFEST_BYTES",
            Limit::LockBytes => "MLPROV_MAX_LOCK_BYTES",
            Limit::ConfigBytes => "MLPROV_MAX_CONFIG_BYTES",
            Limit::ConfigNodes => "MLPROV_MAX_CONFIG_NODES",
            Limit::ConfigExpandedBytes => "MLPROV_MAX_CONFIG_EXPANDED_BYTES",
            Limit::RunRecordBytes => "MLPROV_MAX_RUN_RECORD_BYTES",
            Limit::BundleBytes => "MLPROV_MAX_BUNDLE_BYTES",
            Limit::RegistryManifestBytes => "MLPROV_MAX_REGISTRY_MANIFEST_BYTES",
            Limit::RegistryTokenBytes => "MLPROV_MAX_REGISTRY_TOKEN_BYTES",
            Limit::TagListBytes => "MLPROV_MAX_TAG_LIST_BYTES",
            Limit::TagPages => "MLPROV_MAX_TAG_PAGES",
            Limit::Referrers => "MLPROV_MAX_REFERRERS",
            Limit::ReferrerBytes => "MLPROV_MAX_REFERRER_BYTES",
            Limit::HubAnswerBytes => "MLPROV_MAX_HUB_ANSWER_BYTES",
            Limit::TreePages => "MLPROV_MAX_TREE_PAGES",
            Limit::PolicyBytes => "MLPROV_MAX_POLICY_BYTES",
            Limit::PolicyLines => "MLPROV_MAX_POLICY_LINES",
            Limit::PolicyColumns => "MLPROV_MAX_POLICY_COLUMNS",
            Limit::ModelCardBytes => "MLPROV_MAX_MODEL_CARD_BYTES",
            Limit::RegoParseSeconds => "MLPROV_REGO_PARSE_TIMEOUT",
            Limit::RegoEvalSeconds => "MLPROV_REGO_EVAL_TIMEOUT",
        }
    }

    pub const fn unit(self) -> Unit {
        match self {
            Limit::ConfigNodes
            | Limit::TagPages
            | Limit::Referrers
            | Limit::TreePages
            | Limit::PolicyLines
            | Limit::PolicyColumns => Unit::Count,
            Limit::RegoParseSeconds | Limit::RegoEvalSeconds => Unit::Seconds,
            _ => Unit::Bytes,
        }
    }

    /// The value when its variable is unset.
    pub const fn default_value(self) -> u64 {
        match self {
            Limit::ManifestBytes => 1 << 20,
            Limit::LockBytes => 64 << 20,
            Limit::ConfigBytes => 16 << 20,
            Limit::ConfigNodes => 100_000,
            Limit::ConfigExpandedBytes => 64 << 20,
            Limit::RunRecordBytes => 64 << 20,
            Limit::BundleBytes => 16 << 20,
            // The distribution spec's 4 MiB.
            Limit::RegistryManifestBytes => 4 << 20,
            // Tokens are a few KiB (JWTs with scopes).
            Limit::RegistryTokenBytes => 1 << 20,
            Limit::TagListBytes => 64 << 20,
            Limit::TagPages => 10_000,
            Limit::Referrers => 256,
            Limit::ReferrerBytes => 128 << 20,
            Limit::HubAnswerBytes => 64 << 20,
            Limit::TreePages => 10_000,
            Limit::PolicyBytes => 1 << 20,
            Limit::PolicyLines => 20_000,
            Limit::PolicyColumns => 16_384,
            Limit::ModelCardBytes => 4 << 20,
            Limit::RegoParseSeconds => 10,
            Limit::RegoEvalSeconds => 10,
        }
    }

    /// The largest value the variable may set (a count regorus keeps in a
    /// `u32`, a size that still fits in memory arithmetic).
    pub const fn max_value(self) -> u64 {
        match self {
            Limit::PolicyColumns | Limit::PolicyLines => u32::MAX as u64,
            Limit::RegoParseSeconds | Limit::RegoEvalSeconds => 24 * 3600,
            _ => 1 << 48,
        }
    }

    /// The value in force.
    pub fn get(self) -> u64 {
        current().values[self as usize]
    }

    /// The value in force, as a count.
    pub fn count(self) -> usize {
        usize::try_from(self.get()).unwrap_or(usize::MAX)
    }

    /// The value in force, as a duration.
    pub fn duration(self) -> Duration {
        Duration::from_secs(self.get())
    }

    /// How an error names it: `MAX_BUNDLE_BYTES; raise it with MLPROV_MAX_BUNDLE_BYTES`.
    pub fn named(self) -> String {
        format!("{}; raise it with {}", self.name(), self.variable())
    }

    /// The value in force as a person reads it (`16 MiB`, `10,000`, `10 s`).
    pub fn shown(self) -> String {
        show(self.unit(), self.get())
    }
}

/// A value of `unit` as a person reads it.
pub fn show(unit: Unit, v: u64) -> String {
    match unit {
        Unit::Bytes => {
            for (shift, suffix) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
                if v >= 1 << shift && v.is_multiple_of(1 << shift) {
                    return format!("{} {suffix}", v >> shift);
                }
            }
            format!("{v} bytes")
        }
        Unit::Count => v.to_string(),
        Unit::Seconds => format!("{v} s"),
    }
}

/// Parse a variable's value for `limit`: a byte size (`1048576`, `64KiB`,
/// `16MiB`, `1GiB`, `16M`), a count, or seconds (`30`, `30s`). `None` when it
/// is not one, is zero, or is above [`Limit::max_value`].
pub fn parse(limit: Limit, text: &str) -> Option<u64> {
    let t = text.trim();
    let (digits, mult) = match limit.unit() {
        Unit::Bytes => {
            let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
            let (d, suffix) = t.split_at(split);
            let mult: u64 = match suffix.trim().to_ascii_lowercase().as_str() {
                "" | "b" => 1,
                "k" | "kb" | "kib" => 1 << 10,
                "m" | "mb" | "mib" => 1 << 20,
                "g" | "gb" | "gib" => 1 << 30,
                _ => return None,
            };
            (d, mult)
        }
        Unit::Count => (t, 1),
        Unit::Seconds => (t.strip_suffix('s').unwrap_or(t).trim_end(), 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v = digits.parse::<u64>().ok()?.checked_mul(mult)?;
    (v > 0 && v <= limit.max_value()).then_some(v)
}

/// The limits in force for this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    values: [u64; Limit::ALL.len()],
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            values: Limit::ALL.map(Limit::default_value),
        }
    }
}

impl Limits {
    pub fn set(&mut self, limit: Limit, value: u64) {
        self.values[limit as usize] = value;
    }

    pub fn value(&self, limit: Limit) -> u64 {
        self.values[limit as usize]
    }
}

static CURRENT: OnceLock<Limits> = OnceLock::new();

fn current() -> &'static Limits {
    CURRENT.get_or_init(Limits::default)
}

/// Put `limits` in force for the rest of the process (the first call
/// wins; library users and tests that never call it get the defaults).
pub fn install(limits: Limits) {
    let _ = CURRENT.set(limits);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_of_each_limit_is_its_place_in_all() {
        for (i, l) in Limit::ALL.iter().enumerate() {
            assert_eq!(*l as usize, i, "{l:?}");
        }
    }

    #[test]
    fn names_and_variables_are_unique() {
        let mut names: Vec<_> = Limit::ALL.iter().map(|l| l.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Limit::ALL.len());
        assert_eq!(Limit::BundleBytes.variable(), "MLPROV_MAX_BUNDLE_BYTES");
    }

    #[test]
    fn sizes_counts_and_seconds_parse_strictly() {
        assert_eq!(parse(Limit::BundleBytes, "64MiB"), Some(64 << 20));
        assert_eq!(parse(Limit::BundleBytes, "64 MiB"), Some(64 << 20));
        assert_eq!(parse(Limit::BundleBytes, "16m"), Some(16 << 20));
        assert_eq!(parse(Limit::BundleBytes, "2GiB"), Some(2 << 30));
        assert_eq!(parse(Limit::BundleBytes, "1048576"), Some(1 << 20));
        assert_eq!(parse(Limit::BundleBytes, "1.5MiB"), None);
        assert_eq!(parse(Limit::BundleBytes, "-1"), None);
        assert_eq!(parse(Limit::BundleBytes, "0"), None);
        assert_eq!(parse(Limit::BundleBytes, "MiB"), None);
        assert_eq!(parse(Limit::BundleBytes, "99999999999999999999"), None);
        assert_eq!(parse(Limit::Referrers, "512"), Some(512));
        assert_eq!(parse(Limit::Referrers, "512k"), None);
        assert_eq!(parse(Limit::RegoEvalSeconds, "30s"), Some(30));
        assert_eq!(parse(Limit::RegoEvalSeconds, "30"), Some(30));
        assert_eq!(parse(Limit::RegoEvalSeconds, "100000"), None);
        assert_eq!(parse(Limit::PolicyColumns, "5000000000"), None);
    }

    #[test]
    fn shown_as_a_person_reads_it() {
        assert_eq!(show(Unit::Bytes, 16 << 20), "16 MiB");
        assert_eq!(show(Unit::Bytes, 1 << 30), "1 GiB");
        assert_eq!(show(Unit::Bytes, 1000), "1000 bytes");
        assert_eq!(show(Unit::Seconds, 10), "10 s");
    }
}
