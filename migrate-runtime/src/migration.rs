//! The embedded migrations: one [`Migration`] per file, gathered in [`Migrations`].

use std::fmt;

use crate::packed::Packed;
use crate::source::SourceMigration;

/// A migration's version: the number its file name starts with, kept exactly, also
/// beyond 64 bits (20-digit versions exist in real folders). `schema_migrations` stores
/// it as an integer when it fits in one, else as zero-padded decimal text (see
/// [`TRACKING_TABLE`](crate::TRACKING_TABLE)).
pub type Version = i128;

/// One migration, as embedded by `migrations!`.
///
/// # Examples
///
/// ```
/// use migrate_runtime::Migration;
///
/// static M: Migration = Migration::new(1, "create_users", "001_create_users.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY)", [0; 32], [0; 32]);
/// assert_eq!(M.to_string(), "001_create_users");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
// The fields are visible to the crate for `packed`, which unpacks whole structs.
pub struct Migration {
    pub(crate) version: Version,
    pub(crate) name: &'static str,
    pub(crate) file_name: &'static str,
    pub(crate) sql: &'static str,
    pub(crate) checksum: [u8; 32],
    pub(crate) chain: [u8; 32],
    pub(crate) transaction: bool,
    pub(crate) source_id: &'static str,
    pub(crate) down: Option<Down>,
    /// Why a down script it has never runs; empty when it has none or it runs.
    pub(crate) irreversible: &'static str,
    /// Its schema changes, as [`Change::encode`](crate::changes::Change::encode) writes them.
    pub(crate) changes: &'static str,
}

/// A migration's down script: the SQL that undoes it, proven at build time to give
/// back the schema from before the migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Down {
    pub(crate) file_name: &'static str,
    pub(crate) sql: &'static str,
    pub(crate) checksum: [u8; 32],
    pub(crate) transaction: bool,
}

impl Down {
    /// The down file's name (`001_create_users.down.sql`), or for a down section, the
    /// up file's.
    pub const fn file_name(&self) -> &'static str {
        self.file_name
    }

    /// The SQL, as validated at build time.
    pub const fn sql(&self) -> &'static str {
        self.sql
    }

    /// The SHA-256 checksum of the canonical SQL (see [`checksum`](crate::checksum())).
    pub const fn checksum(&self) -> &[u8; 32] {
        &self.checksum
    }

    /// Whether the runner wraps it in a transaction (unless its first line is
    /// `-- migrate:no-transaction`).
    pub const fn runs_in_transaction(&self) -> bool {
        self.transaction
    }
}

impl Migration {
    /// A migration, for a set built by hand (the macro embeds the [packed](crate::packed)
    /// form, which holds the same fields): `checksum` is [`checksum(sql)`](crate::checksum())
    /// and `chain` is [`chain`](crate::checksum::chain) over the set up to this migration.
    pub const fn new(
        version: Version,
        name: &'static str,
        file_name: &'static str,
        sql: &'static str,
        checksum: [u8; 32],
        chain: [u8; 32],
    ) -> Self {
        Self {
            version,
            name,
            file_name,
            sql,
            checksum,
            chain,
            transaction: true,
            source_id: "",
            down: None,
            irreversible: "",
            changes: "",
        }
    }

    /// The same migration, with a down script that undoes it: `checksum` is
    /// [`checksum(sql)`](crate::checksum()); `transaction` is `false` when its first
    /// line is `-- migrate:no-transaction`.
    #[must_use]
    pub const fn with_down(
        mut self,
        file_name: &'static str,
        sql: &'static str,
        checksum: [u8; 32],
        transaction: bool,
    ) -> Self {
        self.down = Some(Down {
            file_name,
            sql,
            checksum,
            transaction,
        });
        self
    }

    /// The down script, when the migration has one (it is reversible).
    pub const fn down(&self) -> Option<&Down> {
        self.down.as_ref()
    }

    /// Whether the migration has a down script, so that [`Migrations::rollback`]
    /// can undo it.
    pub const fn is_reversible(&self) -> bool {
        self.down.is_some()
    }

    /// The same migration, irreversible although its folder has a down script for
    /// it, for `reason` (an empty one, which another tool reads as irreversible; one
    /// that did not pass the build's proof, in a folder built with
    /// `downs = "lenient"`, the default for other tools' layouts).
    #[must_use]
    pub const fn irreversible_because(mut self, reason: &'static str) -> Self {
        self.down = None;
        self.irreversible = reason;
        self
    }

    /// The same migration, with the schema changes the build classified, as
    /// [`Change::encode`](crate::changes::Change::encode) writes them.
    #[must_use]
    pub const fn with_changes(mut self, encoded: &'static str) -> Self {
        self.changes = encoded;
        self
    }

    /// What the migration changes in the schema, classified by what it does to the
    /// code still running during a deploy (see [`changes`](crate::changes)): computed
    /// at build time by comparing the schema before and after it, in statement order.
    /// Empty for a migration that changes no table, column, index, view or trigger.
    ///
    /// ```
    /// use migrate_runtime::Migration;
    /// use migrate_runtime::changes::{ChangeKind, Class};
    ///
    /// // As `migrations!` embeds `ALTER TABLE users DROP COLUMN bio;`
    /// static M: Migration = Migration::new(2, "drop_bio", "002_drop_bio.sql", "ALTER TABLE users DROP COLUMN bio;", [0; 32], [0; 32])
    ///     .with_changes("drop-column\tusers.bio\t1\t");
    /// let changes = M.changes();
    /// assert_eq!((changes[0].kind, changes[0].object.as_str()), (ChangeKind::DropColumn, "users.bio"));
    /// assert_eq!(changes[0].class(), Class::Destructive);
    /// assert_eq!(changes[0].directive(), "-- migrate:allow drop-column users.bio");
    /// ```
    pub fn changes(&self) -> Vec<crate::changes::Change> {
        crate::changes::Change::decode(self.changes)
    }

    /// Why the down script the folder has for this migration never runs; `None` when
    /// there is none, or it runs.
    pub const fn irreversible_reason(&self) -> Option<&'static str> {
        if self.irreversible.is_empty() {
            None
        } else {
            Some(self.irreversible)
        }
    }

    /// The same migration, with the identifier the tool that wrote its folder gives
    /// it (a Prisma folder name, a drizzle journal `when`, a diesel version as
    /// written…), used to import that tool's history; the macro records one for
    /// folders in another tool's layout.
    #[must_use]
    pub const fn with_source_id(mut self, source_id: &'static str) -> Self {
        self.source_id = source_id;
        self
    }

    /// The identifier the folder's tool gives this migration; empty for the native
    /// layout, where the version is the identifier.
    pub const fn source_id(&self) -> &'static str {
        self.source_id
    }

    /// The same migration, run without a transaction: its first line is
    /// [`-- migrate:no-transaction`](crate::rules::NO_TRANSACTION).
    #[must_use]
    pub const fn without_transaction(mut self) -> Self {
        self.transaction = false;
        self
    }

    /// Whether the runner wraps the migration in a transaction (all migrations but
    /// those whose first line is `-- migrate:no-transaction`).
    pub const fn runs_in_transaction(&self) -> bool {
        self.transaction
    }

    /// The version, from the file name's digits.
    pub const fn version(&self) -> Version {
        self.version
    }

    /// The description, from the file name (`create_users`).
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The file name (`001_create_users.sql`).
    pub const fn file_name(&self) -> &'static str {
        self.file_name
    }

    /// The SQL, as validated at build time (a leading byte-order mark removed).
    pub const fn sql(&self) -> &'static str {
        self.sql
    }

    /// The SHA-256 checksum of the canonical SQL (see [`checksum`](crate::checksum())).
    pub const fn checksum(&self) -> &[u8; 32] {
        &self.checksum
    }

    /// The [chain](crate::checksum::chain) of the set up to and including this migration.
    pub const fn chain(&self) -> &[u8; 32] {
        &self.chain
    }

    /// The checksum in lowercase hexadecimal, as stored in `schema_migrations`.
    pub fn checksum_hex(&self) -> String {
        crate::checksum::to_hex(&self.checksum)
    }
}

/// Shows the file name without `.sql`: `001_create_users`.
impl fmt::Display for Migration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            self.file_name
                .strip_suffix(".sql")
                .unwrap_or(self.file_name),
        )
    }
}

/// The ordered set of migrations embedded by `migrations!`.
///
/// Apply it with [`run`](Self::run), inspect a database with [`status`](Self::status).
#[derive(Debug, Clone, Copy)]
pub struct Migrations {
    migrations: Set,
    functions: &'static [Function],
    collations: &'static [&'static str],
    unvalidated: &'static [&'static str],
    validated_with: Option<&'static str>,
    source_dir: Option<&'static str>,
}

/// An application-defined SQL function that the migrations call, declared with
/// `migrations!("migrations", functions(name/arity, …))`.
///
/// The build validates the migrations with a stand-in of that name and number of
/// arguments (it returns NULL), and [`Migrations::run`] refuses a connection on which
/// the application has not registered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Function {
    /// The function's name.
    pub name: &'static str,
    /// How many arguments it takes (-1: any number).
    pub arity: i32,
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.name, self.arity)
    }
}

/// Where a set's migrations are: a slice, or the [`Packed`] form the macro embeds.
#[derive(Debug, Clone, Copy)]
enum Set {
    Slice(&'static [Migration]),
    Packed(Packed),
}

impl Migrations {
    /// A set from migrations sorted by version, with unique versions.
    pub const fn from_static(migrations: &'static [Migration]) -> Self {
        Self::with_set(Set::Slice(migrations))
    }

    /// A set from its [packed](crate::packed) form, sorted by version, with unique
    /// versions. The macro calls this.
    pub const fn from_packed(packed: Packed) -> Self {
        Self::with_set(Set::Packed(packed))
    }

    const fn with_set(migrations: Set) -> Self {
        Self {
            migrations,
            functions: &[],
            collations: &[],
            unvalidated: &[],
            validated_with: None,
            source_dir: None,
        }
    }

    /// The same set, recording the absolute path of the folder it was built from,
    /// for the stale-binary check of debug builds. The macro calls this.
    #[doc(hidden)]
    #[must_use]
    pub const fn with_source_dir(mut self, dir: &'static str) -> Self {
        self.source_dir = Some(dir);
        self
    }

    /// The absolute path of the folder the set was built from; `None` for a set not
    /// built by the macro. In a debug build, [`run`](Self::run) and
    /// [`status`](Self::status) compare that folder, when it exists, with the set.
    pub const fn source_dir(&self) -> Option<&'static str> {
        self.source_dir
    }

    /// The same set, declaring the application-defined functions its migrations call.
    #[must_use]
    pub const fn with_functions(mut self, functions: &'static [Function]) -> Self {
        self.functions = functions;
        self
    }

    /// The same set, declaring the application-defined collations its migrations use
    /// (`migrations!("migrations", collations(unicase))`).
    #[must_use]
    pub const fn with_collations(mut self, collations: &'static [&'static str]) -> Self {
        self.collations = collations;
        self
    }

    /// The application-defined collations declared with `collations(…)`.
    pub const fn collations(&self) -> &'static [&'static str] {
        self.collations
    }

    /// The same set, listing the statements the build did not execute because they
    /// need an extension module declared with `modules(…)`. The macro calls this.
    #[doc(hidden)]
    #[must_use]
    pub const fn with_unvalidated(mut self, statements: &'static [&'static str]) -> Self {
        self.unvalidated = statements;
        self
    }

    /// The statements the build did not execute, because they need an extension
    /// module declared with `migrations!("…", modules(vec0))`, as
    /// `path:line: first line of the statement`. Test them against a database with the
    /// extension loaded ([`trial`](Self::trial) on a copy is one way).
    pub const fn unvalidated(&self) -> &'static [&'static str] {
        self.unvalidated
    }

    /// The same set, recording the version of the SQLite that validated it. The macro calls this.
    #[doc(hidden)]
    #[must_use]
    pub const fn with_validated_with(mut self, sqlite_version: &'static str) -> Self {
        self.validated_with = Some(sqlite_version);
        self
    }

    /// The application-defined functions declared with `functions(…)`.
    pub const fn functions(&self) -> &'static [Function] {
        self.functions
    }

    /// The version of the SQLite that ran every migration at build time (`"3.50.4"`);
    /// `None` for a set not built by the macro. [`run`](Self::run)'s report warns when
    /// the application's SQLite is older.
    pub const fn validated_with(&self) -> Option<&'static str> {
        self.validated_with
    }

    /// A set from migrations read at run time (a tool, a benchmark), as returned by
    /// [`check::check_dir`](crate::check::check_dir) or [`check::read_dir`](crate::check::read_dir).
    ///
    /// The texts are leaked, so that the set is `'static` like an embedded one: call it
    /// once per process, not in a loop.
    pub fn from_sources(sources: Vec<SourceMigration>) -> Self {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let migrations: Vec<Migration> = sources
            .into_iter()
            .map(|s| {
                let m = Migration::new(
                    s.version,
                    leak(s.name),
                    leak(s.file_name),
                    leak(s.sql),
                    s.checksum,
                    s.chain,
                )
                .with_source_id(leak(s.source_id));
                let m = match s.down {
                    Some(d) => {
                        m.with_down(leak(d.file_name), leak(d.sql), d.checksum, d.transaction)
                    }
                    None => m,
                };
                let m = match s.irreversible {
                    Some(unused) => m.irreversible_because(leak(unused.reason)),
                    None => m,
                };
                let m = if s.changes.is_empty() {
                    m
                } else {
                    m.with_changes(leak(crate::changes::Change::encode(&s.changes)))
                };
                if s.transaction {
                    m
                } else {
                    m.without_transaction()
                }
            })
            .collect();
        Self::from_static(migrations.leak())
    }

    /// The migrations, in version order.
    pub fn iter(&self) -> std::slice::Iter<'static, Migration> {
        self.as_slice().iter()
    }

    /// The migrations as a slice, in version order. For a set embedded by the macro,
    /// the first call unpacks it (see [`packed`](crate::packed)).
    pub fn as_slice(&self) -> &'static [Migration] {
        match self.migrations {
            Set::Slice(migrations) => migrations,
            Set::Packed(packed) => packed.migrations(),
        }
    }

    /// How many migrations there are.
    pub const fn len(&self) -> usize {
        match self.migrations {
            Set::Slice(migrations) => migrations.len(),
            Set::Packed(packed) => packed.len(),
        }
    }

    /// Whether there are none.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The migration with this version.
    pub fn get(&self, version: Version) -> Option<&'static Migration> {
        let migrations = self.as_slice();
        let index = migrations
            .binary_search_by_key(&version, Migration::version)
            .ok()?;
        migrations.get(index)
    }

    /// The last migration's version and chain, for the startup check: a set embedded
    /// by the macro answers without being unpacked.
    pub(crate) fn tip(&self) -> Option<(Version, [u8; 32])> {
        match self.migrations {
            Set::Slice(migrations) => migrations.last().map(|m| (m.version, m.chain)),
            Set::Packed(packed) => packed.tip(),
        }
    }

    /// The highest version, if there are migrations.
    pub fn latest_version(&self) -> Option<Version> {
        self.as_slice().last().map(Migration::version)
    }
}

impl IntoIterator for &Migrations {
    type Item = &'static Migration;
    type IntoIter = std::slice::Iter<'static, Migration>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}
