//! Cycles: an artifact whose provenance names one of its own ancestors
//! (`E0601`, on that node). An edge closes a cycle when its target reaches
//! its source and is no deeper than it (every cycle has such an edge); the
//! strongly connected components (Tarjan) find them in one pass, whatever
//! order the graph was discovered in.

use std::collections::{BTreeMap, VecDeque};

use crate::verify::code::Code;
use crate::verify::model::{Edge, GraphNode, short};
use crate::verify::node::Finding;

/// Mark the cycle edges of a graph and add a finding to the source node of
/// each. `nodes` and `edges` are the graph's; `index` maps ids to `nodes`.
pub fn check(nodes: &mut [GraphNode], edges: &mut [Edge], index: &BTreeMap<String, usize>) {
    let n = nodes.len();
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in edges.iter() {
        if let (Some(&u), Some(&v)) = (index.get(&e.from), index.get(&e.to)) {
            adj[u].push(v);
        }
    }
    for a in &mut adj {
        a.sort_unstable();
        a.dedup();
    }
    let comp = tarjan(&adj);
    for e in edges.iter_mut() {
        let (Some(&u), Some(&v)) = (index.get(&e.from), index.get(&e.to)) else {
            continue;
        };
        if comp[u] != comp[v] || nodes[v].depth > nodes[u].depth {
            continue;
        }
        e.cycle = true;
        // The chain from the ancestor down to this node, and back.
        let path = shortest_path(&adj, &comp, v, u);
        let chain: Vec<String> = path
            .iter()
            .chain(std::iter::once(&v))
            .map(|&i| nodes[i].name.clone().unwrap_or_else(|| short(&nodes[i].id)))
            .collect();
        let f = Finding::new(
            Code::Cycle,
            nodes[u].digest,
            format!(
                "its provenance names its own ancestor {}: {}",
                e.name.as_deref().unwrap_or(&nodes[v].id),
                chain.join(" → ")
            ),
        );
        if !nodes[u].findings.contains(&f) {
            nodes[u].findings.push(f);
        }
    }
}

/// Strongly connected component of every node (iterative Tarjan).
fn tarjan(adj: &[Vec<usize>]) -> Vec<usize> {
    let n = adj.len();
    let (mut index, mut low, mut comp) = (vec![usize::MAX; n], vec![0; n], vec![usize::MAX; n]);
    let mut on_stack = vec![false; n];
    let (mut stack, mut next, mut ncomp) = (Vec::new(), 0usize, 0usize);
    for start in 0..n {
        if index[start] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(start, 0)];
        index[start] = next;
        low[start] = next;
        next += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&mut (v, ref mut i)) = work.last_mut() {
            if *i < adj[v].len() {
                let w = adj[v][*i];
                *i += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp[w] = ncomp;
                    if w == v {
                        break;
                    }
                }
                ncomp += 1;
            }
        }
    }
    comp
}

/// The shortest path from `from` to `to` inside their component (both
/// ends included), preferring lower indices on ties.
fn shortest_path(adj: &[Vec<usize>], comp: &[usize], from: usize, to: usize) -> Vec<usize> {
    let mut prev: BTreeMap<usize, usize> = BTreeMap::new();
    let mut queue = VecDeque::from([from]);
    let mut seen = vec![false; adj.len()];
    seen[from] = true;
    while let Some(x) = queue.pop_front() {
        if x == to {
            break;
        }
        for &y in &adj[x] {
            if comp[y] == comp[from] && !seen[y] {
                seen[y] = true;
                prev.insert(y, x);
                queue.push_back(y);
            }
        }
    }
    let mut path = vec![to];
    let mut at = to;
    while at != from {
        match prev.get(&at) {
            Some(&p) => {
                path.push(p);
                at = p;
            }
            None => break,
        }
    }
    path.reverse();
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::checks::testing::graph_node;

    fn edge(from: &str, to: &str) -> Edge {
        Edge {
            from: from.into(),
            to: to.into(),
            name: Some(to.into()),
            role: "base-model".into(),
            uri: None,
            cycle: false,
        }
    }

    #[test]
    fn the_edge_back_to_an_ancestor() {
        // f → d → x → d (a cycle below the root) and f → a (none).
        let mut nodes = vec![
            graph_node("f", 0),
            graph_node("d", 1),
            graph_node("x", 2),
            graph_node("a", 1),
        ];
        let mut edges = vec![
            edge("f", "d"),
            edge("d", "x"),
            edge("x", "d"),
            edge("f", "a"),
            edge("a", "a"),
        ];
        let index = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.clone(), i))
            .collect();
        check(&mut nodes, &mut edges, &index);
        let cycles: Vec<(&str, &str)> = edges
            .iter()
            .filter(|e| e.cycle)
            .map(|e| (e.from.as_str(), e.to.as_str()))
            .collect();
        assert_eq!(cycles, [("x", "d"), ("a", "a")]);
        assert_eq!(nodes[2].findings.len(), 1);
        assert_eq!(nodes[2].findings[0].code, Code::Cycle);
        assert_eq!(
            nodes[2].findings[0].message,
            "its provenance names its own ancestor d: d → x → d"
        );
        assert!(nodes[0].findings.is_empty() && nodes[1].findings.is_empty());
        assert_eq!(nodes[3].findings.len(), 1);
    }
}
