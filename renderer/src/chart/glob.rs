//! Go's `path/filepath.Match` (Unix flavour: `/` is the only separator, `\` escapes).
//!
//! `*` matches any run of non-`/` characters, `?` one non-`/` character, `[...]` a class
//! (`^` negates, `a-z` ranges, `\` escapes). A malformed pattern is an error
//! (`syntax error in pattern`, Go's `ErrBadPattern`), reported even when an earlier part of the
//! pattern already failed to match, as Go does.

/// Go's `filepath.ErrBadPattern` text.
pub(crate) const BAD_PATTERN: &str = "syntax error in pattern";

/// Reports whether `name` matches the shell pattern `pattern`.
pub(crate) fn matches(pattern: &str, name: &str) -> Result<bool, &'static str> {
    // The shapes `.helmignore` files are made of, answered without allocating: a pattern with
    // no metacharacter matches only itself; `*lit` matches names ending in `lit` whose other
    // part (what the star takes) holds no `/`.
    const META: [char; 4] = ['*', '?', '[', '\\'];
    if !pattern.contains(META) {
        return Ok(pattern == name);
    }
    if let Some(lit) = pattern.strip_prefix('*') {
        if !lit.contains(META) {
            return Ok(name
                .strip_suffix(lit)
                .is_some_and(|head| !head.contains('/')));
        }
    }
    matches_general(pattern, name)
}

/// Go's `filepath.Match` algorithm, for every pattern.
fn matches_general(pattern: &str, name: &str) -> Result<bool, &'static str> {
    let pat: Vec<char> = pattern.chars().collect();
    let mut name: Vec<char> = name.chars().collect();
    let mut pattern: &[char] = &pat;
    'outer: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            return Ok(!name.contains(&'/'));
        }
        let (t, ok) = match_chunk(chunk, &name)?;
        if ok && (t.is_empty() || !pattern.is_empty()) {
            name = t.to_vec();
            continue;
        }
        if star {
            let mut i = 0;
            while i < name.len() && name[i] != '/' {
                let (t, ok) = match_chunk(chunk, &name[i + 1..])?;
                if ok {
                    if pattern.is_empty() && !t.is_empty() {
                        i += 1;
                        continue;
                    }
                    name = t.to_vec();
                    continue 'outer;
                }
                i += 1;
            }
        }
        // Go checks that the rest of the pattern is well formed before answering "no".
        while !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(pattern);
            pattern = rest;
            match_chunk(chunk, &[])?;
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// Splits off a leading run of stars and the chunk up to the next unbracketed star.
fn scan_chunk(mut pattern: &[char]) -> (bool, &[char], &[char]) {
    let mut star = false;
    while pattern.first() == Some(&'*') {
        pattern = &pattern[1..];
        star = true;
    }
    let mut in_range = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            '\\' if i + 1 < pattern.len() => i += 1,
            '[' => in_range = true,
            ']' => in_range = false,
            '*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (star, &pattern[..i], &pattern[i..])
}

/// Matches a star-free chunk at the start of `s`; returns the rest of `s` and whether it matched.
fn match_chunk<'a>(
    mut chunk: &[char],
    mut s: &'a [char],
) -> Result<(&'a [char], bool), &'static str> {
    let mut failed = false;
    while let Some(&c) = chunk.first() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match c {
            '[' => {
                let mut r = '\0';
                if !failed {
                    r = s[0];
                    s = &s[1..];
                }
                chunk = &chunk[1..];
                let mut negated = false;
                if chunk.first() == Some(&'^') {
                    negated = true;
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut nrange = 0;
                loop {
                    if chunk.first() == Some(&']') && nrange > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = get_esc(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if chunk.first() == Some(&'-') {
                        let (h, rest) = get_esc(&chunk[1..])?;
                        hi = h;
                        chunk = rest;
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    nrange += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            '?' => {
                if !failed {
                    if s[0] == '/' {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
            _ => {
                let lit = if c == '\\' {
                    chunk = &chunk[1..];
                    match chunk.first() {
                        Some(&l) => l,
                        None => return Err(BAD_PATTERN),
                    }
                } else {
                    c
                };
                if !failed {
                    if lit != s[0] {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    if failed {
        return Ok((&[], false));
    }
    Ok((s, true))
}

/// One possibly escaped character of a class; the class must go on after it.
fn get_esc(chunk: &[char]) -> Result<(char, &[char]), &'static str> {
    let mut chunk = chunk;
    match chunk.first() {
        None | Some('-') | Some(']') => return Err(BAD_PATTERN),
        Some('\\') => {
            chunk = &chunk[1..];
            if chunk.is_empty() {
                return Err(BAD_PATTERN);
            }
        }
        _ => {}
    }
    let r = chunk[0];
    let rest = &chunk[1..];
    if rest.is_empty() {
        return Err(BAD_PATTERN);
    }
    Ok((r, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Cases from Go's documentation and path/filepath match tests.
    #[test]
    fn go_match_cases() {
        let cases: &[(&str, &str, Result<bool, &str>)] = &[
            ("abc", "abc", Ok(true)),
            ("*", "abc", Ok(true)),
            ("*c", "abc", Ok(true)),
            ("a*", "a", Ok(true)),
            ("a*", "abc", Ok(true)),
            ("a*", "ab/c", Ok(false)),
            ("a*/b", "abc/b", Ok(true)),
            ("a*/b", "a/c/b", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", Ok(false)),
            ("a*b?c*x", "abxbbxdbxebxczzx", Ok(true)),
            ("a*b?c*x", "abxbbxdbxebxczzy", Ok(false)),
            ("ab[c]", "abc", Ok(true)),
            ("ab[b-d]", "abc", Ok(true)),
            ("ab[e-g]", "abc", Ok(false)),
            ("ab[^c]", "abc", Ok(false)),
            ("ab[^b-d]", "abc", Ok(false)),
            ("ab[^e-g]", "abc", Ok(true)),
            ("a\\*b", "a*b", Ok(true)),
            ("a\\*b", "ab", Ok(false)),
            ("a?b", "a☺b", Ok(true)),
            ("a[^a]b", "a☺b", Ok(true)),
            ("a???b", "a☺b", Ok(false)),
            ("a[^a][^a][^a]b", "a☺b", Ok(false)),
            ("[a-ζ]*", "α", Ok(true)),
            ("*[a-ζ]", "A", Ok(false)),
            ("a?b", "a/b", Ok(false)),
            ("a*b", "a/b", Ok(false)),
            ("[\\]a]", "]", Ok(true)),
            ("[\\-]", "-", Ok(true)),
            ("[x\\-]", "x", Ok(true)),
            ("[x\\-]", "-", Ok(true)),
            ("[x\\-]", "z", Ok(false)),
            ("[\\-x]", "x", Ok(true)),
            ("[\\-x]", "-", Ok(true)),
            ("[\\-x]", "a", Ok(false)),
            ("[]a]", "]", Err(BAD_PATTERN)),
            ("[-]", "-", Err(BAD_PATTERN)),
            ("[x-]", "x", Err(BAD_PATTERN)),
            ("[x-]", "-", Err(BAD_PATTERN)),
            ("[x-]", "z", Err(BAD_PATTERN)),
            ("[-x]", "x", Err(BAD_PATTERN)),
            ("[-x]", "-", Err(BAD_PATTERN)),
            ("[-x]", "a", Err(BAD_PATTERN)),
            ("\\", "a", Err(BAD_PATTERN)),
            ("[a-b-c]", "a", Err(BAD_PATTERN)),
            ("[", "a", Err(BAD_PATTERN)),
            ("[^", "a", Err(BAD_PATTERN)),
            ("[^bc", "a", Err(BAD_PATTERN)),
            ("a[", "a", Err(BAD_PATTERN)),
            ("a[", "ab", Err(BAD_PATTERN)),
            ("a[", "x", Err(BAD_PATTERN)),
            ("a/b[", "x", Err(BAD_PATTERN)),
            ("*x", "xxx", Ok(true)),
        ];
        for (p, s, want) in cases {
            assert_eq!(matches(p, s), *want, "Match({p:?}, {s:?})");
        }
    }

    /// The allocation-free shortcuts answer exactly as the general algorithm.
    #[test]
    fn shortcuts_agree_with_general_match() {
        let patterns = [
            "",
            "*",
            "*~",
            "*.swp",
            "*.tmp",
            ".git",
            ".DS_Store",
            "*/x",
            "*a/b",
            "**",
            "a]b",
            "^",
            "-",
            "*-",
            "☺",
            "*☺",
            "templates/.x",
            "ab",
        ];
        let names = [
            "",
            "a",
            "x~",
            "a/x~",
            "~",
            "f.swp",
            "d/f.swp",
            ".swp",
            "f.swp.bak",
            ".git",
            ".gitx",
            "y/x",
            "y/z/x",
            "/x",
            "x",
            "ab",
            "a]b",
            "^",
            "-",
            "a-",
            "a/-",
            "☺",
            "z☺",
            "z/☺",
            "templates/.x",
            "a/b",
            "ca/b",
            "c/a/b",
        ];
        for p in patterns {
            for n in names {
                assert_eq!(matches(p, n), matches_general(p, n), "Match({p:?}, {n:?})");
            }
        }
    }
}
