//! Stage 1 of reading YAML: the event stream (from `saphyr-parser`) becomes a node tree per
//! document, like go-yaml v2's `parser` does (anchors are per document, an alias points at the
//! node its anchor named, even an enclosing one that is still open).
//!
//! Errors are rewritten to libyaml's wording and line numbering as go-yaml reports them
//! (`yaml: line N: MESSAGE`).

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};

/// go-yaml's limit on nesting (`max_flow_level` / `max_indents`).
pub(crate) const MAX_DEPTH: usize = 10000;

/// One node of a document; `line` is 0-based like libyaml's marks.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    #[allow(dead_code)]
    pub(crate) line: usize,
}

#[derive(Debug)]
pub(crate) enum Kind {
    /// `tag` is the full tag (`tag:yaml.org,2002:str`, `!foo`, `!`) or empty; `implicit` is
    /// libyaml's `plain_implicit` (plain and untagged, or tagged `!`).
    Scalar {
        value: String,
        tag: String,
        implicit: bool,
    },
    Seq(Vec<usize>),
    /// Keys and values alternate.
    Map(Vec<usize>),
    Alias {
        target: usize,
        name: String,
    },
}

/// A parsed document: an arena of nodes and its root (`None` for an empty stream).
#[derive(Debug, Default)]
pub(crate) struct Doc {
    pub(crate) nodes: Vec<Node>,
    pub(crate) root: Option<usize>,
}

/// A syntax error as go-yaml words it, without the `yaml: ` prefix.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub(crate) message: String,
    pub(crate) line: Option<usize>,
}

impl SyntaxError {
    /// `line N: message` (or just `message`), as go-yaml prints it after `yaml: `.
    pub(crate) fn go_text(&self) -> String {
        match self.line {
            Some(l) => format!("line {l}: {}", self.message),
            None => self.message.clone(),
        }
    }
}

/// Reads documents from `text`; stops after `max_docs` documents (go-yaml's `Unmarshal` reads
/// only the first and never looks at the rest).
pub(crate) fn parse_docs(text: &str, max_docs: usize) -> Result<Vec<Doc>, SyntaxError> {
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut b = Builder::default();
    let mut in_doc = false;
    while let Some(ev) = parser.next_event() {
        let (ev, span) = ev.map_err(|e| scan_error(text, &e))?;
        let line0 = span.start.line().saturating_sub(1);
        match ev {
            Event::StreamStart | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                in_doc = true;
                b = Builder::default();
            }
            Event::DocumentEnd => {
                if in_doc {
                    in_doc = false;
                    docs.push(std::mem::take(&mut b).finish());
                    if docs.len() >= max_docs {
                        break;
                    }
                }
            }
            Event::Alias(id) => {
                let Some(&target) = b.anchors.get(&id) else {
                    let name = alias_name(text, span.start.index());
                    return Err(SyntaxError {
                        message: format!("unknown anchor '{name}' referenced"),
                        line: None,
                    });
                };
                let name = alias_name(text, span.start.index());
                b.add(Kind::Alias { target, name }, line0, 0)?;
            }
            Event::Scalar(value, style, anchor, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                let implicit = match &tag {
                    None => style == ScalarStyle::Plain,
                    Some(t) => t == "!",
                };
                let kind = Kind::Scalar {
                    value: value.into_owned(),
                    tag: tag.unwrap_or_default(),
                    implicit,
                };
                b.add(kind, line0, anchor)?;
            }
            Event::SequenceStart(anchor, _) => b.open(Kind::Seq(Vec::new()), line0, anchor)?,
            Event::MappingStart(anchor, _) => b.open(Kind::Map(Vec::new()), line0, anchor)?,
            Event::SequenceEnd | Event::MappingEnd => {
                b.stack.pop();
            }
        }
    }
    Ok(docs)
}

#[derive(Default)]
struct Builder {
    nodes: Vec<Node>,
    root: Option<usize>,
    /// Open collections, innermost last.
    stack: Vec<usize>,
    /// saphyr anchor id → node.
    anchors: HashMap<usize, usize>,
}

impl Builder {
    fn add(&mut self, kind: Kind, line: usize, anchor: usize) -> Result<usize, SyntaxError> {
        let id = self.nodes.len();
        self.nodes.push(Node { kind, line });
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
        match self.stack.last() {
            None => {
                if self.root.is_none() {
                    self.root = Some(id);
                }
            }
            Some(&parent) => match &mut self.nodes[parent].kind {
                Kind::Seq(c) | Kind::Map(c) => c.push(id),
                _ => {}
            },
        }
        Ok(id)
    }

    fn open(&mut self, kind: Kind, line: usize, anchor: usize) -> Result<(), SyntaxError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(SyntaxError {
                message: format!("exceeded max depth of {MAX_DEPTH}"),
                line: Some(line + 1),
            });
        }
        let id = self.add(kind, line, anchor)?;
        self.stack.push(id);
        Ok(())
    }

    fn finish(self) -> Doc {
        Doc {
            nodes: self.nodes,
            root: self.root,
        }
    }
}

/// The anchor name of an alias event starting at character `index` (`*name`).
fn alias_name(text: &str, index: usize) -> String {
    let rest: String = text.chars().skip(index).take(1024).collect();
    let rest = rest.strip_prefix('*').unwrap_or(&rest);
    rest.chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '[' | ']' | '{' | '}'))
        .collect()
}

/// Rewrites a saphyr error into libyaml's message and go-yaml's line number.
///
/// go-yaml reports `problem_mark.line + 1` for scanner errors and `problem_mark.line` (0-based,
/// so one less) for parser errors; a line of 0 is left out.
fn scan_error(text: &str, e: &ScanError) -> SyntaxError {
    let _ = text;
    let info = e.info();
    let line1 = e.marker().line();
    // saphyr words parser errors as libyaml's "context, problem"; go-yaml prints the problem.
    let (message, parser_error) = match info {
        s if s.starts_with("while parsing a block mapping, did not find expected key") => {
            ("did not find expected key".to_string(), true)
        }
        s if s.starts_with("while parsing a flow mapping, did not find expected ',' or '}'") => {
            ("did not find expected ',' or '}'".to_string(), true)
        }
        s if s.starts_with("while parsing a flow sequence, expected ',' or ']'") => {
            ("did not find expected ',' or ']'".to_string(), true)
        }
        s if s.starts_with("while parsing a block collection, did not find expected '-'") => {
            ("did not find expected '-' indicator".to_string(), true)
        }
        s if s.starts_with("while parsing a node, did not find expected node content") => {
            ("did not find expected node content".to_string(), true)
        }
        s if s.starts_with("did not find expected <document start>") => {
            ("did not find expected <document start>".to_string(), true)
        }
        s if s.starts_with("while parsing node, found unknown anchor") => {
            ("unknown anchor referenced".to_string(), false)
        }
        "recursion limit exceeded" => (format!("exceeded max depth of {MAX_DEPTH}"), false),
        s => (s.to_string(), false),
    };
    let line = if parser_error {
        line1.saturating_sub(1)
    } else {
        line1
    };
    SyntaxError {
        message,
        line: (line != 0).then_some(line),
    }
}
