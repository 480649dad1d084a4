//! The model card a promotion policy can require (`[policy.model-card]
//! require = [...]`): the model's `README.md`, read as Hugging Face model
//! cards are written — YAML front matter between `---` lines, then
//! Markdown sections. Each field is found in the front matter or in a
//! section with one of its usual headings, and counts only with content
//! (a template's "[More Information Needed]" is not content).

/// The fields a policy can require, in the order reports list them.
pub const FIELDS: &[&str] = &[
    "intended-use",
    "training-data",
    "evaluation",
    "limitations",
    "license",
];

/// Front-matter keys (normalised: lower case, `_` and spaces as `-`) that
/// give a field.
fn front_keys(field: &str) -> &'static [&'static str] {
    match field {
        "intended-use" => &["intended-use", "intended-uses"],
        "training-data" => &["datasets", "training-data"],
        "evaluation" => &["model-index", "evaluation", "metrics"],
        "limitations" => &["limitations"],
        "license" => &["license", "license-name"],
        _ => &[],
    }
}

/// Headings (normalised, without `#`) whose section gives a field.
fn headings(field: &str) -> &'static [&'static str] {
    match field {
        "intended-use" => &[
            "intended use",
            "intended uses",
            "intended uses & limitations",
            "intended uses and limitations",
            "uses",
            "direct use",
        ],
        "training-data" => &["training data", "training details", "training dataset"],
        "evaluation" => &[
            "evaluation",
            "evaluation results",
            "evaluation data",
            "results",
        ],
        "limitations" => &[
            "limitations",
            "known limitations",
            "bias, risks, and limitations",
            "bias, risks and limitations",
            "risks and limitations",
            "intended uses & limitations",
            "intended uses and limitations",
        ],
        "license" => &["license", "licence"],
        _ => &[],
    }
}

/// How a card template marks a section that was never filled in.
const PLACEHOLDERS: &[&str] = &[
    "[more information needed]",
    "more information needed",
    "todo",
    "tbd",
    "n/a",
];

/// Which of `require` the card lacks (`card` is `None`: there is no
/// `README.md`, every field is missing). Unknown names are refused when the
/// policy is read, never here.
pub fn missing(card: Option<&str>, require: &[String]) -> Vec<String> {
    let Some(text) = card else {
        return require.to_vec();
    };
    let (front, body) = split_front_matter(text);
    let sections = sections(body);
    require
        .iter()
        .filter(|field| {
            let in_front = front
                .iter()
                .any(|(k, has)| *has && front_keys(field).contains(&k.as_str()));
            let in_body = sections
                .iter()
                .any(|(h, has)| *has && headings(field).contains(&h.as_str()));
            !(in_front || in_body)
        })
        .cloned()
        .collect()
}

fn normalise_key(k: &str) -> String {
    k.trim().to_ascii_lowercase().replace(['_', ' '], "-")
}

/// The front matter's top-level keys, each with whether its value has
/// content; and the rest of the text.
fn split_front_matter(text: &str) -> (Vec<(String, bool)>, &str) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return (Vec::new(), text);
    };
    let mut end = None;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            end = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
    }
    let Some((yaml_end, body_start)) = end else {
        return (Vec::new(), text);
    };
    let keys = match yaml_rust2::YamlLoader::load_from_str(&rest[..yaml_end]) {
        Ok(docs) => match docs.first() {
            Some(yaml_rust2::Yaml::Hash(h)) => h
                .iter()
                .filter_map(|(k, v)| k.as_str().map(|k| (normalise_key(k), has_content(v))))
                .collect(),
            _ => Vec::new(),
        },
        Err(_) => Vec::new(),
    };
    (keys, &rest[body_start..])
}

fn has_content(v: &yaml_rust2::Yaml) -> bool {
    use yaml_rust2::Yaml;
    match v {
        Yaml::String(s) => {
            let s = s.trim().to_ascii_lowercase();
            !s.is_empty() && !PLACEHOLDERS.contains(&s.as_str())
        }
        Yaml::Array(a) => a.iter().any(has_content),
        Yaml::Hash(h) => h.values().any(has_content),
        Yaml::Integer(_) | Yaml::Real(_) | Yaml::Boolean(_) => true,
        _ => false,
    }
}

/// The Markdown sections (ATX headings outside code fences), each heading
/// normalised, with whether the section has content before the next
/// heading of any level. A heading whose subsections have content counts
/// too (`## Uses` with `### Direct Use` under it).
fn sections(body: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, usize, bool)> = Vec::new();
    let mut fence = false;
    for line in body.lines() {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            fence = !fence;
            if let Some(last) = out.last_mut() {
                last.2 = true;
            }
            continue;
        }
        if !fence && let Some(level) = heading_level(t) {
            let title = t[level..]
                .trim()
                .trim_end_matches('#')
                .trim()
                .to_ascii_lowercase();
            out.push((title, level, false));
            continue;
        }
        let content = t.trim().to_ascii_lowercase();
        let content = content.trim_start_matches(['-', '*', '>', ' ']);
        let comment = content.starts_with("<!--") && content.ends_with("-->");
        let filled = !content.is_empty() && !PLACEHOLDERS.contains(&content) && !comment;
        if filled && let Some(last) = out.last_mut() {
            last.2 = true;
        }
    }
    // A section has content when it or a deeper section before the next
    // heading of its level does.
    let mut result = Vec::with_capacity(out.len());
    for (i, (title, level, has)) in out.iter().enumerate() {
        let deeper = out[i + 1..]
            .iter()
            .take_while(|(_, l, _)| l > level)
            .any(|(_, _, h)| *h);
        result.push((title.clone(), *has || deeper));
    }
    result
}

fn heading_level(line: &str) -> Option<usize> {
    let n = line.bytes().take_while(|&b| b == b'#').count();
    ((1..=6).contains(&n) && line[n..].starts_with([' ', '\t'])).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<String> {
        FIELDS.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_full_card_lacks_nothing() {
        let card = "---\nlicense: apache-2.0\ndatasets:\n  - acme/tickets\n---\n# Model\n\n## Intended uses\n\nRouting support tickets.\n\n## Evaluation\n\naccuracy 0.88 on 40 held-out tickets\n\n## Limitations\n\nEnglish only.\n";
        assert!(missing(Some(card), &all()).is_empty());
    }

    #[test]
    fn missing_fields_are_named() {
        let card = "---\nlicense: \"\"\n---\n## Uses\n### Direct Use\nTriage.\n## Training Data\n[More Information Needed]\n## Results\n| metric | value |\n";
        assert_eq!(
            missing(Some(card), &all()),
            vec!["training-data", "limitations", "license"]
        );
        assert_eq!(missing(None, &all()), all());
        // A heading inside a code fence is no section.
        let fenced = "```\n## Limitations\nnone\n```\n";
        assert_eq!(
            missing(Some(fenced), &["limitations".to_string()]),
            vec!["limitations"]
        );
        // Unterminated front matter is text, not keys.
        assert_eq!(
            missing(Some("---\nlicense: mit\n"), &["license".to_string()]),
            vec!["license"]
        );
    }
}
