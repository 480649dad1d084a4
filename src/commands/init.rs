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
    let detected = detect(&dir, &cx.settings.hf());
    let answers = if cx.settings.interactive && !args.yes {
        prompt(&args, &detected)?
    } else {
        from_flags(&args, &detected, &dir)?
    };
    let text = render(&answers);
    // The template must always produce a valid manifest.
    Manifest::parse(&text, MANIFEST_FILE).map_err(|e| {
        miette!(
            code = "mlprov::init::invalid",
            help = "fix the flag values (the rest of the template is known to be valid)",
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
            help = format!(
                "use an SPDX expression, e.g. `{}`",
                crate::license::suggest(l)
            ),
            "`{l}` is not a valid SPDX license expression: {}",
            e.reason
        )
    })
}

fn default_command(d: &Detected) -> Option<Vec<String>> {
    let script = d.train_script.as_ref()?;
    let mut argv = if script.ends_with(".sh") {
        vec!["bash".to_string(), script.clone()]
    } else {
        vec!["python".to_string(), script.clone()]
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
        name: args
            .name
            .clone()
            .or_else(|| d.remote_name.clone())
            .unwrap_or_else(|| d.dir_name.clone()),
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
    })
}

fn prompt(args: &InitArgs, d: &Detected) -> Result<Answers> {
    let theme = ColorfulTheme::default();
    let io = |e: dialoguer::Error| miette!(code = "mlprov::init::prompt", "prompt failed: {e}");
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
    let name: String = match &args.name {
        Some(n) => n.clone(),
        None => Input::with_theme(&theme)
            .with_prompt("Artifact name")
            .default(d.remote_name.clone().unwrap_or_else(|| d.dir_name.clone()))
            .interact_text()
            .map_err(io)?,
    };
    let version: String = match &args.artifact_version {
        Some(v) => v.clone(),
        None => Input::with_theme(&theme)
            .with_prompt("Version")
            .default("0.1.0".to_string())
            .interact_text()
            .map_err(io)?,
    };
    let license: Option<String> = match &args.license {
        Some(l) => {
            check_license(l)?;
            Some(l.clone())
        }
        None => {
            let l: String = Input::with_theme(&theme)
                .with_prompt("License of the output (SPDX, empty to decide later)")
                .allow_empty(true)
                .validate_with(|s: &String| -> std::result::Result<(), String> {
                    if s.trim().is_empty() {
                        return Ok(());
                    }
                    crate::license::parse(s)
                        .map(|_| ())
                        .map_err(|e| format!("{} (e.g. {})", e.reason, crate::license::suggest(s)))
                })
                .interact_text()
                .map_err(io)?;
            (!l.trim().is_empty()).then(|| l.trim().to_string())
        }
    };
    let dir = Path::new(".");
    let needs_base = matches!(
        template,
        Template::FineTune | Template::Lora | Template::Import
    );
    let base_model = if !needs_base {
        None
    } else if let Some(b) = &args.base_model {
        Some(parse_model_spec(b, dir))
    } else {
        let mut b = Input::<String>::with_theme(&theme)
            .with_prompt("Base model (Hub id org/name[@revision], or a local path; empty for none)")
            .allow_empty(template != Template::Import);
        if let Some(first) = d.hf_models.first() {
            b = b.default(first.clone());
        }
        let s = b.interact_text().map_err(io)?;
        (!s.trim().is_empty()).then(|| parse_model_spec(&s, dir))
    };
    let needs_data = matches!(
        template,
        Template::FineTune | Template::Lora | Template::Dataset
    );
    let dataset = if !needs_data {
        None
    } else if let Some(ds) = &args.dataset {
        Some(parse_data_spec(ds))
    } else {
        let mut b = Input::<String>::with_theme(&theme)
            .with_prompt("Training data (a path, or hf-dataset:org/name; empty for none)")
            .allow_empty(true);
        if let Some(dd) = &d.data_dir {
            b = b.default(dd.clone());
        }
        let s = b.interact_text().map_err(io)?;
        (!s.trim().is_empty()).then(|| parse_data_spec(&s))
    };
    let output: String = match &args.output {
        Some(o) => o.clone(),
        None => Input::with_theme(&theme)
            .with_prompt("Output directory")
            .default(default_output(template).to_string())
            .interact_text()
            .map_err(io)?,
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
        None => {
            training.push_str("# command = [\"python\", \"train.py\"]   # run by `mlprov build`\n")
        }
    }
    match &a.config {
        Some(c) => training.push_str(&format!(
            "config = {}         # hyperparameters, recorded in the SBOM\n",
            q(c)
        )),
        None => training.push_str("# config = \"configs/train.yaml\"\n"),
    }
    if a.python {
        training.push_str("python = \"python3\"          # records `pip list` in the SBOM\n");
    } else {
        training.push_str("# python = \"python3\"\n");
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
                };
                let text = render(&a);
                assert!(!text.contains("{{"), "{text}");
                Manifest::parse(&text, "mlprov.toml")
                    .unwrap_or_else(|e| panic!("{template:?} {full}: {e:?}\n{text}"));
            }
        }
    }
}
