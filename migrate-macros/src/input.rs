//! The macro's input, read from the compiler's tokens, and the compile errors it
//! turns into tokens.
//!
//! Read by hand rather than with syn: the grammar is a string literal and a few
//! options, and syn, quote and proc-macro2 were a tenth of the units a user's cold
//! build compiles for `migrate`, and about as many freshness checks on each rebuild.

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

use migrate_runtime::check::{self, layout::Layout};

/// The folder used by `migrations!()`, as in sqlx's `migrate!()`.
const DEFAULT_DIR: &str = "migrations";

const EXPECTED_PATH: &str = "expected the migrations folder as a string literal, relative to Cargo.toml: `migrations!(\"migrations\")`";
const EXPECTED_OPTION: &str = "expected an option after the folder: `layout = \"sqlx\"`, `downs = \"strict\"`, `deploy_safety(from = 42)`, `functions(name/arity, …)`, `collations(name, …)` or `modules(name, …)`, for example `migrations!(\"migrations\", functions(user_setting/2))`";
const EXPECTED_DEPLOY: &str = "expected `deploy_safety(from = 42)`: the first migration version whose destructive, renaming and tightening changes must be acknowledged";
const EXPECTED_DOWNS: &str = "expected `downs = \"strict\"` or `downs = \"lenient\"`";

/// A compile error: where, and what.
pub struct Error {
    pub span: Span,
    pub message: String,
}

impl Error {
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Self {
            span,
            message: message.into(),
        }
    }
}

/// `migrations!("path", layout = "…", downs = "…", deploy_safety(from = N),
/// functions(name/arity, …), collations(name, …), modules(name, …))`, the options in
/// any order; `migrations!()` is `migrations!("migrations")`.
pub struct Input {
    /// The folder, relative to the crate's Cargo.toml, as written.
    pub dir: String,
    /// The folder's literal, where the check's diagnostics point.
    pub dir_span: Span,
    /// The folder's layout, when declared.
    pub layout: Option<Layout>,
    /// Declared application functions: name and number of arguments.
    pub functions: Vec<(String, i32)>,
    /// Declared application collations.
    pub collations: Vec<String>,
    /// Declared extension modules (virtual tables the build cannot load).
    pub modules: Vec<String>,
    /// What a down script that does not pass the proof does to the build.
    pub downs: check::Downs,
    /// `deploy_safety(from = N)`: the first version whose changes must be acknowledged.
    pub deploy_safety: Option<migrate_runtime::Version>,
}

impl Input {
    pub fn parse(input: TokenStream) -> Result<Self, Error> {
        let mut tokens = Tokens::new(input, None);
        let mut this = Self {
            dir: DEFAULT_DIR.to_owned(),
            dir_span: Span::call_site(),
            layout: None,
            functions: Vec::new(),
            collations: Vec::new(),
            modules: Vec::new(),
            downs: check::Downs::Auto,
            deploy_safety: None,
        };
        if tokens.is_empty() {
            return Ok(this);
        }
        (this.dir, this.dir_span) = tokens.string().ok_or_else(|| tokens.error(EXPECTED_PATH))?;
        let mut seen: Vec<String> = Vec::new();
        while tokens.punct(',') && !tokens.is_empty() {
            let keyword = tokens
                .ident()
                .ok_or_else(|| tokens.error(EXPECTED_OPTION))?;
            let name = keyword.to_string();
            if seen.contains(&name) {
                return Err(Error::new(
                    keyword.span(),
                    format!("`{name}` is given twice; list everything in one `{name}`"),
                ));
            }
            match name.as_str() {
                "layout" => this.layout = Some(layout(&mut tokens)?),
                "downs" => this.downs = downs(&mut tokens)?,
                "deploy_safety" => this.deploy_safety = Some(deploy_safety(&mut tokens)?),
                "functions" => this.functions = functions(&mut tokens)?,
                "collations" | "modules" => {
                    let names = names(&mut tokens, &name)?;
                    if name == "collations" {
                        this.collations = names;
                    } else {
                        this.modules = names;
                    }
                }
                _ => return Err(Error::new(keyword.span(), EXPECTED_OPTION)),
            }
            seen.push(name);
        }
        if !tokens.is_empty() {
            return Err(tokens.error(EXPECTED_OPTION));
        }
        Ok(this)
    }
}

/// `= "name"` after `layout`.
fn layout(tokens: &mut Tokens) -> Result<Layout, Error> {
    if !tokens.punct('=') {
        return Err(tokens.error("expected `layout = \"name\"`"));
    }
    let (value, span) = tokens
        .string()
        .ok_or_else(|| tokens.error("expected the layout as a string: `layout = \"sqlx\"`"))?;
    Layout::parse(&value).ok_or_else(|| {
        let all: Vec<String> = Layout::ALL.iter().map(|l| format!("`{l}`")).collect();
        Error::new(
            span,
            format!(
                "unknown layout `{value}`; the layouts are {}",
                all.join(", ")
            ),
        )
    })
}

/// `= "strict"` or `= "lenient"` after `downs`.
fn downs(tokens: &mut Tokens) -> Result<check::Downs, Error> {
    if !tokens.punct('=') {
        return Err(tokens.error(EXPECTED_DOWNS));
    }
    let (value, span) = tokens
        .string()
        .ok_or_else(|| tokens.error(EXPECTED_DOWNS))?;
    check::Downs::parse(&value).ok_or_else(|| {
        Error::new(
            span,
            format!(
                "unknown setting `{value}`; `downs` is `\"strict\"` (a down script that does not pass the proof fails the build) or `\"lenient\"` (its migration is irreversible)"
            ),
        )
    })
}

/// `(from = N)` after `deploy_safety`.
fn deploy_safety(tokens: &mut Tokens) -> Result<migrate_runtime::Version, Error> {
    let mut content = tokens
        .parens()
        .ok_or_else(|| tokens.error(EXPECTED_DEPLOY))?;
    match content.ident() {
        Some(from) if from.to_string() == "from" => {}
        Some(other) => return Err(Error::new(other.span(), EXPECTED_DEPLOY)),
        None => return Err(content.error(EXPECTED_DEPLOY)),
    }
    if !content.punct('=') {
        return Err(content.error(EXPECTED_DEPLOY));
    }
    let (value, span) = content
        .integer()
        .ok_or_else(|| content.error(EXPECTED_DEPLOY))?;
    let value = value.filter(|v| *v >= 0).ok_or_else(|| {
        Error::new(
            span,
            "the version must be a non-negative integer, as in the file names (`deploy_safety(from = 42)`)",
        )
    })?;
    if !content.is_empty() {
        return Err(content.error(EXPECTED_DEPLOY));
    }
    Ok(value)
}

/// `(name/arity, …)` after `functions`.
fn functions(tokens: &mut Tokens) -> Result<Vec<(String, i32)>, Error> {
    let expected = "expected the functions as `functions(name/arity, …)`, for example `functions(user_setting/2)`";
    let mut content = tokens.parens().ok_or_else(|| tokens.error(expected))?;
    let mut functions = Vec::new();
    while !content.is_empty() {
        let name = content.ident().ok_or_else(|| {
            content.error("expected a function as `name/arity`, for example `user_setting/2`")
        })?;
        if !content.punct('/') {
            return Err(content.error(format!(
                "expected `/` and the number of arguments: `{name}/1`"
            )));
        }
        let (arity, span) = content.integer().ok_or_else(|| {
            content.error(format!(
                "expected the number of arguments after `/`: `{name}/1`"
            ))
        })?;
        let arity = arity
            .and_then(|a| i32::try_from(a).ok())
            .filter(|a| (0..=127).contains(a))
            .ok_or_else(|| {
                Error::new(
                    span,
                    "the number of arguments must be between 0 and 127 (SQLite's limit)",
                )
            })?;
        functions.push((name.to_string(), arity));
        if !content.punct(',') && !content.is_empty() {
            return Err(content.error("expected `,` between the functions"));
        }
    }
    Ok(functions)
}

/// `(a, b, …)` after `collations` or `modules`.
fn names(tokens: &mut Tokens, option: &str) -> Result<Vec<String>, Error> {
    let expected = format!("expected names: `{option}(a, b)`");
    let mut content = tokens.parens().ok_or_else(|| tokens.error(&expected))?;
    let mut names = Vec::new();
    while !content.is_empty() {
        let name = content.ident().ok_or_else(|| content.error(&expected))?;
        names.push(name.to_string());
        if !content.punct(',') && !content.is_empty() {
            return Err(content.error(&expected));
        }
    }
    Ok(names)
}

/// What is left to read of a token stream.
struct Tokens {
    tokens: Vec<TokenTree>,
    at: usize,
    /// Where an error at the end points: the closing parenthesis; at the top level
    /// (`None`), the last token.
    end: Option<Span>,
}

impl Tokens {
    fn new(stream: TokenStream, end: Option<Span>) -> Self {
        let mut tokens = Vec::new();
        flatten(stream, &mut tokens);
        Self { tokens, at: 0, end }
    }

    fn is_empty(&self) -> bool {
        self.at == self.tokens.len()
    }

    fn peek(&self) -> Option<&TokenTree> {
        self.tokens.get(self.at)
    }

    /// The next token's span, or the end's.
    fn span(&self) -> Span {
        match (self.peek(), self.end, self.tokens.last()) {
            (Some(next), _, _) => next.span(),
            (None, Some(end), _) => end,
            (None, None, Some(last)) => last.span(),
            (None, None, None) => Span::call_site(),
        }
    }

    /// An error at the next token.
    fn error(&self, message: impl Into<String>) -> Error {
        Error::new(self.span(), message)
    }

    /// Takes the punctuation `ch` if it comes next.
    fn punct(&mut self, ch: char) -> bool {
        let found = matches!(self.peek(), Some(TokenTree::Punct(p)) if p.as_char() == ch);
        self.at += usize::from(found);
        found
    }

    fn ident(&mut self) -> Option<Ident> {
        let Some(TokenTree::Ident(ident)) = self.peek() else {
            return None;
        };
        let ident = ident.clone();
        self.at += 1;
        Some(ident)
    }

    /// A string literal's value and span.
    fn string(&mut self) -> Option<(String, Span)> {
        let Some(TokenTree::Literal(literal)) = self.peek() else {
            return None;
        };
        let found = (string_value(&literal.to_string())?, literal.span());
        self.at += 1;
        Some(found)
    }

    /// An integer literal, with a minus sign or not: its value (`None` when it does
    /// not fit) and span.
    fn integer(&mut self) -> Option<(Option<i128>, Span)> {
        let negative = matches!(self.peek(), Some(TokenTree::Punct(p)) if p.as_char() == '-');
        let at = self.at + usize::from(negative);
        let Some(TokenTree::Literal(literal)) = self.tokens.get(at) else {
            return None;
        };
        let value = integer_value(&literal.to_string())?;
        let span = literal.span();
        self.at = at + 1;
        Some((value.map(|v| if negative { -v } else { v }), span))
    }

    /// The content of a parenthesized group.
    fn parens(&mut self) -> Option<Self> {
        let Some(TokenTree::Group(group)) = self.peek() else {
            return None;
        };
        if group.delimiter() != Delimiter::Parenthesis {
            return None;
        }
        let content = Self::new(group.stream(), Some(group.span_close()));
        self.at += 1;
        Some(content)
    }
}

/// The tokens of `stream`, with the invisible groups a `macro_rules!` fragment
/// (`$dir:expr`) comes in opened.
fn flatten(stream: TokenStream, out: &mut Vec<TokenTree>) {
    for token in stream {
        match token {
            TokenTree::Group(g) if g.delimiter() == Delimiter::None => flatten(g.stream(), out),
            other => out.push(other),
        }
    }
}

/// The value of a string literal as the compiler prints it (`"…"` with escapes, or
/// raw `r#"…"#`); `None` for any other literal.
fn string_value(literal: &str) -> Option<String> {
    if let Some(raw) = literal.strip_prefix('r') {
        let hashes = raw.len() - raw.trim_start_matches('#').len();
        let fence = "#".repeat(hashes);
        return raw
            .strip_prefix(&fence)?
            .strip_prefix('"')?
            .strip_suffix(&fence)?
            .strip_suffix('"')
            .map(str::to_owned);
    }
    let body = literal.strip_prefix('"')?.strip_suffix('"')?;
    let mut value = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            value.push(c);
            continue;
        }
        match chars.next()? {
            'n' => value.push('\n'),
            'r' => value.push('\r'),
            't' => value.push('\t'),
            '0' => value.push('\0'),
            c @ ('\\' | '"' | '\'') => value.push(c),
            'x' => {
                let hex: String = chars.by_ref().take(2).collect();
                value.push(char::from(u8::from_str_radix(&hex, 16).ok()?));
            }
            'u' => {
                let rest = chars.as_str().strip_prefix('{')?;
                let (hex, after) = rest.split_once('}')?;
                let code = u32::from_str_radix(&hex.replace('_', ""), 16).ok()?;
                value.push(char::from_u32(code)?);
                chars = after.chars();
            }
            // A line continuation: the line break and the next line's indentation.
            '\n' | '\r' => chars = chars.as_str().trim_start().chars(),
            _ => return None,
        }
    }
    Some(value)
}

/// The value of an integer literal as the compiler prints it (`42`, `1_000`, `42u32`,
/// `0x2a`): `Some(None)` when it does not fit, `None` for any other literal.
fn integer_value(literal: &str) -> Option<Option<i128>> {
    let (radix, digits) = match literal.get(..2) {
        Some("0x") => (16, &literal[2..]),
        Some("0o") => (8, &literal[2..]),
        Some("0b") => (2, &literal[2..]),
        _ => (10, literal),
    };
    const SUFFIXES: [&str; 12] = [
        "i128", "u128", "isize", "usize", "i64", "u64", "i32", "u32", "i16", "u16", "i8", "u8",
    ];
    let digits = SUFFIXES
        .iter()
        .find_map(|s| digits.strip_suffix(s))
        .unwrap_or(digits)
        .replace('_', "");
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    Some(i128::from_str_radix(&digits, radix).ok())
}

/// `::core::compile_error! { "…" }` for each error, pointing at its span, in a block
/// that still gives a value of the right type, so the user sees only the real
/// errors.
pub fn fallback(errors: &[Error]) -> TokenStream {
    let mut block = TokenStream::new();
    for error in errors {
        block.extend(compile_error(error));
    }
    // Only this crate's own text: it always lexes.
    if let Ok(value) = "::migrate::Migrations::from_static(&[])".parse::<TokenStream>() {
        block.extend(value);
    }
    TokenStream::from(TokenTree::Group(Group::new(Delimiter::Brace, block)))
}

fn compile_error(error: &Error) -> TokenStream {
    let span = error.span;
    let punct = |ch, spacing| {
        let mut p = Punct::new(ch, spacing);
        p.set_span(span);
        TokenTree::Punct(p)
    };
    let mut message = Literal::string(&error.message);
    message.set_span(span);
    let mut body = Group::new(Delimiter::Brace, TokenTree::Literal(message).into());
    body.set_span(span);
    [
        punct(':', Spacing::Joint),
        punct(':', Spacing::Alone),
        TokenTree::Ident(Ident::new("core", span)),
        punct(':', Spacing::Joint),
        punct(':', Spacing::Alone),
        TokenTree::Ident(Ident::new("compile_error", span)),
        punct('!', Spacing::Alone),
        TokenTree::Group(body),
    ]
    .into_iter()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_literals_as_the_compiler_prints_them() {
        let cases = [
            (r#""migrations""#, Some("migrations")),
            (r#""db\\migrations""#, Some("db\\migrations")),
            (r#""a\"b\n\t\x41\u{e9}\u{1F600}""#, Some("a\"b\n\tAé😀")),
            ("\"a\\\n    b\"", Some("ab")),
            (r##"r#"raw "quoted" \n"#"##, Some("raw \"quoted\" \\n")),
            (r#"r"plain""#, Some("plain")),
            (r#"b"bytes""#, None),
            ("42", None),
            (r#""bad \q escape""#, None),
        ];
        for (literal, expected) in cases {
            assert_eq!(string_value(literal).as_deref(), expected, "{literal}");
        }
    }

    #[test]
    fn integer_literals_as_the_compiler_prints_them() {
        let cases = [
            ("42", Some(Some(42))),
            ("1_000", Some(Some(1000))),
            ("20240101120000u64", Some(Some(20_240_101_120_000))),
            ("0x2a", Some(Some(42))),
            ("0b101_i32", Some(Some(5))),
            ("1000000000000000000000000000000000000000000", Some(None)),
            ("1.5", None),
            ("\"7\"", None),
            ("7f32", None),
        ];
        for (literal, expected) in cases {
            assert_eq!(integer_value(literal), expected, "{literal}");
        }
    }
}
