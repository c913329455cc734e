//! Folder layouts: how the migration files of a folder are found, named, paired and
//! ordered, for this crate's own layout and for folders written or generated for other
//! tools. A layout changes nothing else: every check, the checksum and the runner are
//! the same for all.

use std::fmt;
use std::path::Path;

use super::SourceMigration;
use crate::diagnostic::Diagnostic;

/// A folder layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Layout {
    /// `NNN_name.sql`, this crate's own rules.
    Native,
    /// sqlx: `<version>_<desc>.sql`, or `.up.sql`/`.down.sql` pairs.
    Sqlx,
    /// refinery: `V<n>__<name>.sql`.
    Refinery,
    /// diesel: `<version>_<name>/up.sql` (+ `down.sql`, `metadata.toml`).
    Diesel,
    /// golang-migrate: `<n>_<name>.up.sql` / `.down.sql`.
    GolangMigrate,
    /// goose: `<n>_<name>.sql` with `-- +goose Up` / `-- +goose Down` sections.
    Goose,
    /// dbmate: `<timestamp>_<name>.sql` with `-- migrate:up` / `-- migrate:down`.
    Dbmate,
    /// Prisma Migrate: `<timestamp>_<name>/migration.sql`.
    Prisma,
    /// drizzle-kit: `NNNN_name.sql` with `--> statement-breakpoint`, ordered by
    /// `meta/_journal.json` when there is one.
    Drizzle,
}

impl Layout {
    /// Every layout, in the order the docs list them.
    pub const ALL: [Self; 9] = [
        Self::Native,
        Self::Sqlx,
        Self::Refinery,
        Self::Diesel,
        Self::GolangMigrate,
        Self::Goose,
        Self::Dbmate,
        Self::Prisma,
        Self::Drizzle,
    ];

    /// The name written in `migrations!("…", layout = "name")`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Native => "native",
            Self::Sqlx => "sqlx",
            Self::Refinery => "refinery",
            Self::Diesel => "diesel",
            Self::GolangMigrate => "golang-migrate",
            Self::Goose => "goose",
            Self::Dbmate => "dbmate",
            Self::Prisma => "prisma",
            Self::Drizzle => "drizzle",
        }
    }

    /// The layout called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.name() == name)
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Reads the migrations of `dir` in `layout`, or in the layout detected from the
/// folder when `layout` is `None`, with every check that needs no database.
///
/// # Errors
///
/// Every file-level problem found.
pub fn read(
    dir: &Path,
    display_dir: &str,
    layout: Option<Layout>,
) -> Result<Vec<SourceMigration>, Vec<Diagnostic>> {
    match layout.unwrap_or(Layout::Native) {
        Layout::Native => super::source::read_dir(dir, display_dir),
        other => Err(vec![Diagnostic::new(
            display_dir,
            format!("the `{other}` layout is not supported yet"),
        )]),
    }
}
