//! Command-line types (clap derive). No logic lives here.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

/// Pin, build, sign and verify ML models together with their inputs.
#[derive(Debug, Parser)]
// Examples, exit status and the environment: src/help.rs.
#[command(name = "mlprov", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// The heading of the options every command takes.
pub const GLOBAL: &str = "Global options";

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Output format: human-readable text or a JSON document on stdout
    /// (`mlprov graph` also draws `dot` and `mermaid`).
    #[arg(help_heading = GLOBAL, long, global = true, value_enum, default_value_t = Format::Human, env = "MLPROV_FORMAT")]
    pub format: Format,

    /// Run as if mlprov was started in DIR.
    #[arg(help_heading = GLOBAL, short = 'C', global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,

    /// Print less: errors only.
    #[arg(help_heading = GLOBAL, short, long, global = true, action = ArgAction::SetTrue, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more detail (repeat for even more).
    #[arg(help_heading = GLOBAL, short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// When to use colors on the terminal.
    #[arg(help_heading = GLOBAL, long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only
    /// Hugging Face offline).
    #[arg(help_heading = GLOBAL, long, global = true, env = "MLPROV_OFFLINE", value_parser = clap::builder::BoolishValueParser::new())]
    pub offline: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    // `mlprov graph` only.
    Dot,
    Mermaid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write an mlprov.toml for this training repository.
    Init(InitArgs),
    /// Resolve every input to immutable bytes and write mlprov.lock.
    Pin(PinArgs),
    /// Scan model files for code and for unsafe or malformed formats.
    Scan(ScanArgs),
    /// Check the inputs, run and record the training, and write provenance and SBOMs.
    Build(BuildArgs),
    /// Push the built model to an OCI registry (ModelPack), with its bundles as referrers.
    Push(PushArgs),
    /// Pull a model from an OCI registry, verify it, then place its files.
    Pull(PullArgs),
    /// Verify a model, copy it with every bundle to another registry, move the tag.
    Promote(PromoteArgs),
    /// Make a cosign-compatible key pair: cosign.key (encrypted) and cosign.pub.
    Keygen(KeygenArgs),
    /// Sign a model's files as an OpenSSF Model Signing bundle (model.sig).
    Sign(SignArgs),
    /// Sign the build's provenance and SBOM, or any predicate, into Sigstore bundles.
    Attest(AttestArgs),
    /// Verify a model: its files, signatures, signers and required attestations.
    Verify(VerifyArgs),
    /// Draw the verified provenance graph (DOT, Mermaid or JSON).
    Graph(GraphArgs),
    /// Run a Kubernetes admission webhook that admits workloads only when their models verify.
    Serve(ServeArgs),
    /// List every artifact (in the local store or a registry) that descends from DIGEST or NAME.
    Why(WhyArgs),
    /// Sign a revocation list (for `revocation-list` in [policy]).
    Revoke(RevokeArgs),
    /// Print shell completions (dynamic in bash, zsh and fish: they ask mlprov for the
    /// project's input names, registry references and predicate types).
    Completions(CompletionsArgs),
    /// Print the man page of mlprov or of a command (or write all pages to a directory).
    Man(ManArgs),
    /// Print the JSON Schema of mlprov.toml, or of a command's `--format json` document.
    #[command(hide = true)]
    Schema(SchemaArgs),
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// A command whose `--format json` document to describe (`pin`, `verify`, …, or `error`);
    /// without it, mlprov.toml.
    pub document: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Template {
    /// Fine-tune a base model on a dataset.
    FineTune,
    /// Import a third-party base model (origin and scan attestations).
    Import,
    /// Curate a dataset.
    Dataset,
    /// Train a LoRA adapter on top of a base model.
    Lora,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to initialise (default: the current directory).
    pub dir: Option<PathBuf>,

    /// Accept detected values and defaults without prompting.
    #[arg(short, long)]
    pub yes: bool,

    /// Overwrite an existing mlprov.toml.
    #[arg(long)]
    pub force: bool,

    /// What this repository produces.
    #[arg(long, value_enum)]
    pub template: Option<Template>,

    /// Logical artifact name, e.g. acme/support-llama.
    #[arg(long)]
    pub name: Option<String>,

    /// Artifact version.
    #[arg(long = "artifact-version", value_name = "VERSION")]
    pub artifact_version: Option<String>,

    /// SPDX license expression of the output.
    #[arg(long)]
    pub license: Option<String>,

    /// Base model: a Hugging Face repo id (org/name[@revision]) or a local path.
    #[arg(long, value_name = "HF_ID|PATH")]
    pub base_model: Option<String>,

    /// Training dataset: a local path or hf-dataset:org/name[@revision].
    #[arg(long, value_name = "PATH|hf-dataset:ID")]
    pub dataset: Option<String>,

    /// The build's output directory.
    #[arg(long, value_name = "DIR")]
    pub output: Option<String>,
}

#[derive(Debug, Args)]
pub struct PinArgs {
    /// Pin only these inputs (default: all). Other lock entries are kept.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Re-resolve this input's moving revision (branch or tag). Repeatable.
    #[arg(long, value_name = "NAME")]
    pub update: Vec<String>,

    /// Fail (exit 1) if the lock would change, naming the inputs; write nothing.
    #[arg(long)]
    pub locked: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// How to reach an OCI registry.
#[derive(Debug, Clone, Args)]
pub struct RegistryArgs {
    /// Talk plain HTTP to the registry (a local registry) [env: MLPROV_REGISTRY_PLAIN_HTTP=1].
    #[arg(long)]
    pub plain_http: bool,

    /// Accept any TLS certificate from the registry [env: MLPROV_REGISTRY_INSECURE=1].
    #[arg(long)]
    pub insecure: bool,

    /// Registry user name; the password is read from stdin (--password-stdin).
    #[arg(long, requires = "password_stdin")]
    pub username: Option<String>,

    /// Read the registry password from stdin (with --username).
    #[arg(long, requires = "username")]
    pub password_stdin: bool,

    /// Seconds without progress before a registry request is retried [default: 60]
    /// [env: MLPROV_REGISTRY_TIMEOUT].
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Where to push: registry/repository:tag (default: [publish].registry, tagged with the artifact version).
    #[arg(value_name = "REF")]
    pub reference: Option<String>,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// How the provenance graph is walked and judged.
#[derive(Debug, Clone, Args)]
pub struct GraphPolicyArgs {
    /// A policy: a .toml file (`[policy]` or policy keys; replaces mlprov.toml's [policy]) or a
    /// .rego file (deny rules, evaluated per node). Repeatable: one .toml, any number of .rego.
    #[arg(long, value_name = "FILE")]
    pub policy: Vec<PathBuf>,

    /// The Rego rule whose set of messages denies a node.
    #[arg(long, value_name = "QUERY", default_value = "data.mlprov.deny")]
    pub policy_query: String,

    /// Where Rego rules run: every node of the graph, or the verified artifact only.
    #[arg(long, value_enum, default_value_t = PolicyScope::Graph, value_name = "SCOPE")]
    pub policy_scope: PolicyScope,

    /// How deep to walk resolvedDependencies; a deeper graph fails verification.
    #[arg(long, default_value_t = 16, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=1024))]
    pub max_depth: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyScope {
    /// Every node of the provenance graph.
    Graph,
    /// The verified artifact only.
    Root,
}

/// `mlprov serve`: the admission webhook.
#[derive(Debug, Args)]
#[command(
    after_help = "The API server posts admission.k8s.io/v1 AdmissionReviews to POST /validate; \
GET /healthz and GET /metrics (Prometheus) are served too. See examples/kubernetes/webhook/."
)]
pub struct ServeArgs {
    /// The server certificate (PEM; the certificate first, then intermediates)
    /// [env: MLPROV_SERVE_TLS_CERT].
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// The certificate's private key (PEM, unencrypted) [env: MLPROV_SERVE_TLS_KEY].
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,

    /// Address to listen on [default: 0.0.0.0:8443] [env: MLPROV_SERVE_LISTEN].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,

    /// Milliseconds a review may take; a verification still running then is a denial
    /// (keep it below the webhook's timeoutSeconds) [default: 8000] [env: MLPROV_SERVE_DEADLINE_MS].
    #[arg(long, value_name = "MS")]
    pub deadline_ms: Option<u64>,

    /// Seconds a model's verdict is kept, by digest [default: 300] [env: MLPROV_SERVE_CACHE_TTL].
    #[arg(long, value_name = "SECS")]
    pub cache_ttl: Option<u64>,

    /// Largest review body read; a larger one is answered 413 [default: 7340032 (7 MiB)]
    /// [env: MLPROV_SERVE_MAX_REQUEST_BYTES].
    #[arg(long, value_name = "BYTES")]
    pub max_request_bytes: Option<u64>,

    /// A registry models may come from (host[:port] as in references); a model from another
    /// is denied. Repeatable (default: any registry).
    #[arg(long = "allow-registry", value_name = "HOST")]
    pub allow_registry: Vec<String>,

    /// A verifier's public key (PEM): a VSA it signed about the model's manifest digest, with
    /// verificationResult PASSED, admits the model without verifying it again. Repeatable.
    #[arg(long = "vsa-key", value_name = "PUB")]
    pub vsa_key: Vec<PathBuf>,

    /// Trust VSAs signed keylessly by exactly this identity (a verification job's workflow,
    /// https://github.com/OWNER/REPO/.github/workflows/FILE@REF), as --vsa-key trusts a key;
    /// checked against --trusted-root.
    #[arg(
        long,
        value_name = "IDENTITY",
        requires = "vsa_certificate_oidc_issuer",
        conflicts_with = "vsa_certificate_identity_regexp"
    )]
    pub vsa_certificate_identity: Option<String>,

    /// Trust VSAs signed keylessly by an identity matching this regular expression in full.
    #[arg(long, value_name = "REGEXP", requires = "vsa_certificate_oidc_issuer")]
    pub vsa_certificate_identity_regexp: Option<String>,

    /// The OIDC issuer of the trusted VSA signer, matched exactly
    /// (e.g. https://token.actions.githubusercontent.com).
    #[arg(long, value_name = "URL")]
    pub vsa_certificate_oidc_issuer: Option<String>,

    #[command(flatten)]
    pub trust: TrustArgs,

    #[command(flatten)]
    pub registry: RegistryArgs,

    #[command(flatten)]
    pub graph: GraphPolicyArgs,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub verify: VerifyArgs,
}

#[derive(Debug, Args)]
pub struct WhyArgs {
    /// An artifact digest (sha256:…) or a name (an input or artifact name).
    pub what: String,

    /// Count only provenance signed by these keys (PEM). Without keys, every provenance
    /// statement read counts, signed by anyone.
    #[arg(long, value_name = "PUB")]
    pub key: Vec<PathBuf>,

    /// Read the models of this registry repository (every tag; or one, as REPO:TAG)
    /// and their bundle referrers instead of the local store. Repeatable.
    #[arg(long = "registry", value_name = "REPO")]
    pub repositories: Vec<String>,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The digests to revoke (sha256:…).
    #[arg(required = true)]
    pub digests: Vec<String>,

    /// Why (recorded with each digest).
    #[arg(long)]
    pub reason: Option<String>,

    /// Private key to sign the list with.
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,

    /// The revocation list to write; an existing list signed by the same key is extended.
    #[arg(
        short,
        long,
        value_name = "FILE",
        default_value = "revoked.sigstore.json"
    )]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Example (a KServe storage initializer: the storage URI, then the destination):\n  \
mlprov pull --key /etc/mlprov/cosign.pub oci://REG/REPO@sha256:… /mnt/models"
)]
pub struct PullArgs {
    /// What to pull: registry/repository:tag or registry/repository@sha256:<hex> (an `oci://`
    /// prefix, as in a KServe storageUri, is accepted).
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Directory to place the files in (as -o DIR; the KServe storage-initializer form).
    #[arg(value_name = "DIR", conflicts_with = "output")]
    pub dir: Option<PathBuf>,

    /// Directory to place the files in; must be absent or empty (default: the repository's last path part).
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// Skip signature and policy verification (the downloaded bytes are still checked against their digests).
    #[arg(long)]
    pub no_verify: bool,

    #[command(flatten)]
    pub trust: TrustArgs,

    #[command(flatten)]
    pub registry: RegistryArgs,

    #[command(flatten)]
    pub graph: GraphPolicyArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  \
mlprov promote intake.example.com/models/m:1.0 registry.example.com/models/m:1.0 \\\n      \
--key cosign.pub --policy promote.toml --vsa-key gate.key\n\n\
Exit status: 0 promoted (or already promoted); 1 SRC does not verify under the policy\n\
(nothing is copied); 2 usage, registry or I/O error (DST's tag is left where it was).")]
pub struct PromoteArgs {
    /// The model to promote: registry/repository:tag or registry/repository@sha256:<hex>.
    #[arg(value_name = "SRC")]
    pub source: String,

    /// Where to promote it: registry/repository[:tag] (default tag: SRC's). May be another registry.
    #[arg(value_name = "DST")]
    pub destination: String,

    /// Verify and print what would be copied, attached and tagged; change nothing in DST.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub trust: TrustArgs,

    #[command(flatten)]
    pub registry: RegistryArgs,

    #[command(flatten)]
    pub graph: GraphPolicyArgs,

    /// Sign the promotion's VSA with this private key.
    #[arg(long, value_name = "KEY")]
    pub vsa_key: Option<PathBuf>,

    /// Log the key-signed VSA in Rekor (default: on when --rekor-url or MLPROV_REKOR_URL is given).
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        requires = "vsa_key"
    )]
    pub tlog_upload: Option<bool>,

    /// Rekor to log the signed VSA in (default: https://rekor.sigstore.dev).
    #[arg(long, value_name = "URL", env = "MLPROV_REKOR_URL")]
    pub rekor_url: Option<String>,

    /// Sign the VSA keyless with Sigstore (the job token in GitHub Actions, --identity-token, or a
    /// browser sign-in).
    #[arg(long, conflicts_with = "vsa_key")]
    pub vsa_keyless: bool,

    #[command(flatten)]
    pub vsa_sigstore: VsaSigstoreArgs,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 nothing fails the policy, 1 findings fail it, 2 usage or I/O error.\n\
Kinds: pickle, pytorch, torchscript, numpy-object, keras-lambda, remote-code, gguf-chat-template,\n\
unknown, pickle-global, keras-module, malformed, polyglot. Findings of severity medium or worse fail\n\
unless allowed; --deny makes a kind (or a format kind such as `pickle`) fail."
)]
pub struct ScanArgs {
    /// Files or directories to scan.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// Fail on this kind too, like `[policy] formats.deny` (e.g. `pickle`). Repeatable.
    #[arg(long, value_name = "KIND")]
    pub deny: Vec<String>,

    /// Allow findings of a kind, or `KIND:SUBJECT` (e.g. `pickle-global:sklearn.*`),
    /// like `[policy] formats.allow`. Repeatable.
    #[arg(long, value_name = "KIND[:SUBJECT]")]
    pub allow: Vec<String>,

    /// Read `[policy] formats` from this file (an mlprov.toml or a policy.toml);
    /// --deny and --allow add to it.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Also scan `.git/`, `.github/`, `.gitattributes` and `.gitignore`.
    #[arg(long)]
    pub include_git: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Writes target/mlprov/{provenance.json, sbom.spdx.json, run.json} (and bom.cdx.json with \
--cyclonedx). Never edits mlprov.lock. Exits with the training command's status when it fails."
)]
pub struct BuildArgs {
    /// The training command and its arguments (default: [training] command).
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,

    /// Import a run record made elsewhere (a run.json) instead of running a command.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["command", "params", "skip_training"])]
    pub run: Option<PathBuf>,

    /// Record an extra hyperparameter. Repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,

    /// Build from a git tree with uncommitted changes (recorded in the run).
    #[arg(long)]
    pub allow_dirty: bool,

    /// Also write a CycloneDX 1.6 ML-BOM (default: [build] cyclonedx).
    #[arg(long)]
    pub cyclonedx: bool,

    /// Do not run [training] command: hash and describe the outputs as they are.
    #[arg(long, conflicts_with = "command")]
    pub skip_training: bool,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Write PREFIX.key and PREFIX.pub.
    #[arg(long, value_name = "PREFIX", default_value = "cosign")]
    pub output_key_prefix: String,

    /// Write the private key unencrypted (PKCS#8 PEM). Only for throwaway keys.
    #[arg(long)]
    pub no_password: bool,

    /// Overwrite existing key files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The model: a directory or a single file (default: [artifact].path of mlprov.toml).
    pub path: Option<PathBuf>,

    /// Private key (cosign format, or PKCS#8/SEC1 PEM). Password from MLPROV_PASSWORD,
    /// COSIGN_PASSWORD or a prompt.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "keyless",
        conflicts_with = "keyless"
    )]
    pub key: Option<PathBuf>,

    #[command(flatten)]
    pub keyless: KeylessSignArgs,

    /// Where to write the signature (default: PATH/model.sig).
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,

    /// Leave these paths (relative to the model) out of the signature. Repeatable.
    #[arg(long = "ignore-paths", value_name = "PATH")]
    pub ignore_paths: Vec<String>,

    /// Sign .git/, .github/, .gitattributes and .gitignore too.
    #[arg(long)]
    pub no_ignore_git_paths: bool,

    /// Follow symlinks that stay inside the model instead of refusing them.
    #[arg(long)]
    pub allow_symlinks: bool,
}

#[derive(Debug, Args)]
// Not `args_conflicts_with_subcommands`: clap counts the global options
// (`-q`, `--format`, `-C`) as the parent's, so `attest -q import base` was
// refused. The command refuses `attest --key K import …` itself.
#[command(subcommand_negates_reqs = true)]
pub struct AttestArgs {
    #[command(subcommand)]
    pub command: Option<AttestCommand>,

    /// Private key to sign with (cosign format, or PKCS#8/SEC1 PEM). Password from
    /// MLPROV_PASSWORD, COSIGN_PASSWORD or a prompt.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "keyless",
        conflicts_with = "keyless"
    )]
    pub key: Option<PathBuf>,

    #[command(flatten)]
    pub keyless: KeylessSignArgs,

    /// Attest this predicate type (a URI) about the built artifact; needs --predicate.
    #[arg(long = "type", value_name = "URI", requires = "predicate")]
    pub predicate_type: Option<String>,

    /// The predicate document (JSON) for --type.
    #[arg(long, value_name = "FILE", requires = "predicate_type")]
    pub predicate: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AttestCommand {
    /// Attest where a third-party input in mlprov.lock came from (import provenance).
    Import(AttestImportArgs),
}

#[derive(Debug, Args)]
pub struct AttestImportArgs {
    /// The input's name in mlprov.lock.
    pub name: String,

    /// Private key to sign with.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "keyless",
        conflicts_with = "keyless"
    )]
    pub key: Option<PathBuf>,

    #[command(flatten)]
    pub keyless: KeylessSignArgs,
}

/// Keyless (Sigstore) signing: a Fulcio certificate for an OIDC identity,
/// logged in Rekor.
#[derive(Debug, Clone, Default, Args)]
pub struct KeylessSignArgs {
    /// Sign keyless with Sigstore instead of a key: a short-lived Fulcio certificate for your
    /// OIDC identity (GitHub Actions' job token, --identity-token, or a browser sign-in),
    /// with the signature logged in Rekor.
    #[arg(help_heading = "Keyless signing", long)]
    pub keyless: bool,

    /// The OIDC identity token (a JWT with audience `sigstore`) to sign keyless with.
    #[arg(
        long,
        help_heading = "Keyless signing",
        value_name = "TOKEN",
        env = "SIGSTORE_ID_TOKEN",
        hide_env_values = true
    )]
    pub identity_token: Option<String>,

    /// Fulcio (the certificate authority) to use.
    #[arg(help_heading = "Keyless signing", long, value_name = "URL", env = "MLPROV_FULCIO_URL", default_value = crate::sign::keyless::PUBLIC_FULCIO_URL)]
    pub fulcio_url: String,

    /// Rekor (the transparency log) to use (default: https://rekor.sigstore.dev). Naming one
    /// also logs key-signed bundles there, unless --tlog-upload=false.
    #[arg(
        help_heading = "Transparency log",
        long,
        value_name = "URL",
        env = "MLPROV_REKOR_URL"
    )]
    pub rekor_url: Option<String>,

    /// Log key-signed bundles in Rekor and put the inclusion proof, checkpoint and signed entry
    /// timestamp in the bundle, as cosign does (default: on when --rekor-url or MLPROV_REKOR_URL
    /// is given). Keyless signing always logs.
    #[arg(
        help_heading = "Transparency log",
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub tlog_upload: Option<bool>,

    /// OIDC issuer for the browser sign-in.
    #[arg(help_heading = "Keyless signing", long, value_name = "URL", env = "MLPROV_OIDC_ISSUER", default_value = crate::sign::keyless::PUBLIC_OIDC_ISSUER)]
    pub oidc_issuer: String,

    /// OIDC client ID for the browser sign-in.
    #[arg(
        help_heading = "Keyless signing",
        long,
        value_name = "ID",
        default_value = "sigstore"
    )]
    pub oidc_client_id: String,

    /// Sigstore trusted root (trusted_root.json) to check the certificate and log entry against;
    /// needed with a private --fulcio-url/--rekor-url (default: the last --refresh-trusted-root,
    /// else the public-good root built into mlprov).
    #[arg(
        help_heading = "Keyless signing",
        long,
        value_name = "FILE",
        env = "MLPROV_TRUSTED_ROOT"
    )]
    pub trusted_root: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A model directory or file, a digest (sha256:…) to verify from the local store, or
    /// an OCI reference (registry/repository:tag or @sha256:…) (default: [artifact].path of
    /// mlprov.toml).
    pub target: Option<String>,

    #[command(flatten)]
    pub trust: TrustArgs,

    /// The model's signature (default: TARGET/model.sig).
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,

    /// Another bundle that must verify and be about the model. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub bundle: Vec<PathBuf>,

    /// Leave these paths (relative to the model) out of the file check. Repeatable.
    #[arg(long = "ignore-paths", value_name = "PATH")]
    pub ignore_paths: Vec<String>,

    /// Judge TARGET as the policy judges an input in this role: [policy.roles.ROLE]'s signers,
    /// required predicates, scans and licenses (e.g. a dataset or base model before pinning it).
    /// Neither the model signature nor the model card is required of it.
    #[arg(long, value_name = "ROLE", value_parser = role_parser())]
    pub role: Option<crate::model::Role>,

    #[command(flatten)]
    pub registry: RegistryArgs,

    #[command(flatten)]
    pub graph: GraphPolicyArgs,

    /// Write a SLSA Verification Summary (VSA) of the result to FILE.
    #[arg(long, value_name = "FILE")]
    pub emit_vsa: Option<PathBuf>,

    /// Sign the VSA with this private key (a Sigstore bundle); else a bare statement.
    #[arg(long, value_name = "KEY", requires = "emit_vsa")]
    pub vsa_key: Option<PathBuf>,

    /// Log the key-signed VSA in Rekor, as `sign --tlog-upload` does (default: on when
    /// --rekor-url or MLPROV_REKOR_URL is given).
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        requires = "vsa_key"
    )]
    pub tlog_upload: Option<bool>,

    /// Rekor to log the signed VSA in (default: https://rekor.sigstore.dev).
    #[arg(long, value_name = "URL", env = "MLPROV_REKOR_URL")]
    pub rekor_url: Option<String>,

    /// Sign the VSA keyless with Sigstore instead of a key: a Fulcio certificate for your OIDC
    /// identity (the job token in GitHub Actions, --identity-token, or a browser sign-in).
    #[arg(long, requires = "emit_vsa", conflicts_with = "vsa_key")]
    pub vsa_keyless: bool,

    /// Push the signed VSA to the registry as a referrer of the verified model's manifest (TARGET
    /// must be an OCI reference, and the verification must pass), so an admission gate can admit
    /// the model by checking one VSA from the verifier's identity.
    #[arg(long)]
    pub attach: bool,

    #[command(flatten)]
    pub vsa_sigstore: VsaSigstoreArgs,
}

/// Keyless (Sigstore) signing of the VSA (`verify --vsa-keyless`); the trusted root is
/// `--trusted-root`.
#[derive(Debug, Clone, Args)]
pub struct VsaSigstoreArgs {
    /// The OIDC identity token (a JWT with audience `sigstore`) to sign the VSA keyless with.
    #[arg(
        long,
        help_heading = "Keyless signing",
        value_name = "TOKEN",
        env = "SIGSTORE_ID_TOKEN",
        hide_env_values = true,
        requires = "vsa_keyless"
    )]
    pub identity_token: Option<String>,

    /// Fulcio (the certificate authority) to use.
    #[arg(help_heading = "Keyless signing", long, value_name = "URL", env = "MLPROV_FULCIO_URL", default_value = crate::sign::keyless::PUBLIC_FULCIO_URL)]
    pub fulcio_url: String,

    /// OIDC issuer for the browser sign-in.
    #[arg(help_heading = "Keyless signing", long, value_name = "URL", env = "MLPROV_OIDC_ISSUER", default_value = crate::sign::keyless::PUBLIC_OIDC_ISSUER)]
    pub oidc_issuer: String,

    /// OIDC client ID for the browser sign-in.
    #[arg(
        help_heading = "Keyless signing",
        long,
        value_name = "ID",
        default_value = "sigstore"
    )]
    pub oidc_client_id: String,
}

impl VsaSigstoreArgs {
    /// The signing arguments of a VSA (`verify --emit-vsa`, `promote`):
    /// these keyless services with the command's own Rekor and trust flags.
    pub fn sign_args(
        &self,
        keyless: bool,
        rekor_url: Option<String>,
        tlog_upload: Option<bool>,
        trusted_root: Option<PathBuf>,
    ) -> KeylessSignArgs {
        KeylessSignArgs {
            keyless,
            identity_token: self.identity_token.clone(),
            fulcio_url: self.fulcio_url.clone(),
            rekor_url,
            tlog_upload,
            oidc_issuer: self.oidc_issuer.clone(),
            oidc_client_id: self.oidc_client_id.clone(),
            trusted_root,
        }
    }
}

/// Who is trusted to sign, and what must be proven (verify, pull).
#[derive(Debug, Clone, Args)]
pub struct TrustArgs {
    /// A trusted public key (PEM). Repeatable.
    #[arg(long, value_name = "PUB")]
    pub key: Vec<PathBuf>,

    /// Trusted certificates (PEM) for certificate-signed bundles. Repeatable.
    #[arg(long, value_name = "PEM")]
    pub certificate_chain: Vec<PathBuf>,

    /// A predicate type that must be proven (e.g. https://slsa.dev/provenance/v1). Repeatable.
    #[arg(long, value_name = "TYPE")]
    pub require: Vec<String>,

    /// Key-signed bundles must carry a transparency log entry (with a signed entry timestamp)
    /// that verifies against the trusted root's Rekor logs, as cosign --key requires. Keyless
    /// bundles always must.
    #[arg(long)]
    pub require_tlog: bool,

    #[command(flatten)]
    pub keyless: KeylessTrustArgs,
}

/// Which keyless (Sigstore) signers to trust, and the trust material.
#[derive(Debug, Clone, Default, Args)]
pub struct KeylessTrustArgs {
    /// Trust keyless signatures by exactly this identity: the certificate's email or URI
    /// (for GitHub Actions, https://github.com/OWNER/REPO/.github/workflows/FILE@REF).
    #[arg(
        long,
        help_heading = "Keyless verification",
        value_name = "IDENTITY",
        requires = "certificate_oidc_issuer",
        conflicts_with = "certificate_identity_regexp"
    )]
    pub certificate_identity: Option<String>,

    /// Trust keyless signatures whose identity matches this regular expression in full.
    /// A loose pattern trusts anyone who can get a certificate: prefer --certificate-identity.
    #[arg(
        help_heading = "Keyless verification",
        long,
        value_name = "REGEXP",
        requires = "certificate_oidc_issuer"
    )]
    pub certificate_identity_regexp: Option<String>,

    /// The OIDC issuer of the trusted identity, matched exactly
    /// (e.g. https://token.actions.githubusercontent.com).
    #[arg(help_heading = "Keyless verification", long, value_name = "URL")]
    pub certificate_oidc_issuer: Option<String>,

    /// Sigstore trusted root (trusted_root.json) with the Fulcio CAs, Rekor logs and CT logs
    /// to trust: for private deployments and air-gapped machines (default: the last
    /// --refresh-trusted-root, else the public-good root built into mlprov).
    #[arg(
        help_heading = "Keyless verification",
        long,
        value_name = "FILE",
        env = "MLPROV_TRUSTED_ROOT"
    )]
    pub trusted_root: Option<PathBuf>,

    /// Fetch the current public-good trusted root over TUF first (needs the network).
    #[arg(
        help_heading = "Keyless verification",
        long,
        conflicts_with = "trusted_root"
    )]
    pub refresh_trusted_root: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for (with --install, default: the one in $SHELL).
    #[arg(value_enum, required_unless_present = "install")]
    pub shell: Option<clap_complete::Shell>,
    /// Write the script where the shell loads it instead of printing it: bash-completion's user
    /// directory, fish's completions directory, or zsh's site-functions under
    /// ~/.local/share (add that to fpath)
    #[arg(long)]
    pub install: bool,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print (`verify`, `attest import`); default: mlprov's own.
    #[arg(value_name = "COMMAND", conflicts_with_all = ["out_dir", "install"])]
    pub command: Vec<String>,
    /// Write mlprov.1 and one page per command (mlprov-attest-import.1 too) into DIR
    /// (`man/man1` for `man -M man`).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Write the pages into $XDG_DATA_HOME/man/man1 (default ~/.local/share/man/man1), where man
    /// finds them for programs in ~/.local/bin.
    #[arg(long, conflicts_with = "out_dir")]
    pub install: bool,
}

/// A role name (`base-model`, `training-data`, …), checked by clap so a typo
/// gets "did you mean" and the list.
fn role_parser() -> impl clap::builder::TypedValueParser<Value = crate::model::Role> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(crate::model::Role::ALL.map(|r| r.as_str())).try_map(
        |s| {
            crate::model::Role::parse(&s)
                .ok_or_else(|| std::io::Error::other(format!("{s:?} is not a role")))
        },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
