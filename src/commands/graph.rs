//! `mlprov graph [TARGET]`: verify like `verify`, then draw the provenance
//! graph as Graphviz DOT, a Mermaid flowchart, or the verification JSON.
//! Failing nodes are drawn too (in red, with their finding codes); the exit
//! status is `verify`'s.

use miette::Result;

use super::Context;
use crate::cli::{Format, GraphArgs};
use crate::verify::model::{Graph, GraphNode};
use crate::verify::report;

pub fn run(cx: &Context, args: GraphArgs) -> Result<()> {
    let out = crate::settings::verify::verify_target(&cx.settings, &cx.printer, &args.verify)?;
    // `--format` is the global flag: DOT unless mermaid or JSON is asked for.
    match cx.printer.format {
        Format::Human | Format::Dot => cx.printer.out(&dot(&out.graph)),
        Format::Mermaid => cx.printer.out(&mermaid(&out.graph)),
        Format::Json => cx.printer.json(&report::graph_json(&out.graph)),
    }
    crate::output::graph_summary(&cx.printer, &cx.settings.cwd, &out.graph)
}

fn label_lines(n: &GraphNode) -> Vec<String> {
    let mark = if n.verified() { "✓" } else { "✗" };
    let mut lines = vec![
        format!("{mark} {}", n.name.as_deref().unwrap_or("")),
        report::short_id(&n.id),
        n.roles.join(", "),
    ];
    let mut codes: Vec<&str> = n.findings.iter().map(|f| f.code.code()).collect();
    codes.sort();
    codes.dedup();
    if !codes.is_empty() {
        lines.push(codes.join(" "));
    }
    lines
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Graphviz DOT: an edge from each artifact to each of its inputs.
pub fn dot(g: &Graph) -> String {
    let mut out = String::from(
        "digraph mlprov {\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];\n",
    );
    for n in &g.nodes {
        let label = label_lines(n)
            .iter()
            .map(|l| dot_escape(l))
            .collect::<Vec<_>>()
            .join("\\n");
        let color = if n.verified() {
            "darkgreen"
        } else if n.required_for_root {
            "red"
        } else {
            "orange"
        };
        out.push_str(&format!(
            "  \"{}\" [label=\"{label}\", color={color}];\n",
            dot_escape(&n.id)
        ));
    }
    for e in &g.edges {
        let mut label = e.role.clone();
        if let Some(n) = &e.name {
            label = format!("{n} ({label})");
        }
        out.push_str(&format!(
            "  \"{}\" -> \"{}\" [label=\"{}\"{}];\n",
            dot_escape(&e.from),
            dot_escape(&e.to),
            dot_escape(&label),
            if e.cycle {
                ", style=dashed, color=red"
            } else {
                ""
            }
        ));
    }
    out.push_str("}\n");
    out
}

fn mermaid_escape(s: &str) -> String {
    s.replace('"', "#quot;").replace('|', "#124;")
}

/// A Mermaid flowchart.
pub fn mermaid(g: &Graph) -> String {
    let id = |key: &str| {
        g.nodes
            .iter()
            .position(|n| n.id == key)
            .map(|i| format!("n{i}"))
            .unwrap_or_else(|| "missing".into())
    };
    let mut out = String::from("flowchart TD\n");
    for (i, n) in g.nodes.iter().enumerate() {
        let label = label_lines(n)
            .iter()
            .map(|l| mermaid_escape(l))
            .collect::<Vec<_>>()
            .join("<br/>");
        out.push_str(&format!("  n{i}[\"{label}\"]\n"));
    }
    for e in &g.edges {
        let arrow = if e.cycle { "-.->" } else { "-->" };
        let label = match &e.name {
            Some(n) => format!("{n} ({})", e.role),
            None => e.role.clone(),
        };
        out.push_str(&format!(
            "  {} {arrow}|\"{}\"| {}\n",
            id(&e.from),
            mermaid_escape(&label),
            id(&e.to)
        ));
    }
    for (i, n) in g.nodes.iter().enumerate() {
        let class = if n.verified() { "ok" } else { "failed" };
        out.push_str(&format!("  class n{i} {class}\n"));
    }
    out.push_str("  classDef ok stroke:#2a2;\n  classDef failed stroke:#c22,stroke-width:2px;\n");
    out
}
