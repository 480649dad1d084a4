//! One snapshot macro with one set of filters: temporary paths, digests,
//! commits, sizes, times and durations are replaced by placeholders.

use std::path::Path;

use super::data::regex_escape;

/// The shared filters for snapshots of runs in `env` (`[TMP]` for its
/// temporary directory), after `extra` (e.g. a scenario's own digests
/// named `[A]`, applied first).
pub fn filters(tmp: &Path, extra: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = extra.to_vec();
    // The temp dir, also as the canonical path (macOS /private/var…).
    let canonical = std::fs::canonicalize(tmp).unwrap_or_else(|_| tmp.to_path_buf());
    for p in [canonical.as_path(), tmp] {
        out.push((regex_escape(&p.display().to_string()), "[TMP]".into()));
    }
    for (re, with) in [
        (r"sha256:[0-9a-f]{64}", "sha256:[DIGEST]"),
        (r"sha256:[0-9a-f]{12}", "sha256:[SHORT]"),
        (r"git:[0-9a-f]{40}", "git:[COMMIT]"),
        (r"git:[0-9a-f]{12}", "git:[COMMIT]"),
        (r"[0-9a-f]{64}", "[HEX]"),
        (r"[0-9a-f]{40}", "[COMMIT]"),
        (
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
            "[TIME]",
        ),
        (r"\b\d+\.\d+s\b", "[DURATION]"),
        (r"\d+(\.\d+)? (B|KiB|MiB|GiB)/s\b", "[RATE]"),
        (r"\d+(\.\d+)? (B|KiB|MiB|GiB)\b", "[SIZE]"),
    ] {
        out.push((re.into(), with.into()));
    }
    out
}

/// insta settings with [`filters`].
pub fn settings(tmp: &Path, extra: &[(String, String)]) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    for (re, with) in filters(tmp, extra) {
        s.add_filter(&re, with);
    }
    s
}

/// The text of a run for a snapshot: exit code, stdout, stderr.
pub fn run_text(r: &super::env::Run) -> String {
    format!(
        "exit: {}\n----- stdout -----\n{}----- stderr -----\n{}",
        r.code, r.stdout, r.stderr
    )
}

/// Snapshot something under the shared filters.
///
/// - `mlprov_snapshot!(name, &env, &run)`: a [`Run`](super::env::Run) (exit
///   code, stdout and stderr together);
/// - `mlprov_snapshot!(name, &env, text = s)`: any text;
/// - `mlprov_snapshot!(name, &env, json = v)`: a JSON value;
///
/// each optionally followed by `, extra = filters` (applied first).
macro_rules! mlprov_snapshot {
    ($name:expr, $env:expr, text = $text:expr $(, extra = $extra:expr)?) => {{
        let extra: Vec<(String, String)> =
            Vec::new().into_iter()$(.chain($extra))?.collect();
        $crate::common::snapshot::settings($env.path(), &extra)
            .bind(|| insta::assert_snapshot!($name, $text));
    }};
    ($name:expr, $env:expr, json = $json:expr $(, extra = $extra:expr)?) => {{
        let extra: Vec<(String, String)> =
            Vec::new().into_iter()$(.chain($extra))?.collect();
        $crate::common::snapshot::settings($env.path(), &extra)
            .bind(|| insta::assert_json_snapshot!($name, $json));
    }};
    ($name:expr, $env:expr, $run:expr $(, extra = $extra:expr)?) => {{
        let text = $crate::common::snapshot::run_text($run);
        $crate::common::snapshot::mlprov_snapshot!($name, $env, text = text $(, extra = $extra)?)
    }};
}

pub(crate) use mlprov_snapshot;
