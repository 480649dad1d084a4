//! The command line as people read it: `--help` with examples, the man
//! pages, and the values shell completion offers.
//!
//! [`command`] is the clap command mlprov parses with. It is [`Cli`]'s derive
//! definition plus what a reader needs and derive cannot say: an EXAMPLES
//! section per command ([`EXAMPLES`]), the environment ([`ENVIRONMENT`]),
//! `--format` values only where they work, and completion candidates from the
//! current project. A new command adds its examples to [`EXAMPLES`]; a test
//! (`tests/generated.rs`) fails for a visible command without any.

use clap::builder::StyledStr;
use clap::builder::styling::{AnsiColor, Style};
use clap::{Arg, Command, CommandFactory};
use clap_complete::engine::{ArgValueCandidates, ArgValueCompleter};

use crate::cli::Cli;

/// Examples per command path (`"attest import"`): what it does, then the
/// command line.
pub const EXAMPLES: &[(&str, &[(&str, &str)])] = &[
    (
        "",
        &[
            (
                "Start a project, pin its inputs, train and record the build",
                "mlprov init && mlprov pin && mlprov build",
            ),
            (
                "Sign the build, then verify the model with its inputs",
                "mlprov attest --key cosign.key && mlprov verify --key cosign.pub",
            ),
            (
                "Read the manual of one command",
                "mlprov man verify | man -l -",
            ),
        ],
    ),
    (
        "init",
        &[
            (
                "Answer a few questions (defaults come from the repository)",
                "mlprov init",
            ),
            (
                "Write a fine-tuning project without questions",
                "mlprov init --yes --base-model org/model --license Apache-2.0",
            ),
        ],
    ),
    (
        "pin",
        &[
            ("Resolve every input and write mlprov.lock", "mlprov pin"),
            (
                "Move one input's branch or tag to its current commit",
                "mlprov pin --update base-model",
            ),
            (
                "In CI: exit 1 if the lock would change, writing nothing",
                "mlprov pin --locked",
            ),
        ],
    ),
    (
        "scan",
        &[
            ("Scan a model directory", "mlprov scan models/base"),
            (
                "Refuse pickles, allow one known global",
                "mlprov scan --deny pickle --allow pickle-global:numpy.* model.bin",
            ),
        ],
    ),
    (
        "build",
        &[
            (
                "Run [training] command and record the build",
                "mlprov build",
            ),
            (
                "Run another command, with a recorded hyperparameter",
                "mlprov build --param epochs=3 -- python3 train.py",
            ),
            (
                "Describe outputs trained elsewhere, without running anything",
                "mlprov build --skip-training",
            ),
        ],
    ),
    (
        "push",
        &[
            (
                "Push to [publish].registry, tagged with the artifact version",
                "mlprov push",
            ),
            (
                "Push to a local registry",
                "mlprov push localhost:5000/acme/minilm:0.1.0 --plain-http",
            ),
        ],
    ),
    (
        "pull",
        &[
            (
                "Pull, verify against a key, and place the files in ./minilm",
                "mlprov pull ghcr.io/acme/minilm:1.0 --key cosign.pub -o minilm",
            ),
            (
                "Pull without verifying signatures (digests are still checked)",
                "mlprov pull localhost:5000/acme/minilm:1.0 --plain-http --no-verify",
            ),
        ],
    ),
    (
        "promote",
        &[(
            "Verify a model, copy it with its bundles to production, move the tag",
            "mlprov promote intake.acme.dev/m:1.0 prod.acme.dev/m:1.0 --key cosign.pub",
        )],
    ),
    (
        "keygen",
        &[
            (
                "Make cosign.key (password: a prompt or MLPROV_PASSWORD), cosign.pub",
                "mlprov keygen",
            ),
            (
                "A throwaway unencrypted pair named test.key/test.pub",
                "mlprov keygen --no-password --output-key-prefix test",
            ),
        ],
    ),
    (
        "sign",
        &[
            (
                "Sign [artifact].path with a key (writes model.sig)",
                "mlprov sign --key cosign.key",
            ),
            (
                "Sign keyless with your OIDC identity",
                "mlprov sign --keyless",
            ),
        ],
    ),
    (
        "attest",
        &[
            (
                "Sign the build's provenance, SBOM and scan",
                "mlprov attest --key cosign.key",
            ),
            (
                "Attest any predicate about the built artifact",
                "mlprov attest --key cosign.key --type https://acme.dev/eval/v1 --predicate eval.json",
            ),
        ],
    ),
    (
        "attest import",
        &[(
            "Attest where the pinned input `base-model` came from",
            "mlprov attest import base-model --key cosign.key",
        )],
    ),
    (
        "verify",
        &[
            (
                "Verify [artifact].path and its inputs against a key",
                "mlprov verify --key cosign.pub",
            ),
            (
                "Verify a pushed model, requiring SLSA provenance",
                "mlprov verify ghcr.io/acme/m:1.0 --key cosign.pub --require https://slsa.dev/provenance/v1",
            ),
            (
                "Verify keyless signatures by one identity",
                "mlprov verify --certificate-identity ci@acme.dev --certificate-oidc-issuer https://login.acme.dev",
            ),
            (
                "Check a dataset as the project's policy checks training data, before pinning it",
                "mlprov verify ghcr.io/acme/support-data:2 --role training-data",
            ),
        ],
    ),
    (
        "graph",
        &[
            (
                "Draw the verified graph as Graphviz",
                "mlprov graph --key cosign.pub --format dot | dot -Tsvg > graph.svg",
            ),
            (
                "As Mermaid, for a Markdown page",
                "mlprov graph --key cosign.pub --format mermaid",
            ),
        ],
    ),
    (
        "serve",
        &[(
            "Admit only pods whose models verify against a key, from one registry",
            "mlprov serve --tls-cert tls.crt --tls-key tls.key --key cosign.pub --allow-registry ghcr.io",
        )],
    ),
    (
        "why",
        &[
            (
                "Which stored models descend from this input",
                "mlprov why base-model",
            ),
            (
                "By the short digest `verify` shows",
                "mlprov why 2b09c1a4e7f3",
            ),
            (
                "Search a registry repository instead of the local store",
                "mlprov why base-model --registry ghcr.io/acme/minilm",
            ),
        ],
    ),
    (
        "revoke",
        &[(
            "Revoke one model, with a reason",
            "mlprov revoke sha256:2b09… --reason 'withdrawn data' --key cosign.key",
        )],
    ),
    (
        "completions",
        &[
            (
                "Install completions for the shell in $SHELL",
                "mlprov completions --install",
            ),
            (
                "Load them in the running bash only",
                "source <(mlprov completions bash)",
            ),
        ],
    ),
    (
        "man",
        &[
            (
                "Read the page of a nested command",
                "mlprov man attest import | man -l -",
            ),
            (
                "Install every page where man finds them",
                "mlprov man --install",
            ),
        ],
    ),
];

/// Every environment variable mlprov reads (besides the ones a flag shows
/// with `[env: …]`), for `--help` and the man pages.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "MLPROV_HOME",
        "the local store of built and verified artifacts (default: the platform data directory)",
    ),
    ("MLPROV_CACHE_DIR", "the hash and download cache"),
    ("MLPROV_FORMAT", "the default of --format"),
    ("MLPROV_OFFLINE", "like --offline: no network at all"),
    (
        "MLPROV_PASSWORD, COSIGN_PASSWORD",
        "the private key's password (else a prompt)",
    ),
    (
        "MLPROV_REGISTRY_PLAIN_HTTP, MLPROV_REGISTRY_INSECURE",
        "like --plain-http, --insecure (1 or true)",
    ),
    ("MLPROV_REGISTRY_TIMEOUT", "like --timeout"),
    (
        "MLPROV_REGISTRY_USERNAME, MLPROV_REGISTRY_PASSWORD",
        "registry credentials (else DOCKER_CONFIG's)",
    ),
    (
        "DOCKER_CONFIG",
        "the directory of Docker's config.json (registry credentials)",
    ),
    (
        "MLPROV_FULCIO_URL, MLPROV_REKOR_URL, MLPROV_OIDC_ISSUER, MLPROV_TRUSTED_ROOT",
        "private Sigstore instances",
    ),
    (
        "SIGSTORE_ID_TOKEN",
        "the OIDC token for keyless signing (GitHub Actions' is used by itself)",
    ),
    (
        "HF_ENDPOINT, HF_TOKEN, HUGGING_FACE_HUB_TOKEN",
        "the Hugging Face Hub and its token",
    ),
    (
        "HF_HOME, HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, XDG_CACHE_HOME",
        "where the Hugging Face cache is",
    ),
    (
        "HF_HUB_OFFLINE",
        "no Hugging Face access (registries and Sigstore still work)",
    ),
    (
        "SOURCE_DATE_EPOCH",
        "the time recorded in provenance, SBOMs and VSAs",
    ),
    (
        "MLPROV_SERVE_LISTEN, MLPROV_SERVE_TLS_CERT, MLPROV_SERVE_TLS_KEY",
        "like `serve --listen`, `--tls-cert`, `--tls-key`",
    ),
    (
        "MLPROV_SERVE_DEADLINE_MS, MLPROV_SERVE_CACHE_TTL, MLPROV_SERVE_MAX_REQUEST_BYTES",
        "`serve`'s answer deadline, verdict cache lifetime and request size limit",
    ),
    (
        "MLPROV_MAX_*",
        "a limit on outside input, e.g. MLPROV_MAX_BUNDLE_BYTES=64MiB (README: Limits)",
    ),
    ("CI", "set: never prompt"),
    (
        "GITHUB_ACTIONS, GITHUB_WORKSPACE, GITHUB_STEP_SUMMARY, GITHUB_OUTPUT",
        "GitHub Actions annotations, summary and outputs",
    ),
    ("NO_COLOR, COLUMNS", "no colour; the width of error reports"),
    (
        "SHELL, XDG_DATA_HOME, XDG_CONFIG_HOME, BASH_COMPLETION_USER_DIR",
        "where `completions --install` and `man --install` write",
    ),
];

/// Exit statuses (ripgrep's convention).
pub const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "success: the command did what it was asked, the model verified",
    ),
    (
        "1",
        "a check failed: verification, policy, scan findings, --locked, a failed training run",
    ),
    ("2", "usage or I/O error: mlprov could not run the check"),
];

/// Files mlprov reads and writes.
pub const FILES: &[(&str, &str)] = &[
    (
        "mlprov.toml",
        "the project: artifact, inputs, training, policy, publish",
    ),
    (
        "mlprov.lock",
        "every input resolved to immutable bytes (written by `mlprov pin` only)",
    ),
    (
        "target/mlprov/",
        "the build's provenance.json, sbom.spdx.json, run.json and bundles",
    ),
    ("model.sig", "the model's OpenSSF Model Signing bundle"),
    (
        "cosign.key, cosign.pub",
        "the key pair `mlprov keygen` writes",
    ),
    (
        "$MLPROV_HOME",
        "the local store of built, pulled and verified artifacts and their bundles",
    ),
];

/// The examples of the command at `path` (`""` is mlprov itself).
pub fn examples(path: &str) -> &'static [(&'static str, &'static str)] {
    EXAMPLES
        .iter()
        .find(|(p, _)| *p == path)
        .map_or(&[], |(_, e)| e)
}

/// Every command path, mlprov's own first (`""`, `"pin"`, `"attest import"`),
/// visible ones only, in the order of the command tree.
pub fn command_paths(cmd: &Command) -> Vec<String> {
    fn walk(cmd: &Command, prefix: &str, out: &mut Vec<String>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let path = if prefix.is_empty() {
                sub.get_name().to_string()
            } else {
                format!("{prefix} {}", sub.get_name())
            };
            out.push(path.clone());
            walk(sub, &path, out);
        }
    }
    let mut out = vec![String::new()];
    walk(cmd, "", &mut out);
    out
}

/// The clap command mlprov parses with and documents itself by.
pub fn command() -> Command {
    let mut cmd = Cli::command();
    // `--format dot|mermaid` only where they work: every other command gets
    // the global flag with `human` and `json` (clap keeps a subcommand's own
    // definition instead of propagating the root's).
    let narrow = cmd
        .get_arguments()
        .find(|a| a.get_id() == "format")
        .cloned()
        .map(narrow_format);
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in &names {
        if let Some(arg) = narrow.clone().filter(|_| name != "graph") {
            cmd = cmd.mut_subcommand(name, |s| s.arg(arg));
        }
    }
    cmd = add_candidates(cmd);
    for path in command_paths(&cmd.clone()) {
        let parts: Vec<&str> = path.split_whitespace().collect();
        cmd = at(cmd, &parts, &|c| {
            let text = help_sections(&path, c.get_after_help());
            c.after_help(text)
        });
    }
    cmd
}

/// `--format` without `dot` and `mermaid`, parsing to the same type.
fn narrow_format(arg: Arg) -> Arg {
    use clap::ValueEnum;
    use clap::builder::TypedValueParser;
    arg.value_parser(
        clap::builder::PossibleValuesParser::new(["human", "json"]).map(|s: String| {
            crate::cli::Format::from_str(&s, false).unwrap_or(crate::cli::Format::Human)
        }),
    )
}

/// Apply `f` to the command at `path` below `cmd`.
fn at(cmd: Command, path: &[&str], f: &dyn Fn(Command) -> Command) -> Command {
    match path.split_first() {
        None => f(cmd),
        Some((first, rest)) => cmd.mut_subcommand(*first, |s| at(s, rest, f)),
    }
}

/// The text after the options: what derive gave, then the examples, and on
/// mlprov's own page the exit statuses and the environment.
fn help_sections(path: &str, before: Option<&StyledStr>) -> StyledStr {
    let heading = Style::new().bold().underline();
    let dim = Style::new().fg_color(Some(AnsiColor::BrightBlack.into()));
    let mut s = String::new();
    if let Some(b) = before {
        s.push_str(&b.ansi().to_string());
        s.push_str("\n\n");
    }
    s.push_str(&format!(
        "{}Examples:{}\n",
        heading.render(),
        heading.render_reset()
    ));
    for (i, (about, line)) in examples(path).iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        s.push_str(&format!(
            "  {}# {about}{}\n  $ {line}\n",
            dim.render(),
            dim.render_reset()
        ));
    }
    if path.is_empty() {
        s.push_str(&format!(
            "\n{}Exit status:{}\n",
            heading.render(),
            heading.render_reset()
        ));
        for (code, what) in EXIT_STATUS {
            s.push_str(&format!("  {code}  {what}\n"));
        }
        s.push_str(&format!(
            "\n{}Environment:{}\n",
            heading.render(),
            heading.render_reset()
        ));
        for (name, what) in ENVIRONMENT {
            s.push_str(&format!("  {name}\n          {what}\n"));
        }
        s.push_str("\nSee `mlprov man COMMAND` for a command's manual page.");
    } else {
        s.push_str(&format!(
            "\nGlobal options and the environment: `mlprov --help`; the manual: `mlprov man {path}`."
        ));
    }
    StyledStr::from(s.trim_end().to_string())
}

/// Completion candidates from the current project on the arguments that
/// take mlprov's own values.
fn add_candidates(cmd: Command) -> Command {
    use candidates as c;
    let inputs = || ArgValueCandidates::new(c::input_names);
    let refs = || ArgValueCandidates::new(c::registry_references);
    let predicates = || ArgValueCandidates::new(c::predicate_types);
    let cmd = cmd
        .mut_subcommand("pin", |s| {
            s.mut_arg("update", |a| a.add(inputs()))
                .mut_arg("names", |a| a.add(inputs()))
        })
        .mut_subcommand("attest", |s| {
            s.mut_subcommand("import", |i| i.mut_arg("name", |a| a.add(inputs())))
        })
        .mut_subcommand("push", |s| s.mut_arg("reference", |a| a.add(refs())))
        .mut_subcommand("pull", |s| {
            // `mut_arg` puts the argument last: put DIR back after REF.
            s.mut_arg("reference", |a| a.add(refs()))
                .mut_arg("dir", |a| a)
                .mut_arg("require", |a| a.add(predicates()))
        })
        .mut_subcommand("why", |s| {
            s.mut_arg("what", |a| a.add(ArgValueCandidates::new(c::why_names)))
                .mut_arg("repositories", |a| {
                    a.add(ArgValueCandidates::new(c::registry_repositories))
                })
        });
    ["verify", "graph"].into_iter().fold(cmd, |cmd, name| {
        cmd.mut_subcommand(name, |s| {
            s.mut_arg("target", |a| {
                a.add(ArgValueCompleter::new(c::verify_targets))
            })
            .mut_arg("require", |a| a.add(predicates()))
            .mut_arg("role", |a| a.add(ArgValueCandidates::new(c::role_names)))
        })
    })
}

/// What shell completion offers, read from the project around the current
/// directory. Nothing when there is no project or its manifest does not
/// parse (completion never prints errors).
mod candidates {
    use std::ffi::OsStr;

    use clap_complete::engine::{CompletionCandidate, PathCompleter, ValueCompleter};

    use crate::manifest::Manifest;
    use crate::project::Project;

    fn manifest() -> Option<Manifest> {
        let cwd = std::env::current_dir().ok()?;
        let project = Project::discover(&cwd).ok()?;
        Manifest::load(&project.manifest_path()).ok()
    }

    /// `[inputs]` names, with their role.
    pub fn input_names() -> Vec<CompletionCandidate> {
        manifest()
            .map(|m| {
                m.inputs
                    .values()
                    .map(|i| {
                        CompletionCandidate::new(&i.name)
                            .help(Some(format!("input ({})", i.role.as_str()).into()))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every role: first those the project's policy has rules for, then
    /// those its inputs take, then the rest.
    pub fn role_names() -> Vec<CompletionCandidate> {
        use crate::model::Role;
        let m = manifest();
        let rank = |r: Role| -> (u8, String) {
            let Some(m) = &m else {
                return (2, "role".into());
            };
            if m.policy.roles.contains_key(&r) {
                return (0, format!("[policy.roles.{r}] in mlprov.toml"));
            }
            let inputs: Vec<&str> = m
                .inputs
                .values()
                .filter(|i| i.role == r)
                .map(|i| i.name.as_str())
                .collect();
            if inputs.is_empty() {
                (2, "role".into())
            } else {
                (1, format!("role of {}", inputs.join(", ")))
            }
        };
        let mut ranked: Vec<(u8, Role, String)> = Role::ALL
            .into_iter()
            .map(|r| {
                let (k, help) = rank(r);
                (k, r, help)
            })
            .collect();
        // Stable: the roles' own order within a rank.
        ranked.sort_by_key(|(k, _, _)| *k);
        ranked
            .into_iter()
            .map(|(_, r, help)| CompletionCandidate::new(r.as_str()).help(Some(help.into())))
            .collect()
    }

    /// Input names and the artifact's name (`why NAME`).
    pub fn why_names() -> Vec<CompletionCandidate> {
        let mut out = input_names();
        if let Some(m) = manifest() {
            out.push(CompletionCandidate::new(&m.artifact.name).help(Some("the artifact".into())));
        }
        out
    }

    /// `[publish].registry` as a repository.
    pub fn registry_repositories() -> Vec<CompletionCandidate> {
        manifest()
            .and_then(|m| m.publish?.registry)
            .map(|r| vec![CompletionCandidate::new(r).help(Some("[publish].registry".into()))])
            .unwrap_or_default()
    }

    /// `[publish].registry`, tagged with the artifact version and bare.
    pub fn registry_references() -> Vec<CompletionCandidate> {
        let Some(m) = manifest() else {
            return Vec::new();
        };
        let Some(registry) = m.publish.and_then(|p| p.registry) else {
            return Vec::new();
        };
        vec![
            CompletionCandidate::new(format!("{registry}:{}", m.artifact.version))
                .help(Some("[publish].registry at the artifact version".into())),
            CompletionCandidate::new(registry).help(Some("[publish].registry".into())),
        ]
    }

    /// The predicate types mlprov writes and checks.
    pub fn predicate_types() -> Vec<CompletionCandidate> {
        use crate::intoto::*;
        [
            (PREDICATE_SLSA_PROVENANCE, "SLSA provenance v1"),
            (PREDICATE_SPDX3, "SPDX 3 SBOM"),
            (PREDICATE_CYCLONEDX, "CycloneDX BOM"),
            (PREDICATE_SCAN, "mlprov scan result"),
            (PREDICATE_VSA, "SLSA verification summary"),
            (PREDICATE_OMS, "OpenSSF Model Signing"),
        ]
        .into_iter()
        .map(|(t, what)| CompletionCandidate::new(t).help(Some(what.into())))
        .collect()
    }

    /// `verify TARGET`: paths, the artifact's directory and the registry
    /// references of `[publish]`.
    pub fn verify_targets(current: &OsStr) -> Vec<CompletionCandidate> {
        let word = current.to_string_lossy();
        let mut out: Vec<CompletionCandidate> = registry_references()
            .into_iter()
            .filter(|c| c.get_value().to_string_lossy().starts_with(&*word))
            .collect();
        // Not `.` for an empty word: a lone candidate bash would insert.
        out.extend(
            PathCompleter::any()
                .complete(current)
                .into_iter()
                .filter(|c| c.get_value() != "."),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_visible_command_has_examples() {
        let cmd = command();
        let missing: Vec<String> = command_paths(&cmd)
            .into_iter()
            .filter(|p| examples(p).is_empty())
            .collect();
        assert!(
            missing.is_empty(),
            "add examples to src/help.rs EXAMPLES for: {missing:?}"
        );
        for (path, _) in EXAMPLES {
            assert!(
                command_paths(&cmd).iter().any(|p| p == path),
                "EXAMPLES has `{path}`, which is not a command"
            );
        }
    }

    #[test]
    fn command_is_consistent() {
        command().debug_assert();
    }
}
