//! redis.conf text and command-line loading, following redis-server's rules: lines split
//! like sdssplitargs, `#` comments, case-insensitive names, `include`, later lines win,
//! command-line options turned into lines appended after the file. Knows file-only
//! directives (include, rename-command, user, loadmodule, sentinel); everything else
//! goes through the directive table.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use super::special::{parse_save, strerror};
use super::table::{self, ACCEPTED_ONLY, MULTI_ARG};
use super::values::repr;
use super::{glob_match, Config, ConfigError};

const MAX_INCLUDE_DEPTH: usize = 16;

/// Splits a line like Redis's sdssplitargs: whitespace-separated words, "double quotes"
/// with \n \r \t \b \a \\ \" \xHH escapes, 'single quotes' with \' only. A closing quote
/// must be followed by whitespace or the end. Returns None for unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let is_space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    // Redis reads a C string: a NUL byte ends the input.
    let line = &line[..line.iter().position(|&c| c == 0).unwrap_or(line.len())];
    let mut out = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(out);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            if inq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && line[i + 2].is_ascii_hexdigit()
                    && line[i + 3].is_ascii_hexdigit()
                {
                    let hex = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
                    cur.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if insq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' => break,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(cur);
    }
}

/// The warning for a directive that is accepted but ignored.
pub fn accepted_only_warning(name: &str) -> String {
    format!("Directive '{name}' is accepted for compatibility but has no effect in handoff")
}

/// Per-load state: whether a `save` line was seen, what was set explicitly.
#[derive(Default)]
struct LoadState {
    save_seen: bool,
    explicit: BTreeSet<&'static str>,
    warnings: Vec<String>,
}

fn read_file(path: &str) -> Result<String, ConfigError> {
    let bytes = std::fs::read(path).map_err(|e| ConfigError::Open {
        path: path.to_string(),
        reason: strerror(&e),
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Applies config text to `cfg` (no include base) and returns the warnings.
pub fn apply_text(cfg: &mut Config, text: &str) -> Result<Vec<String>, ConfigError> {
    let mut st = LoadState::default();
    apply(cfg, text, &mut st, 0)?;
    Ok(finish(cfg, st))
}

fn finish(cfg: &Config, mut st: LoadState) -> Vec<String> {
    for name in &st.explicit {
        if let Some(d) = table::lookup(name) {
            if d.has(ACCEPTED_ONLY) && (d.get)(cfg) != d.default {
                st.warnings.push(accepted_only_warning(d.name));
            }
        }
    }
    st.warnings
}

fn apply(
    cfg: &mut Config,
    text: &str,
    st: &mut LoadState,
    depth: usize,
) -> Result<(), ConfigError> {
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |msg: &str| ConfigError::Directive {
            line: i + 1,
            text: line.to_string(),
            msg: msg.to_string(),
        };
        let args: Vec<String> = split_args(line.as_bytes())
            .ok_or_else(|| err("Unbalanced quotes in configuration line"))?
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let Some((name, rest)) = args.split_first() else {
            continue;
        };
        let lname = name.to_ascii_lowercase();
        apply_directive(cfg, &lname, rest, st, depth).map_err(|e| match e {
            Applied::Msg(m) => err(&m),
            Applied::Nested(e) => e,
        })?;
    }
    Ok(())
}

enum Applied {
    Msg(String),
    Nested(ConfigError),
}

impl From<String> for Applied {
    fn from(s: String) -> Self {
        Applied::Msg(s)
    }
}

const BAD: &str = "Bad directive or wrong number of arguments";

fn apply_directive(
    cfg: &mut Config,
    name: &str,
    rest: &[String],
    st: &mut LoadState,
    depth: usize,
) -> Result<(), Applied> {
    match (name, rest.len()) {
        ("include", 1) => return include(cfg, &rest[0], st, depth),
        ("rename-command", 2) => {
            cfg.rename_commands.push((rest[0].clone(), rest[1].clone()));
            return Ok(());
        }
        ("user", n) if n >= 1 => {
            cfg.users.push(rest.to_vec());
            return Ok(());
        }
        ("loadmodule", n) if n >= 1 => {
            cfg.loadmodules.push(rest.to_vec());
            st.warnings.push(accepted_only_warning("loadmodule"));
            return Ok(());
        }
        ("sentinel", n) if n >= 1 => {
            st.warnings.push(accepted_only_warning("sentinel"));
            return Ok(());
        }
        ("list-max-ziplist-entries" | "list-max-ziplist-value" | "lua-replicate-commands", 1) => {
            return Ok(());
        }
        _ => {}
    }
    let d = table::lookup(name).ok_or_else(|| BAD.to_string())?;
    if !d.has(MULTI_ARG) && rest.len() != 1 {
        return Err("wrong number of arguments".to_string().into());
    }
    if d.name == "save" {
        if rest.len() == 1 && rest[0].is_empty() {
            cfg.save.clear();
        } else {
            let pairs = parse_save(rest)?;
            if !st.save_seen {
                cfg.save.clear();
                st.save_seen = true;
            }
            cfg.save.extend(pairs);
        }
    } else {
        (d.set)(cfg, rest)?;
    }
    st.explicit.insert(d.name);
    Ok(())
}

fn include(cfg: &mut Config, path: &str, st: &mut LoadState, depth: usize) -> Result<(), Applied> {
    if depth >= MAX_INCLUDE_DEPTH {
        return Err("Too many nested includes".to_string().into());
    }
    let files = if path.bytes().any(|c| matches!(c, b'*' | b'?' | b'[')) {
        expand_glob(path)
    } else {
        vec![path.to_string()]
    };
    for f in files {
        let text = read_file(&f).map_err(Applied::Nested)?;
        apply(cfg, &text, st, depth + 1).map_err(Applied::Nested)?;
    }
    Ok(())
}

/// Expands a glob in the last path component (sorted; no match = no file).
fn expand_glob(path: &str) -> Vec<String> {
    let p = Path::new(path);
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => Path::new(".").to_path_buf(),
    };
    let Some(pat) = p.file_name().map(|f| f.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    let mut out: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| glob_match(pat.as_bytes(), e.file_name().as_encoded_bytes(), false))
                .filter(|e| e.path().is_file())
                .map(|e| dir.join(e.file_name()).to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Turns `--name value...` arguments into config lines, like redis-server's main().
pub fn options_text(args: &[String]) -> String {
    let mut options = String::new();
    for (j, arg) in args.iter().enumerate() {
        if let Some(name) = arg.strip_prefix("--") {
            if !options.is_empty() {
                options.push('\n');
            }
            options.push_str(name);
            options.push(' ');
            let next_is_option = args.get(j + 1).is_none_or(|a| a.starts_with("--"));
            if name == "save" && next_is_option {
                options.push_str("\"\"");
            }
        } else {
            options.push_str(&repr(arg));
            options.push(' ');
        }
    }
    options
}

/// `load()`: [config-file] [--options...] [-] (stdin).
pub fn load_args(args: &[String]) -> Result<(Config, Vec<String>), ConfigError> {
    let mut cfg = Config::default();
    let mut rest = args;
    let mut text = String::new();
    if let Some(first) = args.first() {
        if !first.starts_with('-') {
            text = read_file(first)?;
            cfg.config_file = Some(std::path::absolute(first).unwrap_or_else(|_| first.into()));
            rest = &args[1..];
        }
    }
    let last = rest.len().saturating_sub(1);
    let mut opts = Vec::new();
    let mut stdin = false;
    for (j, a) in rest.iter().enumerate() {
        if a == "-" && (j == 0 || j == last) {
            stdin = true;
        } else {
            opts.push(a.clone());
        }
    }
    if stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| ConfigError::Open {
                path: "-".to_string(),
                reason: strerror(&e),
            })?;
        text.push_str(&s);
    }
    text.push('\n');
    text.push_str(&options_text(&opts));
    let warnings = apply_text(&mut cfg, &text)?;
    Ok((cfg, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Option<Vec<String>> {
        split_args(s.as_bytes()).map(|v| {
            v.into_iter()
                .map(|a| String::from_utf8_lossy(&a).into_owned())
                .collect()
        })
    }

    #[test]
    fn lines_split_like_sdssplitargs() {
        assert_eq!(split("  set  a b ").unwrap(), ["set", "a", "b"]);
        assert_eq!(split(r#"a "b c" 'd e'"#).unwrap(), ["a", "b c", "d e"]);
        assert_eq!(split(r#""\x41\n\t\\\"""#).unwrap(), ["A\n\t\\\""]);
        assert_eq!(split(r#"'it\'s'"#).unwrap(), ["it's"]);
        assert_eq!(split(r#"foo"bar""#).unwrap(), ["foobar"]);
        assert_eq!(split(r#""""#).unwrap(), [""]);
        assert_eq!(split("").unwrap(), Vec::<String>::new());
        assert_eq!(split(r#""\xZZ""#).unwrap(), ["xZZ"]);
    }

    #[test]
    fn unbalanced_or_glued_quotes_are_rejected() {
        assert!(split(r#""abc"#).is_none());
        assert!(split(r#"'abc"#).is_none());
        assert!(split(r#""a"b"#).is_none());
        assert!(split(r#""abc\"#).is_none());
    }

    #[test]
    fn command_line_options_become_lines() {
        let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            options_text(&a(&["--port", "7000", "--bind", "127.0.0.1", "::1"])),
            "port \"7000\" \nbind \"127.0.0.1\" \"::1\" "
        );
        assert_eq!(
            options_text(&a(&["--save", "--port", "1"])),
            "save \"\"\nport \"1\" "
        );
        assert_eq!(options_text(&a(&["--save"])), "save \"\"");
    }
}
