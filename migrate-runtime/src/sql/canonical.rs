//! The canonical form of a statement, the text the checksum hashes (see
//! [`checksum`](crate::checksum())): its tokens joined by one space, keywords in upper
//! case, and the few spans whose exact text SQLite keeps (result column names of
//! views, arguments of virtual tables) byte for byte.
//!
//! Deciding whether a word is a keyword takes some care: SQLite lets most of its
//! keywords serve as names (`%fallback ID` in `parse.y`, plus `JOIN_KW`, `INDEXED` and
//! the context-sensitive `WINDOW`, `OVER`, `FILTER` of `tokenize.c`), and the case of a
//! name shows (column names, `SELECT *`). So the always-keywords ([`HARD`]) are always
//! upper-cased, and the others ([`SOFT`]) only in the local contexts below where the
//! grammar leaves no other reading; anywhere else they keep their case, which can only
//! make a checksum stricter.

use std::ops::Range;

use super::{Token, TokenKind};

/// SQLite's keywords that are never names (`mkkeywordhash.c` minus [`SOFT`]), sorted.
pub const HARD: &[&str] = &[
    "ADD",
    "ALL",
    "ALTER",
    "AND",
    "AS",
    "AUTOINCREMENT",
    "BETWEEN",
    "CASE",
    "CHECK",
    "COLLATE",
    "COMMIT",
    "CONSTRAINT",
    "CREATE",
    "DEFAULT",
    "DEFERRABLE",
    "DELETE",
    "DISTINCT",
    "DROP",
    "ELSE",
    "ESCAPE",
    "EXCEPT",
    "EXISTS",
    "FOREIGN",
    "FROM",
    "GROUP",
    "HAVING",
    "IN",
    "INDEX",
    "INSERT",
    "INTERSECT",
    "INTO",
    "IS",
    "ISNULL",
    "JOIN",
    "LIMIT",
    "NOT",
    "NOTHING",
    "NOTNULL",
    "NULL",
    "ON",
    "OR",
    "ORDER",
    "PRIMARY",
    "REFERENCES",
    "RETURNING",
    "SELECT",
    "SET",
    "TABLE",
    "THEN",
    "TO",
    "TRANSACTION",
    "UNION",
    "UNIQUE",
    "UPDATE",
    "USING",
    "VALUES",
    "WHEN",
    "WHERE",
];

/// SQLite's keywords that can also be names, sorted: the `%fallback ID` list of
/// `parse.y` (with `LIKE_KW` = `LIKE`, `GLOB`, `REGEXP`, `COLUMNKW` = `COLUMN`,
/// `CTIME_KW` = `CURRENT_DATE`, `CURRENT_TIME`, `CURRENT_TIMESTAMP`, and `TEMPORARY`
/// for `TEMP`), the `JOIN_KW` words and `INDEXED` (names through `nm ::= idj`), and
/// `WINDOW`, `OVER`, `FILTER`, which the tokenizer turns into names by context.
pub const SOFT: &[&str] = &[
    "ABORT",
    "ACTION",
    "AFTER",
    "ALWAYS",
    "ANALYZE",
    "ASC",
    "ATTACH",
    "BEFORE",
    "BEGIN",
    "BY",
    "CASCADE",
    "CAST",
    "COLUMN",
    "CONFLICT",
    "CROSS",
    "CURRENT",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "DATABASE",
    "DEFERRED",
    "DESC",
    "DETACH",
    "DO",
    "EACH",
    "END",
    "EXCLUDE",
    "EXCLUSIVE",
    "EXPLAIN",
    "FAIL",
    "FILTER",
    "FIRST",
    "FOLLOWING",
    "FOR",
    "FULL",
    "GENERATED",
    "GLOB",
    "GROUPS",
    "IF",
    "IGNORE",
    "IMMEDIATE",
    "INDEXED",
    "INITIALLY",
    "INNER",
    "INSTEAD",
    "KEY",
    "LAST",
    "LEFT",
    "LIKE",
    "MATCH",
    "MATERIALIZED",
    "NATURAL",
    "NO",
    "NULLS",
    "OF",
    "OFFSET",
    "OTHERS",
    "OUTER",
    "OVER",
    "PARTITION",
    "PLAN",
    "PRAGMA",
    "PRECEDING",
    "QUERY",
    "RAISE",
    "RANGE",
    "RECURSIVE",
    "REGEXP",
    "REINDEX",
    "RELEASE",
    "RENAME",
    "REPLACE",
    "RESTRICT",
    "RIGHT",
    "ROLLBACK",
    "ROW",
    "ROWS",
    "SAVEPOINT",
    "TEMP",
    "TEMPORARY",
    "TIES",
    "TRIGGER",
    "UNBOUNDED",
    "VACUUM",
    "VIEW",
    "VIRTUAL",
    "WINDOW",
    "WITH",
    "WITHOUT",
];

/// One unit of a statement's canonical form; units are joined by one space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// A keyword, written in upper case (ASCII).
    Keyword(Token),
    /// Any other token (a name, literal, operator…), written as is.
    Token(Token),
    /// Source text kept byte for byte, whitespace and comments included: the byte
    /// range (in the statement's text) from the first to the last token of an unaliased
    /// result column of a view or `CREATE TABLE … AS`, or of one argument of a
    /// virtual table.
    Verbatim(Range<usize>),
}

/// What a pair of parentheses holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Paren {
    Top,
    /// Expressions: grouping, function arguments, `IN (…)`, `VALUES (…)`, `CAST (…)`.
    Expr,
    /// Names: column lists, a `FROM` group…
    Names,
    /// The column definitions of `CREATE TABLE`.
    ColumnDefs,
    /// A sort list: the columns of an index, `PRIMARY KEY (…)`, `UNIQUE (…)`.
    Sort,
    /// A window definition, `OVER (…)`.
    Window,
}

/// The clause a token is in, within its parentheses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Clause {
    None,
    /// The result columns of a `SELECT` (or `RETURNING`).
    Result,
    /// Any other comma-separated list of expressions.
    ExprList,
    /// `ORDER BY` or a sort list (`ASC`/`DESC` allowed).
    OrderBy,
    /// A single expression: `WHERE`, `HAVING`, `ON`, a trigger's `WHEN`.
    Expr,
    Names,
    Set,
    Values,
    Limit,
}

struct Frame {
    paren: Paren,
    clause: Clause,
    cases: u32,
}

fn is_operator(text: &str) -> bool {
    matches!(
        text,
        "=" | "=="
            | "!="
            | "<>"
            | "<"
            | ">"
            | "<="
            | ">="
            | "+"
            | "-"
            | "*"
            | "/"
            | "%"
            | "||"
            | "&"
            | "|"
            | "<<"
            | ">>"
            | "~"
            | "->"
            | "->>"
    )
}

/// Hard keywords after which an expression starts.
const BEFORE_EXPR: &[&str] = &[
    "AND",
    "BETWEEN",
    "CASE",
    "DEFAULT",
    "DISTINCT",
    "ELSE",
    "ESCAPE",
    "HAVING",
    "IS",
    "LIMIT",
    "NOT",
    "OR",
    "RETURNING",
    "SELECT",
    "THEN",
    "WHEN",
    "WHERE",
];

struct Analysis<'a> {
    text: &'a str,
    tokens: &'a [Token],
    /// The keyword each token is, if it is an unquoted word spelling one.
    keyword: Vec<Option<&'static str>>,
    upper: Vec<bool>,
    /// For each `(`, the index of its `)`.
    close: Vec<Option<usize>>,
    frames: Vec<Frame>,
    /// The `(` of `CREATE TABLE`'s column definitions, and its `)`.
    column_defs: Option<(usize, usize)>,
    /// The `(` of `CREATE INDEX`'s columns.
    index_columns: Option<usize>,
    /// The position of the column name in `ALTER TABLE … ADD [COLUMN]`.
    added_column: Option<usize>,
    /// Token ranges kept verbatim.
    verbatim: Vec<Range<usize>>,
}

fn find_keyword(word: &str) -> Option<&'static str> {
    if word.len() > 17 || !word.is_ascii() {
        return None;
    }
    let upper = word.to_ascii_uppercase();
    let find = |list: &[&'static str]| list.binary_search(&upper.as_str()).ok().map(|i| list[i]);
    find(HARD).or_else(|| find(SOFT))
}

impl<'a> Analysis<'a> {
    fn new(text: &'a str, tokens: &'a [Token]) -> Self {
        let keyword: Vec<_> = tokens
            .iter()
            .map(|t| {
                if t.kind == TokenKind::Word {
                    find_keyword(t.text(text))
                } else {
                    None
                }
            })
            .collect();
        let mut close = vec![None; tokens.len()];
        let mut open = Vec::new();
        for (i, t) in tokens.iter().enumerate() {
            match (t.kind, t.text(text)) {
                (TokenKind::Punct, "(") => open.push(i),
                (TokenKind::Punct, ")") => {
                    if let Some(o) = open.pop() {
                        close[o] = Some(i);
                    }
                }
                _ => {}
            }
        }
        let upper = keyword
            .iter()
            .map(|k| k.is_some_and(|k| HARD.binary_search(&k).is_ok()))
            .collect();
        Analysis {
            text,
            tokens,
            keyword,
            upper,
            close,
            frames: Vec::new(),
            column_defs: None,
            index_columns: None,
            added_column: None,
            verbatim: Vec::new(),
        }
    }

    fn kw(&self, i: usize) -> Option<&'static str> {
        self.keyword.get(i).copied().flatten()
    }

    fn is(&self, i: usize, keyword: &str) -> bool {
        self.kw(i) == Some(keyword)
    }

    /// Token `i` is `keyword` and was found to be a keyword.
    fn is_kw(&self, i: usize, keyword: &str) -> bool {
        self.is(i, keyword) && self.upper[i]
    }

    fn before_is_kw(&self, i: usize, back: usize, keyword: &str) -> bool {
        i.checked_sub(back).is_some_and(|j| self.is_kw(j, keyword))
    }

    fn punct(&self, i: usize, text: &str) -> bool {
        self.tokens
            .get(i)
            .is_some_and(|t| t.kind == TokenKind::Punct && t.text(self.text) == text)
    }

    fn kind(&self, i: usize) -> Option<TokenKind> {
        self.tokens.get(i).map(|t| t.kind)
    }

    fn word_text_is(&self, i: usize, word: &str) -> bool {
        self.tokens.get(i).is_some_and(|t| {
            t.kind == TokenKind::Word && t.text(self.text).eq_ignore_ascii_case(word)
        })
    }

    fn set(&mut self, i: usize) {
        if i < self.upper.len() && self.keyword[i].is_some() {
            self.upper[i] = true;
        }
    }

    /// A token that can stand for a name (`ID` to SQLite's tokenizer).
    fn is_id(&self, i: usize) -> bool {
        match self.kind(i) {
            Some(TokenKind::QuotedIdent) => true,
            Some(TokenKind::Word) => self.kw(i).is_none_or(|k| SOFT.contains(&k)),
            _ => false,
        }
    }

    /// Index just past a name, `name` or `schema.name`, that starts at `i`.
    fn name_end(&self, i: usize) -> usize {
        if self.punct(i + 1, ".") { i + 3 } else { i + 1 }
    }

    /// Whether token `j` ends an expression: a literal, a name, `)`, or the keywords
    /// `NULL`, `CURRENT_*` and a `CASE`'s `END`.
    fn expr_end(&self, j: usize) -> bool {
        match self.kind(j) {
            Some(
                TokenKind::Number
                | TokenKind::String
                | TokenKind::QuotedIdent
                | TokenKind::Blob
                | TokenKind::Variable,
            ) => true,
            Some(TokenKind::Punct) => self.punct(j, ")"),
            Some(TokenKind::Word) => match self.kw(j) {
                None => !self.upper[j],
                Some(k) if self.upper[j] => matches!(
                    k,
                    "NULL" | "END" | "CURRENT_DATE" | "CURRENT_TIME" | "CURRENT_TIMESTAMP"
                ),
                Some(_) => true,
            },
            _ => false,
        }
    }

    /// The same, counting a soft keyword kept as written as no expression end.
    fn certain_expr_end(&self, j: usize) -> bool {
        self.expr_end(j) && (self.kw(j).is_none() || self.upper[j])
    }

    fn frame(&self) -> &Frame {
        self.frames.last().expect("the top frame is never popped")
    }

    /// Whether an expression starts at token `i`.
    fn expr_start(&self, i: usize) -> bool {
        let Some(p) = i.checked_sub(1) else {
            return false;
        };
        let t = self.tokens[p];
        match t.kind {
            TokenKind::Punct => match t.text(self.text) {
                "(" => matches!(self.frame().paren, Paren::Expr | Paren::Sort),
                "," => matches!(
                    self.frame().clause,
                    Clause::Result | Clause::ExprList | Clause::OrderBy | Clause::Limit
                ),
                op => is_operator(op),
            },
            TokenKind::Word if self.upper[p] => {
                let k = self.kw(p).unwrap_or("");
                BEFORE_EXPR.contains(&k)
                    || (k == "BY"
                        && (self.before_is_kw(p, 1, "ORDER")
                            || self.before_is_kw(p, 1, "GROUP")
                            || self.before_is_kw(p, 1, "PARTITION")))
                    || matches!(k, "LIKE" | "GLOB" | "MATCH" | "REGEXP" | "OFFSET")
            }
            _ => false,
        }
    }

    /// Whether `i` is where a column definition starts (its name).
    fn column_name_position(&self, i: usize) -> bool {
        if self.added_column == Some(i) {
            return true;
        }
        self.frame().paren == Paren::ColumnDefs
            && i.checked_sub(1)
                .is_some_and(|p| self.punct(p, "(") || self.punct(p, ","))
    }

    /// Whether `i` is in a column definition (of `CREATE TABLE` or `ADD COLUMN`).
    fn in_column_def(&self) -> bool {
        self.frame().paren == Paren::ColumnDefs || self.added_column.is_some()
    }

    /// Statement-level rules: the statement's first words, the headers of `CREATE`,
    /// `DROP`, `ALTER TABLE` and triggers, and the starts of statements in a trigger.
    fn statement(&mut self) {
        let mut s = 0;
        if self.is(0, "EXPLAIN") {
            self.set(0);
            s = 1;
            if self.is(1, "QUERY") && self.is(2, "PLAN") {
                self.set(1);
                self.set(2);
                s = 3;
            }
        }
        let Some(first) = self.kw(s) else {
            return;
        };
        match first {
            "BEGIN" => {
                self.set(s);
                if matches!(self.kw(s + 1), Some("DEFERRED" | "IMMEDIATE" | "EXCLUSIVE")) {
                    self.set(s + 1);
                }
            }
            "ROLLBACK" => {
                self.set(s);
                if let Some(to) = (s + 1..self.tokens.len()).find(|&i| self.is(i, "TO"))
                    && self.is(to + 1, "SAVEPOINT")
                    && to + 2 < self.tokens.len()
                {
                    self.set(to + 1);
                }
            }
            "RELEASE" => {
                self.set(s);
                if self.is(s + 1, "SAVEPOINT") && s + 2 < self.tokens.len() {
                    self.set(s + 1);
                }
            }
            "ATTACH" | "DETACH" => {
                self.set(s);
                if self.is(s + 1, "DATABASE") {
                    self.set(s + 1);
                }
            }
            "END" | "SAVEPOINT" | "PRAGMA" | "VACUUM" | "ANALYZE" | "REINDEX" | "REPLACE"
            | "WITH" => self.set(s),
            "CREATE" => self.create(s),
            "DROP" => {
                if matches!(self.kw(s + 1), Some("VIEW" | "TRIGGER")) {
                    self.set(s + 1);
                }
                if self.is(s + 2, "IF") && self.is(s + 3, "EXISTS") {
                    self.set(s + 2);
                }
            }
            "ALTER" if self.is(s + 1, "TABLE") => {
                let p = self.name_end(s + 2);
                if self.is(p, "RENAME") {
                    self.set(p);
                }
                let verb = self.kw(p);
                let mut column = p + 1;
                if matches!(verb, Some("RENAME" | "ADD" | "DROP")) && self.is(p + 1, "COLUMN") {
                    self.set(p + 1);
                    column += 1;
                }
                if verb == Some("ADD") {
                    self.added_column = Some(column);
                }
            }
            _ => {}
        }
    }

    fn create(&mut self, s: usize) {
        let mut j = s + 1;
        if matches!(self.kw(j), Some("TEMP" | "TEMPORARY")) {
            self.set(j);
            j += 1;
        }
        if self.is(j, "UNIQUE") {
            j += 1;
        }
        let virtual_table = self.is(j, "VIRTUAL") && self.is(j + 1, "TABLE");
        if virtual_table {
            self.set(j);
            j += 1;
        }
        let Some(object @ ("TABLE" | "VIEW" | "INDEX" | "TRIGGER")) = self.kw(j) else {
            return;
        };
        self.set(j);
        j += 1;
        if self.is(j, "IF") && self.is(j + 1, "NOT") && self.is(j + 2, "EXISTS") {
            self.set(j);
            j += 3;
        }
        let name_end = self.name_end(j);
        match object {
            "TABLE" if virtual_table => {
                // USING module ( arguments ): each argument's text goes to the module.
                if self.is(name_end, "USING")
                    && self.punct(name_end + 2, "(")
                    && let Some(close) = self.close[name_end + 2]
                {
                    self.arguments(name_end + 3, close);
                }
            }
            "TABLE" if self.is(name_end, "AS") => self.result_columns(name_end + 1),
            "TABLE" if self.punct(name_end, "(") => {
                if let Some(close) = self.close[name_end] {
                    self.column_defs = Some((name_end, close));
                }
            }
            "VIEW" if self.is(name_end, "AS") => self.result_columns(name_end + 1),
            "INDEX" if self.is(name_end, "ON") => {
                let paren = self.name_end(name_end + 1);
                if self.punct(paren, "(") {
                    self.index_columns = Some(paren);
                }
            }
            "TRIGGER" => self.trigger(name_end),
            _ => {}
        }
    }

    /// `[BEFORE|AFTER|INSTEAD OF] event ON table [FOR EACH ROW] [WHEN …] BEGIN … END`.
    fn trigger(&mut self, mut j: usize) {
        match self.kw(j) {
            Some("BEFORE" | "AFTER") => {
                self.set(j);
                j += 1;
            }
            Some("INSTEAD") if self.is(j + 1, "OF") => {
                self.set(j);
                self.set(j + 1);
                j += 2;
            }
            _ => {}
        }
        if self.is(j, "UPDATE") && self.is(j + 1, "OF") {
            self.set(j + 1);
        }
        let Some(on) = (j..self.tokens.len()).find(|&i| self.is(i, "ON")) else {
            return;
        };
        let after = self.name_end(on + 1);
        if self.is(after, "FOR") && self.is(after + 1, "EACH") && self.is(after + 2, "ROW") {
            for k in after..after + 3 {
                self.set(k);
            }
        }
        const BODY_START: &[&str] = &["UPDATE", "INSERT", "DELETE", "SELECT", "REPLACE", "WITH"];
        let begin = (after..self.tokens.len()).find(|&i| {
            self.is(i, "BEGIN")
                && !self.punct(i - 1, ".")
                && self.kw(i + 1).is_some_and(|k| BODY_START.contains(&k))
        });
        let Some(begin) = begin else {
            return;
        };
        self.set(begin);
        let last = self.tokens.len() - 1;
        if self.is(last, "END") && self.kind(last - 1) == Some(TokenKind::Semi) {
            self.set(last);
        }
        let mut start = begin + 1;
        loop {
            if matches!(self.kw(start), Some("REPLACE" | "WITH")) {
                self.set(start);
            }
            match (start..last).find(|&i| self.tokens[i].kind == TokenKind::Semi) {
                Some(semi) => start = semi + 1,
                None => break,
            }
        }
    }

    /// Each argument of a virtual table, from `first` to the `)` at `close`.
    fn arguments(&mut self, first: usize, close: usize) {
        let mut start = first;
        let mut depth = 0usize;
        for i in first..=close {
            if self.punct(i, "(") {
                depth += 1;
            } else if self.punct(i, ")") && depth > 0 {
                depth -= 1;
            } else if depth == 0 && (i == close || self.punct(i, ",")) {
                if i > start {
                    self.verbatim.push(start..i);
                }
                start = i + 1;
            }
        }
    }

    /// Marks verbatim the unaliased result columns of every `SELECT` from `from` on,
    /// in a view or `CREATE TABLE … AS`, whose name SQLite takes from their text.
    fn result_columns(&mut self, from: usize) {
        let n = self.tokens.len();
        let mut depth = vec![0usize; n + 1];
        let mut d = 0usize;
        for (i, slot) in depth.iter_mut().enumerate().take(n) {
            if self.punct(i, ")") {
                d = d.saturating_sub(1);
            }
            *slot = d;
            if self.punct(i, "(") {
                d += 1;
            }
        }
        const END: &[&str] = &[
            "FROM",
            "WHERE",
            "GROUP",
            "HAVING",
            "WINDOW",
            "ORDER",
            "LIMIT",
            "UNION",
            "INTERSECT",
            "EXCEPT",
        ];
        for s in from..n {
            if !self.is(s, "SELECT") {
                continue;
            }
            let level = depth[s];
            let mut start = s + 1;
            if matches!(self.kw(start), Some("DISTINCT" | "ALL")) {
                start += 1;
            }
            let mut i = start;
            loop {
                let at_end = i >= n
                    || depth[i] < level
                    || (depth[i] == level
                        && (self.punct(i, ",")
                            || self.kw(i).is_some_and(|k| END.contains(&k))
                            || self.kind(i) == Some(TokenKind::Semi)));
                if at_end {
                    if i > start && self.named_by_text(start, i) {
                        self.verbatim.push(start..i);
                    }
                    if i < n && self.punct(i, ",") && depth[i] == level {
                        start = i + 1;
                    } else {
                        break;
                    }
                }
                i += 1;
            }
        }
    }

    /// Whether the result column `start..end` is named after its text: it has no alias
    /// for certain and is not `*`, `t.*` or a (dotted) column name.
    fn named_by_text(&self, start: usize, end: usize) -> bool {
        let len = end - start;
        let last = end - 1;
        let alias_token = |i: usize| {
            matches!(
                self.kind(i),
                Some(TokenKind::QuotedIdent | TokenKind::String)
            ) || (self.kind(i) == Some(TokenKind::Word) && self.kw(i).is_none())
        };
        if len >= 3
            && self.is(last - 1, "AS")
            && matches!(
                self.kind(last),
                Some(TokenKind::Word | TokenKind::QuotedIdent | TokenKind::String)
            )
        {
            return false;
        }
        if len >= 2 && alias_token(last) && self.certain_expr_end(last - 1) {
            return false;
        }
        // `*`, `name`, `a.b`, `a.b.c`, `a.*`
        let name = |i: usize| {
            self.kind(i) == Some(TokenKind::QuotedIdent)
                || (self.kind(i) == Some(TokenKind::Word)
                    && self
                        .kw(i)
                        .is_none_or(|k| SOFT.contains(&k) && !k.starts_with("CURRENT_")))
        };
        let star = |i: usize| self.punct(i, "*");
        let plain = match len {
            1 => star(start) || name(start),
            3 | 5 => {
                (start..last).step_by(2).all(name)
                    && (start + 1..last).step_by(2).all(|i| self.punct(i, "."))
                    && (name(last) || (len == 3 && star(last)))
            }
            _ => false,
        };
        !plain
    }

    /// The expression and clause rules, left to right.
    fn walk(&mut self) {
        self.frames.push(Frame {
            paren: Paren::Top,
            clause: Clause::None,
            cases: 0,
        });
        for i in 0..self.tokens.len() {
            let t = self.tokens[i];
            match t.kind {
                TokenKind::Punct if t.text(self.text) == "(" => {
                    let paren = self.paren_kind(i);
                    let clause = match paren {
                        Paren::Expr => Clause::ExprList,
                        Paren::Sort => Clause::OrderBy,
                        Paren::Names | Paren::ColumnDefs => Clause::Names,
                        Paren::Top | Paren::Window => Clause::None,
                    };
                    self.frames.push(Frame {
                        paren,
                        clause,
                        cases: 0,
                    });
                }
                TokenKind::Punct if t.text(self.text) == ")" && self.frames.len() > 1 => {
                    self.frames.pop();
                }
                TokenKind::Semi => self.frames.last_mut().expect("top").clause = Clause::None,
                TokenKind::Word => self.word(i),
                _ => {}
            }
        }
    }

    fn paren_kind(&self, i: usize) -> Paren {
        if self.column_defs.is_some_and(|(open, _)| open == i) {
            return Paren::ColumnDefs;
        }
        if self.index_columns == Some(i) {
            return Paren::Sort;
        }
        let Some(p) = i.checked_sub(1) else {
            return Paren::Expr;
        };
        if self.is_kw(p, "OVER") {
            return Paren::Window;
        }
        if self.punct(p, ",") && self.frame().clause == Clause::Values {
            return Paren::Expr;
        }
        if self.is_kw(p, "AS") && self.before_is_kw(p, 2, "WINDOW") {
            return Paren::Window;
        }
        if self.is(p, "UNIQUE") || (self.is_kw(p, "KEY") && self.before_is_kw(p, 1, "PRIMARY")) {
            return Paren::Sort;
        }
        let expr = self.expr_start(i)
            || self.kw(p).is_some_and(|k| {
                self.upper[p]
                    && matches!(
                        k,
                        "CHECK" | "VALUES" | "IN" | "EXISTS" | "AS" | "CAST" | "RAISE" | "FILTER"
                    )
            })
            || (self.is_id(p) && !self.upper[p] && self.expr_start(p));
        if expr { Paren::Expr } else { Paren::Names }
    }

    fn set_clause(&mut self, clause: Clause) {
        self.frames.last_mut().expect("top").clause = clause;
    }

    fn word(&mut self, i: usize) {
        let Some(k) = self.kw(i) else {
            self.plain_word(i);
            return;
        };
        if !self.upper[i] && self.soft_is_keyword(i, k) {
            self.upper[i] = true;
        }
        if !self.upper[i] {
            return;
        }
        let cases = self.frame().cases;
        match k {
            "SELECT" | "RETURNING" => self.set_clause(Clause::Result),
            "FROM" | "INTO" | "JOIN" | "TABLE" => self.set_clause(Clause::Names),
            "UPDATE" => self.set_clause(Clause::Names),
            "WHERE" | "HAVING" => self.set_clause(Clause::Expr),
            "ON" | "WHEN" if cases == 0 => self.set_clause(Clause::Expr),
            "SET" => self.set_clause(Clause::Set),
            "VALUES" => self.set_clause(Clause::Values),
            "LIMIT" => self.set_clause(Clause::Limit),
            "BY" if self.before_is_kw(i, 1, "ORDER") => self.set_clause(Clause::OrderBy),
            "BY" => self.set_clause(Clause::ExprList),
            "UNION" | "INTERSECT" | "EXCEPT" | "WINDOW" | "DELETE" | "INSERT" | "DO" => {
                self.set_clause(Clause::None);
            }
            "CASE" => self.frames.last_mut().expect("top").cases += 1,
            "END" if cases > 0 => self.frames.last_mut().expect("top").cases -= 1,
            _ => {}
        }
    }

    /// Words that are no keywords but that SQLite compares without regard to case in
    /// fixed positions: `WITHOUT ROWID`, `STRICT`, a generated column's `STORED`.
    fn plain_word(&mut self, i: usize) {
        let Some(p) = i.checked_sub(1) else {
            return;
        };
        if (self.word_text_is(i, "ROWID") && self.is_kw(p, "WITHOUT"))
            || (self.word_text_is(i, "STRICT") && self.table_option(i))
            || (self.word_text_is(i, "STORED") && self.after_generated(i))
        {
            self.upper[i] = true;
        }
    }

    /// Whether `i` is where a table option goes, after `CREATE TABLE`'s `)`.
    fn table_option(&self, i: usize) -> bool {
        let Some((_, close)) = self.column_defs else {
            return false;
        };
        i > close && self.frames.len() == 1 && (i == close + 1 || self.punct(i - 1, ","))
    }

    /// Whether `i` follows a generated column's `AS ( … )`.
    fn after_generated(&self, i: usize) -> bool {
        if !self.in_column_def() || !self.punct(i - 1, ")") {
            return false;
        }
        (0..i - 1)
            .rev()
            .find(|&o| self.close[o] == Some(i - 1))
            .is_some_and(|o| o > 0 && self.is_kw(o - 1, "AS"))
    }

    /// Whether the soft keyword `k` at `i` is a keyword here, for certain.
    #[allow(clippy::too_many_lines)]
    fn soft_is_keyword(&self, i: usize, k: &str) -> bool {
        let prev = |word: &str| self.before_is_kw(i, 1, word);
        let prev2 = |word: &str| self.before_is_kw(i, 2, word);
        let next = |word: &str| self.is(i + 1, word);
        let next_punct = |p: &str| self.punct(i + 1, p);
        let frame = self.frame();
        let window = frame.paren == Paren::Window;
        let expr_end_before = i > 0 && self.expr_end(i - 1);
        let list_end = i + 1 >= self.tokens.len()
            || next_punct(",")
            || next_punct(")")
            || self.kind(i + 1) == Some(TokenKind::Semi);
        match k {
            "KEY" => prev("PRIMARY") || prev("FOREIGN"),
            "ASC" | "DESC" => {
                (prev("KEY") && prev2("PRIMARY"))
                    || (frame.clause == Clause::OrderBy
                        && expr_end_before
                        && (list_end || next("LIMIT") || next("NULLS")))
            }
            "NULLS" => {
                frame.clause == Clause::OrderBy
                    && (next("FIRST") || next("LAST"))
                    && (prev("ASC") || prev("DESC") || expr_end_before)
            }
            "FIRST" | "LAST" => prev("NULLS"),
            "BY" => prev("ORDER") || prev("GROUP") || prev("PARTITION") || prev("INDEXED"),
            "PARTITION" => window && next("BY"),
            "INDEXED" => next("BY"),
            "CAST" | "RAISE" => next_punct("(") && self.expr_start(i),
            "CURRENT_DATE" | "CURRENT_TIME" | "CURRENT_TIMESTAMP" => self.expr_start(i),
            "IGNORE" | "ROLLBACK" | "ABORT" | "FAIL" | "REPLACE" => {
                (k != "REPLACE" && i > 0 && self.punct(i - 1, "(") && prev2("RAISE"))
                    || (prev("OR") && (prev2("INSERT") || prev2("UPDATE")))
                    || (prev("CONFLICT") && prev2("ON"))
            }
            "END" => frame.cases > 0 && expr_end_before,
            "LIKE" | "GLOB" | "MATCH" | "REGEXP" => {
                matches!(
                    frame.clause,
                    Clause::Result
                        | Clause::ExprList
                        | Clause::OrderBy
                        | Clause::Expr
                        | Clause::Limit
                        | Clause::Set
                ) && !list_end
                    && (expr_end_before || (prev("NOT") && i >= 2 && self.expr_end(i - 2)))
            }
            "OVER" => {
                i > 0
                    && self.punct(i - 1, ")")
                    && (next_punct("(") || (self.is_id(i + 1) && !next("AS")))
            }
            "FILTER" => i > 0 && self.punct(i - 1, ")") && next_punct("("),
            "WINDOW" => self.is_id(i + 1) && self.is(i + 2, "AS"),
            "ROWS" | "RANGE" | "GROUPS" => {
                window
                    && (next("BETWEEN")
                        || next("UNBOUNDED")
                        || next("CURRENT")
                        || self.kind(i + 1) == Some(TokenKind::Number))
            }
            "UNBOUNDED" => window && (next("PRECEDING") || next("FOLLOWING")),
            "PRECEDING" | "FOLLOWING" => window && (prev("UNBOUNDED") || expr_end_before),
            "CURRENT" => window && next("ROW"),
            "ROW" => prev("CURRENT"),
            "EXCLUDE" => window && (next("NO") || next("CURRENT") || next("GROUP") || next("TIES")),
            "NO" => {
                (window && prev("EXCLUDE") && next("OTHERS"))
                    || ((prev("DELETE") || prev("UPDATE")) && prev2("ON") && next("ACTION"))
            }
            "OTHERS" | "TIES" => window && (prev("NO") || prev("EXCLUDE")),
            "ACTION" => prev("NO") && self.before_is_kw(i, 3, "ON"),
            "CASCADE" | "RESTRICT" => (prev("DELETE") || prev("UPDATE")) && prev2("ON"),
            "CONFLICT" => {
                prev("ON")
                    && (self.in_column_def()
                        || next("DO")
                        || (next_punct("(")
                            && self.close[i + 1].is_some_and(|c| self.is(c + 1, "DO"))))
            }
            "DO" => next("UPDATE") || next("NOTHING"),
            "INITIALLY" => prev("DEFERRABLE"),
            "DEFERRED" | "IMMEDIATE" => prev("INITIALLY"),
            "GENERATED" => next("ALWAYS") && self.is(i + 2, "AS") && !self.column_name_position(i),
            "ALWAYS" => prev("GENERATED"),
            "VIRTUAL" => self.after_generated(i),
            "WITHOUT" => self.word_text_is(i + 1, "ROWID") && self.table_option(i),
            "WITH" => {
                (i > 0 && (self.punct(i - 1, "(") || prev("AS")))
                    && frame.paren != Paren::ColumnDefs
                    && (next("RECURSIVE")
                        || (self.is_id(i + 1) && (self.is(i + 2, "AS") || self.punct(i + 2, "("))))
            }
            "RECURSIVE" => prev("WITH"),
            "MATERIALIZED" => next_punct("(") && (prev("AS") || (prev("NOT") && prev2("AS"))),
            "OFFSET" => frame.clause == Clause::Limit && expr_end_before,
            "NATURAL" | "LEFT" | "RIGHT" | "FULL" | "INNER" | "CROSS" | "OUTER" => {
                !prev("AS")
                    && (i == 0 || !self.punct(i - 1, "."))
                    && (i + 1..(i + 4).min(self.tokens.len()))
                        .take_while(|&j| {
                            matches!(
                                self.kw(j),
                                Some(
                                    "NATURAL"
                                        | "LEFT"
                                        | "RIGHT"
                                        | "FULL"
                                        | "INNER"
                                        | "CROSS"
                                        | "OUTER"
                                        | "JOIN"
                                )
                            )
                        })
                        .any(|j| self.is(j, "JOIN"))
            }
            _ => false,
        }
    }

    fn parts(mut self) -> Vec<Part> {
        self.statement();
        self.walk();
        self.verbatim
            .sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
        let mut parts = Vec::with_capacity(self.tokens.len());
        let mut spans = self.verbatim.iter().peekable();
        let mut i = 0;
        while i < self.tokens.len() {
            while spans.peek().is_some_and(|r| r.end <= i || r.start < i) {
                spans.next();
            }
            if let Some(r) = spans.peek().filter(|r| r.start == i) {
                parts.push(Part::Verbatim(
                    self.tokens[r.start].start..self.tokens[r.end - 1].end,
                ));
                i = r.end;
                continue;
            }
            parts.push(if self.upper[i] {
                Part::Keyword(self.tokens[i])
            } else {
                Part::Token(self.tokens[i])
            });
            i += 1;
        }
        parts
    }
}

/// The parts of the canonical form of a statement with these tokens (no whitespace or
/// comments) read from `text`.
pub fn parts(text: &str, tokens: &[Token]) -> Vec<Part> {
    Analysis::new(text, tokens).parts()
}

/// The canonical text of these parts: joined by one space, keywords in upper case.
pub fn join(text: &str, parts: &[Part]) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        match part {
            Part::Keyword(t) => out.push_str(&t.text(text).to_ascii_uppercase()),
            Part::Token(t) => out.push_str(t.text(text)),
            Part::Verbatim(r) => out.push_str(&text[r.clone()]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_lists_are_sorted_disjoint_and_complete() {
        assert!(HARD.windows(2).all(|w| w[0] < w[1]));
        assert!(SOFT.windows(2).all(|w| w[0] < w[1]));
        assert!(HARD.iter().all(|k| !SOFT.contains(k)));
        // SQLite has 147 keywords (sqlite3_keyword_count()).
        assert_eq!(HARD.len() + SOFT.len(), 147);
    }

    fn canonical(sql: &str) -> String {
        crate::sql::canonical(sql)
    }

    #[test]
    fn upper_cases_keywords_and_keeps_names() {
        assert_eq!(
            canonical(
                "create table users (\n  id INTEGER primary key, -- k\n  email text not null unique\n);"
            ),
            "CREATE TABLE users ( id INTEGER PRIMARY KEY , email text NOT NULL UNIQUE )"
        );
        // Soft keywords used as names keep their case; as keywords they are upper-cased.
        assert_eq!(
            canonical(
                "create table t (key text, desc text, if int, replace text default current_timestamp, z references p(id) on delete cascade on update no action deferrable initially deferred) without rowid, strict"
            ),
            "CREATE TABLE t ( key text , desc text , if int , replace text DEFAULT CURRENT_TIMESTAMP , z REFERENCES p ( id ) ON DELETE CASCADE ON UPDATE NO ACTION DEFERRABLE INITIALLY DEFERRED ) WITHOUT ROWID , STRICT"
        );
        assert_eq!(
            canonical(
                "create table t (generated always as (1), x int generated always as (2) stored, y like, with x as (1))"
            ),
            "CREATE TABLE t ( generated always AS ( 1 ) , x int GENERATED ALWAYS AS ( 2 ) STORED , y like , with x AS ( 1 ) )"
        );
        assert_eq!(
            canonical(
                "select key, desc, left(a, 1), cast(b as text) from t left join u using (k) where key like 'x' order by key desc, b asc nulls last"
            ),
            "SELECT key , desc , left ( a , 1 ) , CAST ( b AS text ) FROM t LEFT JOIN u USING ( k ) WHERE key LIKE 'x' ORDER BY key DESC , b ASC NULLS LAST"
        );
        assert_eq!(
            canonical(
                "create trigger after after insert on t for each row when new.key like 'a%' begin insert or replace into x values (new.key); select raise(abort, 'no'); update t set end = case when end then 1 else end end; end"
            ),
            "CREATE TRIGGER after AFTER INSERT ON t FOR EACH ROW WHEN new . key LIKE 'a%' BEGIN INSERT OR REPLACE INTO x VALUES ( new . key ) ; SELECT RAISE ( ABORT , 'no' ) ; UPDATE t SET end = CASE WHEN end THEN 1 ELSE end END ; END"
        );
        for (sql, expected) in [
            (
                "insert into t(a) values (1) on conflict (a) do update set a = excluded.a",
                "INSERT INTO t ( a ) VALUES ( 1 ) ON CONFLICT ( a ) DO UPDATE SET a = excluded . a",
            ),
            (
                "alter table t rename column key to desc",
                "ALTER TABLE t RENAME COLUMN key TO desc",
            ),
            (
                "alter table t add column generated text",
                "ALTER TABLE t ADD COLUMN generated text",
            ),
            (
                "with recursive c(x) as (select 1) select * from c",
                "WITH RECURSIVE c ( x ) AS ( SELECT 1 ) SELECT * FROM c",
            ),
            ("begin immediate transaction", "BEGIN IMMEDIATE TRANSACTION"),
            ("drop view if exists v", "DROP VIEW IF EXISTS v"),
            ("pragma foreign_keys = on", "PRAGMA foreign_keys = ON"),
            (
                "create temp view if not exists v (a) as select x+1 from t",
                "CREATE TEMP VIEW IF NOT EXISTS v ( a ) AS SELECT x + 1 FROM t",
            ),
        ] {
            assert_eq!(canonical(sql), expected, "{sql}");
        }
    }

    #[test]
    fn keeps_unaliased_view_columns_and_virtual_table_arguments_verbatim() {
        assert_eq!(
            canonical(
                "create view v as select a+b, a, t.b, x as y, a  b, current_date, cast(a as text), count(*) over (partition by a) from t"
            ),
            "CREATE VIEW v AS SELECT a+b , a , t . b , x AS y , a b , current_date , cast(a as text) , count(*) over (partition by a) FROM t"
        );
        assert_eq!(
            canonical("CREATE TABLE c AS SELECT * FROM (SELECT a  +  b, a||b AS ab FROM t)"),
            "CREATE TABLE c AS SELECT * FROM ( SELECT a  +  b , a || b AS ab FROM t )"
        );
        assert_eq!(
            canonical(
                "create virtual table f using fts5(title, body unindexed, tokenize = 'porter  unicode61')"
            ),
            "CREATE VIRTUAL TABLE f USING fts5 ( title , body unindexed , tokenize = 'porter  unicode61' )"
        );
        // Outside views, the same expression is tokens.
        assert_eq!(canonical("select a+b from t"), "SELECT a + b FROM t");
    }
}
