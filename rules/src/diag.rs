//! Problems in the user's files, reported together with file, line, key, label and help.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

/// One problem in a workspace file.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Workspace-relative file name (`clusters/gauss/peu01/cluster.toml`).
    pub file: String,
    /// 1-based line (0: the file as a whole).
    pub line: usize,
    pub span: Option<Range<usize>>,
    pub message: String,
    pub label: String,
    pub help: Option<String>,
    pub code: &'static str,
    /// The file's text, when a span points into it.
    pub source: Option<Arc<String>>,
}

impl Problem {
    /// A problem at `span` of `source` (the text of `file`).
    pub fn at(
        file: &str,
        source: &Arc<String>,
        span: Range<usize>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Problem {
        let span = clamp(span, source.len());
        let line = source[..span.start].matches('\n').count() + 1;
        Problem {
            file: file.to_string(),
            line,
            span: Some(span),
            message: message.into(),
            label: String::new(),
            help: None,
            code,
            source: Some(source.clone()),
        }
    }

    /// A problem about a whole file (it cannot be read, a directory is missing…).
    pub fn file(file: &str, code: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            file: file.to_string(),
            line: 0,
            span: None,
            message: message.into(),
            label: String::new(),
            help: None,
            code,
            source: None,
        }
    }

    /// A problem at a 1-based line of a file whose text we have.
    pub fn at_line(
        file: &str,
        source: &Arc<String>,
        line: usize,
        code: &'static str,
        message: impl Into<String>,
    ) -> Problem {
        let mut start = 0;
        for (i, l) in source.split_inclusive('\n').enumerate() {
            if i + 1 == line {
                let end = start + l.trim_end_matches('\n').len();
                return Problem::at(file, source, start..end.max(start), code, message);
            }
            start += l.len();
        }
        let mut p = Problem::file(file, code, message);
        p.line = line;
        p
    }

    pub fn label(mut self, label: impl Into<String>) -> Problem {
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(help.into());
        self
    }

    fn sort_key(&self) -> (&str, usize, usize, &str) {
        (
            &self.file,
            self.line,
            self.span.as_ref().map_or(0, |s| s.start),
            &self.message,
        )
    }
}

fn clamp(span: Range<usize>, len: usize) -> Range<usize> {
    let start = span.start.min(len);
    start..span.end.clamp(start, len)
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

impl std::error::Error for Problem {}

/// A problem as a miette diagnostic, with the file as its named source.
struct ProblemDiagnostic {
    problem: Problem,
    source: Option<NamedSource<String>>,
}

impl fmt::Debug for ProblemDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.problem.fmt(f)
    }
}
impl fmt::Display for ProblemDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.problem, f)
    }
}
impl std::error::Error for ProblemDiagnostic {}

impl Diagnostic for ProblemDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.problem.code))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.problem
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.problem.span.clone()?;
        self.source.as_ref()?;
        let label = (!self.problem.label.is_empty()).then(|| self.problem.label.clone());
        Some(Box::new(std::iter::once(LabeledSpan::new(
            label,
            span.start,
            span.len(),
        ))))
    }
}

/// Every problem found in a workspace, sorted by file and position.
#[derive(Debug)]
pub struct Problems {
    items: Vec<ProblemDiagnostic>,
}

impl Problems {
    pub fn new(mut problems: Vec<Problem>) -> Problems {
        problems.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        problems.dedup_by(|a, b| a.sort_key() == b.sort_key());
        let items = problems
            .into_iter()
            .map(|p| {
                let source = p
                    .source
                    .as_ref()
                    .map(|s| NamedSource::new(p.file.clone(), s.as_str().to_string()));
                ProblemDiagnostic { problem: p, source }
            })
            .collect();
        Problems { items }
    }

    pub fn problems(&self) -> impl Iterator<Item = &Problem> {
        self.items.iter().map(|d| &d.problem)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.items.len() {
            1 => write!(f, "found 1 problem in the workspace"),
            n => write!(f, "found {n} problems in the workspace"),
        }
    }
}

impl std::error::Error for Problems {}

impl Diagnostic for Problems {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("wayfinder::workspace"))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.items.iter().map(|d| d as &dyn Diagnostic)))
    }
}

/// Levenshtein distance, bounded inputs (keys are short).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(256).collect();
    let b: Vec<char> = b.chars().take(256).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest candidate to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(
            did_you_mean("voyag", ["name", "voyage", "labels"]),
            Some("voyage")
        );
        assert_eq!(did_you_mean("zzzzzz", ["name", "voyage"]), None);
    }

    #[test]
    fn problems_are_sorted_with_lines() {
        let src = Arc::new("a = 1\nb = 2\n".to_string());
        let p2 = Problem::at("x.toml", &src, 6..7, "c", "second");
        let p1 = Problem::at("x.toml", &src, 0..1, "c", "first");
        let p0 = Problem::file("a.toml", "c", "zeroth");
        let all = Problems::new(vec![p2, p1, p0]);
        let text: Vec<String> = all.problems().map(|p| p.to_string()).collect();
        assert_eq!(
            text,
            ["a.toml: zeroth", "x.toml:1: first", "x.toml:2: second"]
        );
        assert_eq!(all.to_string(), "found 3 problems in the workspace");
    }
}
