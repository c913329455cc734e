//! `cargo run --release -p migrate-bench`: the performance figures of the README.
//!
//! Every target is a ratio against a floor measured in the same run, on the same
//! machine, so a noisy machine moves both sides:
//!
//! 1. startup check (nothing pending) against a bare `PRAGMA user_version` read;
//! 2. fresh apply against plain rusqlite running the same SQL in the same number of
//!    transactions (one per migration, and all in one);
//! 3. the macro's library call (`check::check_dir`) on 1,000 migrations: time and
//!    peak memory (measured in a child process);
//! 5. all of these from 10 to 10,000 migrations, per migration.
//!
//! `--quick` stops the scaling at 1,000 migrations. `--write-set DIR N` writes the
//! synthetic set of `N` migrations into `DIR` (used by `bench/build-cost.sh`).
//! `--remote` applies the example set and 1,000 synthetic migrations to a libSQL
//! server on loopback (`turso --sync-server`, which must be on the PATH), one HTTP
//! round trip per migration, against the same sets applied to a local file.
//! `--phases DIR` times each part of the macro's work on a folder, with and without
//! the build cache; run from a dev build it shows what the macro costs at
//! `opt-level = 0`, as in a user's build.

mod generate;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use migrate::rusqlite::{Connection, TransactionBehavior};
use migrate::{Migrations, check};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, dir] if flag == "--validate-child" => return validate_child(Path::new(dir)),
        [flag, n] if flag == "--apply-only" => {
            // For profilers: one fresh apply of the synthetic set, all in one transaction.
            let work = tempfile::tempdir()?;
            generate::write_set(work.path(), n.parse()?)?;
            let sources = check::read_dir(work.path(), "m").map_err(|d| format!("{d:?}"))?;
            let set = Migrations::from_sources(sources);
            let mut conn = Connection::open(work.path().join("app.db"))?;
            #[allow(clippy::disallowed_methods, reason = "a switch for profiling runs")]
            if std::env::var_os("MIGRATE_BENCH_FOREIGN_KEYS").is_some() {
                conn.pragma_update(None, "foreign_keys", true)?;
            }
            #[allow(clippy::disallowed_methods, reason = "a switch for profiling runs")]
            if std::env::var_os("MIGRATE_BENCH_PLAIN").is_some() {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                for m in &set {
                    tx.execute_batch(m.sql())?;
                }
                tx.commit()?;
            } else {
                set.runner().single_transaction(true).run(&mut conn)?;
            }
            return Ok(());
        }
        [flag, dir] if flag == "--phases" => return phases(Path::new(dir)),
        [flag] if flag == "--remote" => return remote(),
        [flag, dir, n] if flag == "--write-set" => {
            std::fs::create_dir_all(dir)?;
            return Ok(generate::write_set(Path::new(dir), n.parse()?)?);
        }
        _ => {}
    }
    let quick = args.iter().any(|a| a == "--quick");
    println!("migrate benchmarks: medians, ratios against a floor measured in the same run\n");

    let work = tempfile::tempdir()?;
    let set = |n: usize| -> Result<(tempfile::TempDir, Migrations)> {
        let dir = tempfile::tempdir_in(work.path())?;
        generate::write_set(dir.path(), n)?;
        let sources = check::read_dir(dir.path(), "migrations").map_err(|d| format!("{d:?}"))?;
        Ok((dir, Migrations::from_sources(sources)))
    };

    let (dir_1000, set_1000) = set(1000)?;
    println!("1. startup check, 1,000 migrations applied, nothing pending");
    let s = startup(&set_1000, work.path(), 41)?;
    println!(
        "   PRAGMA user_version {:>9}   run() {:>9}   ratio {:.2} (target <= 2)\n",
        us(s.floor),
        us(s.ours),
        s.ratio()
    );

    let (first_run, unpack) = unpack(dir_1000.path(), work.path(), 21)?;
    println!(
        "   a set as the macro embeds it (packed): first run() in a process {:>9}; unpacking it, which the startup check does not need, {:>9} (once per process)\n",
        us(first_run),
        us(unpack)
    );

    println!("2. fresh apply of 1,000 migrations to a file database");
    for foreign_keys in [true, false] {
        for single in [false, true] {
            let a = apply(&set_1000, work.path(), single, foreign_keys, 5)?;
            let label = match (single, foreign_keys) {
                (false, true) => "one transaction each, foreign keys on ",
                (true, true) => "all in one transaction, foreign keys on",
                (false, false) => "one transaction each, foreign keys off",
                (true, false) => "all in one, foreign keys off          ",
            };
            println!(
                "   {label}  plain rusqlite {:>9}   run() {:>9}   ratio {:.2}{}",
                ms(a.floor),
                ms(a.ours),
                a.ratio(),
                if single { "" } else { " (target <= 1.1)" }
            );
        }
    }
    println!();

    println!("3. check_dir (the macro's library call) on 1,000 migrations");
    let v = validation(dir_1000.path(), 5)?;
    let peak = peak_memory(dir_1000.path())?;
    println!(
        "   plain execute_batch in memory {:>9}   check_dir {:>9} (target < 1 s)   ratio {:.2}   peak memory {:.1} MiB (target < 200)\n",
        ms(v.floor),
        ms(v.ours),
        v.ratio(),
        peak
    );

    println!("5. scaling, per migration (ratio to the floor in brackets)");
    println!(
        "   {:>6}  {:>22}  {:>22}  {:>22}",
        "n", "startup check (total)", "apply, each in a tx", "check_dir"
    );
    let sizes: &[usize] = if quick {
        &[10, 100, 1000]
    } else {
        &[10, 100, 1000, 10_000]
    };
    for &n in sizes {
        let (dir, set) = set(n)?;
        let reps = if n >= 10_000 { 1 } else { 3 };
        let s = startup(&set, work.path(), 21)?;
        let a = apply(&set, work.path(), false, true, reps)?;
        let v = validation(dir.path(), reps)?;
        let per = |d: Duration| d / u32::try_from(n).unwrap_or(u32::MAX);
        println!(
            "   {n:>6}  {:>13} [{:>5.2}]  {:>13} [{:>5.2}]  {:>13} [{:>5.2}]",
            us(s.ours),
            s.ratio(),
            us(per(a.ours)),
            a.ratio(),
            us(per(v.ours)),
            v.ratio()
        );
    }
    Ok(())
}

/// A measurement of ours against its floor.
struct Pair {
    floor: Duration,
    ours: Duration,
}

impl Pair {
    fn ratio(&self) -> f64 {
        self.ours.as_secs_f64() / self.floor.as_secs_f64()
    }
}

fn us(d: Duration) -> String {
    format!("{:.2} µs", d.as_secs_f64() * 1e6)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Both sides of target 1, on one open connection, interleaved in rounds.
fn startup(set: &Migrations, work: &Path, rounds: usize) -> Result<Pair> {
    const CALLS: u32 = 200;
    let dir = tempfile::tempdir_in(work)?;
    let mut conn = Connection::open(dir.path().join("app.db"))?;
    set.run(&mut conn)?;
    let floor = |conn: &Connection| -> Result<()> {
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        std::hint::black_box(v);
        Ok(())
    };
    for _ in 0..CALLS {
        floor(&conn)?;
        let report = set.run(&mut conn)?;
        assert!(report.applied.is_empty());
    }
    let (mut floors, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let started = Instant::now();
        for _ in 0..CALLS {
            floor(&conn)?;
        }
        floors.push(started.elapsed() / CALLS);
        let started = Instant::now();
        for _ in 0..CALLS {
            std::hint::black_box(set.run(&mut conn)?);
        }
        ours.push(started.elapsed() / CALLS);
    }
    Ok(Pair {
        floor: median(floors),
        ours: median(ours),
    })
}

/// A set in the packed form the macro embeds, on a database where it is applied:
/// the first `run()` and the first `as_slice()` of a fresh copy (a set is unpacked
/// once per process, so each round packs a new one).
fn unpack(dir: &Path, work: &Path, rounds: usize) -> Result<(Duration, Duration)> {
    let sources = check::read_dir(dir, "migrations").map_err(|d| format!("{d:?}"))?;
    let count = sources.len();
    let (text, table) = migrate::packed::encode(&sources);
    let packed = || {
        let text: &'static str = Box::leak(text.clone().into_boxed_str());
        let table: &'static str = Box::leak(table.clone().into_boxed_str());
        Migrations::from_packed(migrate::packed::Packed::new(count, text, table))
    };
    let db = tempfile::tempdir_in(work)?;
    let mut conn = Connection::open(db.path().join("app.db"))?;
    packed().run(&mut conn)?;
    let (mut runs, mut unpacks) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let set = packed();
        let started = Instant::now();
        let report = set.run(&mut conn)?;
        runs.push(started.elapsed());
        assert!(report.applied.is_empty());
        let set = packed();
        let started = Instant::now();
        let unpacked = set.as_slice();
        unpacks.push(started.elapsed());
        assert_eq!(unpacked.len(), count);
    }
    Ok((median(runs), median(unpacks)))
}

/// Both sides of target 2: fresh files, alternating plain and ours.
///
/// With `foreign_keys`, both connections enforce them (the bundled SQLite's default):
/// the runner then also runs its foreign key checks, which plain SQL does not.
fn apply(
    set: &Migrations,
    work: &Path,
    single: bool,
    foreign_keys: bool,
    reps: usize,
) -> Result<Pair> {
    let (mut floors, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let dir = tempfile::tempdir_in(work)?;
        let mut conn = Connection::open(dir.path().join("plain.db"))?;
        conn.pragma_update(None, "foreign_keys", foreign_keys)?;
        let started = Instant::now();
        if single {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for m in set {
                tx.execute_batch(m.sql())?;
            }
            tx.commit()?;
        } else {
            for m in set {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                tx.execute_batch(m.sql())?;
                tx.commit()?;
            }
        }
        floors.push(started.elapsed());
        drop(conn);

        let mut conn = Connection::open(dir.path().join("ours.db"))?;
        conn.pragma_update(None, "foreign_keys", foreign_keys)?;
        let started = Instant::now();
        let report = set.runner().single_transaction(single).run(&mut conn)?;
        ours.push(started.elapsed());
        assert_eq!(report.applied.len(), set.len());
    }
    Ok(Pair {
        floor: median(floors),
        ours: median(ours),
    })
}

/// Target 3: `check_dir` against plain in-memory execution of the same files.
fn validation(dir: &Path, reps: usize) -> Result<Pair> {
    let (mut floors, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let started = Instant::now();
        let conn = Connection::open_in_memory()?;
        let mut files: Vec<_> = std::fs::read_dir(dir)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        files.sort();
        for file in files {
            let sql = std::fs::read_to_string(file)?;
            conn.execute_batch("BEGIN")?;
            conn.execute_batch(&sql)?;
            conn.execute_batch("COMMIT")?;
        }
        floors.push(started.elapsed());

        let started = Instant::now();
        let checked = check::check_dir(dir, "migrations").map_err(|d| format!("{d:?}"))?;
        ours.push(started.elapsed());
        std::hint::black_box(checked);
    }
    Ok(Pair {
        floor: median(floors),
        ours: median(ours),
    })
}

/// Peak resident memory of a fresh process running `check_dir` on `dir`, in MiB.
fn peak_memory(dir: &Path) -> Result<f64> {
    let out = Command::new(std::env::current_exe()?)
        .arg("--validate-child")
        .arg(dir)
        .output()?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
    }
    let kib: f64 = String::from_utf8(out.stdout)?.trim().parse()?;
    Ok(kib / 1024.0)
}

/// The child of [`peak_memory`]: validates, then prints its peak RSS (`VmHWM`) in KiB.
fn validate_child(dir: &Path) -> Result<()> {
    check::check_dir(dir, "migrations").map_err(|d| format!("{d:?}"))?;
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .ok_or("no VmHWM in /proc/self/status")?
        .trim();
    println!("{kib}");
    Ok(())
}

/// `--phases DIR`: the time of each phase of the macro's work on a folder, in this
/// build's profile (a dev build shows what the macro costs at `opt-level = 0`).
fn phases(dir: &Path) -> Result<()> {
    let start = Instant::now();
    let sources = check::read_dir(dir, "migrations").map_err(|d| format!("{d:?}"))?;
    let read = start.elapsed();
    let start = Instant::now();
    let conn = Connection::open_in_memory()?;
    for m in &sources {
        conn.execute_batch(&m.sql)?;
    }
    let plain = start.elapsed();
    let start = Instant::now();
    check::validate(&sources, &[]).map_err(|d| d.to_string())?;
    let validate = start.elapsed();
    println!(
        "read + checksums {}   plain execute_batch {}   validate {}",
        ms(read),
        ms(plain),
        ms(validate)
    );
    // The macro's call, on a copy of the folder edited as a developer does.
    let copy = tempfile::tempdir()?;
    let files: Vec<_> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    for file in &files {
        std::fs::copy(file, copy.path().join(file.file_name().unwrap_or_default()))?;
    }
    let mut names: Vec<_> = files.iter().filter_map(|f| f.file_name()).collect();
    names.sort();
    let cache = tempfile::tempdir()?;
    let options = check::Options {
        cache: Some(cache.path()),
        ..check::Options::default()
    };
    let timed = |label: &str| -> Result<()> {
        let start = Instant::now();
        check::check_dir_opts(copy.path(), "migrations", &options).map_err(|d| format!("{d:?}"))?;
        println!(
            "   check_dir with the build cache, {label}: {}",
            ms(start.elapsed())
        );
        Ok(())
    };
    let append = |name: Option<&&std::ffi::OsStr>, sql: &str| -> Result<()> {
        let path = copy.path().join(name.ok_or("empty folder")?);
        let mut text = std::fs::read_to_string(&path)?;
        text.push_str(sql);
        Ok(std::fs::write(path, text)?)
    };
    timed("empty cache")?;
    timed("nothing changed")?;
    append(
        names.last(),
        "\nCREATE TABLE edited_last (id INTEGER PRIMARY KEY);\n",
    )?;
    timed("newest migration edited")?;
    timed("nothing changed")?;
    append(
        names.first(),
        "\nCREATE TABLE edited_first (id INTEGER PRIMARY KEY);\n",
    )?;
    timed("first migration edited")?;
    Ok(())
}

/// The fresh apply over HTTP to `turso --sync-server` on loopback, against a local
/// file, for the example set and 1,000 synthetic migrations.
fn remote() -> Result<()> {
    use std::net::TcpListener;
    let work = tempfile::tempdir()?;
    let example = check::check_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations"),
        "migrations",
    )
    .map_err(|d| format!("{d:?}"))?;
    let generated = work.path().join("generated");
    std::fs::create_dir_all(&generated)?;
    generate::write_set(&generated, 1000)?;
    let generated = check::read_dir(&generated, "m").map_err(|d| format!("{d:?}"))?;
    println!("fresh apply over HTTP (turso --sync-server on loopback) against a local file\n");
    for (label, sources) in [("example set", example), ("1,000 synthetic", generated)] {
        let set = Migrations::from_sources(sources);
        let mut conn = Connection::open(work.path().join(format!("{}.db", set.len())))?;
        let started = Instant::now();
        set.run(&mut conn)?;
        let local = started.elapsed();
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut server = Command::new("turso")
            .arg("--sync-server")
            .arg(format!("127.0.0.1:{port}"))
            .arg(work.path().join(format!("remote-{}.db", set.len())))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        let mut db = migrate::remote::Remote::new(&format!("http://127.0.0.1:{port}"))?;
        let waited = Instant::now();
        while set.status(&db).is_err() && waited.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let started = Instant::now();
        let result = set.run(&mut db);
        let remote = started.elapsed();
        let _ = server.kill();
        let _ = server.wait();
        let report = result?;
        println!(
            "   {label:<16} {} migrations   local file {:>9.1} ms   remote {:>9.1} ms ({} applied)   ratio {:.2}   {:.2} ms per migration over HTTP",
            set.len(),
            local.as_secs_f64() * 1e3,
            remote.as_secs_f64() * 1e3,
            report.applied.len(),
            remote.as_secs_f64() / local.as_secs_f64(),
            remote.as_secs_f64() * 1e3 / set.len() as f64
        );
    }
    Ok(())
}
