//! `mlprov init [DIR]`: write an `mlprov.toml` from a template.
//!
//! Interactive (dialoguer) on a terminal; otherwise every answer comes from a
//! flag, from what was detected in the directory, or from a default.

use std::path::{Path, PathBuf};

use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, Select};
use miette::{IntoDiagnostic, Result, WrapErr, miette};

use super::Context;
use crate::cli::{InitArgs, Template};
use crate::manifest::{MANIFEST_FILE, Manifest};
use crate::model::Source;

const FINE_TUNE: &str = include_str!("../../templates/fine-tune.toml");
const IMPORT: &str = include_str!("../../templates/import.toml");
const DATASET: &str = include_str!("../../templates/dataset.toml");
const LORA: &str = include_str!("../../templates/lora.toml");

/// What was found in the directory.
#[derive(Debug, Default)]
pub struct Detected {
    pub git_root: Option<PathBuf>,
    /// `org/repo` from the `origin` remote.
    pub remote_name: Option<String>,
    pub dir_name: String,
    pub train_script: Option<String>,
    pub config: Option<String>,
    pub data_dir: Option<String>,
    pub test_dir: Option<String>,
    pub python_project: bool,
    /// Models in the local Hugging Face cache (`org/name`).
    pub hf_models: Vec<String>,
    /// A local base model directory (`models/base/`).
    pub base_dir: Option<String>,
    /// The Python that runs the training script: `python` where it exists,
    /// else `python3` (Debian and macOS have only `python3`).
    pub python: &'static str,
    /// The Python that `[training] python` names for `pip list`.
    pub pip_python: &'static str,
}

/// A base model or dataset answer, classified.
#[derive(Debug, Clone, PartialEq)]
enum Spec {
    Hf { repo: String, revision: String },
    HfDataset { repo: String, revision: String },
    Path(String),
}

#[derive(Debug)]
struct Answers {
    template: Template,
    name: String,
    version: String,
    license: Option<String>,
    description: Option<String>,
    base_model: Option<Spec>,
    dataset: Option<Spec>,
    test_data: Option<Spec>,
    output: String,
    command: Option<Vec<String>>,
    config: Option<String>,
    python: bool,
    /// The interpreter the commented-out `command` example and
    /// `[training] python` name.
    python_cmd: &'static str,
    pip_python: &'static str,
}

pub fn run(cx: &Context, args: InitArgs) -> Result<()> {
    let dir = match &args.dir {
        Some(d) => cx.settings.cwd.join(d),
        None => cx.settings.cwd.clone(),
    };
    std::fs::create_dir_all(&dir)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot create {}", dir.display()))?;
    let manifest_path = dir.join(MANIFEST_FILE);
    if manifest_path.exists() && !args.force {
        return Err(miette!(
            code = "mlprov::init::exists",
            help = "edit it, or pass `--force` to replace it",
            "{} already exists",
            manifest_path.display()
        ));
    }
    let mut detected = detect(&dir, &cx.settings.hf());
    let env = &cx.settings.env;
    let (python, python3) = (env.on_path("python"), env.on_path("python3"));
    detected.python = if python { "python" } else { "python3" };
    detected.pip_python = if python && !python3 {
        "python"
    } else {
        "python3"
    };
    let answers = if cx.settings.interactive && !args.yes {
        prompt(&args, &detected, &dir)?
    } else {
        from_flags(&args, &detected, &dir)?
    };
    let text = render(&answers);
    // The template must always produce a valid manifest.
    Manifest::parse(&text, MANIFEST_FILE).map_err(|e| {
        miette!(
            code = "mlprov::init::invalid",
            help = "fix the answers (the rest of the template is known to be valid)",
            "the answers do not make a valid mlprov.toml: {e}"
        )
    })?;
    crate::fsutil::write_atomic(&manifest_path, text.as_bytes())
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot write {}", manifest_path.display()))?;
    let gitignore = ensure_gitignore(&dir, detected.git_root.as_deref())
        .into_diagnostic()
        .wrap_err("cannot update .gitignore")?;

    if cx.printer.is_json() {
        cx.printer.document(&crate::document::InitDocument {
            version: crate::document::VERSION,
            manifest: manifest_path.display().to_string(),
            template: template_name(answers.template).to_string(),
            name: answers.name.clone(),
            gitignore_updated: gitignore,
        });
    } else {
        cx.printer.status(
            "Created",
            &format!(
                "{} ({} template for `{}`)",
                manifest_path.display(),
                template_name(answers.template),
                answers.name
            ),
        );
        if gitignore {
            cx.printer.status("Updated", ".gitignore (added target/)");
        }
        cx.printer
            .status_dim("Next", "run `mlprov pin` to write mlprov.lock");
    }
    Ok(())
}

fn template_name(t: Template) -> &'static str {
    match t {
        Template::FineTune => "fine-tune",
        Template::Import => "import",
        Template::Dataset => "dataset",
        Template::Lora => "lora",
    }
}

/// Look around `dir` for the git repo, training files, data and the HF cache.
pub fn detect(dir: &Path, hf: &crate::resolve::hf::HfSettings) -> Detected {
    let mut d = Detected {
        dir_name: dir
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
            .unwrap_or_else(|| "model".into()),
        ..Default::default()
    };
    if let Ok(repo) = git2::Repository::discover(dir) {
        d.git_root = repo.workdir().map(Path::to_path_buf);
        d.remote_name = repo
            .find_remote("origin")
            .ok()
            .and_then(|r| r.url().ok().map(remote_to_name));
    }
    let first = |cands: &[&str]| {
        cands
            .iter()
            .find(|c| dir.join(c).exists())
            .map(|c| c.to_string())
    };
    d.train_script = first(&[
        "train.py",
        "finetune.py",
        "fine_tune.py",
        "scripts/train.py",
        "src/train.py",
        "train.sh",
    ]);
    d.config = first(&[
        "config.yaml",
        "configs/train.yaml",
        "configs/ft.yaml",
        "configs/config.yaml",
        "train.yaml",
        "config.json",
        "configs/train.json",
        "config.toml",
    ])
    .or_else(|| {
        std::fs::read_dir(dir.join("configs")).ok().and_then(|rd| {
            let mut v: Vec<String> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml") || n.ends_with(".json"))
                .collect();
            v.sort();
            v.first().map(|n| format!("configs/{n}"))
        })
    });
    d.data_dir = first(&["data/train", "data", "dataset", "datasets"]).map(|p| format!("{p}/"));
    d.base_dir = [
        "models/base",
        "models/base-model",
        "model/base",
        "base-model",
        "base_model",
        "base",
    ]
    .iter()
    .find(|c| dir.join(c).is_dir())
    .map(|c| format!("{c}/"));
    d.test_dir = first(&["data/test", "data/eval", "eval"]).map(|p| format!("{p}/"));
    d.python_project = dir.join("requirements.txt").exists() || dir.join("pyproject.toml").exists();

    if let Ok(rd) = std::fs::read_dir(&hf.cache_dir) {
        let mut models: Vec<String> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().to_string();
                n.strip_prefix("models--").map(|r| r.replacen("--", "/", 1))
            })
            .collect();
        models.sort();
        d.hf_models = models;
    }
    d
}

/// `git@github.com:acme/support.git` / `https://github.com/acme/support` → `acme/support`.
fn remote_to_name(url: &str) -> String {
    let trimmed = url.trim_end_matches('/').trim_end_matches(".git");
    let path = trimmed
        .rsplit_once(':')
        .filter(|(h, _)| !h.contains("//"))
        .map(|(_, p)| p)
        .unwrap_or(trimmed);
    let parts: Vec<&str> = path.rsplit('/').take(2).collect();
    match parts.as_slice() {
        [repo, org] => format!("{org}/{repo}"),
        [repo] => repo.to_string(),
        _ => trimmed.to_string(),
    }
}

fn default_output(t: Template) -> &'static str {
    match t {
        Template::FineTune | Template::Dataset => "out/",
        Template::Import => "model/",
        Template::Lora => "out/adapter/",
    }
}

/// Classify a base-model answer: an existing path, `hf:ID[@rev]`, or a Hub id.
fn parse_model_spec(s: &str, dir: &Path) -> Spec {
    let s = s.trim();
    match s.parse::<Source>() {
        Ok(Source::Hf { repo }) => return hf_spec(&repo, false),
        Ok(Source::HfDataset { repo }) => return hf_spec(&repo, true),
        Ok(Source::Path { path }) => return Spec::Path(path),
        _ => {}
    }
    if dir.join(s).exists() || s.starts_with("./") || s.ends_with('/') {
        return Spec::Path(s.trim_start_matches("./").to_string());
    }
    hf_spec(s, false)
}

/// Classify a dataset answer: `hf-dataset:ID[@rev]`, or a path.
fn parse_data_spec(s: &str) -> Spec {
    let s = s.trim();
    match s.parse::<Source>() {
        Ok(Source::HfDataset { repo }) => hf_spec(&repo, true),
        Ok(Source::Path { path }) => Spec::Path(path.trim_start_matches("./").to_string()),
        _ => Spec::Path(s.trim_start_matches("./").to_string()),
    }
}

fn hf_spec(s: &str, dataset: bool) -> Spec {
    let (repo, revision) = match s.split_once('@') {
        Some((r, v)) => (r.to_string(), v.to_string()),
        None => (s.to_string(), "main".to_string()),
    };
    if dataset {
        Spec::HfDataset { repo, revision }
    } else {
        Spec::Hf { repo, revision }
    }
}

fn check_license(l: &str) -> Result<()> {
    crate::license::parse(l).map(|_| ()).map_err(|e| {
        miette!(
            code = "mlprov::init::license",
            help = crate::license::explain(l).unwrap_or_else(|| format!(
                "use an SPDX expression, e.g. `{}`",
                crate::license::suggest(l)
            )),
            "`{l}` is not a valid SPDX license expression: {}",
            e.reason
        )
    })
}

// Each answer is checked as it is given: the prompt asks again with the
// reason, and a flag with a bad value is an error that names the flag.

/// An artifact name.
fn check_name(s: &str) -> std::result::Result<(), String> {
    let s = s.trim();
    if crate::model::is_artifact_name(s) {
        Ok(())
    } else {
        Err(format!(
            "`{s}` cannot be an artifact name: use letters, digits, `-`, `_`, `.` and `/`, e.g. `{}`",
            name_like(s)
        ))
    }
}

/// `My Model!!` → `my-model`: a valid name close to `s`.
fn name_like(s: &str) -> String {
    let mut out = String::new();
    for c in s.trim().chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() || "_./".contains(c) {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches(['-', '/', '.']).to_string();
    if out.is_empty() {
        "acme/model".to_string()
    } else {
        out
    }
}

/// An artifact version: no spaces, e.g. `0.1.0`.
fn check_version(s: &str) -> std::result::Result<(), String> {
    let s = s.trim();
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
    {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a version: letters, digits, `.`, `-`, `+`, e.g. `0.1.0`"
        ))
    }
}

/// A Hub repository id and revision.
fn check_hub(repo: &str, revision: &str) -> std::result::Result<(), String> {
    if !crate::model::is_hf_repo_id(repo) {
        return Err(format!(
            "`{repo}` is neither an existing path nor a Hugging Face repository id (org/name[@revision]: letters, digits, `-`, `_`, `.`, e.g. `meta-llama/Llama-3.1-8B`)"
        ));
    }
    if !crate::model::is_revision(revision) {
        return Err(format!(
            "`{revision}` is not a revision: a branch, a tag or a 40-hex commit"
        ));
    }
    Ok(())
}

/// A local path, which must exist under `dir`.
fn check_path(p: &str, dir: &Path) -> std::result::Result<(), String> {
    if !crate::fsutil::is_safe_relative(p.trim_end_matches('/')) {
        return Err(format!("`{p}` must be a relative path inside the project"));
    }
    if dir.join(p).exists() {
        Ok(())
    } else {
        Err(format!(
            "no such file or directory: {}",
            dir.join(p).display()
        ))
    }
}

/// A base model answer (empty: none).
fn check_model(s: &str, dir: &Path) -> std::result::Result<(), String> {
    if s.trim().is_empty() {
        return Ok(());
    }
    match parse_model_spec(s, dir) {
        Spec::Path(p) => check_path(&p, dir),
        Spec::Hf { repo, revision } | Spec::HfDataset { repo, revision } => {
            check_hub(&repo, &revision)
        }
    }
}

/// A training data answer (empty: none).
fn check_data(s: &str, dir: &Path) -> std::result::Result<(), String> {
    if s.trim().is_empty() {
        return Ok(());
    }
    match parse_data_spec(s) {
        Spec::Path(p) => check_path(&p, dir),
        Spec::Hf { repo, revision } | Spec::HfDataset { repo, revision } => {
            check_hub(&repo, &revision)
        }
    }
}

/// The output directory: relative, inside the project (it may not exist yet).
fn check_output(s: &str) -> std::result::Result<(), String> {
    let s = s.trim();
    if !s.is_empty() && crate::fsutil::is_safe_relative(s.trim_end_matches('/')) {
        Ok(())
    } else {
        Err(format!(
            "`{s}` must be a directory inside the project, e.g. `out/`"
        ))
    }
}

/// A flag's value, checked like the prompt's answer.
fn check_flag(
    flag: &str,
    value: &str,
    check: impl Fn(&str) -> std::result::Result<(), String>,
) -> Result<()> {
    check(value).map_err(|why| {
        miette!(
            code = "mlprov::usage",
            help = "give another value, or leave the flag out to use what was detected",
            "{flag}: {why}"
        )
    })
}

fn default_command(d: &Detected) -> Option<Vec<String>> {
    let script = d.train_script.as_ref()?;
    let mut argv = if script.ends_with(".sh") {
        vec!["bash".to_string(), script.clone()]
    } else {
        vec![d.python.to_string(), script.clone()]
    };
    if let Some(c) = &d.config {
        argv.push("--config".into());
        argv.push(c.clone());
    }
    Some(argv)
}

fn from_flags(args: &InitArgs, d: &Detected, dir: &Path) -> Result<Answers> {
    let template = args.template.unwrap_or(Template::FineTune);
    if let Some(l) = &args.license {
        check_license(l)?;
    }
    if let Some(n) = &args.name {
        check_flag("--name", n, check_name)?;
    }
    if let Some(v) = &args.artifact_version {
        check_flag("--artifact-version", v, check_version)?;
    }
    if let Some(b) = &args.base_model {
        check_flag("--base-model", b, |s| check_model(s, dir))?;
    }
    if let Some(ds) = &args.dataset {
        check_flag("--dataset", ds, |s| check_data(s, dir))?;
    }
    if let Some(o) = &args.output {
        check_flag("--output", o, check_output)?;
    }
    let needs_base = matches!(
        template,
        Template::FineTune | Template::Lora | Template::Import
    );
    let needs_data = matches!(
        template,
        Template::FineTune | Template::Lora | Template::Dataset
    );
    let base_model = args
        .base_model
        .as_deref()
        .map(|s| parse_model_spec(s, dir))
        .or_else(|| {
            // A detected local base model is used where a base is needed.
            d.base_dir
                .clone()
                .filter(|_| template != Template::Import)
                .map(Spec::Path)
        })
        .filter(|_| needs_base);
    let dataset = args
        .dataset
        .as_deref()
        .map(parse_data_spec)
        .or_else(|| d.data_dir.clone().map(Spec::Path))
        .filter(|_| needs_data);
    if template == Template::Import && base_model.is_none() {
        return Err(miette!(
            code = "mlprov::init::missing",
            help = "pass `--base-model org/name[@revision]` (the model to import)",
            "the import template needs the model to import"
        ));
    }
    Ok(Answers {
        template,
        name: args.name.clone().unwrap_or_else(|| default_name(d)),
        version: args
            .artifact_version
            .clone()
            .unwrap_or_else(|| "0.1.0".into()),
        license: args.license.clone(),
        description: None,
        base_model,
        dataset,
        test_data: d
            .test_dir
            .clone()
            .filter(|t| needs_data && Some(t) != d.data_dir.as_ref())
            .map(Spec::Path),
        output: args
            .output
            .clone()
            .unwrap_or_else(|| default_output(template).to_string()),
        command: if template == Template::Import {
            None
        } else {
            default_command(d)
        },
        config: d.config.clone().filter(|_| template != Template::Import),
        python: d.python_project && template != Template::Import,
        python_cmd: d.python,
        pip_python: d.pip_python,
    })
}

/// The name offered: the git remote's `org/repo`, else the directory's name,
/// made valid.
fn default_name(d: &Detected) -> String {
    let n = d.remote_name.clone().unwrap_or_else(|| d.dir_name.clone());
    if check_name(&n).is_ok() {
        n
    } else {
        name_like(&n)
    }
}

fn prompt(args: &InitArgs, d: &Detected, dir: &Path) -> Result<Answers> {
    // Ctrl-C (SIGINT) anywhere: dialoguer hides the cursor in menus, so
    // show it again, then end as the signal would (130), having written
    // nothing. One `init` per process: one handler.
    fn cancelled() -> ! {
        let _ = console::Term::stderr().show_cursor();
        eprintln!("\ncancelled; nothing was written");
        std::process::exit(130);
    }
    let _ = ctrlc::set_handler(|| cancelled());
    let theme = ColorfulTheme::default();
    let io = |e: dialoguer::Error| {
        // The signal can interrupt the prompt's read before the handler
        // runs: that is the same Ctrl-C.
        if let dialoguer::Error::IO(err) = &e
            && err.kind() == std::io::ErrorKind::Interrupted
        {
            cancelled();
        }
        let _ = console::Term::stderr().show_cursor();
        miette!(code = "mlprov::init::prompt", "prompt failed: {e}")
    };
    // Every answer is checked as it is typed; a bad one is asked again.
    let ask = |prompt: &str,
               default: Option<String>,
               allow_empty: bool,
               check: &dyn Fn(&str) -> std::result::Result<(), String>|
     -> Result<String> {
        let mut input = Input::<String>::with_theme(&theme)
            .with_prompt(prompt)
            .allow_empty(allow_empty)
            .validate_with(|s: &String| check(s.trim()));
        if let Some(d) = default {
            input = input.default(d);
        }
        input
            .interact_text()
            .map(|s| s.trim().to_string())
            .map_err(io)
    };
    let templates = [
        (
            Template::FineTune,
            "fine-tune: train a model from a base model and data",
        ),
        (
            Template::Import,
            "import: bring in a third-party base model",
        ),
        (Template::Dataset, "dataset: curate a dataset"),
        (Template::Lora, "lora: train an adapter on a base model"),
    ];
    let template = match args.template {
        Some(t) => t,
        None => {
            let i = Select::with_theme(&theme)
                .with_prompt("What does this repository produce?")
                .items(templates.iter().map(|t| t.1))
                .default(0)
                .interact()
                .map_err(io)?;
            templates[i].0
        }
    };
    let name = match &args.name {
        Some(n) => {
            check_flag("--name", n, check_name)?;
            n.clone()
        }
        None => ask("Artifact name", Some(default_name(d)), false, &check_name)?,
    };
    let version = match &args.artifact_version {
        Some(v) => {
            check_flag("--artifact-version", v, check_version)?;
            v.clone()
        }
        None => ask("Version", Some("0.1.0".into()), false, &check_version)?,
    };
    let license = match &args.license {
        Some(l) => {
            check_license(l)?;
            Some(l.clone())
        }
        None => {
            let l = ask(
                "License of the output (SPDX, empty to decide later)",
                None,
                true,
                &|s: &str| match crate::license::explain(s).filter(|_| !s.is_empty()) {
                    Some(why) => Err(why),
                    None => Ok(()),
                },
            )?;
            (!l.is_empty()).then_some(l)
        }
    };
    let needs_base = matches!(
        template,
        Template::FineTune | Template::Lora | Template::Import
    );
    let base_model = if !needs_base {
        None
    } else if let Some(b) = &args.base_model {
        check_flag("--base-model", b, |s| check_model(s, dir))?;
        Some(parse_model_spec(b, dir))
    } else {
        let import = template == Template::Import;
        let check = |s: &str| {
            if import && s.is_empty() {
                return Err("the import template needs the model to import".to_string());
            }
            check_model(s, dir)
        };
        // What was found: a local base model directory, else the first
        // model in the Hugging Face cache.
        let default = d
            .base_dir
            .clone()
            .filter(|_| !import)
            .or_else(|| d.hf_models.first().cloned());
        let s = ask(
            "Base model (Hub id org/name[@revision], or a local path; empty for none)",
            default,
            !import,
            &check,
        )?;
        (!s.is_empty()).then(|| parse_model_spec(&s, dir))
    };
    let needs_data = matches!(
        template,
        Template::FineTune | Template::Lora | Template::Dataset
    );
    let dataset = if !needs_data {
        None
    } else if let Some(ds) = &args.dataset {
        check_flag("--dataset", ds, |s| check_data(s, dir))?;
        Some(parse_data_spec(ds))
    } else {
        let s = ask(
            "Training data (a path, or hf-dataset:org/name; empty for none)",
            d.data_dir.clone(),
            true,
            &|s: &str| check_data(s, dir),
        )?;
        (!s.is_empty()).then(|| parse_data_spec(&s))
    };
    let output = match &args.output {
        Some(o) => {
            check_flag("--output", o, check_output)?;
            o.clone()
        }
        None => ask(
            "Output directory",
            Some(default_output(template).to_string()),
            false,
            &check_output,
        )?,
    };
    let answers = Answers {
        template,
        name,
        version,
        license,
        description: None,
        base_model,
        dataset,
        test_data: d
            .test_dir
            .clone()
            .filter(|t| needs_data && Some(t) != d.data_dir.as_ref())
            .map(Spec::Path),
        output,
        command: if template == Template::Import {
            None
        } else {
            default_command(d)
        },
        config: d.config.clone().filter(|_| template != Template::Import),
        python: d.python_project && template != Template::Import,
        python_cmd: d.python,
        pip_python: d.pip_python,
    };
    let ok = Confirm::with_theme(&theme)
        .with_prompt(format!("Write {MANIFEST_FILE}?"))
        .default(true)
        .interact()
        .map_err(io)?;
    if !ok {
        return Err(miette!(
            code = "mlprov::init::cancelled",
            "cancelled; nothing was written"
        ));
    }
    Ok(answers)
}

/// A TOML basic string for `s`.
fn q(s: &str) -> String {
    toml_edit::Value::from(s).to_string().trim().to_string()
}

fn input_line(name: &str, spec: &Spec, role: &str) -> String {
    match spec {
        Spec::Hf { repo, revision } => format!(
            "{name} = {{ hf = {}, revision = {}, role = \"{role}\" }}\n",
            q(repo),
            q(revision)
        ),
        Spec::HfDataset { repo, revision } => format!(
            "{name} = {{ hf-dataset = {}, revision = {}, role = \"{role}\" }}\n",
            q(repo),
            q(revision)
        ),
        Spec::Path(p) => format!("{name} = {{ path = {}, role = \"{role}\" }}\n", q(p)),
    }
}

fn render(a: &Answers) -> String {
    let template = match a.template {
        Template::FineTune => FINE_TUNE,
        Template::Import => IMPORT,
        Template::Dataset => DATASET,
        Template::Lora => LORA,
    };
    let mut inputs = String::new();
    match (&a.base_model, a.template) {
        (Some(b), Template::Import) => inputs.push_str(&input_line("upstream", b, "base-model")),
        (Some(b), _) => inputs.push_str(&input_line("base-model", b, "base-model")),
        (None, Template::FineTune | Template::Lora) => inputs.push_str(
            "# base-model = { hf = \"org/model\", revision = \"main\", role = \"base-model\" }\n",
        ),
        _ => {}
    }
    match (&a.dataset, a.template) {
        (Some(ds), Template::Dataset) => {
            inputs.push_str("# The raw sources the curation step reads.\n");
            inputs.push_str(&input_line("raw-data", ds, "other"));
        }
        (Some(ds), _) => inputs.push_str(&input_line("training-data", ds, "training-data")),
        (None, Template::Dataset) => {
            inputs.push_str("# raw-data = { path = \"raw/\", role = \"other\" }\n")
        }
        (None, Template::FineTune | Template::Lora) => {
            inputs.push_str("# training-data = { path = \"data/\", role = \"training-data\" }\n")
        }
        _ => {}
    }
    if let Some(t) = &a.test_data {
        inputs.push_str(&input_line("test-data", t, "test-data"));
    }
    let mut training = String::new();
    match &a.command {
        Some(argv) => training.push_str(&format!(
            "command = [{}]\n",
            argv.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
        )),
        None => training.push_str(&format!(
            "# command = [\"{}\", \"train.py\"]   # run by `mlprov build`\n",
            a.python_cmd
        )),
    }
    match &a.config {
        Some(c) => training.push_str(&format!(
            "config = {}         # hyperparameters, recorded in the SBOM\n",
            q(c)
        )),
        None => training.push_str("# config = \"configs/train.yaml\"\n"),
    }
    if a.python {
        training.push_str(&format!(
            "python = \"{}\"          # records `pip list` in the SBOM\n",
            a.pip_python
        ));
    } else {
        training.push_str(&format!("# python = \"{}\"\n", a.pip_python));
    }
    let optional = |text: String, key: &str, val: &Option<String>, example: &str| match val {
        Some(v) => text.replace(&format!("{{{{{key}}}}}"), &q(v)),
        None => text.replace(
            &format!("{key} = {{{{{key}}}}}"),
            &format!("# {key} = {}", q(example)),
        ),
    };
    let mut text = template
        .replace("{{name}}", &q(&a.name))
        .replace("{{version}}", &q(&a.version))
        .replace("{{output}}", &q(&a.output))
        .replace("{{inputs}}", &inputs)
        .replace("{{training}}", &training);
    text = optional(text, "license", &a.license, "Apache-2.0");
    text = optional(
        text,
        "description",
        &a.description,
        "What this artifact is for",
    );
    text
}

/// Add `target/` to .gitignore in a git repository (or where one exists).
/// Returns whether the file changed.
fn ensure_gitignore(dir: &Path, git_root: Option<&Path>) -> std::io::Result<bool> {
    let path = dir.join(".gitignore");
    let existing = std::fs::read_to_string(&path).ok();
    if existing.is_none() && git_root.is_none() {
        return Ok(false);
    }
    let text = existing.unwrap_or_default();
    let has = text.lines().any(|l| {
        matches!(
            l.trim(),
            "target" | "target/" | "/target" | "/target/" | "target/*" | "/target/*"
        )
    });
    if has {
        return Ok(false);
    }
    let mut new = text.clone();
    if !new.is_empty() && !new.ends_with('\n') {
        new.push('\n');
    }
    new.push_str("# mlprov build outputs and signatures\ntarget/\n");
    crate::fsutil::write_atomic(&path, new.as_bytes())?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("models/base")).unwrap();
        assert!(check_name("acme/support-llama").is_ok());
        let e = check_name("My Model!!").unwrap_err();
        assert!(e.contains("`my-model`"), "{e}");
        assert!(check_model("org/model@v1", dir.path()).is_ok());
        assert!(check_model("models/base/", dir.path()).is_ok());
        assert!(check_model("models/base", dir.path()).is_ok());
        let e = check_model("meta llama/Llama 3!!", dir.path()).unwrap_err();
        assert!(e.contains("Hugging Face repository id"), "{e}");
        let e = check_model("models/missing/", dir.path()).unwrap_err();
        assert!(e.contains("no such file or directory"), "{e}");
        assert!(check_data("hf-dataset:org/data", dir.path()).is_ok());
        assert!(check_data("nowhere/", dir.path()).is_err());
        assert!(check_output("out/").is_ok());
        assert!(check_output("../out").is_err());
        assert!(check_version("0.1.0").is_ok());
        assert!(check_version("0.1 beta").is_err());
    }

    #[test]
    fn remote_names() {
        assert_eq!(
            remote_to_name("git@github.com:acme/support.git"),
            "acme/support"
        );
        assert_eq!(
            remote_to_name("https://github.com/acme/support"),
            "acme/support"
        );
        assert_eq!(
            remote_to_name("https://github.com/acme/support.git/"),
            "acme/support"
        );
    }

    #[test]
    fn every_template_renders_valid() {
        for template in [
            Template::FineTune,
            Template::Import,
            Template::Dataset,
            Template::Lora,
        ] {
            for full in [false, true] {
                let a = Answers {
                    template,
                    name: "acme/x".into(),
                    version: "1.0.0".into(),
                    license: full.then(|| "MIT".into()),
                    description: full.then(|| "a \"quoted\" thing".into()),
                    base_model: (full || template == Template::Import).then(|| Spec::Hf {
                        repo: "org/m".into(),
                        revision: "main".into(),
                    }),
                    dataset: full.then(|| Spec::Path("data/".into())),
                    test_data: full.then(|| Spec::Path("data/test/".into())),
                    output: "out/".into(),
                    command: full.then(|| vec!["python".into(), "train.py".into()]),
                    config: full.then(|| "c.yaml".into()),
                    python: full,
                    python_cmd: "python3",
                    pip_python: "python3",
                };
                let text = render(&a);
                assert!(!text.contains("{{"), "{text}");
                Manifest::parse(&text, "mlprov.toml")
                    .unwrap_or_else(|e| panic!("{template:?} {full}: {e:?}\n{text}"));
            }
        }
    }
}
