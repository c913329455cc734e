//! Rebuilds that never go stale, proven with cargo on a scratch application: with
//! `migrate::build::rerun_if_changed` in its `build.rs`, a migration file added
//! without touching any `.rs` file is in the next `cargo build`; without it, cargo
//! does not rebuild, and the debug binary's stale check names the file.
//!
//! The scratch crates and their target folder live under this workspace's target
//! folder (`<target>/rebuild-scratch/`), so reruns are warm; cargo runs `--offline`
//! with a copy of this workspace's `Cargo.lock`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const MAIN_RS: &str = r#"static MIGRATIONS: migrate::Migrations = migrate::migrations!("migrations");

fn main() {
    let path = std::env::args().nth(1).expect("the database path");
    let mut conn = migrate::rusqlite::Connection::open(path).expect("open");
    match MIGRATIONS.run(&mut conn) {
        Ok(report) => {
            for applied in &report.applied {
                println!("applied {}", applied.migration);
            }
            println!("embedded {}", MIGRATIONS.len());
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(3);
        }
    }
}
"#;

/// `<target>/rebuild-scratch`, from this test binary's path (`<target>/debug/deps/…`).
fn scratch_root() -> Result<PathBuf, Box<dyn std::error::Error>> {
    let exe = std::env::current_exe()?;
    let target = exe
        .ancestors()
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n == "debug" || n == "release")
        })
        .and_then(Path::parent)
        .ok_or("the test binary is not under a target folder")?;
    Ok(target.join("rebuild-scratch"))
}

/// A scratch application `name` with one migration, `build.rs` calling the helper
/// when `helper`.
fn scratch_app(
    root: &Path,
    name: &str,
    helper: bool,
) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let app = root.join(name);
    let _ = std::fs::remove_dir_all(&app);
    std::fs::create_dir_all(app.join("src"))?;
    std::fs::create_dir_all(app.join("migrations"))?;
    let workspace = env!("CARGO_MANIFEST_DIR");
    let build_dependency = if helper {
        format!("\n[build-dependencies]\nmigrate = {{ path = {workspace:?} }}\n")
    } else {
        String::new()
    };
    std::fs::write(
        app.join("Cargo.toml"),
        format!(
            "[package]\nname = {name:?}\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\nmigrate = {{ path = {workspace:?} }}\n{build_dependency}\n[workspace]\n"
        ),
    )?;
    std::fs::copy(
        Path::new(workspace).join("Cargo.lock"),
        app.join("Cargo.lock"),
    )?;
    std::fs::write(app.join("src/main.rs"), MAIN_RS)?;
    if helper {
        std::fs::write(
            app.join("build.rs"),
            "fn main() {\n    migrate::build::rerun_if_changed(\"migrations\");\n}\n",
        )?;
    }
    std::fs::write(
        app.join("migrations/001_create_users.sql"),
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n",
    )?;
    Ok(app)
}

fn cargo_build(app: &Path, target: &Path) -> Result<Output, Box<dyn std::error::Error>> {
    let output = Command::new(env!("CARGO"))
        .current_dir(app)
        .args(["build", "--offline", "--quiet"])
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_MANIFEST_DIR_OVERRIDE")
        .output()?;
    assert!(
        output.status.success(),
        "cargo build failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(output)
}

fn run_app(target: &Path, name: &str, db: &Path) -> Result<Output, Box<dyn std::error::Error>> {
    Ok(Command::new(target.join("debug").join(name))
        .arg(db)
        .output()?)
}

/// Adds a migration a second after the build, so its time is later than the build's.
fn add_migration(app: &Path) -> std::io::Result<()> {
    std::thread::sleep(std::time::Duration::from_millis(1100));
    std::fs::write(
        app.join("migrations/002_add_users_email.sql"),
        "ALTER TABLE users ADD COLUMN email TEXT;\n",
    )
}

fn on_nightly_with_tracked_path() -> bool {
    Command::new("rustc")
        .arg("-V")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("nightly"))
}

#[test]
fn an_added_migration_is_built_in_with_the_helper_and_reported_stale_without_it() -> TestResult {
    let root = scratch_root()?;
    let target = root.join("target");
    let db_dir = tempfile::tempdir()?;

    // With the helper: the added file is in the next build.
    let app = scratch_app(&root, "with_helper", true)?;
    cargo_build(&app, &target)?;
    let db = db_dir.path().join("with.db");
    let out = run_app(&target, "with_helper", &db)?;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "applied 001_create_users\nembedded 1\n"
    );
    add_migration(&app)?;
    cargo_build(&app, &target)?;
    let out = run_app(&target, "with_helper", &db)?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "applied 002_add_users_email\nembedded 2\n"
    );

    // Without it: cargo sees nothing to rebuild, and the binary says it is stale.
    let app = scratch_app(&root, "without_helper", false)?;
    cargo_build(&app, &target)?;
    let db = db_dir.path().join("without.db");
    assert!(run_app(&target, "without_helper", &db)?.status.success());
    add_migration(&app)?;
    cargo_build(&app, &target)?;
    let out = run_app(&target, "without_helper", &db)?;
    if on_nightly_with_tracked_path() {
        // The macro registered the folder with the compiler itself.
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "applied 002_add_users_email\nembedded 2\n"
        );
        return Ok(());
    }
    assert_eq!(
        out.status.code(),
        Some(3),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("this binary is stale"), "{err}");
    assert!(err.contains("002_add_users_email.sql (added)"), "{err}");
    assert!(
        err.contains("migrate::build::rerun_if_changed(\"migrations\")"),
        "{err}"
    );
    Ok(())
}

/// Editing a migration needs no helper: the macro's expansion names each file it
/// read (`include_bytes!`), so cargo rebuilds the crate and the new text is embedded.
#[test]
fn an_edited_migration_is_built_in_without_the_helper() -> TestResult {
    let root = scratch_root()?;
    let target = root.join("target");
    let db_dir = tempfile::tempdir()?;
    let app = scratch_app(&root, "edited", false)?;
    std::fs::write(
        app.join("migrations/002_create_posts.sql"),
        "CREATE TABLE posts (id INTEGER PRIMARY KEY);\n",
    )?;
    cargo_build(&app, &target)?;
    // A second later, so the file's time is after the build's.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    std::fs::write(
        app.join("migrations/002_create_posts.sql"),
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT);\n",
    )?;
    cargo_build(&app, &target)?;
    let db = db_dir.path().join("edited.db");
    let out = run_app(&target, "edited", &db)?;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "applied 001_create_users\napplied 002_create_posts\nembedded 2\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let conn = rusqlite::Connection::open(&db)?;
    let columns: i64 = conn.query_row(
        "SELECT count(*) FROM pragma_table_info('posts') WHERE name = 'title'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(columns, 1, "the edited text was not built in");
    Ok(())
}
