//! The `migrate` binary on temporary folders and databases: every subcommand, bad
//! input for every argument, and every exit code.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use rusqlite::Connection;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Runs `migrate` in `cwd` with stdin closed (not a terminal).
fn migrate(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migrate"))
        .current_dir(cwd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the migrate binary runs")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// An error: exit 2, one line on stderr starting with `error:`, no panic, no backtrace.
#[track_caller]
fn assert_one_line_error(output: &Output, contains: &str) {
    let err = stderr(output);
    assert_eq!(code(output), 2, "stdout: {}\nstderr: {err}", stdout(output));
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(contains), "`{contains}` in: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
}

/// A project folder with `migrations/` holding `files`.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let migrations = dir.path().join("migrations");
    std::fs::create_dir(&migrations).expect("migrations folder");
    for (name, sql) in files {
        let path = migrations.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("parent");
        }
        std::fs::write(path, sql).expect("write");
    }
    dir
}

const USERS: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n";
const EMAIL: &str =
    "ALTER TABLE users ADD COLUMN email TEXT;\nCREATE INDEX users_email ON users (email);\n";

fn two_migrations() -> tempfile::TempDir {
    project(&[
        ("001_create_users.sql", USERS),
        ("002_add_email.sql", EMAIL),
    ])
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// ---- new ----

#[test]
fn new_creates_the_folder_and_the_first_file_with_a_header() -> TestResult {
    let dir = tempfile::tempdir()?;
    let out = migrate(dir.path(), &["new", "create_users"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let migrations = dir.path().join("migrations");
    assert_eq!(names(&migrations), ["001_create_users.sql"]);
    let text = std::fs::read_to_string(migrations.join("001_create_users.sql"))?;
    assert!(text.starts_with("-- create_users\n-- Created "), "{text}");
    Ok(())
}

#[test]
fn new_follows_the_folders_padding() -> TestResult {
    let dir = project(&[("0001_a.sql", USERS), ("0002_b.sql", EMAIL)]);
    let out = migrate(dir.path(), &["new", "add_tags"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(dir.path().join("migrations/0003_add_tags.sql").is_file());
    Ok(())
}

#[test]
fn new_uses_a_utc_timestamp_in_a_timestamped_folder() -> TestResult {
    let dir = project(&[("20240101120000_create_users.sql", USERS)]);
    let out = migrate(dir.path(), &["new", "add_email"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let created = names(&dir.path().join("migrations"));
    let new = created
        .iter()
        .find(|n| n.ends_with("_add_email.sql"))
        .ok_or("no new file")?;
    let digits = new.split('_').next().ok_or("no version")?;
    assert_eq!(digits.len(), 14, "{new}");
    assert!(
        digits > "20240101120000" && digits.starts_with("20"),
        "{new}"
    );
    Ok(())
}

#[test]
fn new_keeps_the_width_of_a_timestamped_folder() -> TestResult {
    // 12-digit timestamps, one of them in the future: the new one is above it.
    let dir = project(&[("202401011200_a.sql", USERS), ("999912312359_b.sql", EMAIL)]);
    let out = migrate(dir.path(), &["new", "add_tags"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        dir.path()
            .join("migrations/999912312360_add_tags.sql")
            .is_file(),
        "{:?}",
        names(&dir.path().join("migrations"))
    );
    Ok(())
}

#[test]
fn new_follows_a_foreign_layout() -> TestResult {
    let dir = project(&[
        ("1_create_users.up.sql", USERS),
        ("1_create_users.down.sql", "DROP TABLE users;"),
    ]);
    let out = migrate(dir.path(), &["new", "add_email"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let created = names(&dir.path().join("migrations"));
    assert!(
        created.contains(&"2_add_email.up.sql".to_owned()),
        "{created:?}"
    );
    assert!(
        created.contains(&"2_add_email.down.sql".to_owned()),
        "{created:?}"
    );

    let refinery = project(&[("V1__create_users.sql", USERS)]);
    let out = migrate(refinery.path(), &["new", "add_email"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        refinery
            .path()
            .join("migrations/V2__add_email.sql")
            .is_file()
    );
    Ok(())
}

#[test]
fn new_refuses_a_bad_name_with_the_corrected_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (bad, good) in [
        ("Add-Tags", "add_tags"),
        ("add tags", "add_tags"),
        ("Ünïcode", "n_code"),
    ] {
        let out = migrate(dir.path(), &["new", bad]);
        assert_one_line_error(&out, &format!("use `{good}`"));
    }
    assert!(!dir.path().join("migrations").exists(), "nothing created");
}

#[test]
fn new_reports_the_missing_build_rs_line_and_writes_it_on_request() -> TestResult {
    let dir = project(&[("001_create_users.sql", USERS)]);
    std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"app\"\n")?;
    let out = migrate(dir.path(), &["new", "add_email"]);
    assert_eq!(code(&out), 0);
    let err = stderr(&out);
    assert!(err.contains("has no line for migrations"), "{err}");
    assert!(
        err.contains("println!(\"cargo:rerun-if-changed=migrations\");"),
        "{err}"
    );
    assert!(!dir.path().join("build.rs").exists());

    let out = migrate(dir.path(), &["new", "add_tags", "--build-rs"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let build = std::fs::read_to_string(dir.path().join("build.rs"))?;
    assert_eq!(
        build,
        "fn main() {\n    println!(\"cargo:rerun-if-changed=migrations\");\n}\n"
    );

    let out = migrate(dir.path(), &["new", "add_bio"]);
    assert_eq!(code(&out), 0);
    assert!(!stderr(&out).contains("has no line"), "{}", stderr(&out));
    assert!(dir.path().join("migrations/004_add_bio.sql").is_file());
    Ok(())
}

#[test]
fn new_adds_the_line_to_an_existing_build_rs() -> TestResult {
    let dir = project(&[("001_create_users.sql", USERS)]);
    std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"app\"\n")?;
    std::fs::write(
        dir.path().join("build.rs"),
        "fn main() {\n    println!(\"cargo:rerun-if-changed=proto\");\n}\n",
    )?;
    let out = migrate(dir.path(), &["new", "add_email", "--build-rs"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let build = std::fs::read_to_string(dir.path().join("build.rs"))?;
    assert!(
        build.contains("rerun-if-changed=migrations") && build.contains("rerun-if-changed=proto"),
        "{build}"
    );
    Ok(())
}

// ---- check ----

#[test]
fn check_passes_a_good_folder() {
    let dir = two_migrations();
    let out = migrate(dir.path(), &["check"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("2 migration(s), every check passed"));
}

#[test]
fn check_reports_every_problem_with_the_macros_diagnostics_and_exits_1() {
    let dir = project(&[
        ("001_create_users.sql", USERS),
        (
            "002_posts.sql",
            "CREATE TABLE posts (id INTEGER PRIMARY KEY);\nCREAT TABLE comments (id INTEGER PRIMARY KEY);\n",
        ),
        ("Init.sql", "CREATE TABLE x (y);"),
    ]);
    let out = migrate(dir.path(), &["check"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("migrations/Init.sql"), "{err}");
    assert!(err.contains("003_init.sql"), "the corrected name: {err}");

    let dir = project(&[
        ("001_create_users.sql", USERS),
        (
            "002_posts.sql",
            "CREATE TABLE posts (id INTEGER PRIMARY KEY);\nCREAT TABLE comments (id INTEGER PRIMARY KEY);\n",
        ),
    ]);
    let out = migrate(dir.path(), &["check"]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(
        err.contains("migrations/002_posts.sql:2:1: near \"CREAT\": syntax error"),
        "{err}"
    );
    assert!(
        err.contains("^") && err.contains("help:"),
        "caret and help: {err}"
    );
}

#[test]
fn check_refuses_a_migration_named_subfolder_in_the_native_layout() {
    let dir = project(&[("001_create_users.sql", USERS), ("002_tags/up.sql", EMAIL)]);
    let out = migrate(dir.path(), &["check", "--layout", "native"]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(err.contains("`002_tags/` is a folder"), "{err}");
    assert!(err.contains("layout = \"diesel\""), "{err}");
}

#[test]
fn check_refuses_a_file_beside_diesel_folders() {
    // Detected as diesel by the folder; the flat file would never run.
    let dir = project(&[("001_a.sql", USERS), ("002_tags/up.sql", EMAIL)]);
    let out = migrate(dir.path(), &["check"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("`001_a.sql` is a file, but in the diesel layout"),
        "{err}"
    );
    assert!(err.contains("layout = \"native\""), "{err}");
}

#[test]
fn check_bad_folder_and_layout_arguments() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert_one_line_error(
        &migrate(dir.path(), &["check"]),
        "migrations folder not found: migrations",
    );
    assert_one_line_error(
        &migrate(dir.path(), &["check", "--dir", "nowhere"]),
        "not found: nowhere",
    );
    std::fs::write(dir.path().join("file"), "x").expect("write");
    assert_one_line_error(
        &migrate(dir.path(), &["check", "--dir", "file"]),
        "file is not a folder",
    );
    let dir = two_migrations();
    assert_one_line_error(
        &migrate(dir.path(), &["check", "--layout", "flyway"]),
        "unknown layout `flyway`",
    );
    assert_one_line_error(
        &migrate(dir.path(), &["check", "--function", "f"]),
        "--function `f` is not `name/arity`",
    );
    assert_one_line_error(
        &migrate(dir.path(), &["check", "--function", "f/x"]),
        "is not `name/arity`",
    );
}

// ---- status and up ----

#[test]
fn status_and_up_exit_codes_follow_the_database() -> TestResult {
    let dir = two_migrations();
    let cwd = dir.path();
    assert_one_line_error(
        &migrate(cwd, &["status", "--db", "app.db"]),
        "database not found: app.db",
    );

    let out = migrate(cwd, &["up", "--db", "app.db", "--to", "1"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("applied 001_create_users  ") && text.contains(" ms"),
        "{text}"
    );
    assert!(!text.contains("002_add_email"), "{text}");

    let out = migrate(cwd, &["status", "--db", "app.db"]);
    assert_eq!(code(&out), 1, "pending: {}", stdout(&out));
    let table = stdout(&out);
    assert!(
        table.starts_with("version  name          state    applied_at"),
        "{table}"
    );
    assert!(
        table.contains("2        add_email     pending  -"),
        "{table}"
    );
    assert!(table.contains("1 applied, 1 pending"), "{table}");

    let out = migrate(cwd, &["up", "--db", "app.db"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("applied 002_add_email"),
        "{}",
        stdout(&out)
    );
    assert_eq!(code(&migrate(cwd, &["status", "--db", "app.db"])), 0);
    let out = migrate(cwd, &["up", "--db", "app.db"]);
    assert!(
        stdout(&out).contains("nothing to apply: app.db is at version 2"),
        "{}",
        stdout(&out)
    );

    // Modified.
    std::fs::write(
        cwd.join("migrations/002_add_email.sql"),
        "ALTER TABLE users ADD COLUMN mail TEXT;",
    )?;
    let out = migrate(cwd, &["status", "--db", "app.db"]);
    assert_eq!(code(&out), 2);
    assert!(stdout(&out).contains("modified"), "{}", stdout(&out));
    assert_one_line_error(
        &migrate(cwd, &["up", "--db", "app.db"]),
        "must not be edited",
    );

    // Unknown: the folder lost a migration the database has.
    std::fs::remove_file(cwd.join("migrations/002_add_email.sql"))?;
    let out = migrate(cwd, &["status", "--db", "app.db"]);
    assert_eq!(code(&out), 2);
    assert!(stdout(&out).contains("unknown"), "{}", stdout(&out));
    assert_one_line_error(&migrate(cwd, &["up", "--db", "app.db"]), "does not know");
    let out = migrate(cwd, &["up", "--db", "app.db", "--allow-newer-database"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with(
            "warning: the database has migration(s) 2 applied that this binary does not contain"
        ),
        "{}",
        stderr(&out)
    );
    Ok(())
}

#[test]
fn a_file_that_is_not_a_database_is_one_error_line() -> TestResult {
    let dir = two_migrations();
    std::fs::write(dir.path().join("notes.txt"), "x".repeat(4096))?;
    for command in ["status", "up"] {
        assert_one_line_error(
            &migrate(dir.path(), &[command, "--db", "notes.txt"]),
            "is not an SQLite database",
        );
    }
    assert_eq!(
        std::fs::read(dir.path().join("notes.txt"))?,
        "x".repeat(4096).into_bytes()
    );
    assert_one_line_error(
        &migrate(dir.path(), &["up", "--db", "migrations"]),
        "is a folder, not a database file",
    );
    Ok(())
}

#[test]
fn a_path_that_cannot_be_written_is_one_error_line() {
    let dir = two_migrations();
    assert_one_line_error(
        &migrate(dir.path(), &["up", "--db", "missing/app.db"]),
        "the folder missing does not exist",
    );
    // Read-only for every user, root included.
    #[cfg(target_os = "linux")]
    assert_one_line_error(
        &migrate(dir.path(), &["up", "--db", "/proc/migrate-test.db"]),
        "cannot open the database",
    );
}

#[test]
fn a_locked_database_is_one_error_line() -> TestResult {
    let dir = two_migrations();
    let db = dir.path().join("app.db");
    let holder = Connection::open(&db)?;
    holder
        .execute_batch("CREATE TABLE other (x); BEGIN EXCLUSIVE; INSERT INTO other VALUES (1);")?;
    let out = migrate(dir.path(), &["up", "--db", "app.db", "--busy-timeout", "1"]);
    assert_one_line_error(&out, "locked");
    holder.execute_batch("ROLLBACK")?;
    assert_eq!(code(&migrate(dir.path(), &["up", "--db", "app.db"])), 0);
    Ok(())
}

#[test]
fn bad_arguments_are_one_error_line_with_exit_2() {
    let dir = two_migrations();
    let cwd = dir.path();
    for (args, contains) in [
        (&["status"][..], "--db"),
        (&["up", "--db", "app.db", "--to", "two"], "two"),
        (
            &["up", "--db", "app.db", "--to", "9"],
            "--to 9: no migration",
        ),
        (&["up", "--db", "app.db", "--busy-timeout", "-1"], "-1"),
        (&["baseline", "--db", "app.db"], "--version"),
        (&["repair", "--db", "app.db", "--version", "x"], "x"),
        (&["frobnicate"], "frobnicate"),
        (&["check", "--bogus"], "--bogus"),
        (&["new"], "<NAME>"),
    ] {
        assert_one_line_error(&migrate(cwd, args), contains);
    }
    assert_eq!(code(&migrate(cwd, &[])), 2, "no subcommand");
    for help in [
        &["--help"][..],
        &["up", "--help"],
        &["new", "--help"],
        &["repair", "--help"],
    ] {
        let out = migrate(cwd, help);
        assert_eq!(code(&out), 0);
        assert!(stdout(&out).contains("Usage: migrate"), "{}", stdout(&out));
    }
}

#[test]
fn up_refuses_a_folder_that_fails_the_checks() {
    let dir = project(&[("001_create_users.sql", "CREAT TABLE users (id);")]);
    let out = migrate(dir.path(), &["up", "--db", "app.db"]);
    assert_one_line_error(&out, "`migrate check --dir migrations` shows them all");
    assert!(!dir.path().join("app.db").exists());
}

#[test]
fn up_shows_progress_for_a_migration_longer_than_two_seconds() -> TestResult {
    // Slow on real data, instant on the empty validation database. The table grows
    // until the migration takes over 3 s on this machine (each try starts afresh).
    for rows in [3_000_000_i64, 6_000_000, 12_000_000] {
        let dir = project(&[
            (
                "001_create_items.sql",
                "CREATE TABLE items (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);",
            ),
            (
                "002_rewrite_items.sql",
                "UPDATE items SET payload = upper(payload) || lower(payload);\nCREATE INDEX items_payload ON items (payload);",
            ),
        ]);
        assert_eq!(
            code(&migrate(dir.path(), &["up", "--db", "app.db", "--to", "1"])),
            0
        );
        let conn = Connection::open(dir.path().join("app.db"))?;
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
             INSERT INTO items (payload) SELECT printf('%.80c-%d', 'x', i) FROM n",
            [rows],
        )?;
        drop(conn);
        let started = std::time::Instant::now();
        let out = migrate(dir.path(), &["up", "--db", "app.db"]);
        let took = started.elapsed();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert!(
            stdout(&out).contains("applied 002_rewrite_items"),
            "{}",
            stdout(&out)
        );
        let err = stderr(&out);
        if took > std::time::Duration::from_secs(3) {
            assert!(
                err.contains("002_rewrite_items: running for "),
                "after {took:?}: {err}"
            );
            assert!(err.contains(" SQLite steps"), "{err}");
            return Ok(());
        }
        if took < std::time::Duration::from_millis(1500) {
            assert!(
                !err.contains("running for"),
                "no progress line before 2 s: {err}"
            );
        }
    }
    panic!("the migration never took 3 s, even on 12,000,000 rows");
}

// ---- schema ----

#[test]
fn schema_prints_every_object_in_a_stable_order() {
    let dir = project(&[
        (
            "001_create_users.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\nCREATE VIEW names AS SELECT name FROM users;",
        ),
        (
            "002_more.sql",
            "CREATE INDEX users_name ON users (name);\nCREATE TABLE audit (at TEXT);\nCREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (datetime('now')); END;",
        ),
    ]);
    let out = migrate(dir.path(), &["schema"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle} in {text}"))
    };
    assert!(at("CREATE TABLE audit") < at("CREATE TABLE users"));
    assert!(at("CREATE TABLE users") < at("CREATE INDEX users_name"));
    assert!(at("CREATE INDEX users_name") < at("CREATE VIEW names"));
    assert!(at("CREATE VIEW names") < at("CREATE TRIGGER users_audit"));
    assert!(!text.contains("schema_migrations"), "{text}");
    assert_eq!(stdout(&migrate(dir.path(), &["schema"])), text, "stable");
}

// ---- baseline ----

#[test]
fn baseline_records_a_matching_database_and_refuses_a_different_one() -> TestResult {
    let dir = two_migrations();
    let cwd = dir.path();
    // A database made by hand, formatted differently.
    let conn = Connection::open(cwd.join("app.db"))?;
    conn.execute_batch(
        "create table users (id integer primary key, name text not null, email text);
         create index users_email on users(email);
         insert into users (name) values ('ada');",
    )?;
    drop(conn);
    assert_one_line_error(
        &migrate(cwd, &["baseline", "--db", "app.db", "--version", "7"]),
        "no embedded migration has version 7",
    );

    let out = migrate(cwd, &["baseline", "--db", "app.db", "--version", "1"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains("is not what the migrations up to 1 produce"),
        "{err}"
    );
    assert!(
        err.contains("- index users_email is in the database but not made by the migrations"),
        "{err}"
    );

    let out = migrate(cwd, &["baseline", "--db", "app.db", "--version", "2"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("recorded 2 migration(s)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(code(&migrate(cwd, &["status", "--db", "app.db"])), 0);
    let conn = Connection::open(cwd.join("app.db"))?;
    let name: String = conn.query_row("SELECT name FROM users", [], |r| r.get(0))?;
    assert_eq!(name, "ada");
    Ok(())
}

#[test]
fn baseline_lists_a_missing_object() -> TestResult {
    let dir = two_migrations();
    let conn = Connection::open(dir.path().join("app.db"))?;
    conn.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT);",
    )?;
    drop(conn);
    let before = std::fs::read(dir.path().join("app.db"))?;
    let out = migrate(
        dir.path(),
        &["baseline", "--db", "app.db", "--version", "2"],
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("- index users_email is missing from the database"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(dir.path().join("app.db"))?,
        before,
        "unchanged"
    );
    Ok(())
}

// ---- repair ----

fn edited_after_apply() -> tempfile::TempDir {
    let dir = two_migrations();
    assert_eq!(code(&migrate(dir.path(), &["up", "--db", "app.db"])), 0);
    std::fs::write(
        dir.path().join("migrations/002_add_email.sql"),
        "ALTER TABLE users ADD COLUMN email TEXT;\nCREATE INDEX users_email ON users (email, id);\n",
    )
    .expect("edit");
    dir
}

#[test]
fn repair_refuses_without_yes_when_stdin_is_not_a_terminal() -> TestResult {
    let dir = edited_after_apply();
    let before = std::fs::read(dir.path().join("app.db"))?;
    let out = migrate(dir.path(), &["repair", "--db", "app.db", "--version", "2"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("refusing to repair without --yes"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("CREATE INDEX users_email ON users ( email , id )"),
        "the new text: {}",
        stdout(&out)
    );
    assert_eq!(std::fs::read(dir.path().join("app.db"))?, before);
    Ok(())
}

#[test]
fn repair_records_the_new_checksum_for_that_version_only() {
    let dir = edited_after_apply();
    let cwd = dir.path();
    assert_one_line_error(
        &migrate(
            cwd,
            &["repair", "--db", "app.db", "--version", "1", "--yes"],
        ),
        "nothing to repair",
    );
    assert_one_line_error(
        &migrate(
            cwd,
            &["repair", "--db", "app.db", "--version", "5", "--yes"],
        ),
        "no embedded migration has version 5",
    );
    let out = migrate(
        cwd,
        &["repair", "--db", "app.db", "--version", "2", "--yes"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("repaired migration 002_add_email"),
        "{}",
        stdout(&out)
    );
    assert_eq!(code(&migrate(cwd, &["status", "--db", "app.db"])), 0);
    assert_eq!(code(&migrate(cwd, &["up", "--db", "app.db"])), 0);
}

#[test]
fn repair_shows_the_applied_text_from_git_beside_the_new_one() -> TestResult {
    let dir = two_migrations();
    let cwd = dir.path();
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(cwd)
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .output()
    };
    if git(&["init", "-q"]).is_err() {
        eprintln!("git is not installed: the side-by-side text from git is not tested");
        return Ok(());
    }
    git(&["add", "migrations"])?;
    git(&["commit", "-q", "-m", "migrations"])?;
    assert_eq!(code(&migrate(cwd, &["up", "--db", "app.db"])), 0);
    std::fs::write(
        cwd.join("migrations/002_add_email.sql"),
        "ALTER TABLE users ADD COLUMN email TEXT;\nCREATE INDEX users_email ON users (email, id);\n",
    )?;
    let out = migrate(
        cwd,
        &["repair", "--db", "app.db", "--version", "2", "--yes"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("applied (from git)"), "{text}");
    assert!(text.contains("CREATE INDEX users_email ON users ( email ) | CREATE INDEX users_email ON users ( email , id )"), "{text}");
    Ok(())
}

// ---- adoption ----

#[test]
fn up_adopts_the_lessons_database() -> TestResult {
    let dir = project(&[
        (
            "001_create_users.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);\n",
        ),
        (
            "002_add_users_name.sql",
            "ALTER TABLE users ADD COLUMN name TEXT;\n",
        ),
    ]);
    let conn = Connection::open(dir.path().join("app.db"))?;
    conn.execute_batch(
        "BEGIN;
         CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, name TEXT, applied_at TEXT);
         INSERT INTO schema_migrations VALUES ('000', 'create_schema_migrations', datetime('now'));
         COMMIT;
         BEGIN;
         CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
         INSERT INTO schema_migrations VALUES ('001', 'create_users', '2025-01-02 03:04:05');
         COMMIT;
         INSERT INTO users (email) VALUES ('ada@example.com');",
    )?;
    drop(conn);
    assert_one_line_error(
        &migrate(dir.path(), &["status", "--db", "app.db"]),
        "the SQLite lesson's `(version, name, applied_at)`",
    );
    let out = migrate(dir.path(), &["up", "--db", "app.db"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("adopted the lesson's schema_migrations: 1 migration(s) recorded"),
        "{text}"
    );
    assert!(text.contains("applied 002_add_users_name"), "{text}");
    assert_eq!(code(&migrate(dir.path(), &["status", "--db", "app.db"])), 0);
    Ok(())
}

#[test]
fn new_reversible_then_up_and_down() -> TestResult {
    let dir = project(&[
        ("001_create_users.sql", USERS),
        ("001_create_users.down.sql", "DROP TABLE users;\n"),
    ]);
    let out = migrate(dir.path(), &["new", "add_email", "--reversible"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        names(&dir.path().join("migrations")),
        [
            "001_create_users.down.sql",
            "001_create_users.sql",
            "002_add_email.down.sql",
            "002_add_email.sql"
        ]
    );
    // Still empty: the down file must say how to undo the migration.
    let out = migrate(dir.path(), &["check"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let migrations = dir.path().join("migrations");
    std::fs::write(migrations.join("002_add_email.sql"), EMAIL)?;
    std::fs::write(
        migrations.join("002_add_email.down.sql"),
        "DROP INDEX users_email;\n",
    )?;
    let out = migrate(dir.path(), &["check"]);
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out).contains("down script does not undo `002_add_email.sql`")
            || stderr(&out).contains("down script does not undo `002_add_email.sql`"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    std::fs::write(
        migrations.join("002_add_email.down.sql"),
        "DROP INDEX users_email;\nALTER TABLE users DROP COLUMN email;\n",
    )?;
    let out = migrate(dir.path(), &["check"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));

    let out = migrate(dir.path(), &["up", "--db", "app.db"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = migrate(dir.path(), &["down", "--db", "app.db"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("reverted 002_add_email"),
        "{}",
        stdout(&out)
    );
    let conn = Connection::open(dir.path().join("app.db"))?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    assert_eq!(version, 1);
    drop(conn);
    let out = migrate(dir.path(), &["down", "--db", "app.db", "--to", "0"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("reverted 001_create_users"),
        "{}",
        stdout(&out)
    );
    let out = migrate(dir.path(), &["down", "--db", "app.db"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("nothing to revert"),
        "{}",
        stdout(&out)
    );
    Ok(())
}

#[test]
fn down_through_an_irreversible_migration_is_refused() {
    let dir = two_migrations();
    assert_eq!(code(&migrate(dir.path(), &["up", "--db", "app.db"])), 0);
    let out = migrate(dir.path(), &["down", "--db", "app.db", "--steps", "2"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("cannot revert migration 2 (add_email): it has no down script"),
        "{}",
        stderr(&out)
    );
}

/// `migrate check` in `cwd` with the build cache setting `cache`: (exit code,
/// stdout, stderr).
fn check_with_cache(cwd: &Path, cache: &std::ffi::OsStr) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .current_dir(cwd)
        .arg("check")
        .env("MIGRATE_BUILD_CACHE", cache)
        .stdin(Stdio::null())
        .output()
        .expect("the migrate binary runs");
    (code(&output), stdout(&output), stderr(&output))
}

#[test]
fn checks_running_at_once_share_the_build_cache_and_agree_with_a_full_check() -> TestResult {
    // Real processes, as concurrent builds and editors are: each round edits the
    // newest migration (alternately fine and failing), then four `migrate check`
    // processes read and write the same cache entry at once.
    let files: Vec<(String, String)> = (1..=40)
        .map(|i| {
            (
                format!("{i:03}_m{i}.sql"),
                format!(
                    "CREATE TABLE t{i} (id INTEGER PRIMARY KEY, a TEXT UNIQUE);\nINSERT INTO t{i} (a) VALUES ('x');\nCREATE VIEW v{i} AS SELECT a FROM t{i};\n"
                ),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, s)| (n.as_str(), s.as_str()))
        .collect();
    let dir = project(&refs);
    let cache = tempfile::tempdir()?;
    let newest = dir.path().join("migrations").join(&files[39].0);
    for round in 0..6 {
        let mut sql = files[39].1.clone();
        if round % 2 == 1 {
            sql.push_str(&format!(
                "INSERT INTO t1 (a) VALUES ('x'); -- round {round}\n"
            ));
        }
        std::fs::write(&newest, sql)?;
        let full = check_with_cache(dir.path(), "off".as_ref());
        assert_eq!(full.0, i32::from(round % 2 == 1), "{full:?}");
        let runs: Vec<_> = (0..4)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_migrate"))
                    .current_dir(dir.path())
                    .arg("check")
                    .env("MIGRATE_BUILD_CACHE", cache.path())
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
            })
            .collect::<Result<_, _>>()?;
        for run in runs {
            let output = run.wait_with_output()?;
            let got = (code(&output), stdout(&output), stderr(&output));
            assert_eq!(got, full, "round {round}");
        }
        // And once more, from what they wrote.
        assert_eq!(check_with_cache(dir.path(), cache.path().as_os_str()), full);
    }
    let entries = std::fs::read_dir(cache.path())?.count();
    assert_eq!(entries, 1, "one entry, no temporary file left");
    Ok(())
}

#[test]
fn check_notes_another_tools_down_that_fails_the_proof_and_strict_fails() {
    let dir = project(&[
        (
            "1_create_tags.up.sql",
            "CREATE TABLE tags (id INTEGER PRIMARY KEY);\n",
        ),
        ("1_create_tags.down.sql", "DROP TABLE tags;\n"),
        (
            "2_add_color.up.sql",
            "ALTER TABLE tags ADD COLUMN color TEXT;\n",
        ),
        ("2_add_color.down.sql", "SELECT 1;\n"),
    ]);
    let out = migrate(dir.path(), &["check"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains(
            "note: migrations/2_add_color.up.sql is irreversible: its down script does not pass the build's proof (migrations/2_add_color.down.sql: down script does not undo `2_add_color.up.sql`"
        ),
        "{}",
        stdout(&out)
    );
    let out = migrate(dir.path(), &["check", "--downs", "strict"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(
        stderr(&out).contains("migrations/2_add_color.down.sql: down script does not undo"),
        "{}",
        stderr(&out)
    );
    // Going down through it is refused with the reason.
    let out = migrate(dir.path(), &["up", "--db", "app.db"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = migrate(dir.path(), &["down", "--db", "app.db"]);
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert!(
        stderr(&out).contains(
            "cannot revert migration 2 (add_color): its down script does not pass the build's proof"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_prints_each_migrations_classification_and_gates_pending_ones_on_a_database() {
    let dir = project(&[
        (
            "001_create_users.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, bio TEXT);\n",
        ),
        ("002_drop_bio.sql", "ALTER TABLE users DROP COLUMN bio;\n"),
    ]);
    let out = migrate(dir.path(), &["check"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains(
            "migrations/001_create_users.sql\n  line 1: create-table users (additive)\nmigrations/002_drop_bio.sql\n  line 1: drop-column users.bio (destructive) [not acknowledged]\n"
        ),
        "{}",
        stdout(&out)
    );
    // Opted in from 2: the build's error, with the line to add.
    let out = migrate(dir.path(), &["check", "--deploy-safety-from", "2"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("-- migrate:allow drop-column users.bio"),
        "{}",
        stderr(&out)
    );
    // A database at version 1: 002 is pending and not acknowledged.
    let out = migrate(dir.path(), &["up", "--db", "app.db", "--to", "1"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = migrate(dir.path(), &["check", "--db", "app.db"]);
    assert_eq!(code(&out), 1, "{}{}", stdout(&out), stderr(&out));
    assert!(
        !stdout(&out).contains("001_create_users.sql")
            && stdout(&out).contains("drop-column users.bio (destructive) [not acknowledged]")
            && stdout(&out).contains("1 pending migration(s)"),
        "{}",
        stdout(&out)
    );
    std::fs::write(
        dir.path().join("migrations/002_drop_bio.sql"),
        "-- migrate:allow drop-column users.bio -- 2.3 no longer reads it\nALTER TABLE users DROP COLUMN bio;\n",
    )
    .unwrap();
    let out = migrate(dir.path(), &["check", "--db", "app.db"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("line 2: drop-column users.bio (destructive) [acknowledged]"),
        "{}",
        stdout(&out)
    );
    let out = migrate(dir.path(), &["up", "--db", "app.db"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = migrate(dir.path(), &["check", "--db", "app.db"]);
    assert_eq!(code(&out), 0);
    assert!(
        stdout(&out).contains("0 pending migration(s)"),
        "{}",
        stdout(&out)
    );
}
