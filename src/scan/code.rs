//! Executable code shipped beside weights: Python source files, `auto_map`
//! in a transformers config (which makes `from_pretrained(...,
//! trust_remote_code=True)` import the repository's code, possibly from
//! another repository), and sentence-transformers `modules.json` entries
//! that load classes from outside `sentence_transformers`.

use super::finding::{Code, Finding};

/// A Python source file.
pub fn python_file(path: &str) -> Finding {
    Finding::new(
        Code::PythonSource,
        None,
        "Python source beside the weights: it runs if a loader imports it (e.g. trust_remote_code)",
    )
    .with_subject(path.to_string())
}

/// Findings for a JSON config (`config.json`, `tokenizer_config.json`,
/// `modules.json`, …). Text that is not JSON gives none.
pub fn scan_json(name: &str, text: &[u8]) -> Vec<Finding> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(map) = v.get("auto_map").and_then(|m| m.as_object()) {
        let mut targets: Vec<String> = Vec::new();
        for (_, t) in map {
            match t {
                serde_json::Value::String(s) => targets.push(s.clone()),
                serde_json::Value::Array(a) => {
                    targets.extend(a.iter().filter_map(|x| x.as_str().map(str::to_string)))
                }
                _ => {}
            }
        }
        targets.sort();
        targets.dedup();
        for t in targets {
            let foreign = t
                .split_once("--")
                .map(|(repo, _)| format!(" from another repository ({repo})"))
                .unwrap_or_default();
            out.push(
                Finding::new(
                    Code::AutoMap,
                    None,
                    format!(
                        "`auto_map` in {name} loads `{t}`{foreign} when trust_remote_code=True"
                    ),
                )
                .with_subject(t),
            );
        }
    }
    if name.rsplit('/').next() == Some("modules.json")
        && let Some(list) = v.as_array()
    {
        for m in list {
            if let Some(t) = m.get("type").and_then(|t| t.as_str())
                && !t.starts_with("sentence_transformers.")
            {
                out.push(
                    Finding::new(
                        Code::CustomModule,
                        None,
                        format!("modules.json loads class `{t}`, outside sentence_transformers"),
                    )
                    .with_subject(t.to_string()),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_map_and_modules() {
        let f = scan_json(
            "config.json",
            br#"{"auto_map": {"AutoModel": "modeling_x.XModel", "AutoTokenizer": ["other/repo--tok.T", null]}}"#,
        );
        assert_eq!(f.len(), 2);
        assert!(f.iter().any(|x| x.reason.contains("another repository")));
        let f = scan_json(
            "modules.json",
            br#"[{"type": "sentence_transformers.models.Transformer"}, {"type": "evil.Module"}]"#,
        );
        assert_eq!(f.len(), 1);
        assert!(scan_json("config.json", br#"{"model_type": "bert"}"#).is_empty());
    }
}
