//! SQL as SQLite reads it: its tokens (`token.rs`, after `tokenize.c`) and its
//! statements (after `complete.c`).
//!
//! The statements are found without ever splitting on a bare `;`: semicolons inside
//! string literals, quoted identifiers, comments and `CREATE TRIGGER … BEGIN … END`
//! bodies stay inside their statement, and a last statement without `;` counts.
//! The checksum's canonical text and the transaction-statement check are built on it.

mod canonical;
mod token;

pub use canonical::{HARD, Part, SOFT};
pub use token::{Token, TokenKind, tokenize, tokens};

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
