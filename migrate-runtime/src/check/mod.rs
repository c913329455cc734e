//! Checks a migrations folder the way the `migrations!` macro does at build time.
//!
//! [`check_dir`] reads the numbered `.sql` files, checks their names, numbering,
//! encoding and statements, then applies them in order to an in-memory SQLite.
//! Every file-level problem is reported at once; SQL execution stops at the first
//! failing migration, since later ones depend on it.

mod ahead;
mod cache;
mod changes;
mod deploy;
mod down;
mod footguns;
mod help;
mod integrity;
mod kept;
pub mod layout;
pub mod modules;
mod naming;
mod read_once;
mod schema;
mod search;
mod source;
mod statements;
mod validate;

use std::path::Path;

use crate::diagnostic::Diagnostic;
pub use deploy::acknowledged;
pub use source::read_dir;
pub use validate::{validate, validate_with};

pub use crate::layout::Layout;
pub use crate::run::TRACKING_TABLE;
pub use crate::source::SourceMigration;

/// Reads and checks every migration in `dir`, then applies them in order to an
/// in-memory database with `PRAGMA foreign_keys = ON`.
///
/// `display_dir` is how messages name the folder (the path the user wrote, relative
/// to `Cargo.toml`). Returns the migrations in version order.
///
/// # Errors
///
/// Every problem found, as [`Diagnostic`]s: all file-level problems (names,
/// numbering, encoding, empty files, transaction statements, use of
/// `schema_migrations`) at once, or the first failing SQL statement.
pub fn check_dir(dir: &Path, display_dir: &str) -> Result<Vec<SourceMigration>, Vec<Diagnostic>> {
    check_dir_with(dir, display_dir, &[])
}

/// [`check_dir`], with stand-ins for the application-defined SQL functions the
/// migrations call, as (name, number of arguments; -1 for any).
///
/// # Errors
///
/// As [`check_dir`].
pub fn check_dir_with(
    dir: &Path,
    display_dir: &str,
    functions: &[(&str, i32)],
) -> Result<Vec<SourceMigration>, Vec<Diagnostic>> {
    check_dir_opts(
        dir,
        display_dir,
        &Options {
            functions,
            ..Options::default()
        },
    )
}

/// What the `migrations!` macro declares besides the folder.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// The folder's layout; `None` detects it.
    pub layout: Option<layout::Layout>,
    /// Application-defined SQL functions: name and number of arguments (-1: any).
    pub functions: &'a [(&'a str, i32)],
    /// Application-defined collations.
    pub collations: &'a [&'a str],
    /// Virtual table modules the application loads as extensions, which the build
    /// cannot load: the statements that need them are skipped at build time.
    pub modules: &'a [&'a str],
    /// Where the build cache of the validation lives (see the README's Performance
    /// section); `None` validates every migration every time. Results are the same
    /// either way.
    pub cache: Option<&'a Path>,
    /// What a down script that does not pass the proof does to the build.
    pub downs: Downs,
    /// The macro's `deploy_safety(from = N)`: from version N on, each destructive,
    /// renaming or tightening change must be acknowledged in its migration by a
    /// `-- migrate:allow <kind> <object>` line. `None`: nothing needs one (a
    /// directive that matches no change is an error all the same).
    pub deploy_safety: Option<crate::Version>,
}

/// What a down script that does not pass the build's proof (it fails to run, does
/// not give back the schema from before its migration, or its migration fails when
/// run again after it) does to the build: the macro's `downs = "…"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Downs {
    /// [`Strict`](Self::Strict) in the native layout, [`Lenient`](Self::Lenient) in
    /// another tool's: a folder written for that tool keeps building unchanged.
    #[default]
    Auto,
    /// The build fails at the down script.
    Strict,
    /// The build goes on without the down script: its migration is irreversible,
    /// with the problem as the reason ([`SourceMigration::irreversible`]), which
    /// `rollback` and `migrate_to` give when they refuse to go down through it. In
    /// another tool's layout, a down script's content problems (a transaction
    /// statement, bytes that are not UTF-8) do the same.
    Lenient,
}

impl Downs {
    /// The setting as the macro spells it (`strict`, `lenient`).
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "strict" => Some(Self::Strict),
            "lenient" => Some(Self::Lenient),
            _ => None,
        }
    }

    /// Whether a down script with a problem leaves its migration irreversible
    /// rather than failing the build, in `layout`.
    pub fn lenient(self, layout: layout::Layout) -> bool {
        match self {
            Self::Auto => layout != layout::Layout::Native,
            Self::Strict => false,
            Self::Lenient => true,
        }
    }
}

/// Where the build cache of the validation lives, from the `MIGRATE_BUILD_CACHE`
/// setting (`setting`, read by the caller) and the user's cache folder
/// (`user_cache`): the setting's folder when it names one, `None` when it is `off`,
/// `0` or `false`, else `migrate` in the user's cache folder.
pub fn cache_dir(
    setting: Option<&std::ffi::OsStr>,
    user_cache: Option<std::path::PathBuf>,
) -> Option<std::path::PathBuf> {
    match setting {
        Some(v)
            if ["off", "0", "false"]
                .iter()
                .any(|off| v.eq_ignore_ascii_case(off)) =>
        {
            None
        }
        Some(v) if !v.is_empty() => Some(v.into()),
        _ => user_cache.map(|d| d.join("migrate")),
    }
}

/// [`check_dir`] with every option of the macro.
///
/// # Errors
///
/// As [`check_dir`].
pub fn check_dir_opts(
    dir: &Path,
    display_dir: &str,
    options: &Options<'_>,
) -> Result<Vec<SourceMigration>, Vec<Diagnostic>> {
    let display_dir = match display_dir.trim_end_matches('/') {
        "" => ".",
        trimmed => trimmed,
    };
    let unneeded = ahead::Unneeded::default();
    std::thread::scope(|threads| check_dir_in(dir, display_dir, options, &unneeded, threads))
}

/// [`check_dir_opts`], reading the build cache's entry and restoring its longest
/// checkpoint on another of the `threads` while this one detects the layout and
/// reads the files: the two halves of an incremental check take about as long, and
/// the build runs the macro alone.
fn check_dir_in<'scope>(
    dir: &'scope Path,
    display_dir: &'scope str,
    options: &'scope Options<'_>,
    unneeded: &'scope ahead::Unneeded,
    threads: &'scope std::thread::Scope<'scope, '_>,
) -> Result<Vec<SourceMigration>, Vec<Diagnostic>> {
    let _read_once = read_once::ReadOnce::start();
    // Whichever way this returns (a problem found in the files included), the
    // restore ahead is not waited for beyond the step it is in.
    let _stop = ahead::StopOnReturn(unneeded);
    let (opened, cache) = std::sync::mpsc::channel();
    // A thread that cannot be started drops the sender: no cache, as when off.
    let ahead = options.cache.and_then(|cache_dir| {
        ahead::helper_thread()
            .spawn_scoped(threads, move || {
                // The entry is named after the folder's absolute path, so a relative
                // `dir` (the command's `migrations`) does not share one entry between
                // projects.
                let folder = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
                let mut cache = cache::Cache::open(cache_dir, &folder, true, options);
                let checkpoint = cache.as_mut().and_then(|cache| {
                    cache.decode();
                    cache.longest()
                });
                let _ = opened.send(cache);
                // Used only if the files read show it is the state of their first
                // migrations (`Cache::compare`).
                checkpoint.and_then(|c| ahead::warm(&c, options, unneeded))
            })
            .ok()
    });
    let layout = match options.layout {
        Some(layout) => layout,
        None => layout::detect(dir, display_dir)?,
    };
    let mut cache = cache.recv().ok().flatten();
    if let Some(cache) = &mut cache {
        cache.read_in(layout);
    }
    let known = |path: &str, sql: &str| cache.as_ref().and_then(|c| c.known(path, sql));
    let lenient = options.downs.lenient(layout);
    let mut migrations = layout::read_known(dir, display_dir, Some(layout), &known, lenient)?;
    let ahead = ahead.map(|thread| ahead::Ahead {
        thread,
        unneeded,
        threads,
    });
    let validated = validate::validate_cached(&migrations, options, cache, lenient, ahead)
        .map_err(|d| vec![layout::tagged(d, layout)])?;
    for (m, changes) in migrations.iter_mut().zip(validated.changes) {
        m.changes = changes;
    }
    let problems = deploy::check(&migrations, options.deploy_safety);
    if !problems.is_empty() {
        return Err(problems
            .into_iter()
            .map(|d| layout::tagged(d, layout))
            .collect());
    }
    for (index, reason) in validated.unproven {
        let m = &mut migrations[index];
        if let Some(down) = m.down.take() {
            m.irreversible = Some(crate::source::UnusedDown {
                path: down.path,
                reason,
            });
        }
    }
    Ok(migrations)
}

/// Migrations made from texts, numbered from 1, as `read_dir` would make them.
#[cfg(test)]
pub(crate) fn sources<S: AsRef<str>>(texts: &[S]) -> Vec<SourceMigration> {
    let mut previous = crate::checksum::CHAIN_START;
    (1..)
        .zip(texts)
        .map(|(version, sql)| {
            let sql = sql.as_ref();
            let checksum = crate::checksum(sql);
            let chain = crate::checksum::chain(&previous, version, &checksum);
            previous = chain;
            let file_name = format!("{version:03}_m{version}.sql");
            SourceMigration {
                version,
                name: format!("m{version}"),
                path: file_name.clone().into(),
                display_path: format!("migrations/{file_name}"),
                file_name,
                sql: sql.to_owned(),
                checksum,
                chain,
                transaction: true,
                source_id: String::new(),
                down: None,
                irreversible: None,
                changes: Vec::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod generated;

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in files {
            std::fs::write(dir.path().join(name), content).unwrap();
        }
        dir
    }

    fn messages(files: &[(&str, &[u8])]) -> Vec<String> {
        let dir = dir_with(files);
        match check_dir(dir.path(), "m") {
            Ok(_) => Vec::new(),
            Err(ds) => ds.into_iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn accepts_a_valid_set_and_ignores_other_files() {
        let dir = dir_with(&[
            ("001_users.sql", b"CREATE TABLE users (id INTEGER PRIMARY KEY);"),
            ("002_posts.sql", b"\xEF\xBB\xBFCREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INT REFERENCES users(id))"),
            ("README.md", b"not sql"),
            (".003_hidden.sql", b"garbage"),
        ]);
        std::fs::create_dir(dir.path().join("004_dir.sql")).unwrap();
        let ms = check_dir(dir.path(), "m").unwrap();
        assert_eq!(ms.iter().map(|m| m.version).collect::<Vec<_>>(), [1, 2]);
        assert!(ms[1].sql.starts_with("CREATE"), "BOM dropped");
        assert_eq!(ms[1].display_path, "m/002_posts.sql");
        assert_eq!(
            ms[0].checksum,
            crate::checksum("CREATE TABLE users (id INTEGER PRIMARY KEY)")
        );
    }

    #[test]
    fn reports_every_file_level_problem_at_once() {
        let got = messages(&[
            ("001_a.sql", b"SELECT 1"),
            ("001_b.sql", b"SELECT 1"),
            ("0002_c.sql", b"SELECT 1"),
            ("005_d.sql", b"-- nothing"),
            ("Bad Name.sql", b"SELECT 1"),
            ("006_e.sql", b"SELECT \xff"),
            ("007_f.sql", b"BEGIN;\nSELECT 1;\nCOMMIT;"),
            ("008_g.sql", b"INSERT INTO schema_migrations VALUES (1)"),
        ]);
        let all = got.join("\n\n");
        for expected in [
            "duplicate migration version 1: `001_b.sql` reuses the version of `001_a.sql`",
            "m/0002_c.sql: migration version `0002` has 4 digits but the other migrations use 3",
            "rename it to `002_c.sql`",
            "gap in migration versions: 003, 004 missing between `0002_c.sql` and `005_d.sql`",
            "invalid migration file name `Bad Name.sql`",
            "m/005_d.sql: migration has no SQL statement",
            "m/006_e.sql:1:8: migration is not valid UTF-8: invalid byte 0xFF at byte offset 7",
            "m/007_f.sql:1:1: migration controls its own transaction: `BEGIN` on line 1, `COMMIT` on line 3",
            "remove lines 1, 3",
            "m/008_g.sql:1:13: migration uses the tracking table `schema_migrations`",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
        }
        assert_eq!(got.len(), 8, "{all}");
    }

    #[test]
    fn nul_bytes_and_unreadable_files_are_reported() {
        let dir = dir_with(&[("001_a.sql", b"SELECT 1;\n\0DROP TABLE x;")]);
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("gone.sql"), dir.path().join("002_b.sql"))
            .unwrap();
        let got: Vec<String> = check_dir(dir.path(), "m")
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            got[0].starts_with("m/001_a.sql:2:1: migration contains a NUL byte"),
            "{got:?}"
        );
        #[cfg(unix)]
        assert!(
            got[1].starts_with("m/002_b.sql: cannot read the migration:"),
            "{got:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_file_names_are_reported() {
        use std::os::unix::ffi::OsStrExt;
        let dir = dir_with(&[("001_a.sql", b"SELECT 1")]);
        let name = std::ffi::OsStr::from_bytes(b"002_caf\xe9.sql");
        std::fs::write(dir.path().join(name), "SELECT 1").unwrap();
        let got = check_dir(dir.path(), "m").unwrap_err();
        assert_eq!(
            got[0].to_string().lines().next().unwrap(),
            "m/002_caf\u{fffd}.sql: migration file name is not valid UTF-8"
        );
    }

    #[test]
    fn timestamps_may_have_gaps_but_not_duplicates() {
        assert!(
            messages(&[
                ("20240101000000_a.sql", b"SELECT 1"),
                ("20240305120000_b.sql", b"SELECT 1")
            ])
            .is_empty()
        );
        assert_eq!(
            messages(&[("0_a.sql", b"SELECT 1"), ("1_b.sql", b"SELECT 1")]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn missing_and_empty_folders() {
        let dir = dir_with(&[("notes.txt", b"")]);
        let err = check_dir(dir.path(), "m").unwrap_err();
        assert!(
            err[0].to_string().starts_with("m: no migrations found"),
            "{err:?}"
        );
        let err = check_dir(&dir.path().join("nope"), "nope").unwrap_err();
        assert!(
            err[0]
                .to_string()
                .starts_with("nope: migrations folder not found"),
            "{err:?}"
        );
    }

    #[test]
    fn sql_errors_point_at_file_line_and_column() {
        let got = messages(&[
            ("001_a.sql", b"CREATE TABLE a (id INTEGER PRIMARY KEY);"),
            (
                "002_b.sql",
                b"-- posts\nCREATE TABLE b (id INTEGER);\n\n  CREAT TABLE c (id INTEGER);\n",
            ),
        ]);
        assert_eq!(got.len(), 1);
        assert!(
            got[0].starts_with(
                "m/002_b.sql:4:3: near \"CREAT\": syntax error\n  |\n4 |   CREAT TABLE c"
            ),
            "{}",
            got[0]
        );
    }

    #[test]
    fn runtime_errors_point_at_the_statement() {
        let got = messages(&[("001_a.sql", b"CREATE TABLE a (id INTEGER PRIMARY KEY);\nINSERT INTO a VALUES (1);\nINSERT INTO a VALUES (1);")]);
        assert!(
            got[0].starts_with("m/001_a.sql:3:1: UNIQUE constraint failed: a.id"),
            "{}",
            got[0]
        );
    }

    #[test]
    fn foreign_keys_are_enforced() {
        let got = messages(&[(
            "001_a.sql",
            b"CREATE TABLE a (id INTEGER PRIMARY KEY);\nCREATE TABLE b (a_id INT REFERENCES a(id));\nINSERT INTO b VALUES (7);",
        )]);
        assert!(
            got[0].starts_with("m/001_a.sql:3:1: migration leaves rows that break a foreign key: `b` row 1 references a missing row of `a`"),
            "{}",
            got[0]
        );
    }

    #[test]
    fn deferred_foreign_keys_are_checked_before_commit() {
        let got = messages(&[
            ("001_a.sql", b"CREATE TABLE a (id INTEGER PRIMARY KEY);\nCREATE TABLE b (a_id INT REFERENCES a(id) DEFERRABLE INITIALLY DEFERRED);"),
            ("002_b.sql", b"INSERT INTO b VALUES (7);"),
        ]);
        assert_eq!(
            got[0].lines().next().unwrap(),
            "m/002_b.sql:1:1: migration leaves rows that break a foreign key: `b` row 1 references a missing row of `a`"
        );
    }

    #[test]
    fn not_null_column_without_default_is_refused() {
        let base: (&str, &[u8]) = ("001_a.sql", b"CREATE TABLE \"a\" (id INTEGER PRIMARY KEY);");
        let got = messages(&[
            base,
            (
                "002_b.sql",
                b"ALTER TABLE main.\"a\" ADD COLUMN email TEXT NOT NULL;",
            ),
        ]);
        assert!(
            got[0].starts_with(
                "m/002_b.sql:1:33: column `email` is added to `a` as NOT NULL without a default"
            ),
            "{}",
            got[0]
        );
        for ok in [
            &b"ALTER TABLE a ADD COLUMN email TEXT NOT NULL DEFAULT ''"[..],
            b"ALTER TABLE a ADD email TEXT",
            b"ALTER TABLE a ADD COLUMN n INT NOT NULL DEFAULT 0",
        ] {
            assert!(messages(&[base, ("002_b.sql", ok)]).is_empty());
        }
    }

    #[test]
    fn not_null_column_on_a_seeded_table_gets_the_same_advice() {
        let got = messages(&[
            (
                "001_a.sql",
                b"CREATE TABLE a (id INTEGER PRIMARY KEY);\nINSERT INTO a VALUES (1);",
            ),
            (
                "002_b.sql",
                b"ALTER TABLE a ADD COLUMN email TEXT NOT NULL;",
            ),
        ]);
        assert!(
            got[0].starts_with(
                "m/002_b.sql:1:1: Cannot add a NOT NULL column with default value NULL"
            ),
            "{}",
            got[0]
        );
        assert!(got[0].contains("the table already has rows when this migration runs; give the column a non-NULL default"), "{}", got[0]);
    }

    #[test]
    fn trigger_bodies_and_semicolons_in_strings_are_fine() {
        assert!(messages(&[(
            "001_a.sql",
            b"CREATE TABLE a (x TEXT DEFAULT ';');\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE a SET x = 'a;b';\nEND;\nINSERT INTO a VALUES ('-- not a comment')"
        )])
        .is_empty());
    }
}
