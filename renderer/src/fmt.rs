//! Go's `fmt` printing of template values: `%v` (`fmt.Sprint`), floats as `strconv` prints them,
//! and `printf` with Go's verbs, flags, width, precision, argument indexes and error forms
//! (`%!d(string=x)`, `%!d(MISSING)`, `%!(EXTRA int=1)`, `%!(NOVERB)`).
//!
//! Values map to Go types as in `value.rs`: `Int` is `int`, `Float` is `float64`, `List` is
//! `[]interface {}`, `Map` is `map[string]interface {}` (printed with sorted keys).

use crate::value::Value;

/// Formats a float64 as Go's `%v` does: `strconv.FormatFloat(f, 'g', -1, 64)`, the shortest
/// representation, in `%e` form when the exponent is < -4 or >= 6.
pub fn format_float_v(f: f64) -> String {
    format_float_g(f, 6)
}

/// Shortest-digits `%g` with an explicit exponent threshold `eprec` (6 for `%v`; `encoding/json`
/// uses its own rule, see the JSON module).
pub fn format_float_g(f: f64, eprec: i32) -> String {
    if let Some(s) = special(f) {
        return s.to_string();
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let (digits, dp) = shortest_digits(f);
    let exp = dp - 1;
    let mut out = String::new();
    if f < 0.0 {
        out.push('-');
    }
    if exp < -4 || exp >= eprec {
        let nd = digits.len() as i32;
        fmt_e(&mut out, &digits, dp, nd - 1, 'e');
    } else {
        let nd = digits.len() as i32;
        fmt_f(&mut out, &digits, dp, (nd - dp).max(0));
    }
    out
}

fn special(f: f64) -> Option<&'static str> {
    if f.is_nan() {
        Some("NaN")
    } else if f.is_infinite() {
        Some(if f > 0.0 { "+Inf" } else { "-Inf" })
    } else {
        None
    }
}

/// Shortest round-trip decimal digits of |f| (non-zero, finite) and the decimal point
/// position: |f| = 0.DIGITS × 10^dp.
fn shortest_digits(f: f64) -> (Vec<u8>, i32) {
    split_e(&format!("{:e}", f.abs()))
}

/// |f| rounded to `n` significant digits (n ≥ 1), trailing zeros removed.
fn sig_digits(f: f64, n: usize) -> (Vec<u8>, i32) {
    if f == 0.0 {
        return (Vec::new(), 0);
    }
    let (mut d, dp) = split_e(&format!("{:.*e}", n.saturating_sub(1), f.abs()));
    while d.len() > 1 && d.last() == Some(&b'0') {
        d.pop();
    }
    (d, dp)
}

fn split_e(s: &str) -> (Vec<u8>, i32) {
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mant.bytes().filter(|b| b.is_ascii_digit()).collect();
    (digits, exp + 1)
}

/// `d.ddde±XX` with `prec` digits after the point (padding with zeros).
fn fmt_e(out: &mut String, digits: &[u8], dp: i32, prec: i32, e: char) {
    let first = digits.first().copied().unwrap_or(b'0');
    out.push(first as char);
    if prec > 0 {
        out.push('.');
        for i in 1..=prec as usize {
            out.push(digits.get(i).copied().unwrap_or(b'0') as char);
        }
    }
    out.push(e);
    let exp = if digits.is_empty() { 0 } else { dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let a = exp.abs();
    if a < 10 {
        out.push('0');
    }
    out.push_str(&a.to_string());
}

/// `ddd.ddd` with `prec` digits after the point.
fn fmt_f(out: &mut String, digits: &[u8], dp: i32, prec: i32) {
    if dp > 0 {
        for i in 0..dp as usize {
            out.push(digits.get(i).copied().unwrap_or(b'0') as char);
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 0..prec {
            let j = dp + i;
            let c = if j < 0 {
                b'0'
            } else {
                digits.get(j as usize).copied().unwrap_or(b'0')
            };
            out.push(c as char);
        }
    }
}

/// `strconv.FormatFloat(f, verb, prec, 64)` for verbs e, E, f, F, g, G (prec -1: shortest).
pub fn format_float(f: f64, verb: char, prec: i32) -> String {
    if let Some(s) = special(f) {
        return s.to_string();
    }
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    let shortest = prec < 0;
    match verb {
        'e' | 'E' => {
            if shortest {
                let (d, dp) = if f == 0.0 {
                    (vec![b'0'], 1)
                } else {
                    shortest_digits(f)
                };
                fmt_e(&mut out, &d, dp, d.len() as i32 - 1, verb);
            } else {
                let s = format!("{:.*e}", prec as usize, f.abs());
                let (d, dp) = split_e(&s);
                let dp = if f == 0.0 { 1 } else { dp };
                fmt_e(&mut out, &d, dp, prec, verb);
            }
        }
        'f' | 'F' => {
            if shortest {
                let (d, dp) = if f == 0.0 {
                    (Vec::new(), 0)
                } else {
                    shortest_digits(f)
                };
                fmt_f(&mut out, &d, dp, (d.len() as i32 - dp).max(0));
            } else {
                out.push_str(&format!("{:.*}", prec as usize, f.abs()));
            }
        }
        _ => {
            let e = if verb == 'G' { 'E' } else { 'e' };
            let (d, dp, mut p, eprec) = if shortest {
                let (d, dp) = if f == 0.0 {
                    (vec![b'0'], 1)
                } else {
                    shortest_digits(f)
                };
                let n = d.len() as i32;
                (d, dp, n, 6)
            } else {
                let p = if prec == 0 { 1 } else { prec };
                let (d, dp) = if f == 0.0 {
                    (vec![b'0'], 1)
                } else {
                    sig_digits(f, p as usize)
                };
                let nd = d.len() as i32;
                let mut eprec = p;
                if eprec > nd && nd >= dp {
                    eprec = nd;
                }
                (d, dp, p, eprec)
            };
            let nd = d.len() as i32;
            let exp = dp - 1;
            if exp < -4 || exp >= eprec {
                if p > nd {
                    p = nd;
                }
                fmt_e(&mut out, &d, dp, p - 1, e);
            } else {
                if p > dp {
                    p = nd;
                }
                fmt_f(&mut out, &d, dp, (p - dp).max(0));
            }
        }
    }
    out
}

/// `strconv.FormatFloat(f, 'x', prec, 64)`: `-0x1.8p+01`.
fn format_float_hex(f: f64, prec: i32, upper: bool) -> String {
    if let Some(s) = special(f) {
        return s.to_string();
    }
    let bits = f.to_bits();
    let neg = bits >> 63 == 1;
    let exp_bits = ((bits >> 52) & 0x7ff) as i32;
    let mut mant = bits & ((1u64 << 52) - 1);
    let mut exp;
    if exp_bits == 0 {
        if mant == 0 {
            exp = 0;
        } else {
            // Subnormal: normalize.
            exp = -1022;
            while mant & (1u64 << 52) == 0 {
                mant <<= 1;
                exp -= 1;
            }
            mant &= (1u64 << 52) - 1;
        }
    } else {
        exp = exp_bits - 1023;
    }
    let lead = if exp_bits == 0 && mant == 0 {
        0u64
    } else {
        1u64
    };
    // 52 fraction bits = 13 hex digits.
    let mut full = (lead << 52) | mant;
    let mut ndigits = 13i32;
    if (0..13).contains(&prec) {
        let shift = (13 - prec) * 4;
        let half = 1u64 << (shift - 1);
        let rem = full & ((1u64 << shift) - 1);
        full >>= shift;
        if rem > half || (rem == half && full & 1 == 1) {
            full += 1;
        }
        if full >> (prec * 4) >= 2 {
            full >>= 1;
            exp += 1;
        }
        ndigits = prec;
    }
    let lead_digit = full >> (ndigits * 4);
    let frac = full & ((1u64 << (ndigits * 4)) - 1);
    let mut digits = if ndigits > 0 {
        format!("{:0width$x}", frac, width = ndigits as usize)
    } else {
        String::new()
    };
    if prec < 0 {
        while digits.ends_with('0') {
            digits.pop();
        }
    } else {
        while (digits.len() as i32) < prec {
            digits.push('0');
        }
    }
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    s.push_str("0x");
    s.push_str(&lead_digit.to_string());
    if !digits.is_empty() {
        s.push('.');
        s.push_str(&digits);
    }
    s.push('p');
    s.push(if exp < 0 { '-' } else { '+' });
    let a = exp.abs();
    if a < 10 {
        s.push('0');
    }
    s.push_str(&a.to_string());
    if upper {
        s = s.to_uppercase();
    }
    s
}

/// `strconv.FormatFloat(f, 'b', -1, 64)`: `6755399441055744p-52`.
fn format_float_bin(f: f64) -> String {
    if let Some(s) = special(f) {
        return s.to_string();
    }
    let bits = f.to_bits();
    let neg = bits >> 63 == 1;
    let exp_bits = ((bits >> 52) & 0x7ff) as i64;
    let mut mant = bits & ((1u64 << 52) - 1);
    let exp = if exp_bits == 0 {
        -1074
    } else {
        mant |= 1u64 << 52;
        exp_bits - 1075
    };
    format!(
        "{}{}p{}{}",
        if neg { "-" } else { "" },
        mant,
        if exp < 0 { "-" } else { "+" },
        exp.abs()
    )
}

/// `fmt.Sprint(v)` for one value (`%v`): what `{{ .x }}`, `toString`, `print` produce.
pub fn sprint_v(v: &Value) -> String {
    let mut s = String::new();
    write_value(&mut s, v);
    s
}

/// Appends `fmt.Sprint(v)`.
pub fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Int(i) => out.push_str(&i.to_string()),
        _ => {
            let mut p = Printer::new(out);
            p.print_arg(v, 'v');
        }
    }
}

/// `fmt.Sprint(args...)`: spaces between operands when neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        write_value(&mut out, a);
        prev_string = is_string;
    }
    out
}

/// `fmt.Sprintln(args...)`: always spaces, and a final newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_value(&mut out, a);
    }
    out.push('\n');
    out
}

/// `fmt.Sprintf(format, args...)`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::with_capacity(format.len() + 16);
    let mut p = Printer::new(&mut out);
    p.do_printf(format, args);
    out
}

/// Go's `strconv.Quote`.
pub fn quote_go(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        escape_rune(&mut o, c, '"', false);
    }
    o.push('"');
    o
}

fn quote_ascii(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        escape_rune(&mut o, c, '"', true);
    }
    o.push('"');
    o
}

/// Go's `strconv.QuoteRune`.
pub fn quote_rune(c: char, ascii: bool) -> String {
    let mut o = String::from("'");
    escape_rune(&mut o, c, '\'', ascii);
    o.push('\'');
    o
}

fn escape_rune(o: &mut String, c: char, quote: char, ascii: bool) {
    if c == quote || c == '\\' {
        o.push('\\');
        o.push(c);
        return;
    }
    if ascii {
        if (c as u32) < 0x80 && is_print(c) {
            o.push(c);
            return;
        }
    } else if is_print(c) {
        o.push(c);
        return;
    }
    match c {
        '\x07' => o.push_str("\\a"),
        '\x08' => o.push_str("\\b"),
        '\x0c' => o.push_str("\\f"),
        '\n' => o.push_str("\\n"),
        '\r' => o.push_str("\\r"),
        '\t' => o.push_str("\\t"),
        '\x0b' => o.push_str("\\v"),
        c if (c as u32) < 0x20 || c == '\x7f' => o.push_str(&format!("\\x{:02x}", c as u32)),
        c if (c as u32) < 0x10000 => o.push_str(&format!("\\u{:04x}", c as u32)),
        c => o.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// An approximation of Go's `unicode.IsPrint`: graphic characters and the ASCII space.
pub fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    !matches!(u,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F
        | 0x2028..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB
        | 0xD800..=0xDFFF | 0xE000..=0xF8FF | 0xFFFE | 0xFFFF)
}

fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|c| c != '`' && c != '\u{FEFF}' && c != '\x7f' && (c == '\t' || (c as u32) >= 0x20))
}

#[derive(Default, Clone, Copy)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    plus_v: bool,
    sharp_v: bool,
    wid: Option<usize>,
    prec: Option<usize>,
}

struct Printer<'o> {
    out: &'o mut String,
    f: Flags,
}

impl<'o> Printer<'o> {
    fn new(out: &'o mut String) -> Printer<'o> {
        Printer {
            out,
            f: Flags::default(),
        }
    }

    fn write_padding(&mut self, n: usize, zero: bool) {
        let c = if zero { '0' } else { ' ' };
        for _ in 0..n {
            self.out.push(c);
        }
    }

    /// Pads `s` to the width (counted in runes).
    fn pad(&mut self, s: &str) {
        let Some(w) = self.f.wid else {
            self.out.push_str(s);
            return;
        };
        let n = s.chars().count();
        if n >= w {
            self.out.push_str(s);
            return;
        }
        if self.f.minus {
            self.out.push_str(s);
            self.write_padding(w - n, false);
        } else {
            self.write_padding(w - n, self.f.zero);
            self.out.push_str(s);
        }
    }

    fn bad_verb(&mut self, verb: char, v: &Value) {
        self.out.push_str("%!");
        self.out.push(verb);
        self.out.push('(');
        match v {
            Value::Nil => self.out.push_str("<nil>"),
            v => {
                self.out.push_str(&v.type_name());
                self.out.push('=');
                let saved = self.f;
                self.f.sharp_v = false;
                self.f.plus_v = false;
                self.print_arg(v, 'v');
                self.f = saved;
            }
        }
        self.out.push(')');
    }

    fn print_arg(&mut self, v: &Value, verb: char) {
        if verb == 'T' {
            let t = v.type_name();
            self.fmt_s(&t);
            return;
        }
        match v {
            Value::Nil => {
                if verb == 'v' {
                    self.pad("<nil>");
                } else {
                    self.bad_verb(verb, v);
                }
            }
            _ => self.print_value(v, verb),
        }
    }

    fn print_value(&mut self, v: &Value, verb: char) {
        match v {
            Value::Nil => {
                if self.f.sharp_v {
                    self.out.push_str("interface {}(nil)");
                } else {
                    self.out.push_str("<nil>");
                }
            }
            Value::Bool(b) => match verb {
                't' | 'v' => self.pad(if *b { "true" } else { "false" }),
                _ => self.bad_verb(verb, v),
            },
            Value::Int(i) => self.fmt_int(*i, verb, v),
            Value::Float(x) => self.fmt_float(*x, verb, v),
            Value::String(s) => self.fmt_string(s, verb, v),
            Value::Bytes(b) => match verb {
                's' => self.fmt_s(&String::from_utf8_lossy(b)),
                'q' => self.fmt_q(&String::from_utf8_lossy(b)),
                'x' | 'X' => self.fmt_sx(b, verb),
                _ => {
                    if self.f.sharp_v {
                        self.out.push_str("[]byte{");
                        for (i, x) in b.iter().enumerate() {
                            if i > 0 {
                                self.out.push_str(", ");
                            }
                            self.out.push_str(&format!("0x{x:x}"));
                        }
                        self.out.push('}');
                        return;
                    }
                    self.out.push('[');
                    for (i, x) in b.iter().enumerate() {
                        if i > 0 {
                            self.out.push(' ');
                        }
                        self.fmt_int(
                            *x as i64,
                            if verb == 'v' { 'd' } else { verb },
                            &Value::Int(*x as i64),
                        );
                    }
                    self.out.push(']');
                }
            },
            Value::List(l) => {
                if self.f.sharp_v {
                    self.out.push_str("[]interface {}{");
                    for (i, x) in l.iter().enumerate() {
                        if i > 0 {
                            self.out.push_str(", ");
                        }
                        self.print_value(x, verb);
                    }
                    self.out.push('}');
                    return;
                }
                self.out.push('[');
                for (i, x) in l.iter().enumerate() {
                    if i > 0 {
                        self.out.push(' ');
                    }
                    self.print_value(x, verb);
                }
                self.out.push(']');
            }
            Value::Map(m) => {
                let m = m.borrow();
                if self.f.sharp_v {
                    self.out.push_str("map[string]interface {}{");
                } else {
                    self.out.push_str("map[");
                }
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        if self.f.sharp_v {
                            self.out.push_str(", ");
                        } else {
                            self.out.push(' ');
                        }
                    }
                    self.fmt_string(k, verb, &Value::str(k));
                    self.out.push(':');
                    self.print_value(x, verb);
                }
                self.out.push(if self.f.sharp_v { '}' } else { ']' });
            }
            Value::Object(o) => {
                let s = o.go_string();
                self.pad(&s);
            }
        }
    }

    fn fmt_s(&mut self, s: &str) {
        let s = self.truncate(s);
        self.pad(s);
    }

    fn truncate<'s>(&self, s: &'s str) -> &'s str {
        if let Some(p) = self.f.prec {
            if let Some((i, _)) = s.char_indices().nth(p) {
                return &s[..i];
            }
        }
        s
    }

    fn fmt_q(&mut self, s: &str) {
        let s = self.truncate(s);
        if self.f.sharp && can_backquote(s) {
            let q = format!("`{s}`");
            self.pad(&q);
            return;
        }
        let q = if self.f.plus {
            quote_ascii(s)
        } else {
            quote_go(s)
        };
        self.pad(&q);
    }

    fn fmt_sx(&mut self, b: &[u8], verb: char) {
        let digits: &[u8] = if verb == 'x' {
            b"0123456789abcdef"
        } else {
            b"0123456789ABCDEF"
        };
        let n = match self.f.prec {
            Some(p) => p.min(b.len()),
            None => b.len(),
        };
        let mut s = String::new();
        for (i, &c) in b[..n].iter().enumerate() {
            if i > 0 && self.f.space {
                s.push(' ');
            }
            if self.f.sharp && (i == 0 || self.f.space) {
                s.push('0');
                s.push(verb);
            }
            s.push(digits[(c >> 4) as usize] as char);
            s.push(digits[(c & 15) as usize] as char);
        }
        self.pad(&s);
    }

    fn fmt_string(&mut self, s: &str, verb: char, v: &Value) {
        match verb {
            'v' => {
                if self.f.sharp_v {
                    self.fmt_q(s)
                } else {
                    self.fmt_s(s)
                }
            }
            's' => self.fmt_s(s),
            'x' | 'X' => self.fmt_sx(s.as_bytes(), verb),
            'q' => self.fmt_q(s),
            _ => self.bad_verb(verb, v),
        }
    }

    fn fmt_int(&mut self, i: i64, verb: char, v: &Value) {
        match verb {
            'v' | 'd' => self.fmt_integer(i, 10, verb, false),
            'b' => self.fmt_integer(i, 2, verb, false),
            'o' | 'O' => self.fmt_integer(i, 8, verb, false),
            'x' => self.fmt_integer(i, 16, verb, false),
            'X' => self.fmt_integer(i, 16, verb, true),
            'c' => {
                let c = u32::try_from(i)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{FFFD}');
                let s = c.to_string();
                self.pad(&s);
            }
            'q' => {
                let c = u32::try_from(i)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{FFFD}');
                let q = if self.f.sharp && c != '`' && is_print(c) && c != '\'' {
                    format!("'{c}'")
                } else {
                    quote_rune(c, self.f.plus)
                };
                self.pad(&q);
            }
            'U' => {
                let mut s = format!("U+{:04X}", i);
                if self.f.sharp {
                    if let Some(c) = u32::try_from(i).ok().and_then(char::from_u32) {
                        if is_print(c) {
                            s.push_str(&format!(" '{c}'"));
                        }
                    }
                }
                self.pad(&s);
            }
            _ => self.bad_verb(verb, v),
        }
    }

    fn fmt_integer(&mut self, i: i64, base: u32, verb: char, upper: bool) {
        let neg = i < 0;
        let u = i.unsigned_abs();
        let f = self.f;
        let mut prec = 0usize;
        if let Some(p) = f.prec {
            prec = p;
            if p == 0 && u == 0 {
                let w = f.wid.unwrap_or(0);
                self.write_padding(w, false);
                return;
            }
        } else if f.zero && !f.minus {
            if let Some(w) = f.wid {
                prec = w;
                if neg || f.plus || f.space {
                    prec = prec.saturating_sub(1);
                }
            }
        }
        let mut digits = match base {
            2 => format!("{u:b}"),
            8 => format!("{u:o}"),
            16 if upper => format!("{u:X}"),
            16 => format!("{u:x}"),
            _ => u.to_string(),
        };
        if digits.len() < prec {
            digits = "0".repeat(prec - digits.len()) + &digits;
        }
        let mut prefix = String::new();
        if f.sharp {
            match base {
                2 => prefix.push_str("0b"),
                8 if !digits.starts_with('0') => prefix.push('0'),
                16 => prefix.push_str(if upper { "0X" } else { "0x" }),
                _ => {}
            }
        }
        if verb == 'O' {
            prefix.push_str("0o");
        }
        let sign = if neg {
            "-"
        } else if f.plus {
            "+"
        } else if f.space {
            " "
        } else {
            ""
        };
        let s = format!("{sign}{prefix}{digits}");
        let zero = self.f.zero;
        self.f.zero = false;
        self.pad(&s);
        self.f.zero = zero;
    }

    fn fmt_float(&mut self, x: f64, verb: char, v: &Value) {
        let (verb2, default_prec) = match verb {
            'v' => ('g', -1),
            'g' | 'G' => (verb, -1),
            'e' | 'E' | 'f' => (verb, 6),
            'F' => ('f', 6),
            'x' | 'X' | 'b' => (verb, -1),
            _ => return self.bad_verb(verb, v),
        };
        let prec = match self.f.prec {
            Some(p) => p as i32,
            None => default_prec,
        };
        let mut num = match verb2 {
            'x' | 'X' => format_float_hex(x, prec, verb2 == 'X'),
            'b' => format_float_bin(x),
            _ => format_float(x, verb2, prec),
        };
        if self.f.sharp && !num.contains(['.', 'I', 'N']) {
            // `#` forces a decimal point.
            match num.find(['e', 'E']) {
                Some(i) => num.insert(i, '.'),
                None => num.push('.'),
            }
        }
        let (sign, body) = match num.strip_prefix('-') {
            Some(b) => ("-", b.to_string()),
            None => ("+", num.clone()),
        };
        let sign = if sign == "+" && self.f.space && !self.f.plus {
            " "
        } else {
            sign
        };
        if body.starts_with('I') || body.starts_with('N') {
            let zero = self.f.zero;
            self.f.zero = false;
            let s = if body.starts_with('N') && !self.f.space && !self.f.plus {
                body
            } else {
                format!("{sign}{}", body.trim_start_matches('+'))
            };
            self.pad(&s);
            self.f.zero = zero;
            return;
        }
        if self.f.plus || sign != "+" {
            let full = format!("{sign}{body}");
            if self.f.zero && !self.f.minus {
                if let Some(w) = self.f.wid {
                    if w > full.len() {
                        self.out.push_str(sign);
                        self.write_padding(w - full.len(), true);
                        self.out.push_str(&body);
                        return;
                    }
                }
            }
            self.pad(&full);
            return;
        }
        self.pad(&body);
    }

    fn do_printf(&mut self, format: &str, args: &[Value]) {
        let b = format.as_bytes();
        let end = b.len();
        let mut arg_num = 0usize;
        let mut reordered = false;
        let mut i = 0usize;
        while i < end {
            let mut good_arg_num = true;
            let lasti = i;
            while i < end && b[i] != b'%' {
                i += 1;
            }
            if i > lasti {
                self.out.push_str(&format[lasti..i]);
            }
            if i >= end {
                break;
            }
            i += 1; // skip %
            self.f = Flags::default();
            while i < end {
                match b[i] {
                    b'#' => self.f.sharp = true,
                    b'0' => self.f.zero = true,
                    b'+' => self.f.plus = true,
                    b'-' => self.f.minus = true,
                    b' ' => self.f.space = true,
                    _ => break,
                }
                i += 1;
            }
            // Argument index.
            let (an, ni, mut after_index) = self.arg_number(
                arg_num,
                format,
                i,
                args.len(),
                &mut good_arg_num,
                &mut reordered,
            );
            arg_num = an;
            i = ni;
            // Width.
            if i < end && b[i] == b'*' {
                i += 1;
                let (w, ok, an) = int_from_arg(args, arg_num);
                arg_num = an;
                if !ok {
                    self.out.push_str("%!(BADWIDTH)");
                    self.f.wid = None;
                } else if w < 0 {
                    self.f.wid = Some(w.unsigned_abs() as usize);
                    self.f.minus = true;
                    self.f.zero = false;
                } else {
                    self.f.wid = Some(w as usize);
                }
                after_index = false;
            } else {
                let (w, ok, ni) = parse_num(b, i, end);
                i = ni;
                if ok {
                    self.f.wid = Some(w);
                    if after_index {
                        good_arg_num = false;
                    }
                }
            }
            // Precision.
            if i + 1 < end && b[i] == b'.' {
                i += 1;
                if after_index {
                    good_arg_num = false;
                }
                let (an, ni, ai) = self.arg_number(
                    arg_num,
                    format,
                    i,
                    args.len(),
                    &mut good_arg_num,
                    &mut reordered,
                );
                arg_num = an;
                i = ni;
                after_index = ai;
                if i < end && b[i] == b'*' {
                    i += 1;
                    let (p, ok, an) = int_from_arg(args, arg_num);
                    arg_num = an;
                    if p < 0 || !ok {
                        self.f.prec = None;
                    } else {
                        self.f.prec = Some(p as usize);
                    }
                    if !ok {
                        self.out.push_str("%!(BADPREC)");
                    }
                    after_index = false;
                } else {
                    let (p, ok, ni) = parse_num(b, i, end);
                    i = ni;
                    self.f.prec = Some(if ok { p } else { 0 });
                }
            } else if i < end && b[i] == b'.' {
                // "%5." at the end: a precision of zero.
                i += 1;
                self.f.prec = Some(0);
            }
            if !after_index {
                let (an, ni, _) = self.arg_number(
                    arg_num,
                    format,
                    i,
                    args.len(),
                    &mut good_arg_num,
                    &mut reordered,
                );
                arg_num = an;
                i = ni;
            }
            if i >= end {
                self.out.push_str("%!(NOVERB)");
                break;
            }
            let verb = format[i..].chars().next().unwrap_or('?');
            i += verb.len_utf8();
            if self.f.minus {
                self.f.zero = false;
            }
            if verb == '%' {
                self.out.push('%');
                continue;
            }
            if !good_arg_num {
                self.out.push_str("%!");
                self.out.push(verb);
                self.out.push_str("(BADINDEX)");
                continue;
            }
            if arg_num >= args.len() {
                self.out.push_str("%!");
                self.out.push(verb);
                self.out.push_str("(MISSING)");
                continue;
            }
            if verb == 'v' {
                self.f.sharp_v = self.f.sharp;
                self.f.sharp = false;
                self.f.plus_v = self.f.plus;
                self.f.plus = false;
            }
            let a = &args[arg_num];
            self.print_arg(a, verb);
            arg_num += 1;
        }
        if !reordered && arg_num < args.len() {
            self.f = Flags::default();
            self.out.push_str("%!(EXTRA ");
            for (k, a) in args[arg_num..].iter().enumerate() {
                if k > 0 {
                    self.out.push_str(", ");
                }
                match a {
                    Value::Nil => self.out.push_str("<nil>"),
                    a => {
                        self.out.push_str(&a.type_name());
                        self.out.push('=');
                        self.print_arg(a, 'v');
                    }
                }
            }
            self.out.push(')');
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn arg_number(
        &mut self,
        arg_num: usize,
        format: &str,
        i: usize,
        num_args: usize,
        good: &mut bool,
        reordered: &mut bool,
    ) -> (usize, usize, bool) {
        let b = format.as_bytes();
        if i >= b.len() || b[i] != b'[' {
            return (arg_num, i, false);
        }
        *reordered = true;
        let (index, wid, ok) = parse_arg_number(&b[i..]);
        if ok && index < num_args {
            return (index, i + wid, true);
        }
        *good = false;
        (arg_num, i + wid, ok)
    }
}

fn parse_arg_number(b: &[u8]) -> (usize, usize, bool) {
    if b.len() < 3 {
        return (0, 1, false);
    }
    for i in 1..b.len() {
        if b[i] == b']' {
            let (w, ok, ni) = parse_num(b, 1, i);
            if !ok || ni != i || w == 0 {
                return (0, i + 1, false);
            }
            return (w - 1, i + 1, true);
        }
    }
    (0, 1, false)
}

fn parse_num(b: &[u8], start: usize, end: usize) -> (usize, bool, usize) {
    let mut i = start;
    let mut n = 0usize;
    let mut ok = false;
    while i < end && b[i].is_ascii_digit() {
        if n > 1_000_000 {
            return (0, false, end);
        }
        n = n * 10 + (b[i] - b'0') as usize;
        ok = true;
        i += 1;
    }
    (n, ok, i)
}

fn int_from_arg(args: &[Value], arg_num: usize) -> (i64, bool, usize) {
    match args.get(arg_num) {
        Some(Value::Int(n)) if n.unsigned_abs() <= 1_000_000 => (*n, true, arg_num + 1),
        Some(_) => (0, false, arg_num + 1),
        None => (0, false, arg_num),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_go() {
        assert_eq!(format_float_v(1.0), "1");
        assert_eq!(format_float_v(1.5), "1.5");
        assert_eq!(format_float_v(1e6), "1e+06");
        assert_eq!(format_float_v(123456.0), "123456");
        assert_eq!(format_float_v(1234567.0), "1.234567e+06");
        assert_eq!(format_float_v(0.0001), "0.0001");
        assert_eq!(format_float_v(0.00001), "1e-05");
        assert_eq!(format_float_v(-2.5), "-2.5");
    }
}
