//! A tokenizer that follows SQLite's own rules (`tokenize.c` and `complete.c`).
//!
//! It finds statements without ever splitting on a bare `;`: semicolons inside
//! string literals, quoted identifiers, comments and `CREATE TRIGGER … BEGIN … END`
//! bodies stay inside their statement, and a last statement without `;` counts.
//! The checksum's canonical text and the transaction-statement check are built on it.

mod canonical;

pub use canonical::{HARD, Part, SOFT};

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

/// One SQL statement of a migration, as SQLite would prepare it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement's text, from its first token to its last, without the closing `;`.
    pub text: &'a str,
    /// Byte offset of `text` in the migration.
    pub offset: usize,
    /// Its tokens (no whitespace, comments or closing `;`), with offsets into `text`.
    pub tokens: Vec<Token>,
}

impl Statement<'_> {
    /// The first keyword, upper-cased (`"CREATE"`, `"BEGIN"`…), if the statement starts with one.
    pub fn keyword(&self) -> Option<String> {
        let first = self.tokens.first()?;
        (first.kind == TokenKind::Word).then(|| first.text(self.text).to_ascii_uppercase())
    }

    /// The units of the canonical form, in order: keywords (written in upper case),
    /// other tokens (as written) and verbatim spans (see [`checksum`](crate::checksum())).
    pub fn parts(&self) -> Vec<Part> {
        canonical::parts(self.text, &self.tokens)
    }

    /// The canonical form: the [`parts`](Self::parts) joined by one space, keywords in
    /// upper case, everything else as written (see [`checksum`](crate::checksum())).
    pub fn canonical(&self) -> String {
        canonical::join(self.text, &self.parts())
    }
}

/// Token classes of SQLite's `sqlite3_complete` machine (besides `;` and whitespace).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Other,
    Explain,
    Create,
    Temp,
    Trigger,
    End,
}

/// States of SQLite's `sqlite3_complete` machine.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Normal,
    Explain,
    Create,
    Trigger,
    Semi,
    End,
}

/// The statements of `sql`, in order. A leading byte-order mark is skipped; empty
/// statements (`;;`, or only comments) are dropped.
pub fn statements(sql: &str) -> Vec<Statement<'_>> {
    let sql_start = if sql.starts_with('\u{feff}') { 3 } else { 0 };
    let sql_body = &sql[sql_start..];
    let mut out = Vec::new();
    let mut current: Vec<Token> = Vec::new();
    let mut state = State::Start;

    let mut finish = |current: &mut Vec<Token>| {
        if let (Some(first), Some(last)) = (current.first(), current.last()) {
            let (begin, end) = (first.start, last.end);
            let tokens = current
                .iter()
                .map(|t| Token {
                    kind: t.kind,
                    start: t.start - begin,
                    end: t.end - begin,
                })
                .collect();
            out.push(Statement {
                text: &sql_body[begin..end],
                offset: sql_start + begin,
                tokens,
            });
        }
        current.clear();
    };

    for token in tokenize(sql_body) {
        match token.kind {
            TokenKind::Space | TokenKind::Comment => continue,
            TokenKind::Semi => {
                state = match state {
                    State::Trigger | State::Semi => State::Semi,
                    _ => State::Start,
                };
                if state == State::Start {
                    finish(&mut current);
                    continue;
                }
            }
            kind => {
                let word = |k: &str| {
                    kind == TokenKind::Word && token.text(sql_body).eq_ignore_ascii_case(k)
                };
                let class = if word("EXPLAIN") {
                    Class::Explain
                } else if word("CREATE") {
                    Class::Create
                } else if word("TEMP") || word("TEMPORARY") {
                    Class::Temp
                } else if word("TRIGGER") {
                    Class::Trigger
                } else if word("END") {
                    Class::End
                } else {
                    Class::Other
                };
                state = match (state, class) {
                    (State::Start, Class::Explain) => State::Explain,
                    (State::Start | State::Explain, Class::Create) => State::Create,
                    (State::Explain, Class::Other) => State::Explain,
                    (State::Start | State::Normal | State::Explain, _) => State::Normal,
                    (State::Create, Class::Temp) => State::Create,
                    (State::Create, Class::Trigger) => State::Trigger,
                    (State::Create, _) => State::Normal,
                    (State::Semi, Class::End) => State::End,
                    (State::Trigger | State::Semi | State::End, _) => State::Trigger,
                };
            }
        }
        current.push(token);
    }
    finish(&mut current);
    out
}

/// The canonical text of a migration, the text [`checksum`](crate::checksum()) hashes:
/// its statements in canonical form (see [`Statement::canonical`]) joined by `";\n"`.
pub fn canonical(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    for (i, statement) in statements(sql).iter().enumerate() {
        if i > 0 {
            out.push_str(";\n");
        }
        out.push_str(&statement.canonical());
    }
    out
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        statements(sql).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn splits_on_semicolons_outside_strings_and_comments() {
        let sql = "CREATE TABLE a(x TEXT DEFAULT ';'); -- a; comment\n/* b; */ INSERT INTO a VALUES (\"x;\")";
        assert_eq!(
            texts(sql),
            [
                "CREATE TABLE a(x TEXT DEFAULT ';')",
                "INSERT INTO a VALUES (\"x;\")"
            ]
        );
    }

    #[test]
    fn keeps_trigger_bodies_whole() {
        let sql = "CREATE TEMP TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE a SET x = CASE WHEN 1 THEN 2 END;\n  DELETE FROM b;\nEND;\nSELECT 1;";
        let got = texts(sql);
        assert_eq!(got.len(), 2);
        assert!(got[0].ends_with("END"), "{got:?}");
        assert_eq!(got[1], "SELECT 1");
    }

    #[test]
    fn create_table_named_like_a_keyword_is_not_a_trigger() {
        assert_eq!(
            texts("CREATE TABLE \"trigger\"(x); SELECT 1"),
            ["CREATE TABLE \"trigger\"(x)", "SELECT 1"]
        );
    }

    #[test]
    fn drops_empty_statements_and_bom() {
        let got = statements("\u{feff};; -- only\n; SELECT 1;;");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].offset, "\u{feff};; -- only\n; ".len());
    }

    #[test]
    fn canonical_form_ignores_layout_comments_and_keyword_case_but_not_literals() {
        let a = "create table t (\r\n  x TEXT default 'a  b', -- note\r\n  y INT\r\n);\r\n";
        let b = "\u{feff}/* header */ CREATE TABLE t(x TEXT DEFAULT 'a  b',y INT)";
        assert_eq!(canonical(a), canonical(b));
        assert_eq!(
            canonical(a),
            "CREATE TABLE t ( x TEXT DEFAULT 'a  b' , y INT )"
        );
        assert_ne!(canonical(a), canonical(&a.replace("'a  b'", "'a b'")));
        assert_ne!(canonical(a), canonical(&a.replace("TEXT", "text")));
        assert_eq!(canonical("SELECT 1/**/+2"), "SELECT 1 + 2");
        assert_eq!(canonical("SELECT 1; SELECT 2;"), "SELECT 1;\nSELECT 2");
    }

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

    /// Random texts over the characters that matter to the tokenizer.
    fn random_texts(count: usize) -> impl Iterator<Item = String> {
        const PIECES: &[&str] = &[
            "'",
            "\"",
            "`",
            "[",
            "]",
            "-",
            "--",
            "/",
            "*",
            "/*",
            "*/",
            ";",
            " ",
            "\n",
            "\r\n",
            "\t",
            "x'",
            "X'AB'",
            "a",
            "END",
            "CREATE",
            "TEMP",
            "TRIGGER",
            "EXPLAIN",
            "BEGIN",
            "$",
            "$a(",
            ")",
            "?1",
            ":n",
            "0x",
            "1e",
            "9",
            ".",
            "é",
            "\u{1F600}",
            "!",
            "<",
            ">",
            "|",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..count).map(move |_| {
            let len = next() % 40;
            let bom = if next() % 4 == 0 { "\u{feff}" } else { "" };
            let body: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            format!("{bom}{body}")
        })
    }

    #[test]
    fn tokens_cover_any_text_and_canonical_form_is_stable() {
        let mut checked = 0;
        for text in random_texts(20_000) {
            let tokens = tokenize(&text);
            let mut at = 0;
            for t in &tokens {
                assert_eq!(t.start, at, "{text:?}");
                assert!(t.end > t.start, "{text:?}");
                at = t.end;
            }
            assert_eq!(at, text.len(), "{text:?}");
            for s in statements(&text) {
                assert_eq!(&text[s.offset..s.offset + s.text.len()], s.text);
            }
            // An illegal token (say, an unterminated `$a(` parameter) may swallow the
            // `;` that joins statements; such text never passes validation anyway.
            if tokens.iter().all(|t| t.kind != TokenKind::Illegal) {
                checked += 1;
                let once = canonical(&text);
                assert_eq!(canonical(&once), once, "{text:?}");
            }
        }
        assert!(checked > 1_000, "{checked}");
    }

    #[test]
    fn line_column_counts_characters() {
        let text = "ab\nçd X";
        assert_eq!(line_column(text, text.find('X').unwrap()), (2, 4));
        assert_eq!(line_column(text, 0), (1, 1));
    }
}
