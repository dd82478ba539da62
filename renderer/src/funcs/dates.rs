//! Sprig's date functions over Go `time.Time` values.
//!
//! 1. [`GoTime`] is a `time.Time`: Unix seconds, nanoseconds, a [`Zone`], and (for `now`) a
//!    monotonic reading that `String()` prints as ` m=+0.000012345`, like Go.
//! 2. Zones: UTC, fixed offsets, and IANA zones read from the system's zoneinfo files
//!    (TZif, with the POSIX rule footer for instants past the last transition), the way Go's
//!    `time.LoadLocation` finds them. `Local` follows Go: `$TZ`, else `/etc/localtime`, else UTC.
//! 3. Go's reference-time layouts (`2006-01-02T15:04:05Z07:00`): `format` and `parse`.
//! 4. Durations: Go's `Duration.String` and `time.ParseDuration`.
//!
//! Anything that reads the clock marks the render nondeterministic.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::OnceLock;

use super::args;
use crate::value::{Data, Func, FuncCtx, FuncError, Object, Value};

pub(super) fn register(m: &mut HashMap<&'static str, Func>) {
    m.insert("now", now_fn);
    m.insert("date", |c, a| {
        args::want("date", a, 2)?;
        let layout = args::string(a, 0)?;
        date_in_zone(c, &layout, &a[1], "Local")
    });
    m.insert("dateInZone", |c, a| date_in_zone_fn(c, a, "dateInZone"));
    m.insert("date_in_zone", |c, a| date_in_zone_fn(c, a, "date_in_zone"));
    m.insert("htmlDate", |c, a| {
        args::want("htmlDate", a, 1)?;
        date_in_zone(c, "2006-01-02", &a[0], "Local")
    });
    m.insert("htmlDateInZone", |c, a| {
        args::want("htmlDateInZone", a, 2)?;
        let zone = args::string(a, 1)?;
        date_in_zone(c, "2006-01-02", &a[0], &zone)
    });
    m.insert("dateModify", |_, a| date_modify(a, "dateModify", false));
    m.insert("date_modify", |_, a| date_modify(a, "date_modify", false));
    m.insert("mustDateModify", |_, a| {
        date_modify(a, "mustDateModify", true)
    });
    m.insert("must_date_modify", |_, a| {
        date_modify(a, "must_date_modify", true)
    });
    m.insert("ago", ago);
    m.insert("duration", duration_fn);
    m.insert("durationRound", duration_round);
    m.insert("toDate", |_, a| to_date(a, "toDate", false));
    m.insert("mustToDate", |_, a| to_date(a, "mustToDate", true));
    m.insert("unixEpoch", |_, a| {
        args::want("unixEpoch", a, 1)?;
        Ok(Value::string(time_arg(a, 0)?.secs.to_string()))
    });
}

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, like Go)

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Calendar fields of a Unix time (UTC): year, month, day, hour, minute, second.
pub(super) fn civil_utc(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let r = secs.rem_euclid(86_400);
    (
        y,
        m,
        d,
        (r / 3600) as u32,
        (r % 3600 / 60) as u32,
        (r % 60) as u32,
    )
}

/// The wall clock: Unix seconds and nanoseconds.
pub(super) fn now_unix() -> (i64, u32) {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as i64, d.subsec_nanos())
}

/// Nanoseconds since the first clock reading of this process (Go's monotonic `m=` value
/// counts from process start).
fn monotonic_now() -> i64 {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    let start = *START.get_or_init(std::time::Instant::now);
    start.elapsed().as_nanos() as i64
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

// ---------------------------------------------------------------------------------------------
// Zones

/// A `*time.Location`.
#[derive(Debug)]
pub(super) enum Zone {
    Utc,
    Fixed { name: String, offset: i32 },
    Tz { name: String, data: TzData },
}

#[derive(Debug, Default)]
pub(super) struct TzData {
    transitions: Vec<i64>,
    type_of: Vec<usize>,
    /// (UTC offset, is DST, abbreviation)
    types: Vec<(i32, bool, String)>,
    rule: Option<PosixRule>,
}

#[derive(Debug)]
struct PosixRule {
    std: (String, i32),
    dst: Option<DstRule>,
}

/// Daylight time: (name, offset), then the start and end days with their times of day.
type DstRule = ((String, i32), RuleDay, i32, RuleDay, i32);

#[derive(Debug, Clone, Copy)]
enum RuleDay {
    /// `Jn`: day 1..=365, February 29 never counted.
    Julian(i64),
    /// `n`: day 0..=365 counting February 29.
    Zero(i64),
    /// `Mm.w.d`.
    Month(u32, u32, u32),
}

impl Zone {
    fn name(&self) -> &str {
        match self {
            Zone::Utc => "UTC",
            Zone::Fixed { name, .. } | Zone::Tz { name, .. } => name,
        }
    }

    /// The abbreviation and UTC offset in effect at a Unix time.
    fn lookup(&self, secs: i64) -> (String, i32) {
        match self {
            Zone::Utc => ("UTC".into(), 0),
            Zone::Fixed { name, offset } => (name.clone(), *offset),
            Zone::Tz { data, .. } => data.lookup(secs),
        }
    }
}

impl TzData {
    fn lookup(&self, secs: i64) -> (String, i32) {
        let ty = |i: usize| {
            self.types
                .get(i)
                .map_or(("UTC".to_string(), 0), |t| (t.2.clone(), t.0))
        };
        if self.types.is_empty() {
            return ty(0);
        }
        if self.transitions.is_empty() || secs < self.transitions[0] {
            if let Some(r) = self.rule.as_ref().filter(|_| self.transitions.is_empty()) {
                return r.lookup(secs);
            }
            // Go's lookupFirstZone: the first standard-time type.
            let first = self.type_of.first().copied().unwrap_or(0);
            if self.types.get(first).is_some_and(|t| t.1) {
                if let Some(i) = (0..first).rev().find(|&i| !self.types[i].1) {
                    return ty(i);
                }
            }
            return ty(self.types.iter().position(|t| !t.1).unwrap_or(0));
        }
        let i = self.transitions.partition_point(|&t| t <= secs) - 1;
        if i + 1 == self.transitions.len() {
            if let Some(r) = &self.rule {
                return r.lookup(secs);
            }
        }
        ty(self.type_of[i])
    }

    /// Parses a TZif file (versions 1 to 4).
    fn parse(b: &[u8]) -> Option<TzData> {
        if b.get(..4)? != b"TZif" {
            return None;
        }
        let version = *b.get(4)?;
        let counts = |h: &[u8]| -> Option<[usize; 6]> {
            let mut c = [0usize; 6];
            for (i, x) in c.iter_mut().enumerate() {
                let s = h.get(20 + 4 * i..24 + 4 * i)?;
                *x = u32::from_be_bytes(s.try_into().ok()?) as usize;
            }
            Some(c)
        };
        // [isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt]
        let c = counts(b)?;
        let v1_len = c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
        let (body, c, wide) = if version >= b'2' {
            let h2 = b.get(44 + v1_len..)?;
            if h2.get(..4)? != b"TZif" {
                return None;
            }
            (h2.get(44..)?, counts(h2)?, true)
        } else {
            (b.get(44..)?, c, false)
        };
        let tsize = if wide { 8 } else { 4 };
        let mut p = 0usize;
        let mut take = |n: usize| -> Option<&[u8]> {
            let s = body.get(p..p + n)?;
            p += n;
            Some(s)
        };
        let mut data = TzData::default();
        let times = take(c[3] * tsize)?;
        for t in times.chunks(tsize) {
            data.transitions.push(if wide {
                i64::from_be_bytes(t.try_into().ok()?)
            } else {
                i32::from_be_bytes(t.try_into().ok()?) as i64
            });
        }
        data.type_of = take(c[3])?.iter().map(|x| *x as usize).collect();
        let infos = take(c[4] * 6)?.to_vec();
        let chars = take(c[5])?.to_vec();
        take(c[2] * (tsize + 4))?;
        take(c[1] + c[0])?;
        for info in infos.chunks(6) {
            let off = i32::from_be_bytes(info[..4].try_into().ok()?);
            let start = info[5] as usize;
            let end = chars[start.min(chars.len())..]
                .iter()
                .position(|x| *x == 0)
                .map_or(chars.len(), |e| start + e);
            let abbr = String::from_utf8_lossy(chars.get(start..end).unwrap_or(&[])).into_owned();
            data.types.push((off, info[4] != 0, abbr));
        }
        if data.type_of.iter().any(|i| *i >= data.types.len()) {
            return None;
        }
        if wide {
            let rest = &body[p..];
            let footer = rest
                .strip_prefix(b"\n")
                .and_then(|r| r.split(|x| *x == b'\n').next());
            if let Some(f) = footer.and_then(|f| std::str::from_utf8(f).ok()) {
                data.rule = PosixRule::parse(f);
            }
        }
        Some(data)
    }
}

impl PosixRule {
    /// A POSIX `TZ` string such as `CET-1CEST,M3.5.0,M10.5.0/3`.
    fn parse(s: &str) -> Option<PosixRule> {
        let mut rest = s;
        let std_name = take_tz_name(&mut rest)?;
        let std_off = -take_tz_offset(&mut rest)?;
        if rest.is_empty() {
            return Some(PosixRule {
                std: (std_name, std_off),
                dst: None,
            });
        }
        let dst_name = take_tz_name(&mut rest)?;
        let dst_off = if rest.starts_with(',') || rest.is_empty() {
            std_off + 3600
        } else {
            -take_tz_offset(&mut rest)?
        };
        let mut parts = rest.strip_prefix(',')?.split(',');
        let mut rule = || -> Option<(RuleDay, i32)> {
            let text = parts.next()?;
            let (day, time) = match text.split_once('/') {
                Some((d, t)) => (d, tz_clock(t)?),
                None => (text, 7200),
            };
            let day = if let Some(j) = day.strip_prefix('J') {
                RuleDay::Julian(j.parse().ok()?)
            } else if let Some(m) = day.strip_prefix('M') {
                let v: Vec<u32> = m
                    .split('.')
                    .map(|x| x.parse().ok())
                    .collect::<Option<_>>()?;
                if v.len() != 3 || !(1..=12).contains(&v[0]) {
                    return None;
                }
                RuleDay::Month(v[0], v[1], v[2])
            } else {
                RuleDay::Zero(day.parse().ok()?)
            };
            Some((day, time))
        };
        let (start, start_t) = rule()?;
        let (end, end_t) = rule()?;
        Some(PosixRule {
            std: (std_name, std_off),
            dst: Some(((dst_name, dst_off), start, start_t, end, end_t)),
        })
    }

    fn lookup(&self, secs: i64) -> (String, i32) {
        let Some((dst, start, start_t, end, end_t)) = &self.dst else {
            return self.std.clone();
        };
        let (year, _, _, _, _, _) = civil_utc(secs + self.std.1 as i64);
        let jan1 = days_from_civil(year, 1, 1) * 86_400;
        let start_at = jan1 + rule_day(*start, year) * 86_400 + *start_t as i64 - self.std.1 as i64;
        let end_at = jan1 + rule_day(*end, year) * 86_400 + *end_t as i64 - dst.1 as i64;
        let in_dst = if start_at < end_at {
            start_at <= secs && secs < end_at
        } else {
            !(end_at <= secs && secs < start_at)
        };
        if in_dst {
            dst.clone()
        } else {
            self.std.clone()
        }
    }
}

/// Day of the year (0-based) a rule names in `year`.
fn rule_day(r: RuleDay, year: i64) -> i64 {
    match r {
        RuleDay::Julian(n) => n - 1 + i64::from(is_leap(year) && n >= 60),
        RuleDay::Zero(n) => n,
        RuleDay::Month(m, w, d) => {
            let first = days_from_civil(year, m, 1);
            let wd_first = (first + 4).rem_euclid(7); // 1970-01-01 was a Thursday
            let mut day = (d as i64 - wd_first).rem_euclid(7) + 1 + (w as i64 - 1) * 7;
            while day > days_in_month(year, m) as i64 {
                day -= 7;
            }
            first + day - 1 - days_from_civil(year, 1, 1)
        }
    }
}

fn take_tz_name(s: &mut &str) -> Option<String> {
    if let Some(r) = s.strip_prefix('<') {
        let (name, rest) = r.split_once('>')?;
        *s = rest;
        return Some(name.to_string());
    }
    let n = s
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(s.len());
    if n < 3 {
        return None;
    }
    let name = s[..n].to_string();
    *s = &s[n..];
    Some(name)
}

/// `[+-]hh[:mm[:ss]]` as seconds (POSIX sign: positive is west of Greenwich).
fn take_tz_offset(s: &mut &str) -> Option<i32> {
    let n = s
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let v = tz_clock(&s[..n])?;
    *s = &s[n..];
    Some(v)
}

fn tz_clock(t: &str) -> Option<i32> {
    let (sign, t) = match t.as_bytes().first()? {
        b'-' => (-1, &t[1..]),
        b'+' => (1, &t[1..]),
        _ => (1, t),
    };
    let mut total = 0i32;
    for (i, part) in t.split(':').enumerate() {
        if i > 2 || part.is_empty() || part.len() > 3 {
            return None;
        }
        total += part.parse::<i32>().ok()? * [3600, 60, 1][i];
    }
    Some(sign * total)
}

thread_local! {
    static ZONES: RefCell<HashMap<String, Option<Rc<Zone>>>> = RefCell::new(HashMap::new());
}

/// Go's `time.LoadLocation`; `None` when the zone is unknown.
fn load_location(name: &str) -> Option<Rc<Zone>> {
    if name.is_empty() || name == "UTC" {
        return Some(Rc::new(Zone::Utc));
    }
    if name == "Local" {
        return Some(local());
    }
    if name.contains("..") || name.starts_with('/') || name.starts_with('\\') {
        return None;
    }
    if let Some(z) = ZONES.with(|z| z.borrow().get(name).cloned()) {
        return z;
    }
    let zone = read_zone(name).map(|data| {
        Rc::new(Zone::Tz {
            name: name.to_string(),
            data,
        })
    });
    ZONES.with(|z| z.borrow_mut().insert(name.to_string(), zone.clone()));
    zone
}

/// Reads a zone from the directories Go searches (`$ZONEINFO` first).
fn read_zone(name: &str) -> Option<TzData> {
    let mut dirs: Vec<String> = std::env::var("ZONEINFO").into_iter().collect();
    for d in [
        "/usr/share/zoneinfo",
        "/usr/share/lib/zoneinfo",
        "/usr/lib/locale/TZ",
        "/etc/zoneinfo",
    ] {
        dirs.push(d.to_string());
    }
    dirs.iter().find_map(|d| {
        let bytes = std::fs::read(std::path::Path::new(d).join(name)).ok()?;
        TzData::parse(&bytes)
    })
}

/// Go's `time.Local`: `$TZ` (empty means UTC), else `/etc/localtime`, else UTC.
fn local() -> Rc<Zone> {
    thread_local! {
        static LOCAL: Rc<Zone> = {
            let tz = std::env::var("TZ");
            let data = match &tz {
                Ok(t) if t.is_empty() => None,
                Ok(t) => {
                    let t = t.strip_prefix(':').unwrap_or(t);
                    if t.starts_with('/') {
                        std::fs::read(t).ok().and_then(|b| TzData::parse(&b))
                    } else if t.contains("..") || t == "UTC" {
                        None
                    } else {
                        read_zone(t)
                    }
                }
                Err(_) => std::fs::read("/etc/localtime").ok().and_then(|b| TzData::parse(&b)),
            };
            Rc::new(match data {
                Some(data) => Zone::Tz { name: "Local".into(), data },
                None => Zone::Fixed { name: "UTC".into(), offset: 0 },
            })
        };
    }
    LOCAL.with(Rc::clone)
}

// ---------------------------------------------------------------------------------------------
// time.Time

/// A Go `time.Time`.
#[derive(Debug, Clone)]
pub(super) struct GoTime {
    secs: i64,
    nanos: u32,
    zone: Rc<Zone>,
    /// Monotonic clock reading in nanoseconds (only times from `now` have one).
    mono: Option<i64>,
}

/// The zero `time.Time`: January 1, year 1, 00:00:00 UTC.
const ZERO_SECS: i64 = -62_135_596_800;

impl GoTime {
    fn zero() -> GoTime {
        GoTime {
            secs: ZERO_SECS,
            nanos: 0,
            zone: Rc::new(Zone::Utc),
            mono: None,
        }
    }

    fn now() -> GoTime {
        let (secs, nanos) = now_unix();
        GoTime {
            secs,
            nanos,
            zone: local(),
            mono: Some(monotonic_now()),
        }
    }

    fn from_unix(secs: i64) -> GoTime {
        GoTime {
            secs,
            nanos: 0,
            zone: local(),
            mono: None,
        }
    }

    fn in_zone(&self, zone: Rc<Zone>) -> GoTime {
        GoTime {
            zone,
            mono: None,
            ..self.clone()
        }
    }

    /// Adds nanoseconds (a `time.Duration`).
    fn add(&self, d: i64) -> GoTime {
        let total = self.nanos as i64 + d.rem_euclid(1_000_000_000);
        GoTime {
            secs: self.secs + d.div_euclid(1_000_000_000) + total / 1_000_000_000,
            nanos: (total % 1_000_000_000) as u32,
            zone: self.zone.clone(),
            mono: self.mono.map(|m| m.saturating_add(d)),
        }
    }

    /// `t.Sub(u)` in nanoseconds, saturating like Go.
    fn sub(&self, u: &GoTime) -> i64 {
        let s = (self.secs as i128 - u.secs as i128) * 1_000_000_000 + self.nanos as i128
            - u.nanos as i128;
        s.clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }

    /// (abbreviation, offset) and the local calendar fields.
    fn local_parts(&self) -> (String, i32, Parts) {
        let (abbr, off) = self.zone.lookup(self.secs);
        let local = self.secs + off as i64;
        let days = local.div_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let r = local.rem_euclid(86_400);
        let parts = Parts {
            year,
            month,
            day,
            hour: (r / 3600) as u32,
            min: (r % 3600 / 60) as u32,
            sec: (r % 60) as u32,
            nanos: self.nanos,
            weekday: (days + 4).rem_euclid(7) as usize,
            yday: (days - days_from_civil(year, 1, 1) + 1) as u32,
        };
        (abbr, off, parts)
    }

    fn format(&self, layout: &str) -> String {
        let (abbr, off, p) = self.local_parts();
        format(layout, &p, &abbr, off)
    }

    /// `Time.String()`.
    fn go_string(&self) -> String {
        let mut s = self.format("2006-01-02 15:04:05.999999999 -0700 MST");
        if let Some(m) = self.mono {
            let sign = if m < 0 { '-' } else { '+' };
            let m = m.unsigned_abs();
            s.push_str(&format!(
                " m={sign}{}.{:09}",
                m / 1_000_000_000,
                m % 1_000_000_000
            ));
        }
        s
    }

    fn into_value(self) -> Value {
        Value::Object(Rc::new(self))
    }
}

struct Parts {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    min: u32,
    sec: u32,
    nanos: u32,
    weekday: usize,
    yday: u32,
}

impl Object for GoTime {
    fn type_name(&self) -> &str {
        "time.Time"
    }

    fn field(&self, name: &str) -> Option<Value> {
        let (_, _, p) = self.local_parts();
        let int = |n: i64| Some(Value::Int(n));
        match name {
            "Year" => int(p.year),
            "Month" => Some(Value::str(MONTHS[p.month as usize - 1])),
            "Day" => int(p.day as i64),
            "Hour" => int(p.hour as i64),
            "Minute" => int(p.min as i64),
            "Second" => int(p.sec as i64),
            "Nanosecond" => int(p.nanos as i64),
            "YearDay" => int(p.yday as i64),
            "Weekday" => Some(Value::str(DAYS[p.weekday])),
            "Unix" => int(self.secs),
            "UnixMilli" => int(self.secs * 1000 + (self.nanos / 1_000_000) as i64),
            "UnixMicro" => int(self.secs * 1_000_000 + (self.nanos / 1000) as i64),
            "UnixNano" => int(self.secs.wrapping_mul(1_000_000_000) + self.nanos as i64),
            "IsZero" => Some(Value::Bool(self.secs == ZERO_SECS && self.nanos == 0)),
            "UTC" => Some(self.in_zone(Rc::new(Zone::Utc)).into_value()),
            "Local" => Some(self.in_zone(local()).into_value()),
            "Location" => Some(Value::str(self.zone.name())),
            "String" => Some(Value::string(self.go_string())),
            _ => None,
        }
    }

    fn has_method(&self, name: &str) -> bool {
        matches!(
            name,
            "Format"
                | "Add"
                | "AddDate"
                | "Sub"
                | "Before"
                | "After"
                | "Equal"
                | "Truncate"
                | "Round"
        )
    }

    fn call_method(&self, name: &str, a: &[Value]) -> Result<Value, FuncError> {
        match name {
            "Format" => {
                args::want(name, a, 1)?;
                Ok(Value::string(self.format(&args::string(a, 0)?)))
            }
            "Add" => {
                args::want(name, a, 1)?;
                Ok(self.add(args::int(a, 0)?).into_value())
            }
            "AddDate" => {
                args::want(name, a, 3)?;
                let (y, m, d) = (args::int(a, 0)?, args::int(a, 1)?, args::int(a, 2)?);
                let (_, off, p) = self.local_parts();
                let months = p.month as i64 - 1 + m;
                let year = p.year + y + months.div_euclid(12);
                let month = months.rem_euclid(12) as u32 + 1;
                // Go normalizes overflowing days (Jan 31 + 1 month = Mar 2 or 3).
                let days = days_from_civil(year, month, 1) + p.day as i64 - 1 + d;
                let wall = days * 86_400 + (p.hour * 3600 + p.min * 60 + p.sec) as i64;
                let mut t = self.clone();
                t.mono = None;
                t.secs = wall - off as i64;
                let (_, off2) = self.zone.lookup(t.secs);
                t.secs = wall - off2 as i64;
                Ok(t.into_value())
            }
            "Sub" => {
                args::want(name, a, 1)?;
                Ok(duration_value(self.sub(&time_arg(a, 0)?)))
            }
            "Before" | "After" | "Equal" => {
                args::want(name, a, 1)?;
                let d = self.sub(&time_arg(a, 0)?);
                Ok(Value::Bool(match name {
                    "Before" => d < 0,
                    "After" => d > 0,
                    _ => d == 0,
                }))
            }
            _ => {
                // Truncate / Round to a multiple of a duration since the zero time.
                args::want(name, a, 1)?;
                let d = args::int(a, 0)?;
                if d <= 0 {
                    return Ok(GoTime {
                        mono: None,
                        ..self.clone()
                    }
                    .into_value());
                }
                let since_zero =
                    (self.secs - ZERO_SECS) as i128 * 1_000_000_000 + self.nanos as i128;
                let r = (since_zero % d as i128) as i64;
                let back = self.add(-r);
                let t = if name == "Round" && r.saturating_add(r) >= d {
                    back.add(d)
                } else {
                    back
                };
                Ok(GoTime { mono: None, ..t }.into_value())
            }
        }
    }

    fn go_string(&self) -> String {
        GoTime::go_string(self)
    }

    fn to_data(&self) -> Data {
        Data::String(self.format("2006-01-02T15:04:05.999999999Z07:00"))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A `time.Duration` (what `Sub` returns): prints as `1h2m3s`, marshals as nanoseconds.
#[derive(Debug)]
struct GoDuration(i64);

impl Object for GoDuration {
    fn type_name(&self) -> &str {
        "time.Duration"
    }
    fn field(&self, name: &str) -> Option<Value> {
        let d = self.0;
        match name {
            "String" => Some(Value::string(duration_string(d))),
            "Nanoseconds" => Some(Value::Int(d)),
            "Seconds" => Some(Value::Float(d as f64 / 1e9)),
            "Minutes" => Some(Value::Float(d as f64 / 6e10)),
            "Hours" => Some(Value::Float(d as f64 / 3.6e12)),
            _ => None,
        }
    }
    fn go_string(&self) -> String {
        duration_string(self.0)
    }
    fn to_data(&self) -> Data {
        Data::Int(self.0)
    }
    fn truthy(&self) -> bool {
        self.0 != 0
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn duration_value(d: i64) -> Value {
    Value::Object(Rc::new(GoDuration(d)))
}

fn time_arg(a: &[Value], i: usize) -> Result<GoTime, FuncError> {
    match &a[i] {
        Value::Object(o) => match o.as_any().downcast_ref::<GoTime>() {
            Some(t) => Ok(t.clone()),
            None => Err(FuncError::new(format!(
                "wrong type for value; expected time.Time; got {}",
                o.type_name()
            ))),
        },
        Value::Nil => Err(FuncError::new("invalid value; expected time.Time")),
        v => Err(FuncError::new(format!(
            "wrong type for value; expected time.Time; got {}",
            v.type_name()
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// Layouts

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Elem {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    Tz,
    /// Numeric zone: (`Z` for UTC, colons, seconds, minutes).
    Num {
        z: bool,
        colon: bool,
        secs: bool,
        mins: bool,
    },
    /// Fractional seconds: separator, digits, trim trailing zeros (`9`s).
    Frac {
        sep: u8,
        digits: usize,
        trim: bool,
    },
}

/// Go's `nextStdChunk`: the literal prefix, the element, its layout text, and the rest.
fn next_chunk(layout: &str) -> (&str, Option<(Elem, &str)>, &str) {
    let b = layout.as_bytes();
    let lower_at = |j: usize| b.get(j).is_some_and(|c| c.is_ascii_lowercase());
    for i in 0..b.len() {
        let rest = &layout[i..];
        let found: Option<(Elem, usize)> = match b[i] {
            b'J' if rest.starts_with("January") => Some((Elem::LongMonth, 7)),
            b'J' if rest.starts_with("Jan") && !lower_at(i + 3) => Some((Elem::Month, 3)),
            b'M' if rest.starts_with("Monday") => Some((Elem::LongWeekDay, 6)),
            b'M' if rest.starts_with("Mon") && !lower_at(i + 3) => Some((Elem::WeekDay, 3)),
            b'M' if rest.starts_with("MST") => Some((Elem::Tz, 3)),
            b'0' if rest.starts_with("002") => Some((Elem::ZeroYearDay, 3)),
            b'0' => match b.get(i + 1) {
                Some(b'1') => Some((Elem::ZeroMonth, 2)),
                Some(b'2') => Some((Elem::ZeroDay, 2)),
                Some(b'3') => Some((Elem::ZeroHour12, 2)),
                Some(b'4') => Some((Elem::ZeroMinute, 2)),
                Some(b'5') => Some((Elem::ZeroSecond, 2)),
                Some(b'6') => Some((Elem::Year, 2)),
                _ => None,
            },
            b'1' if rest.starts_with("15") => Some((Elem::Hour, 2)),
            b'1' => Some((Elem::NumMonth, 1)),
            b'2' if rest.starts_with("2006") => Some((Elem::LongYear, 4)),
            b'2' => Some((Elem::Day, 1)),
            b'_' if rest.starts_with("_2006") => {
                return (
                    &layout[..i + 1],
                    Some((Elem::LongYear, "2006")),
                    &layout[i + 5..],
                );
            }
            b'_' if rest.starts_with("__2") => Some((Elem::UnderYearDay, 3)),
            b'_' if rest.starts_with("_2") => Some((Elem::UnderDay, 2)),
            b'3' => Some((Elem::Hour12, 1)),
            b'4' => Some((Elem::Minute, 1)),
            b'5' => Some((Elem::Second, 1)),
            b'P' if rest.starts_with("PM") => Some((Elem::PM, 2)),
            b'p' if rest.starts_with("pm") => Some((Elem::Pm, 2)),
            b'-' | b'Z' => {
                let z = b[i] == b'Z';
                let forms: [(&str, bool, bool, bool); 5] = [
                    ("070000", false, true, true),
                    ("07:00:00", true, true, true),
                    ("0700", false, false, true),
                    ("07:00", true, false, true),
                    ("07", false, false, false),
                ];
                forms.iter().find(|f| rest[1..].starts_with(f.0)).map(|f| {
                    (
                        Elem::Num {
                            z,
                            colon: f.1,
                            secs: f.2,
                            mins: f.3,
                        },
                        1 + f.0.len(),
                    )
                })
            }
            b'.' | b',' if matches!(b.get(i + 1), Some(b'0') | Some(b'9')) => {
                let ch = b[i + 1];
                let mut j = i + 1;
                while b.get(j) == Some(&ch) {
                    j += 1;
                }
                if b.get(j).is_some_and(u8::is_ascii_digit) {
                    None
                } else {
                    Some((
                        Elem::Frac {
                            sep: b[i],
                            digits: j - i - 1,
                            trim: ch == b'9',
                        },
                        j - i,
                    ))
                }
            }
            _ => None,
        };
        if let Some((e, n)) = found {
            return (&layout[..i], Some((e, &layout[i..i + n])), &layout[i + n..]);
        }
    }
    (layout, None, "")
}

fn format(layout: &str, p: &Parts, abbr: &str, off: i32) -> String {
    let mut out = String::new();
    let mut rest = layout;
    while !rest.is_empty() {
        let (lit, elem, next) = next_chunk(rest);
        out.push_str(lit);
        rest = next;
        let Some((e, _)) = elem else { break };
        let hour12 = if p.hour.is_multiple_of(12) {
            12
        } else {
            p.hour % 12
        };
        match e {
            Elem::LongMonth => out.push_str(MONTHS[p.month as usize - 1]),
            Elem::Month => out.push_str(&MONTHS[p.month as usize - 1][..3]),
            Elem::NumMonth => out.push_str(&p.month.to_string()),
            Elem::ZeroMonth => out.push_str(&format!("{:02}", p.month)),
            Elem::LongWeekDay => out.push_str(DAYS[p.weekday]),
            Elem::WeekDay => out.push_str(&DAYS[p.weekday][..3]),
            Elem::Day => out.push_str(&p.day.to_string()),
            Elem::UnderDay => out.push_str(&format!("{:>2}", p.day)),
            Elem::ZeroDay => out.push_str(&format!("{:02}", p.day)),
            Elem::UnderYearDay => out.push_str(&format!("{:>3}", p.yday)),
            Elem::ZeroYearDay => out.push_str(&format!("{:03}", p.yday)),
            Elem::Hour => out.push_str(&format!("{:02}", p.hour)),
            Elem::Hour12 => out.push_str(&hour12.to_string()),
            Elem::ZeroHour12 => out.push_str(&format!("{hour12:02}")),
            Elem::Minute => out.push_str(&p.min.to_string()),
            Elem::ZeroMinute => out.push_str(&format!("{:02}", p.min)),
            Elem::Second => out.push_str(&p.sec.to_string()),
            Elem::ZeroSecond => out.push_str(&format!("{:02}", p.sec)),
            Elem::LongYear if p.year < 0 => out.push_str(&format!("-{:04}", -p.year)),
            Elem::LongYear => out.push_str(&format!("{:04}", p.year)),
            Elem::Year => out.push_str(&format!("{:02}", p.year.rem_euclid(100))),
            Elem::PM => out.push_str(if p.hour >= 12 { "PM" } else { "AM" }),
            Elem::Pm => out.push_str(if p.hour >= 12 { "pm" } else { "am" }),
            Elem::Tz if !abbr.is_empty() => out.push_str(abbr),
            Elem::Tz => push_offset(&mut out, off, false, false, true),
            Elem::Num { z: true, .. } if off == 0 => out.push('Z'),
            Elem::Num {
                colon, secs, mins, ..
            } => push_offset(&mut out, off, colon, secs, mins),
            Elem::Frac { sep, digits, trim } => {
                let all = format!("{:09}", p.nanos);
                let mut d = &all[..digits.min(9)];
                if trim {
                    d = d.trim_end_matches('0');
                    if d.is_empty() {
                        continue;
                    }
                }
                out.push(sep as char);
                out.push_str(d);
                for _ in 9..digits {
                    out.push('0');
                }
            }
        }
    }
    out
}

fn push_offset(out: &mut String, off: i32, colon: bool, secs: bool, mins: bool) {
    out.push(if off < 0 { '-' } else { '+' });
    let a = off.unsigned_abs();
    out.push_str(&format!("{:02}", a / 3600));
    if mins {
        if colon {
            out.push(':');
        }
        out.push_str(&format!("{:02}", a / 60 % 60));
    }
    if secs {
        if colon {
            out.push(':');
        }
        out.push_str(&format!("{:02}", a % 60));
    }
}

/// Go's `time` package quoting in parse errors.
fn tquote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 >= 0x7f => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Leading digits of `s`: at least 1, at most `max`; `fixed` requires exactly `max`.
fn get_num(s: &str, max: usize, fixed: bool) -> Option<(i64, &str)> {
    let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if n == 0 || (fixed && n != max) {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

fn lookup_name<'a>(names: &[&str], s: &'a str, len: Option<usize>) -> Option<(usize, &'a str)> {
    names.iter().enumerate().find_map(|(i, name)| {
        let n = len.unwrap_or(name.len());
        let want = &name[..n];
        let got = s.get(..n)?;
        got.eq_ignore_ascii_case(want).then_some((i, &s[n..]))
    })
}

/// Go's `parseTimeZone`: the length of a zone abbreviation at the start of `s`.
fn zone_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() < 3 {
        return None;
    }
    if s.starts_with("ChST") || s.starts_with("MeST") {
        return Some(4);
    }
    if s.starts_with("GMT") {
        let r = &b[3..];
        let sign = match r.first() {
            Some(b'+') | Some(b'-') => r[0],
            _ => return Some(3),
        };
        let digits = r[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        let n: i64 = std::str::from_utf8(&r[1..1 + digits]).ok()?.parse().ok()?;
        return if digits == 0 || digits > 2 || (sign == b'-' && n > 12) || n > 14 {
            Some(3)
        } else {
            Some(4 + digits)
        };
    }
    let upper = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    match upper {
        0..=2 => None,
        3 => Some(3),
        4 if b[3] == b'T' || s.starts_with("WITA") => Some(4),
        4 => None,
        5 if b[4] == b'T' => Some(5),
        _ => None,
    }
}

/// Go's `time.ParseInLocation(layout, value, Local)`.
fn parse(layout: &str, value: &str) -> Result<GoTime, String> {
    let err_at = |lelem: &str, velem: &str| {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            tquote(value),
            tquote(layout),
            tquote(velem),
            tquote(lelem)
        )
    };
    let range = |what: &str| format!("parsing time {}: {what} out of range", tquote(value));
    let (mut l, mut v) = (layout, value);
    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut min, mut sec, mut nanos) = (0i64, 0i64, 0i64, 0i64);
    let (mut pm, mut am) = (false, false);
    let mut utc = false;
    let mut zone_off: Option<i32> = None;
    let mut zone_name = String::new();
    loop {
        let (lit, elem, next) = next_chunk(l);
        let lit_trim = lit;
        if !v.starts_with(lit_trim) {
            return Err(err_at(lit, v));
        }
        v = &v[lit.len()..];
        let Some((e, text)) = elem else {
            if !v.is_empty() {
                return Err(format!(
                    "parsing time {}: extra text: {}",
                    tquote(value),
                    tquote(v)
                ));
            }
            break;
        };
        l = next;
        let hold = v;
        let fail = || err_at(text, hold);
        match e {
            Elem::Year => {
                let (n, r) = get_num(v, 2, true).ok_or_else(fail)?;
                year = if n >= 69 { n + 1900 } else { n + 2000 };
                v = r;
            }
            Elem::LongYear => {
                if v.len() < 4 || !v.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
                    return Err(fail());
                }
                year = v[..4].parse().map_err(|_| fail())?;
                v = &v[4..];
            }
            Elem::Month | Elem::LongMonth => {
                let len = (e == Elem::Month).then_some(3);
                let (i, r) = lookup_name(&MONTHS, v, len).ok_or_else(fail)?;
                month = i as i64 + 1;
                v = r;
            }
            Elem::NumMonth | Elem::ZeroMonth => {
                let (n, r) = get_num(v, 2, e == Elem::ZeroMonth).ok_or_else(fail)?;
                if !(1..=12).contains(&n) {
                    return Err(range("month"));
                }
                month = n;
                v = r;
            }
            Elem::WeekDay | Elem::LongWeekDay => {
                let len = (e == Elem::WeekDay).then_some(3);
                v = lookup_name(&DAYS, v, len).ok_or_else(fail)?.1;
            }
            Elem::Day | Elem::UnderDay | Elem::ZeroDay => {
                if e == Elem::UnderDay && v.starts_with(' ') {
                    v = &v[1..];
                }
                let (n, r) = get_num(v, 2, e == Elem::ZeroDay).ok_or_else(fail)?;
                day = n;
                v = r;
            }
            Elem::UnderYearDay | Elem::ZeroYearDay => {
                let mut s = v;
                if e == Elem::UnderYearDay {
                    for _ in 0..2 {
                        s = s.strip_prefix(' ').unwrap_or(s);
                    }
                }
                let (n, r) = get_num(s, 3, e == Elem::ZeroYearDay).ok_or_else(fail)?;
                if !(1..=366).contains(&n) {
                    return Err(range("day-of-year"));
                }
                yday = n;
                v = r;
            }
            Elem::Hour => {
                let (n, r) = get_num(v, 2, false).ok_or_else(fail)?;
                if n > 23 {
                    return Err(range("hour"));
                }
                hour = n;
                v = r;
            }
            Elem::Hour12 | Elem::ZeroHour12 => {
                let (n, r) = get_num(v, 2, e == Elem::ZeroHour12).ok_or_else(fail)?;
                if n > 12 {
                    return Err(range("hour"));
                }
                hour = n;
                v = r;
            }
            Elem::Minute | Elem::ZeroMinute | Elem::Second | Elem::ZeroSecond => {
                let fixed = matches!(e, Elem::ZeroMinute | Elem::ZeroSecond);
                let (n, r) = get_num(v, 2, fixed).ok_or_else(fail)?;
                if n > 59 {
                    return Err(range(if matches!(e, Elem::Minute | Elem::ZeroMinute) {
                        "minute"
                    } else {
                        "second"
                    }));
                }
                v = r;
                if matches!(e, Elem::Minute | Elem::ZeroMinute) {
                    min = n;
                } else {
                    sec = n;
                    // Fractional seconds right after seconds are accepted even when the
                    // layout has none.
                    let b = v.as_bytes();
                    let frac_next = matches!(next_chunk(l).1, Some((Elem::Frac { .. }, _)));
                    if b.len() >= 2
                        && (b[0] == b'.' || b[0] == b',')
                        && b[1].is_ascii_digit()
                        && !frac_next
                    {
                        let n = 1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                        nanos = frac_nanos(&v[1..n]);
                        v = &v[n..];
                    }
                }
            }
            Elem::PM | Elem::Pm => {
                let s = v.get(..2).ok_or_else(fail)?;
                let (p, a) = if e == Elem::PM {
                    ("PM", "AM")
                } else {
                    ("pm", "am")
                };
                if s == p {
                    pm = true;
                } else if s == a {
                    am = true;
                } else {
                    return Err(fail());
                }
                v = &v[2..];
            }
            Elem::Num {
                z,
                colon,
                secs,
                mins,
            } => {
                if z && v.starts_with('Z') {
                    v = &v[1..];
                    utc = true;
                    continue;
                }
                let b = v.as_bytes();
                let sign = match b.first() {
                    Some(b'+') => 1,
                    Some(b'-') => -1,
                    _ => return Err(fail()),
                };
                let mut s = &v[1..];
                let two = |s: &mut &str, sep: bool| -> Option<i32> {
                    if sep {
                        *s = s.strip_prefix(':')?;
                    }
                    let d = s.get(..2)?;
                    if !d.bytes().all(|c| c.is_ascii_digit()) {
                        return None;
                    }
                    *s = &s[2..];
                    d.parse().ok()
                };
                let hh = two(&mut s, false).ok_or_else(fail)?;
                let mm = if mins {
                    two(&mut s, colon).ok_or_else(fail)?
                } else {
                    0
                };
                let ss = if secs {
                    two(&mut s, colon).ok_or_else(fail)?
                } else {
                    0
                };
                if hh > 24 {
                    return Err(range("time zone offset hour"));
                }
                if mm > 60 || ss > 60 {
                    return Err(range(if mm > 60 {
                        "time zone offset minute"
                    } else {
                        "time zone offset second"
                    }));
                }
                zone_off = Some(sign * (hh * 3600 + mm * 60 + ss));
                v = s;
            }
            Elem::Tz => {
                if v.starts_with("UTC") {
                    v = &v[3..];
                    utc = true;
                    continue;
                }
                let n = zone_len(v).ok_or_else(fail)?;
                zone_name = v[..n].to_string();
                v = &v[n..];
            }
            Elem::Frac { digits, trim, .. } => {
                let b = v.as_bytes();
                if trim {
                    if b.len() < 2 || !(b[0] == b'.' || b[0] == b',') || !b[1].is_ascii_digit() {
                        continue;
                    }
                    let n = 1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                    nanos = frac_nanos(&v[1..n]);
                    v = &v[n..];
                } else {
                    let ok = b.len() > digits
                        && (b[0] == b'.' || b[0] == b',')
                        && b[1..=digits].iter().all(u8::is_ascii_digit);
                    if !ok {
                        return Err(fail());
                    }
                    nanos = frac_nanos(&v[1..=digits]);
                    v = &v[digits + 1..];
                }
            }
        }
    }
    if pm && hour < 12 {
        hour += 12;
    } else if am && hour == 12 {
        hour = 0;
    }
    if yday >= 0 {
        let (m, d) = (1..=12u32)
            .scan(0i64, |acc, m| {
                let start = *acc;
                *acc += days_in_month(year, m) as i64;
                Some((m, start))
            })
            .filter(|(_, start)| *start < yday)
            .last()
            .map(|(m, start)| (m as i64, yday - start))
            .unwrap_or((1, yday));
        if (month >= 0 && month != m)
            || (day >= 0 && day != d)
            || d > days_in_month(year, m as u32) as i64
        {
            return Err(range("day-of-year"));
        }
        month = m;
        day = d;
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > days_in_month(year, month as u32) as i64 {
        return Err(range("day"));
    }
    let wall =
        days_from_civil(year, month as u32, day as u32) * 86_400 + hour * 3600 + min * 60 + sec;
    let mut t = GoTime {
        secs: wall,
        nanos: nanos as u32,
        zone: Rc::new(Zone::Utc),
        mono: None,
    };
    if utc {
        return Ok(t);
    }
    let loc = local();
    if let Some(off) = zone_off {
        t.secs = wall - off as i64;
        let (abbr, local_off) = loc.lookup(t.secs);
        t.zone = if local_off == off && (zone_name.is_empty() || abbr == zone_name) {
            loc
        } else {
            Rc::new(Zone::Fixed {
                name: zone_name,
                offset: off,
            })
        };
        return Ok(t);
    }
    if !zone_name.is_empty() {
        // An abbreviation the local zone uses keeps its offset; others get offset 0 (or
        // the GMT+h offset) without moving the instant, as Go does.
        if let Some(off) = local_offset_named(&loc, &zone_name, wall) {
            t.secs = wall - off as i64;
            t.zone = loc;
            return Ok(t);
        }
        let mut off = 0;
        if zone_name.len() > 3 && zone_name.starts_with("GMT") {
            off = zone_name[3..].parse::<i32>().unwrap_or(0) * 3600;
        }
        t.zone = Rc::new(Zone::Fixed {
            name: zone_name,
            offset: off,
        });
        return Ok(t);
    }
    let (_, off) = loc.lookup(wall);
    t.secs = wall - off as i64;
    let (_, off2) = loc.lookup(t.secs);
    t.secs = wall - off2 as i64;
    t.zone = loc;
    Ok(t)
}

/// Go's `Location.lookupName`: the offset of a zone abbreviation the location uses,
/// preferring one in effect around `wall`.
fn local_offset_named(loc: &Zone, name: &str, wall: i64) -> Option<i32> {
    match loc {
        Zone::Utc => (name == "UTC").then_some(0),
        Zone::Fixed { name: n, offset } => (n == name).then_some(*offset),
        Zone::Tz { data, .. } => {
            let mut offsets: Vec<i32> = data
                .types
                .iter()
                .filter(|t| t.2 == name)
                .map(|t| t.0)
                .collect();
            if let Some(r) = &data.rule {
                offsets.extend(
                    [Some(&r.std), r.dst.as_ref().map(|d| &d.0)]
                        .into_iter()
                        .flatten()
                        .filter(|z| z.0 == name)
                        .map(|z| z.1),
                );
            }
            offsets
                .iter()
                .copied()
                .find(|off| data.lookup(wall - *off as i64).0 == name)
                .or_else(|| offsets.first().copied())
        }
    }
}

/// Nanoseconds from fractional-second digits (extra digits are dropped).
fn frac_nanos(digits: &str) -> i64 {
    let mut n = 0i64;
    for i in 0..9 {
        n = n * 10 + digits.as_bytes().get(i).map_or(0, |d| (d - b'0') as i64);
    }
    n
}

// ---------------------------------------------------------------------------------------------
// Durations

/// Go's `Duration.String`.
fn duration_string(d: i64) -> String {
    let neg = d < 0;
    let u = d.unsigned_abs();
    let frac = |v: u64, prec: u32| -> String {
        let p = 10u64.pow(prec);
        let f = format!("{:0w$}", v % p, w = prec as usize);
        let f = f.trim_end_matches('0');
        if f.is_empty() {
            (v / p).to_string()
        } else {
            format!("{}.{f}", v / p)
        }
    };
    let body = if u < 1_000_000_000 {
        match u {
            0 => return "0s".into(),
            1..=999 => format!("{u}ns"),
            1000..=999_999 => format!("{}µs", frac(u, 3)),
            _ => format!("{}ms", frac(u, 6)),
        }
    } else {
        let secs = u / 1_000_000_000;
        let (h, m) = (secs / 3600, secs / 60 % 60);
        let s = frac(u % 60_000_000_000, 9);
        if h > 0 {
            format!("{h}h{m}m{s}s")
        } else if m > 0 {
            format!("{m}m{s}s")
        } else {
            format!("{s}s")
        }
    };
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

/// Go's `time.ParseDuration`.
fn parse_duration(s: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", tquote(s));
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac_part = "";
        if let Some(r) = rest.strip_prefix('.') {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &r[..n];
            rest = &r[n..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale: u128 = match unit {
            "" => return Err(format!("time: missing unit in duration {}", tquote(s))),
            "ns" => 1,
            "us" | "µs" | "μs" => 1000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            u => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    tquote(u),
                    tquote(s)
                ))
            }
        };
        let whole: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse::<u128>().map_err(|_| invalid())?
        };
        let mut v = whole.checked_mul(scale).ok_or_else(invalid)?;
        let mut f_scale = scale as f64;
        let mut f = 0f64;
        for d in frac_part.bytes().take(30) {
            f_scale /= 10.0;
            f += (d - b'0') as f64 * f_scale;
        }
        v += f as u128;
        total += v;
        if total > (1u128 << 63) {
            return Err(invalid());
        }
    }
    if !neg && total > i64::MAX as u128 {
        return Err(invalid());
    }
    Ok(if neg {
        (total as i128).wrapping_neg() as i64
    } else {
        total as i64
    })
}

// ---------------------------------------------------------------------------------------------
// The functions

fn now_fn(ctx: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("now", a, 0)?;
    ctx.mark_nondeterministic();
    Ok(GoTime::now().into_value())
}

/// The `date interface{}` argument of `date`, `dateInZone`, `htmlDate`: a time, or Unix
/// seconds; anything else means now.
fn date_arg(ctx: &FuncCtx, v: &Value) -> GoTime {
    match v {
        Value::Object(o) => {
            if let Some(t) = o.as_any().downcast_ref::<GoTime>() {
                return t.clone();
            }
        }
        Value::Int(n) => return GoTime::from_unix(*n),
        _ => {}
    }
    ctx.mark_nondeterministic();
    GoTime::now()
}

fn date_in_zone(ctx: &FuncCtx, layout: &str, date: &Value, zone: &str) -> Result<Value, FuncError> {
    let t = date_arg(ctx, date);
    let loc = load_location(zone).unwrap_or_else(|| Rc::new(Zone::Utc));
    Ok(Value::string(t.in_zone(loc).format(layout)))
}

fn date_in_zone_fn(ctx: &FuncCtx, a: &[Value], name: &str) -> Result<Value, FuncError> {
    args::want(name, a, 3)?;
    let layout = args::string(a, 0)?;
    let zone = args::string(a, 2)?;
    date_in_zone(ctx, &layout, &a[1], &zone)
}

fn date_modify(a: &[Value], name: &str, must: bool) -> Result<Value, FuncError> {
    args::want(name, a, 2)?;
    let text = args::string(a, 0)?;
    let t = time_arg(a, 1)?;
    match parse_duration(&text) {
        Ok(d) => Ok(t.add(d).into_value()),
        Err(e) if must => Err(FuncError::new(e)),
        Err(_) => Ok(t.into_value()),
    }
}

fn ago(ctx: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("ago", a, 1)?;
    ctx.mark_nondeterministic();
    let t = match &a[0] {
        Value::Object(o) => o.as_any().downcast_ref::<GoTime>().cloned(),
        Value::Int(n) => Some(GoTime::from_unix(*n)),
        _ => None,
    };
    let now = GoTime::now();
    let d = t.map_or(0, |t| now.sub(&t));
    // Round to whole seconds, halves away from zero.
    let r = d.rem_euclid(1_000_000_000);
    let mut rounded = d - r;
    if r >= 500_000_000 {
        rounded = rounded.saturating_add(1_000_000_000);
    }
    Ok(Value::string(duration_string(rounded)))
}

fn duration_fn(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("duration", a, 1)?;
    // Sprig reads a string or an int64; a template's integers are Go ints, which it ignores.
    let n = match &a[0] {
        Value::String(s) => s.parse::<i64>().unwrap_or(0),
        _ => 0,
    };
    Ok(Value::string(duration_string(
        n.wrapping_mul(1_000_000_000),
    )))
}

fn duration_round(ctx: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("durationRound", a, 1)?;
    let d: i64 = match &a[0] {
        Value::String(s) => parse_duration(s).unwrap_or(0),
        Value::Object(o) => match o.as_any().downcast_ref::<GoTime>() {
            Some(t) => {
                ctx.mark_nondeterministic();
                GoTime::now().sub(t)
            }
            None => o.as_any().downcast_ref::<GoDuration>().map_or(0, |d| d.0),
        },
        _ => 0,
    };
    let u = d.unsigned_abs();
    const SEC: u64 = 1_000_000_000;
    let units: [(u64, &str); 6] = [
        (SEC * 3600 * 24 * 365, "y"),
        (SEC * 3600 * 24 * 30, "mo"),
        (SEC * 3600 * 24, "d"),
        (SEC * 3600, "h"),
        (SEC * 60, "m"),
        (SEC, "s"),
    ];
    let out = units
        .iter()
        .find(|(size, _)| u > *size)
        .map_or("0s".to_string(), |(size, name)| {
            format!("{}{name}", u / size)
        });
    Ok(Value::string(out))
}

fn to_date(a: &[Value], name: &str, must: bool) -> Result<Value, FuncError> {
    args::want(name, a, 2)?;
    let layout = args::string(a, 0)?;
    let value = args::string(a, 1)?;
    match parse(&layout, &value) {
        Ok(t) => Ok(t.into_value()),
        Err(e) if must => Err(FuncError::new(e)),
        Err(_) => Ok(GoTime::zero().into_value()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funcs::semver::tests::{oracle, oracle_available};

    fn call(name: &str, a: &[Value]) -> Result<Value, FuncError> {
        let mut m = HashMap::new();
        register(&mut m);
        m[name](&FuncCtx::default(), a)
    }

    fn show(r: Result<Value, FuncError>) -> String {
        match r {
            Ok(v) => crate::fmt::sprint_v(&v),
            Err(e) => format!("error {}", e.message),
        }
    }

    fn s(x: &str) -> Value {
        Value::str(x)
    }

    fn to_date(layout: &str, value: &str) -> Value {
        call("mustToDate", &[s(layout), s(value)]).unwrap()
    }

    #[test]
    fn formats_reference_layouts() {
        let t = to_date(
            "2006-01-02T15:04:05.999999999Z07:00",
            "2024-03-05T17:08:09.1234+05:30",
        );
        let f =
            |layout: &str, zone: &str| show(call("dateInZone", &[s(layout), t.clone(), s(zone)]));
        assert_eq!(
            f(
                "2006-01-02 15:04:05.000 Mon Jan MST -07:00 Z07:00 pm PM 3 03 _2 002 __2 .999 ,000",
                "UTC"
            ),
            "2024-03-05 11:38:09.123 Tue Mar UTC +00:00 Z am AM 11 11  5 065  65 .123 ,123"
        );
        assert_eq!(f("Monday January 2 06", "UTC"), "Tuesday March 5 24");
        assert_eq!(show(Ok(t)), "2024-03-05 17:08:09.1234 +0530 +0530");
    }

    #[test]
    fn durations() {
        assert_eq!(duration_string(0), "0s");
        assert_eq!(duration_string(1_500), "1.5µs");
        assert_eq!(duration_string(-3_725_000_000_000), "-1h2m5s");
        assert_eq!(duration_string(86_400_000_000_000_000), "24000h0m0s");
        assert_eq!(parse_duration("-1.5h"), Ok(-5_400_000_000_000));
        assert_eq!(
            parse_duration("1d").unwrap_err(),
            "time: unknown unit \"d\" in duration \"1d\""
        );
        assert_eq!(
            parse_duration("1").unwrap_err(),
            "time: missing unit in duration \"1\""
        );
        assert_eq!(
            parse_duration("x").unwrap_err(),
            "time: invalid duration \"x\""
        );
        assert_eq!(show(call("durationRound", &[s("2000h")])), "2mo");
        assert_eq!(show(call("duration", &[s("3600")])), "1h0m0s");
    }

    #[test]
    fn now_is_nondeterministic() {
        let ctx = FuncCtx::default();
        let v = now_fn(&ctx, &[]).unwrap();
        assert!(ctx.nondeterministic.get());
        assert!(crate::fmt::sprint_v(&v).contains(" m=+"));
        let ctx = FuncCtx::default();
        date_in_zone(&ctx, "2006", &Value::Int(0), "UTC").unwrap();
        assert!(!ctx.nondeterministic.get());
    }

    #[test]
    fn posix_rules() {
        let r = PosixRule::parse("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        // 2124-07-15 00:00 UTC is summer time; 2124-01-15 is not.
        assert_eq!(
            r.lookup(days_from_civil(2124, 7, 15) * 86_400),
            ("CEST".into(), 7200)
        );
        assert_eq!(
            r.lookup(days_from_civil(2124, 1, 15) * 86_400),
            ("CET".into(), 3600)
        );
        let r = PosixRule::parse("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0").unwrap();
        assert_eq!(r.lookup(days_from_civil(2100, 1, 1) * 86_400).0, "+11");
    }

    const FORMAT_LAYOUTS: &[&str] = &[
        "2006-01-02T15:04:05Z07:00",
        "2006-01-02 15:04:05.999999999 -0700 MST",
        "Mon Jan _2 15:04:05 MST 2006",
        "Monday, 02-Jan-06 15:04:05 MST",
        "3:04PM 3:04pm 03 __2 002 .000 ,999 .9 Z0700 Z07 -07:00:00 Z070000",
        "January Janx Mon Monx MSTx 1 01 2 _2 02 4 04 5 05 06 _2006 2006",
        "",
        "no elements here",
    ];

    const ZONES: &[&str] = &[
        "UTC",
        "Local",
        "America/New_York",
        "Europe/Paris",
        "Asia/Kolkata",
        "Asia/Kathmandu",
        "Australia/Lord_Howe",
        "America/Sao_Paulo",
        "Pacific/Chatham",
        "Nope/Zone",
        "../etc",
        "",
    ];

    const TIMES: &[i64] = &[
        0,
        -1,
        951_782_400,
        1_700_000_000,
        1_710_054_000,
        1_730_595_600,
        4_102_444_800,
        5_000_000_000,
        -2_208_988_800,
        253_402_300_799,
    ];

    #[test]
    fn formatting_matches_helm() {
        if !oracle_available() {
            eprintln!("skipped: helm oracle (python3 helm_python) not available");
            return;
        }
        let mut tpl = String::new();
        let mut mine = String::new();
        for layout in FORMAT_LAYOUTS {
            for zone in ZONES {
                for t in TIMES {
                    tpl.push_str(&format!("{{{{ dateInZone `{layout}` {t} `{zone}` }}}}|\n"));
                    mine.push_str(&show(call(
                        "dateInZone",
                        &[s(layout), Value::Int(*t), s(zone)],
                    )));
                    mine.push_str("|\n");
                }
            }
        }
        let helm = oracle("dates-format", &tpl).unwrap();
        for (h, m) in helm.lines().zip(mine.lines()) {
            assert_eq!(h, m);
        }
        assert_eq!(helm, mine);
    }

    const PARSES: &[(&str, &str)] = &[
        ("2006-01-02", "2024-03-05"),
        ("2006-01-02", "2024-02-30"),
        ("2006-01-02", "2024-02-29"),
        ("2006-01-02", "2023-02-29"),
        ("2006-01-02", "2024-03-05x"),
        ("2006-01-02", "24-03-05"),
        ("2006-01-02", "2024-3-05"),
        ("2006-1-2", "2024-3-5"),
        ("2006-01-02 15:04:05", "2024-01-02 10:11:12.1234567891"),
        ("2006-01-02 15:04:05.000", "2024-01-02 10:11:12.12"),
        ("2006-01-02 15:04:05.000", "2024-01-02 10:11:12.123"),
        ("2006-01-02 15:04:05.999", "2024-01-02 10:11:12"),
        ("2006-01-02T15:04:05Z07:00", "2024-03-05T17:08:09+05:30"),
        ("2006-01-02T15:04:05Z07:00", "2024-03-05T17:08:09Z"),
        ("2006-01-02T15:04:05Z07:00", "2024-03-05T17:08:09+00:00"),
        ("2006-01-02T15:04:05-0700", "2024-03-05T17:08:09-0830"),
        ("2006-01-02 15:04 MST", "2024-03-05 10:11 PDT"),
        ("2006-01-02 15:04 MST", "2024-03-05 10:11 UTC"),
        ("2006-01-02 15:04 MST", "2024-03-05 10:11 GMT+3"),
        ("2006-01-02 15:04 MST", "2024-03-05 10:11 GMT-11"),
        ("2006-01-02 15:04 MST", "2024-03-05 10:11 ChST"),
        ("2006-01-02 15:04 MST", "2024-03-05 10:11 Pst"),
        ("2006-01-02 15:04 MST -0700", "2024-03-05 10:11 CEST +0200"),
        ("Jan _2 06 3:04PM", "Feb  5 99 1:04AM"),
        ("Jan _2 06 3:04PM", "feb  5 99 12:04AM"),
        ("Jan _2 06 3:04PM", "Feb 15 68 12:04PM"),
        ("January 2, 2006", "MARCH 9, 2010"),
        ("Monday, Jan 2", "Friday, Mar 9"),
        ("Mon Jan 2", "Fri Foo 9"),
        ("2006 002", "2024 060"),
        ("2006 __2", "2023  60"),
        ("2006 002", "2023 366"),
        ("15", "25"),
        ("15:04", "10:61"),
        ("15:04:05", "10:11:60"),
        ("3", "13"),
        ("01", "13"),
        ("01", "00"),
        ("02", "00"),
        ("2006-01-02T15:04:05Z07:00", "2024-03-05T17:08:09+25:00"),
        ("", ""),
        ("", "x"),
        ("x", ""),
        ("2006", "20a4"),
        ("2006-01-02", ""),
        ("Z07:00", "bad"),
    ];

    #[test]
    fn parsing_matches_helm() {
        if !oracle_available() {
            eprintln!("skipped: helm oracle (python3 helm_python) not available");
            return;
        }
        // Parse results through toDate (errors give the zero time) and JSON, then the
        // errors one by one through mustToDate.
        let mut tpl = String::new();
        let mut mine = String::new();
        for (layout, value) in PARSES {
            tpl.push_str(&format!("{{{{ toDate `{layout}` `{value}` }}}}|{{{{ toDate `{layout}` `{value}` | toJson }}}}\n"));
            let t = call("toDate", &[s(layout), s(value)]).unwrap();
            let Value::Object(o) = &t else { panic!() };
            let Data::String(json) = o.to_data() else {
                panic!()
            };
            mine.push_str(&format!("{}|\"{json}\"\n", show(Ok(t.clone()))));
        }
        assert_eq!(oracle("dates-parse", &tpl).unwrap(), mine);
        let mut bad = Vec::new();
        for (i, (layout, value)) in PARSES.iter().enumerate() {
            let m = call("mustToDate", &[s(layout), s(value)]);
            let Err(e) = m else { continue };
            let h = oracle(
                &format!("dates-err{i}"),
                &format!("{{{{ mustToDate `{layout}` `{value}` }}}}"),
            );
            let h = h.map_or_else(|e| e, |ok| format!("ok {ok}"));
            if !h.ends_with(&format!("error calling mustToDate: {}", e.message)) {
                bad.push(format!(
                    "{layout:?} {value:?}: helm {h}, mine {}",
                    e.message
                ));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    #[test]
    fn functions_match_helm() {
        if !oracle_available() {
            eprintln!("skipped: helm oracle (python3 helm_python) not available");
            return;
        }
        let t = "(toDate `2006-01-02 15:04:05` `2024-01-31 17:08:09`)";
        let probes: Vec<(String, String)> = vec![
            (
                format!("unixEpoch {t}"),
                show(call(
                    "unixEpoch",
                    &[to_date("2006-01-02 15:04:05", "2024-01-31 17:08:09")],
                )),
            ),
            (
                format!("dateModify `-1.5h` {t}"),
                show(call(
                    "dateModify",
                    &[
                        s("-1.5h"),
                        to_date("2006-01-02 15:04:05", "2024-01-31 17:08:09"),
                    ],
                )),
            ),
            (
                format!("dateModify `bad` {t}"),
                show(call(
                    "dateModify",
                    &[
                        s("bad"),
                        to_date("2006-01-02 15:04:05", "2024-01-31 17:08:09"),
                    ],
                )),
            ),
            (
                "htmlDate 86400".into(),
                show(call("htmlDate", &[Value::Int(86400)])),
            ),
            (
                "htmlDateInZone 86400 `Pacific/Kiritimati`".into(),
                show(call(
                    "htmlDateInZone",
                    &[Value::Int(86400), s("Pacific/Kiritimati")],
                )),
            ),
            (
                "duration `-3725`".into(),
                show(call("duration", &[s("-3725")])),
            ),
            (
                "duration 95".into(),
                show(call("duration", &[Value::Int(95)])),
            ),
            (
                "durationRound `-3h`".into(),
                show(call("durationRound", &[s("-3h")])),
            ),
            (
                "durationRound `1.5us`".into(),
                show(call("durationRound", &[s("1.5us")])),
            ),
            (
                "durationRound `800h`".into(),
                show(call("durationRound", &[s("800h")])),
            ),
            (
                "durationRound `9000h`".into(),
                show(call("durationRound", &[s("9000h")])),
            ),
            (
                "durationRound `61s`".into(),
                show(call("durationRound", &[s("61s")])),
            ),
            (
                format!("{t}.AddDate 0 1 0"),
                show(
                    to_date("2006-01-02 15:04:05", "2024-01-31 17:08:09")
                        .as_obj()
                        .call_method("AddDate", &[Value::Int(0), Value::Int(1), Value::Int(0)]),
                ),
            ),
            (
                format!("{t}.Round 3600000000000"),
                show(
                    to_date("2006-01-02 15:04:05", "2024-01-31 17:08:09")
                        .as_obj()
                        .call_method("Round", &[Value::Int(3_600_000_000_000)]),
                ),
            ),
            (
                format!("{t}.Sub (toDate `2006` `2023`)"),
                show(
                    to_date("2006-01-02 15:04:05", "2024-01-31 17:08:09")
                        .as_obj()
                        .call_method("Sub", &[to_date("2006", "2023")]),
                ),
            ),
            (
                format!("{t}.YearDay"),
                show(Ok(to_date("2006-01-02 15:04:05", "2024-01-31 17:08:09")
                    .as_obj()
                    .field("YearDay")
                    .unwrap())),
            ),
        ];
        let tpl: String = probes
            .iter()
            .map(|p| format!("{{{{ {} }}}}\n", p.0))
            .collect();
        let mine: String = probes.iter().map(|p| format!("{}\n", p.1)).collect();
        assert_eq!(oracle("dates-funcs", &tpl).unwrap(), mine);
    }

    impl Value {
        fn as_obj(&self) -> Rc<dyn Object> {
            match self {
                Value::Object(o) => o.clone(),
                _ => panic!("not an object"),
            }
        }
    }
}
