//! Problems found while checking a migrations folder, rendered for a human.

use std::fmt;

/// A place in a migration file: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

/// A source line shown under a diagnostic, with a caret under `column`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// Where the caret goes.
    pub location: Location,
    /// The whole line, without its line ending.
    pub line: String,
}

/// One problem with a migrations folder or file, located as precisely as possible.
///
/// Its `Display` is the text of the compile error: `path:line:column: message`, the
/// offending lines with a caret, then `= help: …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file or folder, relative to the crate's `Cargo.toml` (`migrations/002_posts.sql`).
    pub path: String,
    /// Where in the file, when the problem is inside it.
    pub location: Option<Location>,
    /// What is wrong.
    pub message: String,
    /// Source lines to show.
    pub snippets: Vec<Snippet>,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A problem with a whole file or folder.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            location: None,
            message: message.into(),
            snippets: Vec::new(),
            help: None,
        }
    }

    /// A problem at byte `offset` of `text`, the contents of the file at `path`.
    pub fn at(
        path: impl Into<String>,
        text: &str,
        offset: usize,
        message: impl Into<String>,
    ) -> Self {
        let snippet = snippet(text, offset);
        Self {
            location: Some(snippet.location),
            snippets: vec![snippet],
            ..Self::new(path, message)
        }
    }

    /// Adds a source line to show.
    #[must_use]
    pub fn with_snippet(mut self, text: &str, offset: usize) -> Self {
        self.snippets.push(snippet(text, offset));
        self
    }

    /// Sets what the user should do.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// The line of `text` holding byte `offset`, with its location.
pub fn snippet(text: &str, offset: usize) -> Snippet {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let (line, column) = crate::sql::line_column(text, offset);
    let start = text[..offset].rfind('\n').map_or(0, |p| p + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |p| offset + p);
    let line_text = text[start..end].trim_end_matches('\r');
    Snippet {
        location: Location { line, column },
        line: line_text.to_owned(),
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)?;
        if let Some(Location { line, column }) = self.location {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": {}", self.message)?;
        let width = self
            .snippets
            .iter()
            .map(|s| s.location.line.to_string().len())
            .max()
            .unwrap_or(1);
        if !self.snippets.is_empty() {
            write!(f, "\n{:width$} |", "")?;
        }
        for snippet in &self.snippets {
            // Tabs are shown as four spaces, NUL as a visible symbol; the caret follows.
            let shown = snippet.line.replace('\t', "    ").replace('\0', "\u{2400}");
            let caret: usize = snippet
                .line
                .chars()
                .take(snippet.location.column - 1)
                .map(|c| if c == '\t' { 4 } else { 1 })
                .sum();
            write!(
                f,
                "\n{:>width$} | {}",
                snippet.location.line,
                shown.trim_end()
            )?;
            write!(f, "\n{:width$} | {:caret$}^", "", "")?;
        }
        if let Some(help) = &self.help {
            let pad = if self.snippets.is_empty() {
                0
            } else {
                width + 1
            };
            write!(f, "\n{:pad$}= help: {help}", "")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_line_caret_and_help() {
        let text = "CREATE TABLE a (x);\n\tCREAT TABLE b (y);\n";
        let d = Diagnostic::at(
            "migrations/002_b.sql",
            text,
            text.find("CREAT ").unwrap(),
            "near \"CREAT\": syntax error",
        )
        .with_help("fix the statement");
        assert_eq!(
            d.to_string(),
            "migrations/002_b.sql:2:2: near \"CREAT\": syntax error\n  |\n2 |     CREAT TABLE b (y);\n  |     ^\n  = help: fix the statement"
        );
    }

    #[test]
    fn offsets_inside_a_character_point_at_the_character() {
        let s = snippet("é", 1);
        assert_eq!((s.location.column, s.line.as_str()), (1, "é"));
    }

    #[test]
    fn renders_a_file_level_problem() {
        let d = Diagnostic::new("migrations/x.sql", "bad name").with_help("rename it");
        assert_eq!(
            d.to_string(),
            "migrations/x.sql: bad name\n= help: rename it"
        );
    }
}
