//! The folder layouts migrations can come in: this crate's own and those of other
//! tools. Reading a folder in a layout is the checking code's business
//! ([`check::layout`](crate::check::layout)); the runtime needs the names, to import
//! another tool's history ([`import`](crate::import)).

use std::fmt;

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
