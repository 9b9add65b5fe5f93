//! Glob matching with Redis's stringmatchlen semantics (CONFIG GET, KEYS, SCAN MATCH,
//! PSUBSCRIBE). Pure function over bytes; never panics, runs in O(pattern * text)
//! (single-star backtracking instead of recursion, so no exponential blowup).
//!
//! Redis quirks kept on purpose: an empty text matches only an empty pattern (so `*`
//! does not match ""), `[]` is an empty class, an unterminated `[` class ends at the
//! end of the pattern, a trailing `\` matches a literal backslash.

#[derive(Debug)]
enum Token {
    Star,
    Any,
    Lit(u8),
    Class { negate: bool, items: Vec<(u8, u8)> },
}

fn lower(c: u8, nocase: bool) -> u8 {
    if nocase {
        c.to_ascii_lowercase()
    } else {
        c
    }
}

fn tokenize(p: &[u8]) -> Vec<Token> {
    let mut out = Vec::new();
    let n = p.len();
    let mut i = 0;
    while i < n {
        match p[i] {
            b'*' => {
                if !matches!(out.last(), Some(Token::Star)) {
                    out.push(Token::Star);
                }
                i += 1;
            }
            b'?' => {
                out.push(Token::Any);
                i += 1;
            }
            b'[' => {
                i += 1;
                let negate = p.get(i) == Some(&b'^');
                if negate {
                    i += 1;
                }
                let mut items = Vec::new();
                while i < n {
                    if p[i] == b'\\' && n - i >= 2 {
                        items.push((p[i + 1], p[i + 1]));
                        i += 2;
                    } else if p[i] == b']' {
                        i += 1;
                        break;
                    } else if n - i >= 3 && p[i + 1] == b'-' {
                        items.push((p[i], p[i + 2]));
                        i += 3;
                    } else {
                        items.push((p[i], p[i]));
                        i += 1;
                    }
                }
                out.push(Token::Class { negate, items });
            }
            b'\\' if n - i >= 2 => {
                out.push(Token::Lit(p[i + 1]));
                i += 2;
            }
            c => {
                out.push(Token::Lit(c));
                i += 1;
            }
        }
    }
    out
}

fn token_matches(t: &Token, c: u8, nocase: bool) -> bool {
    match t {
        Token::Star | Token::Any => true,
        Token::Lit(l) => lower(*l, nocase) == lower(c, nocase),
        Token::Class { negate, items } => {
            let c = lower(c, nocase);
            let hit = items.iter().any(|&(a, b)| {
                let (mut a, mut b) = (lower(a, nocase), lower(b, nocase));
                if a > b {
                    std::mem::swap(&mut a, &mut b);
                }
                (a..=b).contains(&c)
            });
            hit != *negate
        }
    }
}

/// Returns whether `text` matches the glob `pattern` exactly as Redis's stringmatchlen.
pub fn glob_match(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
    if text.is_empty() {
        return pattern.is_empty();
    }
    let toks = tokenize(pattern);
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if let Some(Token::Star) = toks.get(pi) {
            pi += 1;
            star = Some((pi, si));
            continue;
        }
        if si == text.len() {
            break;
        }
        if let Some(t) = toks.get(pi) {
            if token_matches(t, text[si], nocase) {
                pi += 1;
                si += 1;
                continue;
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    toks[pi.min(toks.len())..]
        .iter()
        .all(|t| matches!(t, Token::Star))
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, t: &str) -> bool {
        glob_match(p.as_bytes(), t.as_bytes(), false)
    }

    #[test]
    fn stars_and_question_marks_match_like_redis() {
        assert!(m("*", "abc"));
        assert!(m("a*", "a"));
        assert!(m("a*c", "abbbc"));
        assert!(m("*a*", "a"));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("a**b", "ab"));
        assert!(!m("a*b", "abc"));
    }

    #[test]
    fn an_empty_text_matches_only_an_empty_pattern() {
        assert!(m("", ""));
        assert!(!m("*", ""));
        assert!(!m("**", ""));
        assert!(!m("", "a"));
    }

    #[test]
    fn classes_support_ranges_negation_and_escapes() {
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"));
        assert!(m("[\\]]", "]"));
        // `[a-]` is the range a..']' (swapped to ']'..'a') with no closing bracket.
        assert!(m("x[a-]", "x_"));
        assert!(!m("x[a-]", "x-"));
    }

    #[test]
    fn bracket_edge_cases_follow_redis() {
        assert!(!m("[]]", "]"));
        assert!(!m("[", "["));
        assert!(m("[[", "["));
        assert!(m("[abc", "b"));
        assert!(m("[^", "z"));
        assert!(m("[^]x", "ax"));
    }

    #[test]
    fn backslashes_escape_and_a_trailing_one_is_literal() {
        assert!(m("a\\*", "a*"));
        assert!(!m("a\\*", "ab"));
        assert!(m("a\\", "a\\"));
        assert!(m("\\", "\\"));
    }

    #[test]
    fn nocase_lowers_text_pattern_and_ranges() {
        assert!(glob_match(b"MAXMEM*", b"maxmemory", true));
        assert!(glob_match(b"[A-C]x", b"bX", true));
        assert!(!glob_match(b"MAXMEM*", b"maxmemory", false));
    }

    #[test]
    fn pathological_patterns_finish_quickly() {
        let text = vec![b'a'; 10_000];
        let pat = "a*".repeat(50) + "b";
        let start = std::time::Instant::now();
        assert!(!glob_match(pat.as_bytes(), &text, false));
        assert!(start.elapsed().as_secs() < 2);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let pats: [&[u8]; 6] = [b"[", b"[^", b"\\", b"[a-", b"[\\", b"*[\xff-\x00]"];
        for p in pats {
            for t in [&b""[..], b"a", b"\xff\x00", b"[\\"] {
                let _ = glob_match(p, t, true);
            }
        }
    }
}
