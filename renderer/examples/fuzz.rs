//! A mutation fuzzer for the renderer that runs on the stable toolchain (no libFuzzer).
//!
//! ```text
//! cargo run -p wayfinder-render --example fuzz -- --target template|yaml|strvals --seconds N [--seed S]
//! ```
//!
//! How it works:
//! - Seeds: the files of `renderer/fuzz/seeds/<target>/`, plus (when present) the conformance
//!   corpus under `/work/shared/conformance/charts` (templates for `template`, values and
//!   Chart.yaml files for `yaml`).
//! - Mutations (our own, deterministic from `--seed`): byte flips, byte insertion and deletion,
//!   splices of fragments of other seeds, insertion of target-specific tokens, duplication of
//!   ranges. Each input is the result of 1–8 stacked mutations of a random seed.
//! - The parent process supervises a child (the same binary with `--child`) under a memory
//!   limit. The child writes each input to `fuzz/crashes/.current-<target>` before running it,
//!   catches panics (saved as `panic-*`), and a watchdog thread kills it when one input runs
//!   longer than `--timeout` seconds (saved as `hang-*`). When the child dies of a stack
//!   overflow or an abort, the parent saves the last input as `crash-*` and restarts it.
//! - The YAML target also checks the emitter round trip (`parse(marshal(d)) == d`) and saves
//!   differences as `roundtrip-*` (not a crash, but a bug).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{Seek, SeekFrom, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use wayfinder_render::template::{ExecOptions, TemplateSet};
use wayfinder_render::value::FuncCtx;
use wayfinder_render::{strvals, yaml, Data, Value};

const CORPUS: &str = "/work/shared/conformance/charts";
const MAX_INPUT: usize = 32 * 1024;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Target {
    Template,
    Yaml,
    Strvals,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Template => "template",
            Target::Yaml => "yaml",
            Target::Strvals => "strvals",
        }
    }
    fn tokens(self) -> &'static [&'static str] {
        match self {
            Target::Template => &[
                "{{",
                "}}",
                "{{- ",
                " -}}",
                "{{/*",
                "*/}}",
                "{{ end }}",
                "{{ else }}",
                " if ",
                " range ",
                " with ",
                " define \"x\" ",
                " template \"x\" . ",
                " include \"x\" . ",
                " tpl ",
                " block \"b\" . ",
                "$x := ",
                "$x = ",
                "$",
                ".",
                ".Values.a",
                ".Values",
                " | ",
                "(",
                ")",
                "\"",
                "`",
                "'",
                " printf \"%v %d %s %q\" ",
                " toYaml ",
                " nindent 4 ",
                " index ",
                " len ",
                " default ",
                " dict \"a\" 1 ",
                " list 1 2 ",
                "1e309",
                "-",
                "0x1F",
                "9223372036854775807",
                "\\",
                "{{ break }}",
                "{{ continue }}",
                " nil ",
                " true ",
                ":=",
                "=",
                ",",
                " eq ",
                " and ",
                " or ",
                " not ",
                " fromYaml ",
                " toJson ",
                " fromJson ",
                " b64dec ",
                " regexFind \"(\" ",
                " quote ",
                " upper ",
                " trunc -1 ",
                " substr 3 1 ",
                " repeat 3 ",
                " add1 ",
                " div 1 0 ",
                " mod 1 0 ",
                " untilStep 0 10 0 ",
                " 'a' ",
                " 1.5 ",
                " -0 ",
                " get ",
                " set ",
                " keys ",
                " splitList \"\" ",
                " semverCompare \">1\" ",
                " required \"r\" ",
                " fail \"f\" ",
                " lookup ",
                " .Files.Get \"x\" ",
                "\n",
            ],
            Target::Yaml => &[
                "[",
                "]",
                "{",
                "}",
                "&a ",
                "*a",
                "<<: ",
                "<<: *a\n",
                "- ",
                ": ",
                "? ",
                "!!str ",
                "!!binary ",
                "!!int ",
                "!!float ",
                "!!map ",
                "|",
                ">",
                "|-",
                "|+2",
                "---\n",
                "...\n",
                "#",
                "'",
                "\"",
                "\n  ",
                "\t",
                "\\u00",
                "\\x",
                "~",
                "null",
                "0x",
                "0o17",
                "1e9999",
                ".inf",
                "-.inf",
                ".nan",
                "%YAML 1.1\n",
                "%TAG ! tag:x,2000:\n",
                "!<tag:x> ",
                "0b101",
                "1_000",
                "190:20:30",
                "2001-12-14",
                "yes",
                "On",
                "\u{feff}",
                "\r\n",
                "a: b\n",
                "- - - ",
                "[[[[",
                "{{{{",
                "\u{0}",
                "\u{85}",
                "\u{2028}",
            ],
            Target::Strvals => &[
                "=",
                ",",
                ".",
                "[",
                "]",
                "{",
                "}",
                "\\",
                "[65536]",
                "[65537]",
                "[-1]",
                "true",
                "null",
                "0",
                "a",
                "{}",
                "[99999999999999999999]",
                "a=",
                "=b",
                "[0]",
                "x.y.z",
                "\"",
                "'",
                "01",
                "-9223372036854775808",
                "9223372036854775808",
                "{a,b}",
                "\n",
            ],
        }
    }
}

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

struct Args {
    target: Target,
    seconds: u64,
    seed: u64,
    timeout: u64,
    child: bool,
    mem_kb: u64,
    repro: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        target: Target::Template,
        seconds: 60,
        seed: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            | 1,
        timeout: 10,
        child: false,
        mem_kb: 4 * 1024 * 1024,
        repro: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--target" => {
                a.target = match val()?.as_str() {
                    "template" => Target::Template,
                    "yaml" => Target::Yaml,
                    "strvals" => Target::Strvals,
                    t => return Err(format!("unknown target {t}")),
                }
            }
            "--seconds" => a.seconds = val()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--seed" => a.seed = val()?.parse::<u64>().map_err(|e| format!("--seed: {e}"))? | 1,
            "--timeout" => a.timeout = val()?.parse().map_err(|e| format!("--timeout: {e}"))?,
            "--mem-mb" => {
                a.mem_kb = val()?
                    .parse::<u64>()
                    .map_err(|e| format!("--mem-mb: {e}"))?
                    * 1024
            }
            "--child" => a.child = true,
            "--repro" => a.repro = Some(PathBuf::from(val()?)),
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    Ok(a)
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn load_seeds(target: Target) -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    walk(&fuzz_dir().join("seeds").join(target.name()), &mut files);
    let mut corpus = Vec::new();
    walk(Path::new(CORPUS), &mut corpus);
    for p in corpus {
        let s = p.to_string_lossy();
        let keep = match target {
            Target::Template => {
                s.contains("/templates/")
                    && (s.ends_with(".yaml") || s.ends_with(".tpl") || s.ends_with(".txt"))
            }
            Target::Yaml => s.ends_with("values.yaml") || s.ends_with("Chart.yaml"),
            Target::Strvals => false,
        };
        if keep {
            files.push(p);
        }
    }
    let mut seeds: Vec<Vec<u8>> = files
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter(|b| b.len() <= MAX_INPUT)
        .collect();
    if seeds.is_empty() {
        seeds.push(b"a".to_vec());
    }
    seeds
}

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], target: Target) -> Vec<u8> {
    let mut buf = seeds[rng.below(seeds.len())].clone();
    // Large seeds get cut to a window so executions stay fast.
    if buf.len() > 4096 && rng.below(2) == 0 {
        let start = rng.below(buf.len());
        let len = 256 + rng.below(2048);
        buf = buf[start..(start + len).min(buf.len())].to_vec();
    }
    let rounds = 1 + rng.below(8);
    for _ in 0..rounds {
        let pos = rng.below(buf.len() + 1);
        match rng.below(8) {
            0 if !buf.is_empty() => {
                let i = rng.below(buf.len());
                buf[i] ^= 1 << rng.below(8);
            }
            1 => buf.insert(pos, rng.next() as u8),
            2 if !buf.is_empty() => {
                let n = 1 + rng.below(16.min(buf.len()));
                let i = rng.below(buf.len() - n + 1);
                buf.drain(i..i + n);
            }
            3 => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let s = rng.below(other.len());
                    let n = 1 + rng.below(256.min(other.len() - s));
                    buf.splice(pos..pos, other[s..s + n].iter().copied());
                }
            }
            4 if !buf.is_empty() => {
                let s = rng.below(buf.len());
                let n = 1 + rng.below(64.min(buf.len() - s));
                let frag: Vec<u8> = buf[s..s + n].to_vec();
                let times = 1 + rng.below(4);
                for _ in 0..times {
                    buf.splice(pos..pos, frag.iter().copied());
                }
            }
            5 if !buf.is_empty() => {
                // Truncate.
                buf.truncate(pos);
            }
            _ => {
                let toks = target.tokens();
                let t = toks[rng.below(toks.len())];
                buf.splice(pos..pos, t.bytes());
            }
        }
        if buf.len() > MAX_INPUT {
            buf.truncate(MAX_INPUT);
        }
    }
    buf
}

/// The `.` templates run against.
fn template_dot() -> Value {
    let values = yaml::parse(
        "a: 1\nb: [1, 2, {c: d}]\nname: x\nnested: {deep: {x: \"y\"}}\nf: 1.5\ns: \"str\"\nt: true\nn: null\n",
    )
    .unwrap_or_else(|_| Data::empty_map());
    let mut root = std::collections::BTreeMap::new();
    root.insert("Values".to_string(), values);
    let mut rel = std::collections::BTreeMap::new();
    rel.insert("Name".to_string(), Data::String("rel".into()));
    rel.insert("Namespace".to_string(), Data::String("ns".into()));
    root.insert("Release".to_string(), Data::Map(rel));
    Value::from_data(&Data::Map(root))
}

/// Numbers compared by value (YAML emits some floats as ints), NaN equal to NaN.
fn data_eq(a: &Data, b: &Data) -> bool {
    fn num(d: &Data) -> Option<f64> {
        match d {
            Data::Int(i) => Some(*i as f64),
            Data::Float(f) => Some(*f),
            _ => None,
        }
    }
    match (a, b) {
        (Data::List(x), Data::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| data_eq(p, q))
        }
        (Data::Map(x), Data::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| k1 == k2 && data_eq(v1, v2))
        }
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x == y || (x.is_nan() && y.is_nan()),
            _ => a == b,
        },
    }
}

/// Whether go-yaml round-trips the data at all (control characters make Helm's `toYaml`
/// yield ""; NEL/LS/PS become line breaks and `<<` stays unquoted in Helm too).
fn round_trippable(d: &Data) -> bool {
    let ok = |s: &str| {
        s != "<<"
            && s.chars().all(|c| {
                (!c.is_control() || matches!(c, '\n' | '\t' | '\r'))
                    && !matches!(
                        c,
                        '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                    )
            })
    };
    match d {
        Data::String(s) => ok(s),
        Data::List(l) => l.iter().all(round_trippable),
        Data::Map(m) => m.iter().all(|(k, v)| ok(k) && round_trippable(v)),
        _ => true,
    }
}

/// Runs one input; returns a finding that is not a panic (round-trip difference), if any.
fn run_one(target: Target, input: &[u8], dot: &Value) -> Option<String> {
    let text = String::from_utf8_lossy(input);
    match target {
        Target::Template => {
            let mut set = TemplateSet::new();
            if set.parse("t", &text).is_ok() {
                let ctx = FuncCtx::default();
                let _ = set.execute("t", dot.clone(), &ctx, &ExecOptions::default());
            }
            None
        }
        Target::Yaml => {
            let _ = yaml::parse_all(&text);
            if let Ok(d) = yaml::parse(&text) {
                if !round_trippable(&d) {
                    return None;
                }
                let Ok(out) = yaml::marshal(&d) else {
                    return None;
                };
                match yaml::parse(&out) {
                    Ok(back) if data_eq(&back, &d) => None,
                    Ok(back) => Some(format!(
                        "round trip differs\nparsed: {d:?}\nemitted: {out:?}\nreparsed: {back:?}"
                    )),
                    Err(e) => Some(format!(
                        "emitted YAML does not parse\nparsed: {d:?}\nemitted: {out:?}\nerror: {e}"
                    )),
                }
            } else {
                None
            }
        }
        Target::Strvals => {
            let mut d = Data::empty_map();
            let _ = strvals::parse_set(&text, &mut d);
            let mut d = Data::empty_map();
            let _ = strvals::parse_set_string(&text, &mut d);
            let mut d = Data::empty_map();
            let _ = strvals::parse_set_json(&text, &mut d);
            None
        }
    }
}

fn save(kind: &str, target: Target, input: &[u8], note: &str) -> PathBuf {
    let dir = fuzz_dir().join("crashes");
    let _ = std::fs::create_dir_all(&dir);
    let h = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let p = dir.join(format!("{kind}-{}-{h:016x}", target.name()));
    let _ = std::fs::write(&p, input);
    if !note.is_empty() {
        let _ = std::fs::write(p.with_extension("txt"), note);
    }
    p
}

fn child(a: &Args) {
    let seeds = load_seeds(a.target);
    let dir = fuzz_dir().join("crashes");
    let _ = std::fs::create_dir_all(&dir);
    let current = dir.join(format!(".current-{}", a.target.name()));
    let Ok(mut cur) = std::fs::File::create(&current) else {
        eprintln!("cannot write {}", current.display());
        std::process::exit(2);
    };
    let start = Instant::now();
    // Milliseconds since start when the running input began, 0 when idle.
    let busy = Arc::new(AtomicU64::new(0));
    {
        let busy = busy.clone();
        let timeout = a.timeout * 1000;
        let current = current.clone();
        let target = a.target;
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(200));
            let b = busy.load(Ordering::Relaxed);
            let now = start.elapsed().as_millis() as u64;
            if b != 0 && now.saturating_sub(b) > timeout {
                let input = std::fs::read(&current).unwrap_or_default();
                let p = save("hang", target, &input, "");
                eprintln!(
                    "HANG: input ran > {} s, saved {}",
                    timeout / 1000,
                    p.display()
                );
                std::process::exit(3);
            }
        });
    }
    std::panic::set_hook(Box::new(|_| {}));
    let dot = template_dot();
    let mut rng = Rng(a.seed);
    let deadline = Duration::from_secs(a.seconds);
    let (mut execs, mut panics, mut findings) = (0u64, 0u64, 0u64);
    let mut last_report = Instant::now();
    while start.elapsed() < deadline {
        let input = mutate(&mut rng, &seeds, a.target);
        let _ = cur.seek(SeekFrom::Start(0));
        let _ = cur.write_all(&input);
        let _ = cur.set_len(input.len() as u64);
        busy.store(start.elapsed().as_millis() as u64 | 1, Ordering::Relaxed);
        let r = catch_unwind(AssertUnwindSafe(|| run_one(a.target, &input, &dot)));
        busy.store(0, Ordering::Relaxed);
        execs += 1;
        match r {
            Err(e) => {
                panics += 1;
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let p = save("panic", a.target, &input, &msg);
                println!("PANIC {msg:?} saved {}", p.display());
            }
            Ok(Some(note)) => {
                findings += 1;
                if findings <= 50 {
                    let p = save("roundtrip", a.target, &input, &note);
                    println!("FINDING saved {}", p.display());
                }
            }
            Ok(None) => {}
        }
        if last_report.elapsed() > Duration::from_secs(30) {
            last_report = Instant::now();
            let secs = start.elapsed().as_secs_f64();
            println!(
                "[{}] {execs} execs, {:.0}/s, {panics} panics, {findings} findings",
                a.target.name(),
                execs as f64 / secs
            );
        }
    }
    let secs = start.elapsed().as_secs_f64().max(0.001);
    println!(
        "[{}] done: {execs} execs in {secs:.0} s ({:.0}/s), {panics} panics, {findings} findings",
        a.target.name(),
        execs as f64 / secs
    );
}

fn parent(a: &Args) {
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("cannot find own executable");
        std::process::exit(2);
    };
    let start = Instant::now();
    let mut seed = a.seed;
    let mut restarts = 0;
    let current = fuzz_dir()
        .join("crashes")
        .join(format!(".current-{}", a.target.name()));
    loop {
        let left = a.seconds.saturating_sub(start.elapsed().as_secs());
        if left == 0 {
            break;
        }
        println!("[{}] child seed {seed}, {left} s", a.target.name());
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -v {} && exec \"$0\" \"$@\"", a.mem_kb))
            .arg(&exe)
            .args(["--child", "--target", a.target.name()])
            .args(["--seconds", &left.to_string()])
            .args(["--seed", &seed.to_string()])
            .args(["--timeout", &a.timeout.to_string()])
            .status();
        match status {
            Ok(s) if s.success() => break,
            Ok(s) => {
                restarts += 1;
                if s.code() != Some(3) {
                    let input = std::fs::read(&current).unwrap_or_default();
                    let p = save("crash", a.target, &input, &format!("child died: {s}"));
                    println!("CRASH (child died: {s}) saved {}", p.display());
                }
                if restarts > 200 {
                    println!("too many restarts");
                    break;
                }
            }
            Err(e) => {
                eprintln!("cannot run child: {e}");
                std::process::exit(2);
            }
        }
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407)
            | 1;
    }
    println!("[{}] finished, {restarts} restarts", a.target.name());
}

/// Runs one saved input stage by stage, saying which stage it reached (for reproducers: a
/// stack overflow aborts right after the last stage printed).
fn repro(target: Target, path: &Path) {
    let Ok(bytes) = std::fs::read(path) else {
        eprintln!("cannot read {}", path.display());
        std::process::exit(2);
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let stage = |s: &str| eprintln!("stage: {s}");
    match target {
        Target::Template => {
            stage("TemplateSet::parse");
            let mut set = TemplateSet::new();
            let r = set.parse("t", &text);
            eprintln!("parse: {:?}", r.as_ref().map_err(|e| e.message.clone()));
            if r.is_ok() {
                stage("TemplateSet::execute");
                let r = set.execute(
                    "t",
                    template_dot(),
                    &FuncCtx::default(),
                    &ExecOptions::default(),
                );
                eprintln!("execute: {:?}", r.map(|s| s.len()).map_err(|e| e.message));
            }
        }
        Target::Yaml => {
            stage("yaml::parse");
            let r = yaml::parse(&text);
            eprintln!(
                "parse: {:?}",
                r.as_ref().map(|_| ()).map_err(|e| e.message.clone())
            );
            if let Ok(d) = r {
                stage("yaml::marshal");
                let _ = yaml::marshal(&d);
            }
        }
        Target::Strvals => {
            stage("strvals::parse_set");
            let mut d = Data::empty_map();
            eprintln!("parse_set: {:?}", strvals::parse_set(&text, &mut d));
        }
    }
    stage("done");
}

fn main() {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("fuzz: {e}\nusage: fuzz --target template|yaml|strvals --seconds N [--seed S] [--timeout S] [--mem-mb M]");
            std::process::exit(2);
        }
    };
    if let Some(p) = &a.repro {
        repro(a.target, p);
    } else if a.child {
        child(&a);
    } else {
        parent(&a);
    }
}
