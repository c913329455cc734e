//! SQLite's tokenizer (`tokenize.c`), as [`tokenize`] and [`tokens`]: every token
//! of a text, whitespace and comments included, with its kind and byte range.

/// What kind of token a [`Token`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A run of spaces, tabs, newlines, form feeds or carriage returns.
    Space,
    /// A `-- …` or `/* … */` comment.
    Comment,
    /// `;`, the end of a statement unless inside a trigger body.
    Semi,
    /// A keyword or an unquoted identifier.
    Word,
    /// A `'…'` string literal.
    String,
    /// A `"…"`, `[…]` or `` `…` `` quoted identifier.
    QuotedIdent,
    /// A `x'…'` blob literal.
    Blob,
    /// A numeric literal.
    Number,
    /// A bound parameter such as `?1`, `:name`, `@name` or `$name`.
    Variable,
    /// An operator or punctuation.
    Punct,
    /// Something SQLite cannot tokenize (an unterminated string, a stray `!`...).
    Illegal,
}

/// One token: its kind and its byte range in the text it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Byte offset of its first byte.
    pub start: usize,
    /// Byte offset just past its last byte.
    pub end: usize,
}

impl Token {
    /// The token's text within `sql`, the string it was read from.
    pub fn text<'a>(&self, sql: &'a str) -> &'a str {
        &sql[self.start..self.end]
    }

    /// Whether this is the unquoted word `keyword`, compared without regard to ASCII case.
    pub fn is_keyword(&self, sql: &str, keyword: &str) -> bool {
        self.kind == TokenKind::Word && self.text(sql).eq_ignore_ascii_case(keyword)
    }

    /// The identifier this token names, with quotes removed, if it can name one.
    pub fn identifier(&self, sql: &str) -> Option<String> {
        let text = self.text(sql);
        match self.kind {
            TokenKind::Word => Some(text.to_owned()),
            TokenKind::QuotedIdent if text.len() >= 2 => {
                let inner = &text[1..text.len() - 1];
                Some(match text.as_bytes()[0] {
                    b'"' => inner.replace("\"\"", "\""),
                    b'`' => inner.replace("``", "`"),
                    _ => inner.to_owned(),
                })
            }
            _ => None,
        }
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0c' | b'\r')
}

/// SQLite's `IdChar`: letters, digits, `_`, `$` and every byte of a non-ASCII character.
fn is_id_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// Length of the token that starts at `z[0]`, and its kind; `z` is not empty.
fn next_token(z: &[u8]) -> (usize, TokenKind) {
    let at = |i: usize| z.get(i).copied().unwrap_or(0);
    let quoted = |delim: u8, kind: TokenKind| {
        let mut i = 1;
        while i < z.len() {
            if z[i] == delim {
                if at(i + 1) == delim {
                    i += 2;
                    continue;
                }
                return (i + 1, kind);
            }
            i += 1;
        }
        (z.len(), TokenKind::Illegal)
    };
    match z[0] {
        b if is_space(b) => {
            let n = z.iter().take_while(|&&b| is_space(b)).count();
            (n, TokenKind::Space)
        }
        b'-' if at(1) == b'-' => {
            let n = z.iter().position(|&b| b == b'\n').unwrap_or(z.len());
            (n, TokenKind::Comment)
        }
        b'-' if at(1) == b'>' => (if at(2) == b'>' { 3 } else { 2 }, TokenKind::Punct),
        b'/' if at(1) == b'*' => {
            let end = z[2..]
                .windows(2)
                .position(|w| w == b"*/")
                .map_or(z.len(), |p| p + 4);
            (end, TokenKind::Comment)
        }
        b';' => (1, TokenKind::Semi),
        b'=' => (if at(1) == b'=' { 2 } else { 1 }, TokenKind::Punct),
        b'<' => (
            if matches!(at(1), b'=' | b'>' | b'<') {
                2
            } else {
                1
            },
            TokenKind::Punct,
        ),
        b'>' => (
            if matches!(at(1), b'=' | b'>') { 2 } else { 1 },
            TokenKind::Punct,
        ),
        b'!' if at(1) == b'=' => (2, TokenKind::Punct),
        b'!' => (1, TokenKind::Illegal),
        b'|' => (if at(1) == b'|' { 2 } else { 1 }, TokenKind::Punct),
        b'\'' => quoted(b'\'', TokenKind::String),
        b'"' => quoted(b'"', TokenKind::QuotedIdent),
        b'`' => quoted(b'`', TokenKind::QuotedIdent),
        b'[' => match z.iter().position(|&b| b == b']') {
            Some(p) => (p + 1, TokenKind::QuotedIdent),
            None => (z.len(), TokenKind::Illegal),
        },
        b'.' if at(1).is_ascii_digit() => number(z),
        b'0'..=b'9' => number(z),
        b'?' => {
            let n = 1 + z[1..].iter().take_while(|b| b.is_ascii_digit()).count();
            (n, TokenKind::Variable)
        }
        b'$' | b'@' | b':' | b'#' => variable(z),
        b'x' | b'X' if at(1) == b'\'' => {
            let mut i = 2;
            while i < z.len() && z[i].is_ascii_hexdigit() {
                i += 1;
            }
            if at(i) == b'\'' && (i - 2) % 2 == 0 {
                (i + 1, TokenKind::Blob)
            } else {
                let end = z[i..]
                    .iter()
                    .position(|&b| b == b'\'')
                    .map_or(z.len(), |p| i + p + 1);
                (end, TokenKind::Illegal)
            }
        }
        b if is_id_char(b) => {
            let n = z.iter().take_while(|&&b| is_id_char(b)).count();
            (n, TokenKind::Word)
        }
        b if b.is_ascii() => (1, TokenKind::Punct),
        _ => (1, TokenKind::Illegal),
    }
}

/// A numeric literal: decimal, hexadecimal, with `_` separators, fraction and exponent.
fn number(z: &[u8]) -> (usize, TokenKind) {
    let at = |i: usize| z.get(i).copied().unwrap_or(0);
    let digits = |mut i: usize, hex: bool| {
        while at(i).is_ascii_digit() || (hex && at(i).is_ascii_hexdigit()) || at(i) == b'_' {
            i += 1;
        }
        i
    };
    let mut i;
    if z[0] == b'0' && matches!(at(1), b'x' | b'X') && at(2).is_ascii_hexdigit() {
        i = digits(2, true);
    } else {
        i = digits(0, false);
        if at(i) == b'.' {
            i = digits(i + 1, false);
        }
        if matches!(at(i), b'e' | b'E')
            && (at(i + 1).is_ascii_digit()
                || (matches!(at(i + 1), b'+' | b'-') && at(i + 2).is_ascii_digit()))
        {
            i = digits(i + 2, false);
        }
    }
    if is_id_char(at(i)) {
        while is_id_char(at(i)) {
            i += 1;
        }
        return (i, TokenKind::Illegal);
    }
    (i, TokenKind::Number)
}

/// A `$name`, `@name`, `:name` or `#name` parameter, with TCL's `::` and `(…)` forms.
fn variable(z: &[u8]) -> (usize, TokenKind) {
    let at = |i: usize| z.get(i).copied().unwrap_or(0);
    let mut n = 0;
    let mut i = 1;
    while i < z.len() {
        let c = z[i];
        if is_id_char(c) {
            n += 1;
        } else if c == b'(' && n > 0 {
            i += 1;
            while i < z.len() && !is_space(z[i]) && z[i] != b')' {
                i += 1;
            }
            if at(i) == b')' {
                return (i + 1, TokenKind::Variable);
            }
            return (i, TokenKind::Illegal);
        } else if c == b':' && at(i + 1) == b':' {
            i += 1;
        } else {
            break;
        }
        i += 1;
    }
    (
        i,
        if n == 0 {
            TokenKind::Illegal
        } else {
            TokenKind::Variable
        },
    )
}

/// Every token of `sql`, whitespace and comments included, in order.
pub fn tokenize(sql: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut start = 0;
    while let Some(token) = token_at(sql, start) {
        tokens.push(token);
        start = token.end;
    }
    tokens
}

/// The tokens of `sql` as [`tokenize`] lists them, read one at a time: for a caller
/// that stops early in a long text.
pub fn tokens(sql: &str) -> impl Iterator<Item = Token> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        let token = token_at(sql, start)?;
        start = token.end;
        Some(token)
    })
}

/// The token of `sql` that starts at byte `start`; `None` at the end.
fn token_at(sql: &str, start: usize) -> Option<Token> {
    let rest = sql
        .as_bytes()
        .get(start..)
        .filter(|rest| !rest.is_empty())?;
    let (len, kind) = next_token(rest);
    // Never split a UTF-8 character: an illegal byte takes its whole character.
    let mut end = start + len.max(1);
    while !sql.is_char_boundary(end) {
        end += 1;
    }
    Some(Token { kind, start, end })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read one at a time, the tokens are those `tokenize` lists.
    #[test]
    fn tokens_one_at_a_time_are_the_list() {
        for sql in [
            "",
            "CREATE TRIGGER t AFTER UPDATE OF a ON x BEGIN INSERT INTO y VALUES (1); END",
            "SELECT 'it''s', \"q\"\"x\", [b], `c`, x'00', ?1, :n -- tail",
            "/* unterminated",
            "é ü \u{1F600} ! ; 'open",
        ] {
            assert_eq!(tokens(sql).collect::<Vec<_>>(), tokenize(sql), "{sql}");
        }
    }

    #[test]
    fn tokenizes_like_sqlite() {
        let kinds = |sql: &str| {
            tokenize(sql)
                .into_iter()
                .map(|t| t.kind)
                .collect::<Vec<_>>()
        };
        use TokenKind::*;
        assert_eq!(kinds("x'AB'"), [Blob]);
        assert_eq!(kinds("x'A'"), [Illegal]);
        assert_eq!(kinds("1.5e-3"), [Number]);
        assert_eq!(kinds("0x1F_FF"), [Number]);
        assert_eq!(kinds("12ab"), [Illegal]);
        assert_eq!(kinds("'it''s'"), [String]);
        assert_eq!(kinds("[a b]"), [QuotedIdent]);
        assert_eq!(kinds("$a(--x)"), [Variable]);
        assert_eq!(kinds("a->>'$.b'"), [Word, Punct, String]);
        assert_eq!(kinds("'open"), [Illegal]);
        assert_eq!(kinds("/* open"), [Comment]);
        assert_eq!(kinds("é_1"), [Word]);
    }
}
