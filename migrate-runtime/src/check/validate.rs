//! Running the migrations in order against an in-memory SQLite, the way the runner
//! applies them, then checking what a database without data cannot show by itself.

use std::collections::BTreeSet;

use rusqlite::Connection;

use super::ahead::{Ahead, helper_thread};
use super::cache::{self, Cache};
use super::changes as classify;
use super::help::{Failure, NOT_NULL_FIX};
use super::kept::Kept;
use super::{Options, SourceMigration, down, footguns, help, integrity, schema};
use crate::changes::Change;
use crate::diagnostic::Diagnostic;
use crate::exec::sqlite_message;
use crate::foreign_keys::{self, Scope, Violation};
use crate::sql::{self, Statement};

/// The page size of the validation's database (see [`connection`]).
const VALIDATION_PAGE_SIZE: i64 = 1024;

/// An in-memory database set up as the build validates: declared functions (name,
/// number of arguments) have stand-ins that return NULL, declared collations compare
/// bytes, and foreign keys are enforced.
pub(super) fn connection(options: &Options<'_>) -> rusqlite::Result<Connection> {
    let conn = Connection::open_in_memory()?;
    // Smaller pages than the default 4 KiB: a schema of many small tables then makes
    // a database image a third as large, which the build cache serializes, hashes,
    // writes and reads back on each rebuild. No check depends on the page size.
    conn.pragma_update(None, "page_size", VALIDATION_PAGE_SIZE)?;
    for &name in options.collations {
        conn.create_collation(name, |a: &str, b: &str| a.cmp(b))?;
    }
    for &(name, arity) in options.functions {
        conn.create_scalar_function(
            name,
            arity,
            rusqlite::functions::FunctionFlags::SQLITE_UTF8
                | rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
            |_| Ok(rusqlite::types::Null),
        )?;
    }
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(conn)
}

/// Applies `migrations` in order to an in-memory database, as the runner does on a
/// connection with foreign keys on: enforcement off outside each migration's
/// transaction, `PRAGMA foreign_key_check` before its COMMIT, connection settings it
/// changes put back after it, `-- migrate:no-transaction` migrations statement by
/// statement. `functions` (name, number of arguments) get stand-ins that return NULL.
///
/// After the whole set: `PRAGMA integrity_check`, every view queried, every foreign
/// key's parent table and key checked, and one `INSERT`, `UPDATE` and `DELETE`
/// prepared on every table with triggers, defaults, checks or generated columns.
///
/// # Errors
///
/// The first problem, named at the migration (and line) that introduced it.
pub fn validate(
    migrations: &[SourceMigration],
    functions: &[(&str, i32)],
) -> Result<(), Diagnostic> {
    validate_with(
        migrations,
        &Options {
            functions,
            ..Options::default()
        },
    )
}

/// [`validate`] with every option of the macro: declared functions, collations and
/// extension modules (the statements that need a declared module are not executed).
///
/// # Errors
///
/// As [`validate`].
pub fn validate_with(
    migrations: &[SourceMigration],
    options: &Options<'_>,
) -> Result<(), Diagnostic> {
    let folder = migrations.first().and_then(|m| m.path.parent());
    let cache = options
        .cache
        .zip(folder)
        .and_then(|(dir, folder)| Cache::open(dir, folder, false, options));
    validate_cached(migrations, options, cache, false, None).map(drop)
}

/// [`validate_with`], using and updating the build cache's entry for the folder,
/// and resuming from the checkpoint restored `ahead` when it is the one the entry offers.
///
/// With `lenient_downs`, a down script that does not pass the proof does not fail
/// the validation: the migration is validated again without it, and it is returned
/// with the problem, as (index, diagnostic), so that the caller marks the migration
/// irreversible.
pub(super) fn validate_cached(
    migrations: &[SourceMigration],
    options: &Options<'_>,
    mut cache: Option<Cache>,
    lenient_downs: bool,
    mut ahead: Option<Ahead<'_, '_>>,
) -> Result<Validated, Diagnostic> {
    let internal = |e: rusqlite::Error| {
        Diagnostic::new(
            "migrations",
            format!("cannot set up the in-memory validation database: {e}"),
        )
    };
    if let Some(cache) = &mut cache {
        cache.compare(migrations, lenient_downs);
    }
    let mut start = 0;
    let mut resumed = None;
    let mut changes: Vec<Vec<Change>> = vec![Vec::new(); migrations.len()];
    // The down scripts that fail the proof, by index, with why they never run.
    let mut unproven: Vec<(usize, String)> = Vec::new();
    if let Some(cache) = &mut cache {
        if cache.validated {
            if let Some(ahead) = ahead {
                ahead.stop();
            }
            cache::note_use(Some(migrations.len()));
            for (i, c) in changes.iter_mut().enumerate() {
                *c = cache.take_changes(i);
            }
            let unproven = cache.unproven(migrations.len());
            return Ok(Validated { unproven, changes });
        }
        if let Some(len) = cache.best() {
            let warm = ahead.take().and_then(Ahead::join);
            if let Some(w) = warm.filter(|w| w.len == len) {
                resumed = Some((w.conn, Some(w.scope)));
            } else {
                // After a failed restore, whatever it left is dropped: the
                // validation starts again from an empty database.
                let mut conn = connection(options).map_err(internal)?;
                if cache.restore(len, &mut conn) {
                    resumed = Some((conn, None));
                }
            }
            if resumed.is_some() {
                start = len;
                for (i, c) in changes.iter_mut().enumerate().take(len) {
                    *c = cache.take_changes(i);
                }
                // The stored migrations before the checkpoint are the current ones:
                // their down scripts fail the proof as they did.
                unproven = cache.unproven(len);
            }
        }
    }
    // No checkpoint to resume from: the one restored ahead, if any, is not used.
    if let Some(ahead) = ahead {
        ahead.stop();
    }
    let (mut conn, mut scope) = match resumed {
        Some(resumed) => resumed,
        None => (connection(options).map_err(internal)?, None),
    };
    cache::note_use((start > 0).then_some(start));
    let mut current = std::borrow::Cow::Borrowed(migrations);
    for &(i, _) in &unproven {
        current.to_mut()[i].down = None;
    }
    // Where the validation (re)starts: `start`, or after a down script failed its
    // proof, the latest state kept before that migration.
    let mut from = start;
    let mut kept = Kept::new(options, cache.as_ref(), lenient_downs);
    kept.may_break = start > 0 && cache.as_ref().is_none_or(|c| c.may_break_integrity(start));
    let result = loop {
        let result = validate_from(
            &conn,
            &current,
            options,
            from,
            &mut changes,
            &mut scope,
            &mut kept,
        );
        let result = match result {
            Err(Stop::Down(index, diagnostic)) if lenient_downs => {
                let diagnostic = *diagnostic;
                // The down ran on this connection: validate again without it, from
                // the latest state kept before the migration, else from the restored
                // checkpoint when it comes before it, else from the start. What was
                // captured after the migration followed the down script.
                current.to_mut()[index].down = None;
                unproven.push((index, super::layout::unproven(&diagnostic)));
                kept.captured.retain(|(len, ..)| *len <= index);
                // What it holds followed the down script: loaded again.
                scope = None;
                if let Some((len, copy)) = kept.take(index) {
                    conn = copy;
                    from = len;
                    continue;
                }
                conn = connection(options).map_err(internal)?;
                let restored = start > 0
                    && start <= index
                    && cache.as_ref().is_some_and(|c| c.restore(start, &mut conn));
                if !restored && start > 0 {
                    start = 0;
                    conn = connection(options).map_err(internal)?;
                }
                from = start;
                continue;
            }
            Err(Stop::Down(_, diagnostic)) => Err(*diagnostic),
            Err(Stop::Problem(diagnostic)) => Err(diagnostic),
            Ok(()) => Ok(()),
        };
        break result;
    };
    let (captured, may_break) = (kept.captured, kept.may_break);
    // The whole-set checks, while another thread makes the entry's bytes as if they
    // pass (they almost always do; they are made again if not); then the entry is
    // written while another thread frees the database. The entry holds the
    // migrations as read, down scripts included, and why each one left out fails
    // the proof: the next build starts after them and finds the same.
    let mut reasons = vec![String::new(); migrations.len()];
    for (i, reason) in &unproven {
        reasons[*i].clone_from(reason);
    }
    let result = std::thread::scope(|threads| {
        let entry = |validated| {
            let cache = cache.as_ref()?;
            cache.entry(migrations, &changes, &reasons, start, &captured, validated)
        };
        // Without a thread (none could be started), this one does it all.
        let passing = match (&result, &cache) {
            (Ok(()), Some(_)) => helper_thread()
                .spawn_scoped(threads, move || entry(true))
                .ok(),
            _ => None,
        };
        let result = result.and_then(|()| whole_set_checks(&conn, &current, options, may_break));
        // While this thread writes the entry (without a cache there is nothing to
        // overlap).
        if cache.is_some() {
            let _ = helper_thread().spawn_scoped(threads, move || drop((conn, scope)));
        }
        let entry = match (&result, passing) {
            (Ok(()), Some(passing)) => passing.join().ok().flatten(),
            (Ok(()), None) => entry(true),
            (Err(_), _) => entry(false),
        };
        if let (Some(cache), Some(entry)) = (&cache, entry) {
            cache.write(&entry);
        }
        result
    });
    result.map(|()| Validated { unproven, changes })
}

/// What a validation found besides problems.
pub(super) struct Validated {
    /// The migrations whose down scripts do not pass the proof (with lenient
    /// downs), by index, with why they never run (the migration's irreversible
    /// reason).
    pub(super) unproven: Vec<(usize, String)>,
    /// Each migration's schema changes, classified.
    pub(super) changes: Vec<Vec<Change>>,
}

/// Why a validation stopped.
enum Stop {
    /// A problem of the migrations.
    Problem(Diagnostic),
    /// The down script of the migration at this index does not pass the proof.
    Down(usize, Box<Diagnostic>),
}

impl From<Diagnostic> for Stop {
    fn from(d: Diagnostic) -> Self {
        Self::Problem(d)
    }
}

/// The validation from migration `first` (after a restored checkpoint; 0 for the
/// empty database), with the checkpoint's foreign-key `scope` when it is already
/// loaded (else it is loaded here; it stays with the caller, which frees it with
/// the database on another thread), up to the whole-set checks, which the caller
/// runs. States are offered to `kept` as long as no statement so far has left state
/// outside the database: the build cache's checkpoint after the migration before
/// the newest, and the states before migrations with a down script.
fn validate_from(
    conn: &Connection,
    migrations: &[SourceMigration],
    options: &Options<'_>,
    first: usize,
    changes: &mut [Vec<Change>],
    scope: &mut Option<Scope>,
    kept: &mut Kept<'_>,
) -> Result<(), Stop> {
    let internal = |e: rusqlite::Error| {
        Diagnostic::new(
            "migrations",
            format!("cannot set up the in-memory validation database: {e}"),
        )
    };
    let skipped = super::modules::unvalidated(migrations, options.modules);
    let _off = foreign_keys::Off::new(conn).map_err(internal)?;
    let scope = match scope {
        Some(scope) => scope,
        None if first == 0 => scope.insert(Scope::default()),
        None => scope.insert(Scope::load(conn).map_err(internal)?),
    };
    // A restored checkpoint was taken where the image held the whole state.
    let mut image_is_state = true;
    for index in first..migrations.len() {
        let m = &migrations[index];
        if m.down.is_some() && image_is_state {
            kept.offer(index, conn);
        }
        let statements = sql::statements(&m.sql);
        image_is_state &= cache::keeps_state_in_image(&statements);
        kept.may_break |= integrity::may_break_integrity(&statements);
        let run = Run {
            conn,
            migrations,
            index,
            statements: &statements,
            options,
            skipped: &skipped,
        };
        let before = match &m.down {
            Some(_) => Some(down::snapshot(conn).map_err(internal)?),
            None => None,
        };
        // What it changes: from its statements when it only adds, else from the
        // schema read before and after it.
        let additive = classify::additive_only(&m.sql, &statements);
        let named = match additive {
            Some(_) => BTreeSet::new(),
            None => classify::candidates(&statements),
        };
        let shape_before = classify::shape(conn, &named).map_err(internal)?;
        run.apply_saving(scope).map_err(internal_or)?;
        if let Some(additive) = additive {
            changes[index] = additive;
        } else if !named.is_empty() {
            let shape_after = classify::shape(conn, &named).map_err(internal)?;
            changes[index] = classify::diff(&shape_before, &shape_after, &m.sql, &statements);
        }
        if let (Some(down), Some(before)) = (&m.down, before) {
            let down_statements = sql::statements(&down.sql);
            image_is_state &= cache::keeps_state_in_image(&down_statements);
            kept.may_break |= integrity::may_break_integrity(&down_statements);
            let as_migration = down::as_migration(m, down);
            let run_down = Run {
                conn,
                migrations: std::slice::from_ref(&as_migration),
                index: 0,
                statements: &down_statements,
                options,
                skipped: &BTreeSet::new(),
            };
            let unproven = |d| Stop::Down(index, Box::new(d));
            run_down
                .apply_saving(scope)
                .map_err(internal_or)
                .map_err(unproven)?;
            let after = down::snapshot(conn).map_err(internal)?;
            down::compare(m, down, &before, &after).map_err(unproven)?;
            run.apply_saving(scope)
                .map_err(internal_or)
                .map_err(|mut d| {
                    d.message = format!(
                        "migration fails when run again after its down script `{}`: {}",
                        down.display_path, d.message
                    );
                    d.help = Some("the build runs the migration, its down script, then the migration again: the down must undo everything the migration does, rows it writes included (delete what it inserts, restore what it updates), so that it can run again".to_owned());
                    unproven(d)
                })?;
        }
        let len = index + 1;
        if image_is_state && len + 1 == migrations.len() {
            kept.capture(len, conn);
        }
    }
    Ok(())
}

/// Why [`Run::apply_saving`] failed.
enum ApplyError {
    /// The connection's settings could not be read.
    Internal(rusqlite::Error),
    /// The migration failed.
    Diagnostic(Diagnostic),
}

fn internal_or(e: ApplyError) -> Diagnostic {
    match e {
        ApplyError::Internal(e) => Diagnostic::new(
            "migrations",
            format!("cannot set up the in-memory validation database: {e}"),
        ),
        ApplyError::Diagnostic(d) => d,
    }
}

/// One migration being applied.
struct Run<'a> {
    conn: &'a Connection,
    migrations: &'a [SourceMigration],
    index: usize,
    statements: &'a [Statement<'a>],
    options: &'a Options<'a>,
    /// Statements not executed: they need a declared extension module.
    skipped: &'a BTreeSet<(usize, usize)>,
}

impl Run<'_> {
    fn m(&self) -> &SourceMigration {
        &self.migrations[self.index]
    }

    /// [`apply`](Self::apply), with the connection settings the statements change
    /// put back after it.
    fn apply_saving(&self, scope: &mut Scope) -> Result<(), ApplyError> {
        let saved = crate::rules::Settings::save(self.conn, self.statements)
            .map_err(ApplyError::Internal)?;
        let result = self.apply(scope);
        saved.restore(self.conn);
        result.map_err(ApplyError::Diagnostic)
    }

    fn failure(&self, at: usize, error: &rusqlite::Error) -> Diagnostic {
        Failure {
            conn: self.conn,
            migrations: self.migrations,
            index: self.index,
            statements: self.statements,
            at,
            options: self.options,
        }
        .diagnostic(error)
    }

    /// The migration, in a transaction unless it says otherwise.
    fn apply(&self, scope: &mut Scope) -> Result<(), Diagnostic> {
        let (conn, m, statements) = (self.conn, self.m(), self.statements);
        let internal = |e: rusqlite::Error| {
            Diagnostic::new(&m.display_path, format!("validation failed: {e}"))
        };
        if m.transaction {
            conn.execute_batch("BEGIN").map_err(internal)?;
        }
        let mut executed: Vec<Statement<'_>> = Vec::with_capacity(statements.len());
        for (at, statement) in statements.iter().enumerate() {
            if self.skipped.contains(&(self.index, at)) {
                continue;
            }
            executed.push(statement.clone());
            footguns::before(conn, m, statement)?;
            let added =
                added_column_target(statement).map(|table| (table.clone(), columns(conn, &table)));
            crate::exec::execute(conn, statement.text).map_err(|e| self.failure(at, &e))?;
            if let Some((table, Ok(before))) = added {
                check_added_columns(conn, m, statement, &table, &before)?;
            }
            footguns::after(conn, m, statement)?;
        }
        if !m.transaction && !conn.is_autocommit() {
            let message = "migration leaves a transaction open: it runs without a transaction (`-- migrate:no-transaction`) and this `BEGIN` has no `COMMIT`";
            let begin = statements
                .iter()
                .rev()
                .find(|s| s.keyword().as_deref() == Some("BEGIN"));
            return Err(match begin {
                Some(s) => Diagnostic::at(&m.display_path, &m.sql, s.offset, message),
                None => Diagnostic::new(&m.display_path, message),
            }
            .with_help("end every transaction the migration opens with `COMMIT`; the runner records the migration only after its last statement"));
        }
        let violations = scope
            .check_after(conn, &executed)
            .map_err(|e| foreign_key_error(m, &executed, &e))?;
        if !violations.is_empty() {
            return Err(self.violation_error(&violations));
        }
        if m.transaction {
            conn.execute_batch("COMMIT").map_err(|e| {
                Diagnostic::new(
                    &m.display_path,
                    format!("migration fails at COMMIT: {}", sqlite_message(&e).0),
                )
                .with_help("a deferred constraint fails once all the statements have run; fix the rows the migration leaves behind")
            })?;
        }
        Ok(())
    }

    /// Rows left breaking a foreign key, pointed at the first statement writing them.
    /// A parent table that does not exist yet is said so, with the later migration
    /// that creates it.
    fn violation_error(&self, violations: &[Violation]) -> Diagnostic {
        let (m, statements) = (self.m(), self.statements);
        let first = &violations[0];
        let offset = foreign_keys::culprit(statements, first).map(|s| s.offset);
        let parent_exists = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
                [&first.parent],
                |r| r.get::<_, i64>(0),
            )
            .is_ok_and(|n| n > 0);
        let (message, help) = if parent_exists {
            (
                format!(
                    "migration leaves rows that break a foreign key: {}",
                    foreign_keys::describe(violations)
                ),
                "the runner checks foreign keys before each COMMIT (enforcement is off during the migration, so a rebuild's DROP TABLE cascades nothing) and rolls back a migration that leaves dangling references: copy every row the other tables reference, or fix the rows".to_owned(),
            )
        } else {
            let parent = first.parent.to_ascii_lowercase();
            let later = help::created_later(self.migrations, self.index, &parent);
            let rows = match first.rowid {
                Some(id) => format!("`{}` row {id}", first.table),
                None => format!("a row of `{}`", first.table),
            };
            match later {
                Some(place) => (
                    format!(
                        "{rows} has a foreign key to table `{}`, which does not exist yet: a later migration creates it ({place})",
                        first.parent
                    ),
                    format!(
                        "migrations run in version order, and the runner checks foreign keys before each COMMIT; move these rows into a migration after the one that creates `{}`",
                        first.parent
                    ),
                ),
                None => (
                    format!(
                        "{rows} has a foreign key to table `{}`, which no migration creates",
                        first.parent
                    ),
                    format!(
                        "no migration creates `{}`; fix the foreign key's table name, or create the table before these rows are written",
                        first.parent
                    ),
                ),
            }
        };
        match offset {
            Some(offset) => Diagnostic::at(&m.display_path, &m.sql, offset, message),
            None => Diagnostic::new(&m.display_path, message),
        }
        .with_help(help)
    }
}

/// `PRAGMA foreign_key_check` itself failed: a foreign key whose parent key is not unique.
fn foreign_key_error(
    m: &SourceMigration,
    statements: &[Statement<'_>],
    error: &rusqlite::Error,
) -> Diagnostic {
    let message = sqlite_message(error).0;
    // `foreign key mismatch - "child" referencing "parent"`
    let child = message.split('"').nth(1).unwrap_or_default();
    let offset = foreign_keys::first_naming(statements, &[child]).map(|i| statements[i].offset);
    let help = if message.starts_with("foreign key mismatch") {
        "a foreign key must reference its parent's PRIMARY KEY, or columns with a UNIQUE constraint or index (https://www.sqlite.org/foreignkeys.html#fk_indexes)"
    } else {
        "the foreign key check failed on the schema this migration leaves; fix the foreign keys it declares"
    };
    let message = format!("foreign key check fails after this migration: {message}");
    match offset {
        Some(offset) => Diagnostic::at(&m.display_path, &m.sql, offset, message),
        None => Diagnostic::new(&m.display_path, message),
    }
    .with_help(help)
}

/// What only the finished schema shows: damage, views that cannot be queried,
/// foreign keys to missing tables or to keys that are not unique, writes that do not
/// compile. Each failure is named at the statement that caused it. Damage is looked
/// for only when a migration `may_break` the database's integrity.
fn whole_set_checks(
    conn: &Connection,
    migrations: &[SourceMigration],
    options: &Options<'_>,
    may_break: bool,
) -> Result<(), Diagnostic> {
    let internal = |e: rusqlite::Error| {
        Diagnostic::new(
            "migrations",
            format!("cannot check the schema the migrations build: {e}"),
        )
    };
    if let Some((probe, message)) = schema::first_failure(conn, may_break).map_err(internal)? {
        let blame = schema::blame(migrations, options, &probe).map_err(internal)?;
        return Err(help::whole_set(
            conn, migrations, options, &probe, &message, blame,
        ));
    }
    Ok(())
}

/// For `ALTER TABLE [schema.]table ADD [COLUMN] …`, the table, as `(schema, table)`.
fn added_column_target(statement: &Statement<'_>) -> Option<(String, String)> {
    let t = &statement.tokens;
    let text = statement.text;
    if t.len() < 5 || !t[0].is_keyword(text, "ALTER") || !t[1].is_keyword(text, "TABLE") {
        return None;
    }
    let (schema, table, next) = if t.len() > 5 && t[3].text(text) == "." {
        (t[2].identifier(text)?, t[4].identifier(text)?, 5)
    } else {
        ("main".to_owned(), t[2].identifier(text)?, 3)
    };
    t[next].is_keyword(text, "ADD").then_some((schema, table))
}

/// Column names of a table.
fn columns(conn: &Connection, (schema, table): &(String, String)) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1, ?2)")?;
    let names = stmt.query_map([table, schema], |row| row.get(0))?;
    names.collect()
}

fn check_added_columns(
    conn: &Connection,
    m: &SourceMigration,
    statement: &Statement<'_>,
    (schema, table): &(String, String),
    before: &[String],
) -> Result<(), Diagnostic> {
    let internal =
        |e: rusqlite::Error| Diagnostic::new(&m.display_path, format!("validation failed: {e}"));
    let mut stmt = conn
        .prepare("SELECT name, \"notnull\", dflt_value FROM pragma_table_info(?1, ?2)")
        .map_err(internal)?;
    let rows = stmt
        .query_map([table, schema], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, bool>(1)?,
                row.get::<_, Option<String>>(2)?,
            ))
        })
        .map_err(internal)?;
    for row in rows {
        let (column, not_null, default) = row.map_err(internal)?;
        let null_default = default
            .as_deref()
            .is_none_or(|d| d.trim().eq_ignore_ascii_case("NULL"));
        if not_null && null_default && !before.contains(&column) {
            // Point at the column's name, the token after ADD [COLUMN].
            let text = statement.text;
            let add = statement
                .tokens
                .iter()
                .position(|t| t.is_keyword(text, "ADD"))
                .unwrap_or(0);
            let mut at = add + 1;
            if statement
                .tokens
                .get(at)
                .is_some_and(|t| t.is_keyword(text, "COLUMN"))
            {
                at += 1;
            }
            let offset = statement.offset + statement.tokens.get(at).map_or(0, |t| t.start);
            return Err(Diagnostic::at(
                &m.display_path,
                &m.sql,
                offset,
                format!("column `{column}` is added to `{table}` as NOT NULL without a default"),
            )
            .with_help(format!(
                "SQLite accepts this on the empty validation database but refuses it on any table with rows (\"Cannot add a NOT NULL column with default value NULL\"); {NOT_NULL_FIX}"
            )));
        }
    }
    Ok(())
}
