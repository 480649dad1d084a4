//! Every diagnostic code mlprov reports, registered once: what it means,
//! and how mlprov exits when a command ends with it.
//!
//! Exit statuses follow ripgrep's plain convention: 0 when the command did
//! what it was asked (a verification passed), 1 when a check mlprov exists
//! to make did not pass ([`Exit::Failed`]: a stale lock or provenance,
//! changed inputs, a license or scan policy, a failed verification), and 2
//! when mlprov could not do the work ([`Exit::CannotRun`]: usage, I/O,
//! network, a file it needs is missing or malformed). A code that is not
//! registered, and an error without a code, exit 2. Call sites never choose
//! the status: `commands::run` looks the code up here.
//!
//! `tests/diagnostics.rs` holds this table to the source: every code used
//! in `src/` is registered, every registered code is used, codes are
//! unique and kebab-case, and the list is a reviewed snapshot.
//! Verification findings (`E0301 missing-attestation`) have their own
//! registry, [`crate::verify::code::Code`]; a failed verification ends with
//! `mlprov::verify::failed`.

/// How a command that ends with a diagnostic exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 1: a check did not pass.
    Failed,
    /// 2: mlprov could not do the work.
    CannotRun,
    /// The exit status of the training command mlprov ran (1 when there is
    /// none to pass on, e.g. an imported run record).
    Child,
}

impl Exit {
    /// The status, when it does not come from a child process.
    pub fn status(self) -> u8 {
        match self {
            Exit::Failed | Exit::Child => 1,
            Exit::CannotRun => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Exit::Failed => "1",
            Exit::CannotRun => "2",
            Exit::Child => "child",
        }
    }
}

/// One registered code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registered {
    pub code: &'static str,
    pub exit: Exit,
    /// One line: what went wrong.
    pub meaning: &'static str,
}

const fn r(code: &'static str, exit: Exit, meaning: &'static str) -> Registered {
    Registered {
        code,
        exit,
        meaning,
    }
}

use Exit::{CannotRun, Child, Failed};

/// Every code, sorted.
#[rustfmt::skip]
pub const CODES: &[Registered] = &[
    r("mlprov::attest::input-changed", Failed, "an input's files on disk are not what mlprov.lock pinned"),
    r("mlprov::attest::io", CannotRun, "a document to attest cannot be read"),
    r("mlprov::attest::missing", CannotRun, "a document to attest does not exist"),
    r("mlprov::attest::no-files", CannotRun, "an input's files are not on this machine"),
    r("mlprov::attest::no-lock", CannotRun, "there is no mlprov.lock to attest inputs from"),
    r("mlprov::attest::no-subject", CannotRun, "a statement has no subject with a sha256 digest"),
    r("mlprov::attest::predicate", CannotRun, "a predicate file is not a JSON object"),
    r("mlprov::attest::predicate-type", CannotRun, "a statement has another predicate type than expected"),
    r("mlprov::attest::stale", Failed, "the build's documents, or mlprov.lock and mlprov.toml, describe different things"),
    r("mlprov::attest::statement", CannotRun, "a file is not an in-toto Statement v1"),
    r("mlprov::attest::type-uri", CannotRun, "a predicate type is not an absolute URI"),
    r("mlprov::build::dirty", Failed, "the git tree (or the imported run's) has uncommitted changes"),
    r("mlprov::build::empty-outputs", Failed, "the artifact path holds no files"),
    r("mlprov::build::input-changed", Failed, "the inputs on disk are not what mlprov.lock pinned"),
    r("mlprov::build::io", CannotRun, "an output cannot be hashed"),
    r("mlprov::build::license", Failed, "an input's or the artifact's license is not allowed by [policy]"),
    r("mlprov::build::no-lock", Failed, "the manifest has inputs but there is no mlprov.lock"),
    r("mlprov::build::no-outputs", Failed, "the artifact path does not exist after the run"),
    r("mlprov::build::scan", Failed, "the outputs have scan findings the policy does not allow"),
    r("mlprov::build::stale-lock", Failed, "mlprov.lock does not match mlprov.toml"),
    r("mlprov::build::training-failed", Child, "the training command (or the imported run) exited non-zero"),
    r("mlprov::build::walk", CannotRun, "the artifact holds something that is not a regular file inside it"),
    r("mlprov::init::cancelled", CannotRun, "the interactive init was cancelled"),
    r("mlprov::init::exists", CannotRun, "mlprov.toml already exists"),
    r("mlprov::init::invalid", CannotRun, "the answers do not make a valid mlprov.toml"),
    r("mlprov::init::license", CannotRun, "--license is not an SPDX expression"),
    r("mlprov::init::missing", CannotRun, "the import template needs --base-model"),
    r("mlprov::init::prompt", CannotRun, "an interactive prompt failed"),
    r("mlprov::key::crypto", CannotRun, "a cryptographic operation on a key failed"),
    r("mlprov::key::io", CannotRun, "a key file cannot be read"),
    r("mlprov::key::malformed", CannotRun, "a file is not a usable PEM key"),
    r("mlprov::key::no-password", CannotRun, "a key password is needed and mlprov cannot prompt"),
    r("mlprov::key::prompt", CannotRun, "the password prompt failed"),
    r("mlprov::key::unsupported", CannotRun, "the key's algorithm is not supported for this purpose"),
    r("mlprov::key::wrong-kind", CannotRun, "a public key was given where a private key is needed, or the reverse"),
    r("mlprov::key::wrong-password", CannotRun, "the password does not decrypt the private key"),
    r("mlprov::keygen::exists", CannotRun, "the key file already exists (and --force was not given)"),
    r("mlprov::keyless::bad-response", CannotRun, "Fulcio, Rekor or the TSA sent an answer mlprov cannot use"),
    r("mlprov::keyless::browser", CannotRun, "the browser sign-in failed"),
    r("mlprov::keyless::certificate", CannotRun, "the certificate Fulcio issued is not usable"),
    r("mlprov::keyless::github-token", CannotRun, "the GitHub Actions identity token cannot be fetched"),
    r("mlprov::keyless::network", CannotRun, "a Sigstore service cannot be reached"),
    r("mlprov::keyless::no-token", CannotRun, "keyless signing has no identity token to use"),
    r("mlprov::keyless::refused", CannotRun, "a Sigstore service refused the request"),
    r("mlprov::keyless::token", CannotRun, "the identity token is not a JWT"),
    r("mlprov::keyless::token-expired", CannotRun, "the identity token has expired"),
    r("mlprov::keyless::trusted-root", CannotRun, "a file is not a Sigstore trusted root"),
    r("mlprov::keyless::trusted-root-io", CannotRun, "the trusted root cannot be read"),
    r("mlprov::keyless::tuf", CannotRun, "refreshing the trusted root over TUF failed"),
    r("mlprov::keyless::unverifiable", CannotRun, "a fresh keyless signature does not verify against the trusted root"),
    r("mlprov::lock::damaged", CannotRun, "mlprov.lock is not a valid lock"),
    r("mlprov::lock::inconsistent", CannotRun, "an input's digest in mlprov.lock does not match its file list"),
    r("mlprov::lock::io", CannotRun, "mlprov.lock cannot be read or written"),
    r("mlprov::lock::newer", CannotRun, "mlprov.lock was written by a newer mlprov"),
    r("mlprov::manifest", CannotRun, "mlprov.toml (or policy.toml) has several problems, each listed with its own code"),
    r("mlprov::manifest::empty", CannotRun, "a value that must not be empty is empty"),
    r("mlprov::manifest::format", CannotRun, "a format name is not one the scanner knows"),
    r("mlprov::manifest::glob", CannotRun, "an include/exclude pattern is not a valid glob"),
    r("mlprov::manifest::hf-repo", CannotRun, "a Hugging Face repository id is malformed"),
    r("mlprov::manifest::input-name", CannotRun, "an input name has characters other than letters, digits, -, _ and ."),
    r("mlprov::manifest::io", CannotRun, "mlprov.toml cannot be read"),
    r("mlprov::manifest::kind", CannotRun, "an artifact kind is unknown"),
    r("mlprov::manifest::license", CannotRun, "a license is not a valid SPDX expression"),
    r("mlprov::manifest::missing-key", CannotRun, "a required key or table is missing"),
    r("mlprov::manifest::model-card", CannotRun, "a [policy.model-card] field is not one mlprov knows"),
    r("mlprov::manifest::name", CannotRun, "the artifact name is malformed"),
    r("mlprov::manifest::oci-reference", CannotRun, "an oci input is not an OCI reference"),
    r("mlprov::manifest::path-outside", CannotRun, "a path is absolute or leaves the project"),
    r("mlprov::manifest::revision", CannotRun, "a revision is missing or is a branch, so the build is not reproducible"),
    r("mlprov::manifest::role", CannotRun, "an input role is unknown"),
    r("mlprov::manifest::selector", CannotRun, "a [[policy.artifacts]] rule selects nothing (no source, name or digest)"),
    r("mlprov::manifest::sha256", CannotRun, "a sha256 value is not 64 hex digits"),
    r("mlprov::manifest::signer", CannotRun, "a [policy] signer entry is malformed"),
    r("mlprov::manifest::source", CannotRun, "an input has no source, or two"),
    r("mlprov::manifest::syntax", CannotRun, "the file is not valid TOML"),
    r("mlprov::manifest::type", CannotRun, "a value has the wrong type"),
    r("mlprov::manifest::unknown-key", CannotRun, "a key is not known in its table"),
    r("mlprov::manifest::url", CannotRun, "a url input is not an http(s) URL"),
    r("mlprov::manifest::url-sha256", CannotRun, "a url input has no sha256"),
    r("mlprov::pin::license", Failed, "an input's license is not allowed by [policy]"),
    r("mlprov::pin::lock-version", Failed, "--locked and mlprov.lock is an older lock version"),
    r("mlprov::pin::locked", Failed, "--locked and mlprov.lock is out of date"),
    r("mlprov::pin::scan", Failed, "an input has scan findings the policy does not allow"),
    r("mlprov::policy::glob", CannotRun, "a glob in a policy rule is not valid"),
    r("mlprov::policy::identity-regexp", CannotRun, "a signer's identity-regexp is not a valid regex"),
    r("mlprov::policy::io", CannotRun, "a Rego policy file cannot be read"),
    r("mlprov::policy::key", CannotRun, "a policy signer key cannot be loaded"),
    r("mlprov::policy::limit", CannotRun, "a Rego policy exceeds a safety limit"),
    r("mlprov::policy::query", CannotRun, "--policy-query names no rule of a loaded package"),
    r("mlprov::policy::recursion", CannotRun, "a Rego policy is recursive"),
    r("mlprov::policy::rego", CannotRun, "a Rego policy does not parse or evaluate"),
    r("mlprov::policy::revocation-list", CannotRun, "a revocation list is not a signed revocation bundle"),
    r("mlprov::policy::trusted-root", CannotRun, "keyless signers need a trusted root that cannot be had"),
    r("mlprov::project::no-path", CannotRun, "no path was given and there is no project to take it from"),
    r("mlprov::project::not-found", CannotRun, "there is no mlprov.toml here or in a parent directory"),
    r("mlprov::promote::incomplete", CannotRun, "a promotion stopped part way; the destination tag was not moved"),
    r("mlprov::promote::no-manifest", CannotRun, "the verified model has no manifest digest to promote"),
    r("mlprov::pull::store", CannotRun, "the pulled bundles cannot be filed in the local store"),
    r("mlprov::push::bad-bundle", CannotRun, "a file next to the model is not a Sigstore bundle"),
    r("mlprov::push::io", CannotRun, "a file push needs (the provenance) cannot be read"),
    r("mlprov::push::no-artifact", CannotRun, "the artifact path does not exist"),
    r("mlprov::push::provenance", CannotRun, "target/mlprov/provenance.json is not SLSA provenance"),
    r("mlprov::push::stale-manifest", Failed, "the signed statements name another OCI manifest than push would publish"),
    r("mlprov::push::stale-provenance", Failed, "the provenance describes other bytes than the files on disk"),
    r("mlprov::push::store", CannotRun, "the local store cannot be read"),
    r("mlprov::registry::credentials", CannotRun, "the registry credentials cannot be read"),
    r("mlprov::registry::denied", CannotRun, "the registry denied access (403)"),
    r("mlprov::registry::destination", CannotRun, "the pull destination exists and is not empty"),
    r("mlprov::registry::digest-mismatch", CannotRun, "registry content does not match its digest"),
    r("mlprov::registry::empty", CannotRun, "there is nothing to push"),
    r("mlprov::registry::http", CannotRun, "the registry answered with an unexpected HTTP status"),
    r("mlprov::registry::io", CannotRun, "a local file cannot be read or written during a transfer"),
    r("mlprov::registry::network", CannotRun, "the registry cannot be reached"),
    r("mlprov::registry::not-found", CannotRun, "the repository, tag or digest is not in the registry"),
    r("mlprov::registry::not-modelpack", CannotRun, "the artifact is not a ModelPack model"),
    r("mlprov::registry::protocol", CannotRun, "the registry's answer breaks the distribution spec"),
    r("mlprov::registry::reference", CannotRun, "a string is not an OCI reference"),
    r("mlprov::registry::unauthorized", CannotRun, "the registry refused the credentials (401)"),
    r("mlprov::resolve::digest-mismatch", CannotRun, "a download's bytes do not match the advertised digest"),
    r("mlprov::resolve::empty", CannotRun, "an input's include/exclude globs select no files"),
    r("mlprov::resolve::hf-gated", CannotRun, "a gated Hugging Face repository refuses this token"),
    r("mlprov::resolve::hf-protocol", CannotRun, "the Hub's answer is not what mlprov expects"),
    r("mlprov::resolve::hf-repo-not-found", CannotRun, "a Hugging Face repository does not exist"),
    r("mlprov::resolve::hf-revision-not-found", CannotRun, "a revision does not exist in its repository"),
    r("mlprov::resolve::http", CannotRun, "a server answered with an unexpected HTTP status"),
    r("mlprov::resolve::io", CannotRun, "an input's file cannot be read"),
    r("mlprov::resolve::missing", CannotRun, "a path input does not exist"),
    r("mlprov::resolve::network", CannotRun, "a server cannot be reached"),
    r("mlprov::resolve::no-digest", CannotRun, "a url input has no sha256"),
    r("mlprov::resolve::offline", CannotRun, "--offline and something needed is not cached"),
    r("mlprov::resolve::outside", CannotRun, "a path input resolves outside the project"),
    r("mlprov::resolve::registry", CannotRun, "an oci input cannot be resolved in its registry"),
    r("mlprov::resolve::walk", CannotRun, "an input holds a symlink leaving it, or a special file"),
    r("mlprov::revoke::existing", CannotRun, "the existing revision list cannot be read or was signed by another key"),
    r("mlprov::run::config", CannotRun, "the training config cannot be read"),
    r("mlprov::run::config-format", CannotRun, "the training config has an unknown format"),
    r("mlprov::run::config-limit", CannotRun, "the training config is over a size, node or depth limit"),
    r("mlprov::run::config-parse", CannotRun, "the training config does not parse"),
    r("mlprov::run::git", CannotRun, "the git repository cannot be read"),
    r("mlprov::run::invalid", CannotRun, "a file is not a valid run record"),
    r("mlprov::run::io", CannotRun, "a run record cannot be read"),
    r("mlprov::run::newer", CannotRun, "a run record was written by a newer mlprov"),
    r("mlprov::run::pip", CannotRun, "`pip list` failed in the training environment"),
    r("mlprov::run::python", CannotRun, "the training interpreter cannot be run"),
    r("mlprov::run::spawn", CannotRun, "the training command cannot be started"),
    r("mlprov::scan::findings", Failed, "the scan found what the policy does not allow"),
    r("mlprov::scan::io", CannotRun, "a path to scan cannot be read"),
    r("mlprov::scan::special", CannotRun, "a path to scan is not a regular file or directory"),
    r("mlprov::serve::listen", CannotRun, "serve cannot listen on the address"),
    r("mlprov::serve::tls", CannotRun, "serve's TLS certificate or key does not load"),
    r("mlprov::settings::bad-variable", CannotRun, "an environment variable holds a value mlprov cannot use"),
    r("mlprov::settings::cwd", CannotRun, "the current directory cannot be read"),
    r("mlprov::settings::directory", CannotRun, "-C names no directory"),
    r("mlprov::settings::password-stdin", CannotRun, "--password-stdin cannot read the password"),
    r("mlprov::settings::registry-login", CannotRun, "only one of the registry username and password is set"),
    r("mlprov::sign::empty", CannotRun, "the model has no files to sign"),
    r("mlprov::sign::io", CannotRun, "a model file cannot be hashed"),
    r("mlprov::sign::not-found", CannotRun, "the model to sign does not exist"),
    r("mlprov::sign::walk", CannotRun, "the model holds a symlink or special file"),
    r("mlprov::usage", CannotRun, "the command line asks for something mlprov cannot do"),
    r("mlprov::verify::attach", CannotRun, "the registry served another manifest than the one verified, so the VSA is not attached"),
    r("mlprov::verify::certificate-chain", CannotRun, "--certificate-chain is not a PEM certificate file"),
    r("mlprov::verify::failed", Failed, "verification failed (the findings carry E-codes)"),
    r("mlprov::verify::not-found", CannotRun, "the target to verify does not exist"),
    r("mlprov::verify::vsa", CannotRun, "the signed VSA is not a Sigstore bundle"),
    r("mlprov::why::ambiguous", CannotRun, "a short digest is the start of several artifacts' digests"),
    r("mlprov::why::incomplete", Failed, "some provenance could not be read, so the answer may be incomplete"),
    r("mlprov::why::unknown", Failed, "no artifact has that name or digest in the provenance read"),
];

/// The registered entry for `code`.
pub fn lookup(code: &str) -> Option<&'static Registered> {
    CODES
        .binary_search_by(|r| r.code.cmp(code))
        .ok()
        .map(|i| &CODES[i])
}

/// How a command exits that ends with a diagnostic coded `code` (none, or
/// unregistered: 2).
pub fn exit_of(code: Option<&str>) -> Exit {
    code.and_then(lookup).map_or(Exit::CannotRun, |r| r.exit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_unique_kebab() {
        for w in CODES.windows(2) {
            assert!(w[0].code < w[1].code, "{} before {}", w[0].code, w[1].code);
        }
        for c in CODES {
            assert!(c.code.starts_with("mlprov"), "{}", c.code);
            for seg in c.code.split("::") {
                assert!(
                    !seg.is_empty()
                        && !seg.starts_with('-')
                        && !seg.ends_with('-')
                        && seg
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                    "{} is not kebab-case",
                    c.code
                );
            }
            assert!(!c.meaning.is_empty() && !c.meaning.contains('\n'));
        }
        assert_eq!(exit_of(Some("mlprov::build::stale-lock")), Exit::Failed);
        assert_eq!(
            exit_of(Some("mlprov::push::stale-provenance")),
            Exit::Failed
        );
        assert_eq!(exit_of(Some("nope")), Exit::CannotRun);
        assert_eq!(exit_of(None), Exit::CannotRun);
    }
}
