//! Formatting never changes a checksum; any change SQLite would execute or store
//! differently does.
//!
//! Over every migration file of the corpus (`tests/corpus`), formatter-style rewrites
//! (one token per line, one line, random whitespace, keyword case, comments between
//! tokens, CRLF, a BOM) keep the checksum, and a change to one literal, name, keyword
//! or verbatim span (picked at random, seeded by the file's path) changes it. The
//! canonical text is unambiguous: it tokenizes back into the same tokens. And the
//! reason for the verbatim spans is checked with SQLite itself: a view's unaliased
//! column is named after its source text.

use std::path::{Path, PathBuf};

use migrate_runtime::checksum;
use migrate_runtime::sql::{self, Part, TokenKind};

fn corpus_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "sql") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus"),
        &mut files,
    );
    files.sort();
    files
}

/// The corpus files SQLite can tokenize (an illegal token, such as a `'` left open in
/// a broken down migration, may swallow the rest of the file).
fn corpus() -> Vec<(PathBuf, String)> {
    let files: Vec<_> = corpus_files()
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (path, text)
        })
        .collect();
    assert!(files.len() >= 700, "{}", files.len());
    let legal: Vec<_> = files
        .into_iter()
        .filter(|(_, text)| {
            sql::tokenize(text)
                .iter()
                .all(|t| t.kind != TokenKind::Illegal)
        })
        .collect();
    assert!(legal.len() >= 700, "{}", legal.len());
    legal
}

fn seed(path: &Path) -> u64 {
    // FNV-1a over the path inside the corpus, so runs are deterministic.
    let name = path.to_string_lossy();
    let name = name.split("tests/corpus").last().unwrap_or(&name);
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// How a rewrite lays out the text between two parts, and spells keywords.
struct Style {
    separator: fn(&mut fastrand::Rng) -> String,
    keyword: fn(&mut fastrand::Rng, &str) -> String,
    bom: bool,
}

fn same_case(_: &mut fastrand::Rng, k: &str) -> String {
    k.to_owned()
}

fn random_case(rng: &mut fastrand::Rng, k: &str) -> String {
    k.chars()
        .map(|c| {
            if rng.bool() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}

fn random_space(rng: &mut fastrand::Rng) -> String {
    const SPACES: &[&str] = &[" ", "  ", "\t", "\n", "\r\n", "\n    ", "\x0c", "\n\n"];
    (0..rng.usize(1..4))
        .map(|_| SPACES[rng.usize(..SPACES.len())])
        .collect()
}

fn random_comment(rng: &mut fastrand::Rng) -> String {
    const COMMENTS: &[&str] = &[
        " /* note */ ",
        " -- a comment; with a semicolon\n",
        "\n/* several\n   lines ; END */\n",
        " --\n",
        " /**/ ",
    ];
    if rng.u8(..3) == 0 {
        COMMENTS[rng.usize(..COMMENTS.len())].to_owned()
    } else {
        random_space(rng)
    }
}

/// The file rewritten part by part: keywords respelled, verbatim spans and other
/// tokens kept, a separator between all of them.
fn rewrite(text: &str, style: &Style, rng: &mut fastrand::Rng) -> String {
    let mut out = String::new();
    if style.bom {
        out.push('\u{feff}');
    }
    for statement in sql::statements(text) {
        for part in statement.parts() {
            match part {
                Part::Keyword(t) => out.push_str(&(style.keyword)(rng, t.text(statement.text))),
                Part::Token(t) => out.push_str(t.text(statement.text)),
                Part::Verbatim(r) => out.push_str(&statement.text[r]),
            }
            out.push_str(&(style.separator)(rng));
        }
        out.push(';');
        out.push_str(&(style.separator)(rng));
    }
    out
}

#[test]
fn formatting_keeps_every_checksum_of_the_corpus() {
    let styles: &[(&str, Style)] = &[
        (
            "one token per line",
            Style {
                separator: |_| "\n".into(),
                keyword: same_case,
                bom: false,
            },
        ),
        (
            "one line",
            Style {
                separator: |_| " ".into(),
                keyword: same_case,
                bom: false,
            },
        ),
        (
            "random whitespace",
            Style {
                separator: random_space,
                keyword: same_case,
                bom: false,
            },
        ),
        (
            "keywords in upper case",
            Style {
                separator: random_space,
                keyword: |_, k| k.to_ascii_uppercase(),
                bom: false,
            },
        ),
        (
            "keywords in lower case",
            Style {
                separator: |_| " ".into(),
                keyword: |_, k| k.to_ascii_lowercase(),
                bom: false,
            },
        ),
        (
            "comments between tokens, mixed-case keywords",
            Style {
                separator: random_comment,
                keyword: random_case,
                bom: false,
            },
        ),
        (
            "CRLF",
            Style {
                separator: |_| "\r\n".into(),
                keyword: same_case,
                bom: false,
            },
        ),
        (
            "a BOM",
            Style {
                separator: random_space,
                keyword: same_case,
                bom: true,
            },
        ),
    ];
    let mut checked = 0;
    for (path, text) in corpus() {
        let sum = checksum(&text);
        let mut rng = fastrand::Rng::with_seed(seed(&path));
        for (name, style) in styles {
            let rewritten = rewrite(&text, style, &mut rng);
            assert_eq!(
                checksum(&rewritten),
                sum,
                "{}: {name}\n--- canonical\n{}\n--- rewritten canonical\n{}",
                path.display(),
                sql::canonical(&text),
                sql::canonical(&rewritten)
            );
            checked += 1;
        }
        // The whole file with CRLF and a BOM, where no literal spans lines.
        let multiline_literal = sql::tokenize(&text)
            .iter()
            .any(|t| t.kind == TokenKind::String && t.text(&text).contains('\n'));
        if !multiline_literal && !has_verbatim_over_lines(&text) {
            let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
            assert_eq!(
                checksum(&format!("\u{feff}{crlf}")),
                sum,
                "{}",
                path.display()
            );
        }
    }
    assert!(checked >= 5_000, "{checked}");
}

fn has_verbatim_over_lines(text: &str) -> bool {
    sql::statements(text).iter().any(|s| {
        s.parts()
            .iter()
            .any(|p| matches!(p, Part::Verbatim(r) if s.text[r.clone()].contains('\n')))
    })
}

/// What a mutation changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Literal,
    Name,
    Keyword,
    Verbatim,
}

/// Byte ranges (in the file) and replacements that each change one thing SQLite sees.
fn mutations(text: &str) -> Vec<(Target, std::ops::Range<usize>, String)> {
    let mut out = Vec::new();
    for statement in sql::statements(text) {
        let at = |r: std::ops::Range<usize>| statement.offset + r.start..statement.offset + r.end;
        for part in statement.parts() {
            match part {
                Part::Keyword(t) => {
                    let other = if t.text(statement.text).eq_ignore_ascii_case("DISTINCT") {
                        "ALL"
                    } else {
                        "DISTINCT"
                    };
                    out.push((Target::Keyword, at(t.start..t.end), other.to_owned()));
                }
                Part::Token(t) => {
                    let s = t.text(statement.text);
                    let changed = match t.kind {
                        TokenKind::String | TokenKind::QuotedIdent => {
                            format!("{}x{}", &s[..1], &s[1..])
                        }
                        TokenKind::Blob => format!("{}00{}", &s[..2], &s[2..]),
                        TokenKind::Number if !s.starts_with('.') => format!("1{s}"),
                        // A name (or a soft keyword kept as written): its case matters.
                        TokenKind::Word if s.bytes().any(|b| b.is_ascii_alphabetic()) => {
                            let i = s.bytes().position(|b| b.is_ascii_alphabetic()).unwrap();
                            let c = s.as_bytes()[i];
                            let flipped = if c.is_ascii_lowercase() {
                                c.to_ascii_uppercase()
                            } else {
                                c.to_ascii_lowercase()
                            };
                            format!("{}{}{}", &s[..i], flipped as char, &s[i + 1..])
                        }
                        _ => continue,
                    };
                    let target = match t.kind {
                        TokenKind::Word | TokenKind::QuotedIdent => Target::Name,
                        _ => Target::Literal,
                    };
                    out.push((target, at(t.start..t.end), changed));
                }
                Part::Verbatim(r) => {
                    // One more space after the span's first token changes the text
                    // SQLite keeps (a view's column name).
                    let span = &statement.text[r.clone()];
                    let first = sql::tokenize(span)[0].end;
                    if first < span.len() {
                        out.push((
                            Target::Verbatim,
                            at(r.start + first..r.start + first),
                            " ".to_owned(),
                        ));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn changing_a_literal_name_keyword_or_verbatim_span_changes_the_checksum() {
    let mut counts = [0usize; 4];
    for (path, text) in corpus() {
        let sum = checksum(&text);
        let mut rng = fastrand::Rng::with_seed(seed(&path));
        let all = mutations(&text);
        for target in [
            Target::Literal,
            Target::Name,
            Target::Keyword,
            Target::Verbatim,
        ] {
            let candidates: Vec<_> = all.iter().filter(|m| m.0 == target).collect();
            for _ in 0..candidates.len().min(3) {
                let (_, range, replacement) = candidates[rng.usize(..candidates.len())];
                let mutated = format!(
                    "{}{replacement}{}",
                    &text[..range.start],
                    &text[range.end..]
                );
                assert_ne!(
                    checksum(&mutated),
                    sum,
                    "{}: {target:?} at {range:?} -> {replacement:?}",
                    path.display()
                );
                counts[target as usize] += 1;
            }
        }
    }
    // literals, names, keywords, verbatim spans
    assert!(counts[0] >= 500, "{counts:?}");
    assert!(counts[1] >= 1_500, "{counts:?}");
    assert!(counts[2] >= 1_500, "{counts:?}");
    assert!(counts[3] >= 10, "{counts:?}");
}

/// The tokens of `text` (no whitespace or comments), as strings.
fn token_texts(text: &str) -> Vec<String> {
    sql::tokenize(text)
        .iter()
        .filter(|t| !matches!(t.kind, TokenKind::Space | TokenKind::Comment))
        .map(|t| t.text(text).to_owned())
        .collect()
}

/// The tokens the canonical text of `text` must tokenize into: the statements'
/// tokens, keywords upper-cased, with `;` between statements.
fn expected_tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, statement) in sql::statements(text).iter().enumerate() {
        if i > 0 {
            out.push(";".to_owned());
        }
        for part in statement.parts() {
            match part {
                Part::Keyword(t) => out.push(t.text(statement.text).to_ascii_uppercase()),
                Part::Token(t) => out.push(t.text(statement.text).to_owned()),
                Part::Verbatim(r) => out.extend(token_texts(&statement.text[r])),
            }
        }
    }
    out
}

fn assert_unambiguous(text: &str, context: &str) {
    let canonical = sql::canonical(text);
    assert_eq!(token_texts(&canonical), expected_tokens(text), "{context}");
    assert_eq!(sql::canonical(&canonical), canonical, "{context}");
    assert_eq!(checksum(&canonical), checksum(text), "{context}");
}

#[test]
fn canonical_text_of_the_corpus_tokenizes_back_into_the_same_tokens() {
    for (path, text) in corpus() {
        assert_unambiguous(&text, &path.display().to_string());
    }
}

#[test]
fn canonical_text_of_random_token_sequences_tokenizes_back_into_the_same_tokens() {
    const TOKENS: &[&str] = &[
        "a",
        "b",
        "t",
        "key",
        "Key",
        "desc",
        "end",
        "END",
        "begin",
        "replace",
        "like",
        "cast",
        "current_date",
        "left",
        "join",
        "on",
        "conflict",
        "do",
        "update",
        "nothing",
        "select",
        "SELECT",
        "from",
        "as",
        "AS",
        "create",
        "view",
        "table",
        "trigger",
        "temp",
        "if",
        "not",
        "exists",
        "primary",
        "order",
        "by",
        "case",
        "when",
        "then",
        "else",
        "with",
        "1",
        "1.5e3",
        "0x1F",
        ".5",
        "'s'",
        "'it''s'",
        "'a  b'",
        "''",
        "\"q\"",
        "\"a b\"",
        "[x y]",
        "`c`",
        "x'AB'",
        "?1",
        ":name",
        "@p",
        "$v",
        "(",
        ")",
        ",",
        ".",
        "-",
        "--x",
        "/",
        "*",
        "+",
        "||",
        "<",
        "<=",
        "<>",
        ">",
        ">>",
        "=",
        "==",
        "!=",
        "->",
        "->>",
        "~",
        "&",
        "|",
        "%",
        "é",
    ];
    const PREFIXES: &[&str] = &[
        "",
        "CREATE VIEW v AS SELECT",
        "create table t as select",
        "CREATE TABLE t (",
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN",
        "CREATE VIRTUAL TABLE f USING fts5(",
    ];
    let mut rng = fastrand::Rng::with_seed(11);
    for round in 0..10_000 {
        let prefix = PREFIXES[rng.usize(..PREFIXES.len())];
        let mut text = prefix.to_owned();
        for _ in 0..rng.usize(1..30) {
            text.push_str(&random_comment(&mut rng));
            let token = TOKENS[rng.usize(..TOKENS.len())];
            // "--x" stands for two minus signs, never a comment
            text.push_str(if token == "--x" { "- -" } else { token });
        }
        if sql::tokenize(&text)
            .iter()
            .any(|t| matches!(t.kind, TokenKind::Illegal | TokenKind::Semi))
        {
            continue;
        }
        assert_unambiguous(&text, &format!("round {round}: {text:?}"));
    }
}

/// The column names of `table` after running `sql` in a fresh database.
fn columns(sql: &str, table: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(sql).unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_xinfo(?1) ORDER BY cid")
        .unwrap();
    stmt.query_map([table], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Pairs of migrations that differ only in layout, keyword case or comments: the
/// checksums are equal exactly when SQLite gives the view (or table) the same
/// column names.
#[test]
fn checksums_differ_exactly_when_view_column_names_differ() {
    const T: &str = "CREATE TABLE t (a INTEGER, b INTEGER);\n";
    let cases: &[(&str, &str, &str, bool)] = &[
        // unaliased expressions: the name is the source text
        (
            "CREATE VIEW v AS SELECT a+b, a FROM t",
            "CREATE VIEW v AS SELECT a + b, a FROM t",
            "v",
            false,
        ),
        (
            "CREATE VIEW v AS SELECT a + b FROM t",
            "create view v as\nselect a\n     + b\nfrom t",
            "v",
            false,
        ),
        (
            "CREATE VIEW v AS SELECT a + /* sum */ b FROM t",
            "CREATE VIEW v AS SELECT a + b FROM t",
            "v",
            false,
        ),
        (
            "CREATE VIEW v AS SELECT current_date, null FROM t",
            "CREATE VIEW v AS SELECT CURRENT_DATE, NULL FROM t",
            "v",
            false,
        ),
        (
            "CREATE VIEW v AS SELECT * FROM (SELECT a+b FROM t)",
            "CREATE VIEW v AS SELECT * FROM (SELECT a + b FROM t)",
            "v",
            false,
        ),
        (
            "CREATE VIEW v AS WITH c AS (SELECT a*2 FROM t) SELECT * FROM c",
            "CREATE VIEW v AS WITH c AS (SELECT a * 2 FROM t) SELECT * FROM c",
            "v",
            false,
        ),
        (
            "CREATE TABLE c AS SELECT a+b, max(a) FROM t",
            "create table c as select a + b, max( a ) from t",
            "c",
            false,
        ),
        // aliased, a column list, or plain column names: the layout does not show
        (
            "CREATE VIEW v AS SELECT a+b AS total, a FROM t",
            "create view v as\n  select a + b as total,\n         a\n  from t",
            "v",
            true,
        ),
        (
            "CREATE VIEW v AS SELECT a+b total, 'x' || a \"label\" FROM t",
            "CREATE VIEW v AS SELECT a + b  total, 'x'||a \"label\" FROM t",
            "v",
            true,
        ),
        (
            "CREATE VIEW v (sum, a) AS SELECT a+b, a FROM t",
            "CREATE VIEW v(sum,a) AS SELECT a + b, a FROM t -- listed",
            "v",
            true,
        ),
        (
            "CREATE VIEW v AS SELECT t.a, b, * FROM t",
            "create view v as select t . a , b , * from t",
            "v",
            true,
        ),
        (
            "CREATE TABLE c AS SELECT a+b AS s FROM t",
            "create table c as select a + b as s from t",
            "c",
            true,
        ),
    ];
    for (before, after, table, same) in cases {
        let (before, after) = (format!("{T}{before};"), format!("{T}{after};"));
        let names = (columns(&before, table), columns(&after, table));
        assert_eq!(names.0 == names.1, *same, "{before}\n{after}\n{names:?}");
        assert_eq!(
            checksum(&before) == checksum(&after),
            *same,
            "{before}\n{after}\n{}\n{}",
            sql::canonical(&before),
            sql::canonical(&after)
        );
    }
}

/// Upper-casing what the canonical form calls a keyword never renames anything: the
/// canonical text, executed, gives the same tables, views and column names as the
/// original, for names spelled like SQLite's soft keywords.
#[test]
fn soft_keywords_used_as_names_keep_their_case() {
    let sql = "CREATE TABLE key (key TEXT, desc TEXT, end INTEGER, replace TEXT, \"if\" INT, \
               generated TEXT, current TEXT, action TEXT, window INT, over INT, filter INT, \
               rows INT, left INT, no INT);
         CREATE INDEX desc ON key (desc DESC, end);
         CREATE VIEW view AS SELECT key, desc, end AS begin, replace(replace, 'a', 'b') AS r, \
               left, window, over, filter FROM key WHERE key LIKE 'a%' ORDER BY desc DESC;
         CREATE TRIGGER after AFTER INSERT ON key FOR EACH ROW WHEN new.end > 0 BEGIN \
               UPDATE key SET end = CASE WHEN end THEN 1 ELSE end END WHERE key = new.key; END;
         ALTER TABLE key RENAME COLUMN action TO cascade;
         ALTER TABLE key ADD COLUMN query TEXT;";
    let lower = sql.to_ascii_lowercase();
    for text in [sql, &lower] {
        let canonical = sql::canonical(text);
        for table in ["key", "view"] {
            assert_eq!(
                columns(text, table),
                columns(&canonical, table),
                "{canonical}"
            );
        }
        let names = |sql: &str| {
            let conn = rusqlite::Connection::open_in_memory().unwrap();
            conn.execute_batch(sql).unwrap();
            let mut stmt = conn
                .prepare("SELECT type, name, tbl_name FROM sqlite_master ORDER BY name")
                .unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .collect::<Result<Vec<(String, String, String)>, _>>()
                .unwrap()
        };
        assert_eq!(names(text), names(&canonical), "{canonical}");
    }
    assert_ne!(checksum(sql), checksum(&lower));
}
