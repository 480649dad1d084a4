//! Command-line types (clap derive). No logic lives here.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Exit status: 0 success, 1 a check failed (verification, policy, findings, --locked), 2 usage or I/O error.
Environment: MLPROV_HOME (local store), MLPROV_CACHE_DIR (hash and download cache), HF_ENDPOINT, HF_HOME,
HF_HUB_CACHE, HF_TOKEN, SOURCE_DATE_EPOCH, NO_COLOR.";

/// Pin, build, sign and verify ML models together with their inputs.
#[derive(Debug, Parser)]
#[command(name = "mlprov", version, about, propagate_version = true, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Output format: human-readable text or a JSON document on stdout.
    #[arg(long, global = true, value_enum, default_value_t = Format::Human, env = "MLPROV_FORMAT")]
    pub format: Format,

    /// Run as if mlprov was started in DIR.
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,

    /// Print less: errors only.
    #[arg(short, long, global = true, action = ArgAction::SetTrue, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more detail (repeat for even more).
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// When to use colors on the terminal.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Never touch the network: resolve from local caches only.
    #[arg(long, global = true, env = "MLPROV_OFFLINE", value_parser = clap::builder::BoolishValueParser::new())]
    pub offline: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
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
    /// Make a cosign-compatible key pair: cosign.key (encrypted) and cosign.pub.
    Keygen(KeygenArgs),
    /// Sign a model's files as an OpenSSF Model Signing bundle (model.sig).
    Sign(SignArgs),
    /// Sign the build's provenance and SBOM, or any predicate, into Sigstore bundles.
    Attest(AttestArgs),
    /// Verify a model: its files, signatures, signers and required attestations.
    Verify(VerifyArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
    /// Print the man page (or write all pages to a directory).
    Man(ManArgs),
    /// Print the JSON Schema of mlprov.toml.
    #[command(hide = true)]
    Schema,
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
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,

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
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct AttestArgs {
    #[command(subcommand)]
    pub command: Option<AttestCommand>,

    /// Private key to sign with (cosign format, or PKCS#8/SEC1 PEM). Password from
    /// MLPROV_PASSWORD, COSIGN_PASSWORD or a prompt.
    #[arg(long, value_name = "FILE", required = true)]
    pub key: Option<PathBuf>,

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
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A model directory or file, or a digest (sha256:…) to verify from the local store
    /// (default: [artifact].path of mlprov.toml).
    pub target: Option<String>,

    /// A trusted public key (PEM). Repeatable.
    #[arg(long, value_name = "PUB")]
    pub key: Vec<PathBuf>,

    /// Trusted certificates (PEM) for certificate-signed bundles. Repeatable.
    #[arg(long, value_name = "PEM")]
    pub certificate_chain: Vec<PathBuf>,

    /// The model's signature (default: TARGET/model.sig).
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,

    /// Another bundle that must verify and be about the model. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub bundle: Vec<PathBuf>,

    /// A predicate type that must be proven (e.g. https://slsa.dev/provenance/v1). Repeatable.
    #[arg(long, value_name = "TYPE")]
    pub require: Vec<String>,

    /// Leave these paths (relative to the model) out of the file check. Repeatable.
    #[arg(long = "ignore-paths", value_name = "PATH")]
    pub ignore_paths: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write mlprov.1 and one page per subcommand into this directory.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
