//! The build graph: targets and actions as a petgraph DAG.
//!
//! An edge `a → b` means "`a` needs `b`" (b is built first). Node names are target names such as
//! `chart:web` or `render:prod-1/web`.

use std::collections::{BTreeSet, HashMap};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;

/// A cycle in a graph, as the list of names along it (the first name is repeated at the end).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cycle: {}", .0.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" → "))]
pub struct CycleError(pub Vec<String>);

/// A DAG of named nodes.
#[derive(Debug, Default, Clone)]
pub struct BuildGraph {
    graph: DiGraph<String, ()>,
    index: HashMap<String, NodeIndex>,
}

impl BuildGraph {
    pub fn new() -> BuildGraph {
        BuildGraph::default()
    }

    /// Adds a node (idempotent) and returns its index.
    pub fn add_node(&mut self, name: &str) -> NodeIndex {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.graph.add_node(name.to_string());
        self.index.insert(name.to_string(), i);
        i
    }

    /// Records that `from` needs `to`.
    pub fn add_edge(&mut self, from: &str, to: &str) {
        let a = self.add_node(from);
        let b = self.add_node(to);
        if !self.graph.contains_edge(a, b) {
            self.graph.add_edge(a, b, ());
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// All node names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.graph.node_weights().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// Direct dependencies of `name`, sorted.
    pub fn direct_deps(&self, name: &str) -> Vec<&str> {
        self.neighbors(name, Direction::Outgoing)
    }

    /// Direct dependents of `name`, sorted.
    pub fn direct_rdeps(&self, name: &str) -> Vec<&str> {
        self.neighbors(name, Direction::Incoming)
    }

    fn neighbors(&self, name: &str, dir: Direction) -> Vec<&str> {
        let Some(&i) = self.index.get(name) else {
            return Vec::new();
        };
        let mut v: Vec<&str> = self
            .graph
            .neighbors_directed(i, dir)
            .map(|j| self.graph[j].as_str())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Transitive dependencies of `name` (not including itself), sorted.
    pub fn deps(&self, name: &str) -> Vec<&str> {
        self.closure(name, Direction::Outgoing)
    }

    /// Transitive dependents of `name` (not including itself), sorted.
    pub fn rdeps(&self, name: &str) -> Vec<&str> {
        self.closure(name, Direction::Incoming)
    }

    fn closure(&self, name: &str, dir: Direction) -> Vec<&str> {
        let Some(&start) = self.index.get(name) else {
            return Vec::new();
        };
        let mut seen = BTreeSet::new();
        let mut stack = vec![start];
        while let Some(i) = stack.pop() {
            for j in self.graph.neighbors_directed(i, dir) {
                if j != start && seen.insert(j) {
                    stack.push(j);
                }
            }
        }
        let mut v: Vec<&str> = seen.into_iter().map(|j| self.graph[j].as_str()).collect();
        v.sort_unstable();
        v
    }

    /// Edges `(from, to)` sorted, for printing.
    pub fn edges(&self) -> Vec<(&str, &str)> {
        let mut v: Vec<(&str, &str)> = self
            .graph
            .edge_indices()
            .filter_map(|e| self.graph.edge_endpoints(e))
            .map(|(a, b)| (self.graph[a].as_str(), self.graph[b].as_str()))
            .collect();
        v.sort_unstable();
        v
    }

    /// Checks that the graph has no cycle; the error names one cycle (the smallest by name).
    pub fn check_acyclic(&self) -> Result<(), CycleError> {
        let mut best: Option<Vec<String>> = None;
        for scc in tarjan_scc(&self.graph) {
            let self_loop = scc.len() == 1 && self.graph.contains_edge(scc[0], scc[0]);
            if scc.len() < 2 && !self_loop {
                continue;
            }
            let cycle = self.cycle_in(&scc);
            if best.as_ref().is_none_or(|b| cycle < *b) {
                best = Some(cycle);
            }
        }
        match best {
            Some(c) => Err(CycleError(c)),
            None => Ok(()),
        }
    }

    /// One cycle inside a strongly connected component, starting at its smallest name.
    fn cycle_in(&self, scc: &[NodeIndex]) -> Vec<String> {
        let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
        let Some(&start) = scc.iter().min_by_key(|i| &self.graph[**i]) else {
            return Vec::new();
        };
        // Breadth-first search from `start` back to `start` inside the component: shortest cycle.
        let mut prev: HashMap<NodeIndex, NodeIndex> = HashMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        let mut end = None;
        'search: while let Some(i) = queue.pop_front() {
            let mut next: Vec<NodeIndex> = self
                .graph
                .neighbors_directed(i, Direction::Outgoing)
                .filter(|j| members.contains(j))
                .collect();
            next.sort_by_key(|j| &self.graph[*j]);
            for j in next {
                if j == start {
                    end = Some(i);
                    break 'search;
                }
                if let std::collections::hash_map::Entry::Vacant(e) = prev.entry(j) {
                    e.insert(i);
                    queue.push_back(j);
                }
            }
        }
        let mut path = vec![start];
        let mut cur = end.unwrap_or(start);
        let mut back = Vec::new();
        while cur != start {
            back.push(cur);
            match prev.get(&cur) {
                Some(&p) => cur = p,
                None => break,
            }
        }
        back.reverse();
        path.extend(back);
        path.push(start);
        path.into_iter().map(|i| self.graph[i].clone()).collect()
    }

    /// Nodes grouped in levels: every node comes after all of its dependencies; nodes of one
    /// level are independent of each other. Requires an acyclic graph.
    pub fn levels(&self) -> Result<Vec<Vec<&str>>, CycleError> {
        self.check_acyclic()?;
        let n = self.graph.node_count();
        let mut remaining: Vec<usize> = (0..n)
            .map(|i| {
                self.graph
                    .neighbors_directed(NodeIndex::new(i), Direction::Outgoing)
                    .count()
            })
            .collect();
        let mut current: Vec<NodeIndex> = (0..n)
            .map(NodeIndex::new)
            .filter(|i| remaining[i.index()] == 0)
            .collect();
        let mut out = Vec::new();
        while !current.is_empty() {
            let mut next = Vec::new();
            for &i in &current {
                for j in self.graph.neighbors_directed(i, Direction::Incoming) {
                    remaining[j.index()] -= 1;
                    if remaining[j.index()] == 0 {
                        next.push(j);
                    }
                }
            }
            let mut names: Vec<&str> = current.iter().map(|i| self.graph[*i].as_str()).collect();
            names.sort_unstable();
            out.push(names);
            current = next;
        }
        Ok(out)
    }

    /// Graphviz text.
    pub fn to_dot(&self) -> String {
        let mut s = String::from("digraph wayfinder {\n  rankdir=LR;\n");
        for n in self.names() {
            s.push_str(&format!("  \"{}\";\n", n.replace('"', "\\\"")));
        }
        for (a, b) in self.edges() {
            s.push_str(&format!(
                "  \"{}\" -> \"{}\";\n",
                a.replace('"', "\\\""),
                b.replace('"', "\\\"")
            ));
        }
        s.push_str("}\n");
        s
    }
}

/// Finds a cycle among named nodes with `edges` (`a` needs `b`); used for `needs` lists.
pub fn find_cycle<'a>(edges: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<Vec<String>> {
    let mut g = BuildGraph::new();
    for (a, b) in edges {
        g.add_edge(a, b);
    }
    g.check_acyclic().err().map(|e| e.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_put_dependencies_first() {
        let mut g = BuildGraph::new();
        g.add_edge("cluster:a", "render:a/x");
        g.add_edge("render:a/x", "chart:x");
        g.add_edge("cluster:a", "render:a/y");
        g.add_node("chart:y");
        g.add_edge("render:a/y", "chart:y");
        let levels = g.levels().unwrap();
        assert_eq!(
            levels,
            vec![
                vec!["chart:x", "chart:y"],
                vec!["render:a/x", "render:a/y"],
                vec!["cluster:a"]
            ]
        );
        assert_eq!(g.deps("cluster:a").len(), 4);
        assert_eq!(g.rdeps("chart:x"), vec!["cluster:a", "render:a/x"]);
        assert_eq!(g.direct_deps("cluster:a"), vec!["render:a/x", "render:a/y"]);
    }

    #[test]
    fn cycle_is_named() {
        let mut g = BuildGraph::new();
        g.add_edge("b", "c");
        g.add_edge("c", "a");
        g.add_edge("a", "b");
        g.add_edge("a", "z");
        let err = g.check_acyclic().unwrap_err();
        assert_eq!(err.0, vec!["a", "b", "c", "a"]);
        assert_eq!(err.to_string(), "cycle: `a` → `b` → `c` → `a`");
        assert!(g.levels().is_err());
    }

    #[test]
    fn self_loop_is_a_cycle() {
        assert_eq!(find_cycle([("a", "a")]), Some(vec!["a".into(), "a".into()]));
        assert_eq!(find_cycle([("a", "b")]), None);
    }
}
