//! A project builder: an `mlprov.toml` and the files beside it.
//!
//! ```ignore
//! let dir = ProjectBuilder::new(env.work().join("proj"))
//!     .name("acme/tiny")
//!     .input("base", r#"{ path = "base/", role = "base-model" }"#)
//!     .section("training", r#"command = ["sh", "train.sh"]"#)
//!     .file("base/model.safetensors", safetensors(&[0.5]))
//!     .build();
//! ```

use std::path::PathBuf;

use super::data::write;

pub struct ProjectBuilder {
    dir: PathBuf,
    name: String,
    version: String,
    kind: String,
    path: String,
    license: Option<String>,
    inputs: Option<Vec<String>>,
    sections: Vec<(String, String)>,
    files: Vec<(String, Vec<u8>)>,
}

impl ProjectBuilder {
    /// A project in `dir`: artifact `acme/test` 0.1.0, a model at `out/`,
    /// no inputs.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            name: "acme/test".into(),
            version: "0.1.0".into(),
            kind: "model".into(),
            path: "out/".into(),
            license: None,
            inputs: None,
            sections: Vec::new(),
            files: Vec::new(),
        }
    }

    pub fn name(mut self, name: &str) -> Self {
        self.name = name.into();
        self
    }

    pub fn version(mut self, version: &str) -> Self {
        self.version = version.into();
        self
    }

    pub fn kind(mut self, kind: &str) -> Self {
        self.kind = kind.into();
        self
    }

    /// `[artifact].path`.
    pub fn path(mut self, path: &str) -> Self {
        self.path = path.into();
        self
    }

    pub fn license(mut self, license: &str) -> Self {
        self.license = Some(license.into());
        self
    }

    /// One input: `NAME = SPEC` under `[inputs]`, SPEC an inline table.
    pub fn input(mut self, name: &str, spec: &str) -> Self {
        self.inputs
            .get_or_insert_with(Vec::new)
            .push(format!("{name} = {spec}"));
        self
    }

    /// Lines under `[inputs]` as written (the table is there even when
    /// `lines` is empty).
    pub fn inputs(mut self, lines: &str) -> Self {
        let v = self.inputs.get_or_insert_with(Vec::new);
        if !lines.is_empty() {
            v.push(lines.trim_end_matches('\n').to_string());
        }
        self
    }

    /// A table after `[inputs]`, e.g. `section("training", "command = […]")`;
    /// `body` may hold sub-tables of its own.
    pub fn section(mut self, table: &str, body: &str) -> Self {
        self.sections
            .push((table.into(), body.trim_end_matches('\n').into()));
        self
    }

    /// A file beside `mlprov.toml`.
    pub fn file(mut self, rel: &str, bytes: impl AsRef<[u8]>) -> Self {
        self.files.push((rel.into(), bytes.as_ref().to_vec()));
        self
    }

    /// The `mlprov.toml` text.
    pub fn manifest(&self) -> String {
        let mut out = format!(
            "[artifact]\nname = \"{}\"\nversion = \"{}\"\nkind = \"{}\"\npath = \"{}\"\n",
            self.name, self.version, self.kind, self.path
        );
        if let Some(l) = &self.license {
            out.push_str(&format!("license = \"{l}\"\n"));
        }
        if let Some(inputs) = &self.inputs {
            out.push_str("\n[inputs]\n");
            for i in inputs {
                out.push_str(i);
                out.push('\n');
            }
        }
        for (table, body) in &self.sections {
            out.push_str(&format!("\n[{table}]\n"));
            if !body.is_empty() {
                out.push_str(body);
                out.push('\n');
            }
        }
        out
    }

    /// Write `mlprov.toml` and the files; the project's directory.
    pub fn build(self) -> PathBuf {
        std::fs::create_dir_all(&self.dir).expect("mkdir");
        write(&self.dir, "mlprov.toml", self.manifest());
        for (rel, bytes) in &self.files {
            write(&self.dir, rel, bytes);
        }
        self.dir
    }
}
