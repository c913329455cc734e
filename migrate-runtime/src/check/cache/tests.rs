//! The cache changes nothing but time: random edits of generated folders checked
//! with and without it give the same output, whatever happens to the cache file.
//!
//! `MIGRATE_CACHE_CASES=N` runs N edit sequences (default 16).

use std::fmt::Write as _;
use std::path::Path;

use super::USED;
use crate::check::{Downs, Options, check_dir_opts};

/// A generated migration: its description and SQL.
#[derive(Debug, Clone)]
struct File {
    name: String,
    sql: String,
    /// Its down script (`.down.sql`), if it has one.
    down: Option<String>,
}

/// Statements that build on what the earlier ones made, and now and then fail:
/// syntax errors, missing tables, broken foreign keys, views and triggers broken by
/// a later drop (caught by the whole-set checks), temporary tables, settings.
struct Generator {
    rng: fastrand::Rng,
    tables: Vec<String>,
    /// Tables made with a foreign key: (child, parent).
    links: Vec<(String, String)>,
    next: usize,
}

impl Generator {
    fn name(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    fn table(&mut self) -> Option<String> {
        (!self.tables.is_empty()).then(|| self.tables[self.rng.usize(..self.tables.len())].clone())
    }

    fn statement(&mut self) -> String {
        let existing = self.table();
        let Some(t) = existing else {
            let t = self.name("t");
            self.tables.push(t.clone());
            return format!("CREATE TABLE {t} (id INTEGER PRIMARY KEY, a TEXT)");
        };
        match self.rng.u8(..23) {
            // Rows of a parent table removed or renumbered: children it has, made
            // by an earlier migration, can be left dangling.
            20 | 21 => {
                let parent = match self.links.get(self.rng.usize(..self.links.len().max(1))) {
                    Some((_, parent)) => parent.clone(),
                    None => t,
                };
                if self.rng.bool() {
                    format!("DELETE FROM {parent} WHERE id % 2 = 1")
                } else {
                    format!("UPDATE {parent} SET id = id + 1000 WHERE id = 1")
                }
            }
            0..=3 => {
                let new = self.name("t");
                self.tables.push(new.clone());
                self.links.push((new.clone(), t.clone()));
                format!(
                    "CREATE TABLE {new} (id INTEGER PRIMARY KEY, a TEXT, p INTEGER REFERENCES {t} (id))"
                )
            }
            4 | 5 => format!("INSERT INTO {t} (a) VALUES ('{}')", self.rng.u8(..)),
            6 => match self.links.get(self.rng.usize(..self.links.len().max(1))) {
                // Children of the rows of their parent, for a later delete to break.
                Some((child, parent)) => {
                    format!("INSERT INTO {child} (a, p) SELECT 'child', id FROM {parent}")
                }
                None => format!("INSERT INTO {t} (a) VALUES ('no link yet')"),
            },
            7 => format!("INSERT INTO {t} (id, a) VALUES (1, 'one')"),
            8 => {
                let i = self.name("i");
                format!("CREATE INDEX {i} ON {t} (a)")
            }
            9 => {
                let v = self.name("v");
                format!("CREATE VIEW {v} AS SELECT id, a FROM {t}")
            }
            10 => {
                let (tr, other) = (self.name("tr"), self.table().unwrap_or_else(|| t.clone()));
                format!(
                    "CREATE TRIGGER {tr} AFTER INSERT ON {t} BEGIN INSERT INTO {other} (a) VALUES (NEW.a); END"
                )
            }
            11 => {
                let c = self.name("c");
                format!("ALTER TABLE {t} ADD COLUMN {c} TEXT")
            }
            12 => {
                self.tables.retain(|x| *x != t);
                self.links.retain(|(c, p)| *c != t && *p != t);
                format!("DROP TABLE {t}")
            }
            13 => "PRAGMA legacy_alter_table = ON".to_owned(),
            14 => format!("PRAGMA cache_size = {}", self.rng.u16(100..)),
            15 => {
                // Usually dropped in its migration; one left behind keeps the state
                // outside the database image until the end.
                let tmp = self.name("tmp");
                if self.rng.u8(..4) == 0 {
                    format!("CREATE TEMP TABLE {tmp} (x)")
                } else {
                    format!(
                        "CREATE TEMP TABLE {tmp} (x); INSERT INTO {tmp} SELECT a FROM {t}; DROP TABLE {tmp}"
                    )
                }
            }
            16 => format!(
                "INSERT INTO {t} (id, a, p) VALUES (9{}, 'x', 999)",
                self.next
            ),
            17 => "CREAT TABLE oops (x)".to_owned(),
            18 => "INSERT INTO no_such_table VALUES (1)".to_owned(),
            _ => {
                let new = self.name("t");
                for name in self
                    .tables
                    .iter_mut()
                    .chain(self.links.iter_mut().flat_map(|(c, p)| [c, p]))
                {
                    if *name == t {
                        name.clone_from(&new);
                    }
                }
                format!("ALTER TABLE {t} RENAME TO {new}")
            }
        }
    }

    /// Takes the tables and links the files make, so new statements build on them.
    fn sync(&mut self, files: &[File]) {
        self.tables.clear();
        self.links.clear();
        for statement in files.iter().flat_map(|f| f.sql.split(';')) {
            let words: Vec<&str> = statement
                .split_whitespace()
                .filter(|w| !w.starts_with("--"))
                .collect();
            match words.as_slice() {
                ["CREATE", "TABLE", name, rest @ ..] => {
                    self.tables.push((*name).to_owned());
                    if let Some(i) = rest.iter().position(|w| *w == "REFERENCES") {
                        self.links
                            .push(((*name).to_owned(), rest[i + 1].to_owned()));
                    }
                }
                ["DROP", "TABLE", name] => {
                    self.tables.retain(|t| t != name);
                    self.links.retain(|(c, p)| c != name && p != name);
                }
                ["ALTER", "TABLE", old, "RENAME", "TO", new] => {
                    for t in self
                        .tables
                        .iter_mut()
                        .chain(self.links.iter_mut().flat_map(|(c, p)| [c, p]))
                    {
                        if t == old {
                            *t = (*new).to_owned();
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn file(&mut self) -> File {
        let mut sql = String::new();
        if self.rng.u8(..12) == 0 {
            sql.push_str("-- migrate:no-transaction\n");
        }
        let mut statements = Vec::new();
        for _ in 0..self.rng.usize(1..4) {
            if self.rng.bool() {
                sql.push_str("-- a comment\n\n");
            }
            let statement = self.statement();
            let _ = writeln!(sql, "{statement};");
            statements.push(statement);
        }
        let name = self.name("m");
        let down = self.rng.bool().then(|| self.down(&statements));
        File { name, sql, down }
    }

    /// A down script for `statements`: what undoes the objects they create and the
    /// columns they add, in reverse order, which passes the proof unless rows or
    /// other changes stand in the way; now and then one that does nothing, or does
    /// not run.
    fn down(&mut self, statements: &[String]) -> String {
        match self.rng.u8(..8) {
            0 => return "SELECT 1;\n".to_owned(),
            1 => return "DROP TABLEX oops;\n".to_owned(),
            _ => {}
        }
        let mut down = String::new();
        for statement in statements.iter().rev() {
            let words: Vec<&str> = statement.split_whitespace().collect();
            let _ = match words.as_slice() {
                [
                    "CREATE",
                    kind @ ("TABLE" | "INDEX" | "VIEW" | "TRIGGER"),
                    name,
                    ..,
                ] => {
                    writeln!(down, "DROP {kind} {name};")
                }
                ["ALTER", "TABLE", table, "ADD", "COLUMN", column, ..] => {
                    writeln!(down, "ALTER TABLE {table} DROP COLUMN {column};")
                }
                _ => Ok(()),
            };
        }
        down
    }
}

fn write(dir: &Path, files: &[File]) {
    for entry in std::fs::read_dir(dir).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    for (i, f) in files.iter().enumerate() {
        std::fs::write(dir.join(format!("{:03}_{}.sql", i + 1, f.name)), &f.sql).unwrap();
        if let Some(down) = &f.down {
            std::fs::write(dir.join(format!("{:03}_{}.down.sql", i + 1, f.name)), down).unwrap();
        }
    }
}

/// The complete output of checking `dir`: migrations with their checksums and chains,
/// or every diagnostic.
fn check(dir: &Path, cache: Option<&Path>) -> String {
    check_downs(dir, cache, Downs::Auto)
}

/// [`check`], with down scripts that fail the proof failing the build, or leaving
/// their migrations irreversible (`downs`).
fn check_downs(dir: &Path, cache: Option<&Path>, downs: Downs) -> String {
    let options = Options {
        cache,
        downs,
        ..Options::default()
    };
    format!("{:#?}", check_dir_opts(dir, "migrations", &options))
}

#[test]
fn random_edits_check_the_same_with_and_without_the_cache() {
    #[expect(
        clippy::disallowed_methods,
        reason = "a test knob, not the macro's environment"
    )]
    let cases: u64 = std::env::var("MIGRATE_CACHE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let (mut steps, mut partial, mut skipped_all, mut unproven) = (0, 0, 0, 0);
    for seed in 0..cases {
        // Down scripts that fail the proof fail the build in half the cases, and
        // leave their migrations irreversible in the other half.
        let downs = if seed % 2 == 0 {
            Downs::Lenient
        } else {
            Downs::Strict
        };
        let check = |dir: &Path, cache: Option<&Path>| check_downs(dir, cache, downs);
        let mut g = Generator {
            rng: fastrand::Rng::with_seed(seed),
            tables: Vec::new(),
            links: Vec::new(),
            next: 0,
        };
        let folder = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        // A base set that mostly works: statements are kept while the folder checks.
        let mut files: Vec<File> = Vec::new();
        while files.len() < 12 {
            let file = g.file();
            files.push(file);
            write(folder.path(), &files);
            if check(folder.path(), None).starts_with("Err") {
                files.pop();
            }
        }
        let mut last_good = files.clone();
        for step in 0..20 {
            let context = format!("seed {seed}, step {step}");
            // Mostly the newest migration, as in real work.
            let at = match g.rng.u8(..8) {
                0 => 0,
                1 => files.len() / 2,
                _ => files.len().saturating_sub(1),
            };
            g.sync(&files[..at]);
            match g.rng.u8(..8) {
                0 => {
                    let file = g.file();
                    files.insert(at.min(files.len()), file);
                }
                1 if files.len() > 1 => {
                    files.remove(at);
                }
                2 => files[at].name = g.name("renamed"),
                3 => files[at].sql.insert_str(0, "\n-- moved down a line\n"),
                4 => {
                    g.sync(&files);
                    let file = g.file();
                    files.push(file);
                }
                5 => {} // nothing changed: a crate-only rebuild
                6 => {
                    files[at].down = match files[at].down.take() {
                        Some(_) => None,
                        None => Some("SELECT 1;\n".to_owned()),
                    };
                }
                _ => files[at] = g.file(),
            }
            write(folder.path(), &files);
            let cached = check(folder.path(), Some(cache.path()));
            match USED.get() {
                Some(k) if k == files.len() => skipped_all += 1,
                Some(_) => partial += 1,
                None => {}
            }
            let full = check(folder.path(), None);
            assert_eq!(cached, full, "{context}\n{files:#?}");
            steps += 1;
            if full.contains("does not pass the build's proof") {
                unproven += 1;
            }
            // Twice in a row: the second run reads what the first one wrote.
            let again = check(folder.path(), Some(cache.path()));
            assert_eq!(again, full, "{context}, second run\n{files:#?}");
            if USED.get() == Some(files.len()) {
                skipped_all += 1;
            }
            // A developer fixes what broke, most of the time.
            if full.starts_with("Ok") {
                last_good.clone_from(&files);
            } else if g.rng.u8(..3) != 0 {
                files.clone_from(&last_good);
            }
        }
    }
    // The cache was used, and down scripts failed the proof (leaving their
    // migrations irreversible, or failing the build), or the comparison above says
    // nothing.
    assert!(
        partial * 8 >= steps && skipped_all * 8 >= steps && unproven * 8 >= steps,
        "{partial} partial and {skipped_all} skipped validations, {unproven} with down scripts failing the proof, in {steps} steps"
    );
}

/// A set of `n` migrations that checks.
fn valid_set(n: usize) -> Vec<File> {
    (1..=n)
        .map(|i| File {
            down: None,
            name: format!("m{i}"),
            sql: format!(
                "CREATE TABLE t{i} (id INTEGER PRIMARY KEY, a TEXT);\nINSERT INTO t{i} (a) VALUES ('{i}');\nCREATE VIEW v{i} AS SELECT a FROM t{i};\n"
            ),
        })
        .collect()
}

fn entry(cache: &Path) -> std::path::PathBuf {
    let entries: Vec<_> = std::fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cache"))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries[0].clone()
}

#[test]
fn a_damaged_foreign_or_stale_cache_file_means_a_full_validation() {
    let folder = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut files = valid_set(20);
    write(folder.path(), &files);
    check(folder.path(), Some(cache.path()));
    let path = entry(cache.path());
    let good = std::fs::read(&path).unwrap();
    // Another folder's entry, in the place of this one.
    let other = tempfile::tempdir().unwrap();
    write(other.path(), &valid_set(3));
    check(other.path(), Some(cache.path()));
    let foreign_path = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| *p != path && p.extension().is_some_and(|e| e == "cache"))
        .unwrap();
    let foreign = std::fs::read(foreign_path).unwrap();

    // The newest migration now drops a table a view reads: the whole-set checks fail.
    files[19].sql.push_str("DROP TABLE t3;\n");
    write(folder.path(), &files);
    let broken = check(folder.path(), None);
    assert!(broken.contains("v3"), "{broken}");
    files[19].sql = valid_set(20)[19].sql.clone();
    write(folder.path(), &files);
    let fine = check(folder.path(), None);
    assert!(fine.starts_with("Ok"), "{fine}");

    let mut damaged: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), Vec::new()),
        ("foreign".into(), foreign),
        (
            "garbage".into(),
            (0..5000_u32).map(|i| (i * 7) as u8).collect(),
        ),
    ];
    for len in [1, 30, good.len() / 3, good.len() / 2, good.len() - 1] {
        damaged.push((format!("truncated to {len}"), good[..len].to_vec()));
    }
    // Every part of the file: header, each file's fields and checksum, the flags,
    // the images.
    // A byte of the newest file's record but its checksum is compared with the
    // folder, which no longer matches it: the checkpoint before that file stays
    // good and may be used.
    let newest = {
        let migrations = check_dir_opts(folder.path(), "migrations", &Options::default()).unwrap();
        let version: Vec<u8> = [16, 0, 0, 0, 0, 0, 0, 0]
            .into_iter()
            .chain(migrations[19].version.to_le_bytes())
            .collect();
        let find = |what: &[u8]| good.windows(what.len()).position(|w| w == what).unwrap();
        find(&version)..find(&migrations[19].checksum) - 8
    };
    let mut harmless = Vec::new();
    for at in (40..good.len())
        .step_by(good.len() / 60)
        .chain([good.len() - 1])
    {
        let mut bytes = good.clone();
        bytes[at] ^= 0x55;
        if newest.contains(&at) {
            harmless.push(format!("byte {at} flipped"));
        }
        damaged.push((format!("byte {at} flipped"), bytes));
    }
    let mut longer = good.clone();
    longer.extend_from_slice(b"more");
    damaged.push(("trailing bytes".into(), longer));
    // Written by other checking code: the fingerprint in the header differs.
    let mut stale = good.clone();
    let at = super::format::MAGIC.len() + 8;
    stale[at] = if stale[at] == b'x' { b'y' } else { b'x' };
    damaged.push(("stale".into(), stale));

    // The facts an entry asserts: a file's checksum, and that the set passed.
    let migrations = check_dir_opts(folder.path(), "migrations", &Options::default()).unwrap();
    let find = |bytes: &[u8], what: &[u8]| bytes.windows(what.len()).position(|w| w == what);
    let at = find(&good, &migrations[4].checksum).unwrap();
    let mut bytes = good.clone();
    bytes[at + 7] ^= 1;
    damaged.push(("a checksum changed".into(), bytes));
    // A chain, which the build embeds as stored when the file and the chain before
    // it are unchanged.
    let at = find(&good, &migrations[4].chain).unwrap();
    let mut bytes = good.clone();
    bytes[at + 3] ^= 1;
    damaged.push(("a chain changed".into(), bytes));
    // The layout the files passed the one-file checks in.
    let at = find(&good, b"Some(Native)").unwrap();
    let mut bytes = good.clone();
    bytes[at + 5] = b'n';
    damaged.push(("the layout changed".into(), bytes));
    // A file that runs in a transaction, stored as one that does not.
    let at = find(&good, &[1, 0, 0, 0, 0, 0, 0, 0, b'1']).unwrap();
    let mut bytes = good.clone();
    bytes[at + 8] = b'0';
    damaged.push(("a transaction flag changed".into(), bytes));
    // The entry of the set that failed, marked as passing.
    let mut edited = files.clone();
    edited[19].sql.push_str("DROP TABLE t3;\n");
    write(folder.path(), &edited);
    check(folder.path(), Some(cache.path()));
    let failed = std::fs::read(&path).unwrap();
    write(folder.path(), &files);
    // The flag, a field of one byte (0) after the records.
    let flag = find(&failed, &[1, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    let mut bytes = failed.clone();
    bytes[flag + 8] = 1;
    damaged.push(("a failed set marked as passing".into(), bytes));

    for (what, bytes) in damaged {
        for (expected, edit) in [(&broken, "DROP TABLE t3;\n"), (&fine, "")] {
            std::fs::write(&path, &bytes).unwrap();
            let mut edited = files.clone();
            edited[19].sql.push_str(edit);
            write(folder.path(), &edited);
            assert_eq!(
                &check(folder.path(), Some(cache.path())),
                expected,
                "{what}"
            );
            // The damaged checkpoint was not restored: the changed folder was
            // validated in full. (The unchanged one may be known to pass when only an
            // image was damaged.)
            if harmless.contains(&what) {
                continue;
            }
            if edit.is_empty() {
                assert_ne!(USED.get(), Some(19), "{what}");
            } else {
                assert_eq!(USED.get(), None, "{what}");
            }
        }
    }
    // The cache folder cannot be written: nothing changes either.
    let blocked = cache.path().join("blocked");
    std::fs::write(&blocked, "a file where a folder should be").unwrap();
    assert_eq!(check(folder.path(), Some(&blocked)), fine);
}

#[test]
fn the_newest_migration_edited_runs_alone_and_whole_set_problems_still_show() {
    let folder = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut files = valid_set(30);
    write(folder.path(), &files);
    check(folder.path(), Some(cache.path()));
    assert_eq!(USED.get(), None);
    check(folder.path(), Some(cache.path()));
    assert_eq!(USED.get(), Some(30), "nothing changed: nothing runs");
    files[29].sql.push_str("DROP TABLE t1;\n");
    write(folder.path(), &files);
    let out = check(folder.path(), Some(cache.path()));
    assert_eq!(USED.get(), Some(29), "only the newest migration runs");
    assert!(out.contains("v1") && out.contains("030_m30.sql"), "{out}");
    assert_eq!(out, check(folder.path(), None));
    files.push(valid_set(31).pop().unwrap());
    files[29] = valid_set(30).pop().unwrap();
    write(folder.path(), &files);
    let cached = check(folder.path(), Some(cache.path()));
    // Migration 30 is back to what the checkpoint after 29 saw; 31 is new.
    assert_eq!(USED.get(), Some(29));
    assert_eq!(cached, check(folder.path(), None));
    files[0].sql.push_str("CREATE TABLE first_edited (x);\n");
    write(folder.path(), &files);
    let cached = check(folder.path(), Some(cache.path()));
    assert_eq!(
        USED.get(),
        None,
        "editing the first migration runs them all"
    );
    assert_eq!(cached, check(folder.path(), None));
}

#[test]
fn builds_of_the_same_folder_at_once_share_the_cache() {
    let folder = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut files = valid_set(40);
    for round in 0..8 {
        // Each round edits the newest migration, to a version that checks or not,
        // then four builds check the folder at once, all reading and writing its entry.
        files[39].sql = valid_set(40)[39].sql.clone();
        if round % 2 == 1 {
            let _ = writeln!(
                files[39].sql,
                "INSERT INTO t1 (id, a) VALUES (1, 'round {round}');"
            );
        }
        write(folder.path(), &files);
        let expected = check(folder.path(), None);
        assert_eq!(expected.contains("UNIQUE"), round % 2 == 1, "{expected}");
        std::thread::scope(|s| {
            for thread in 0..4 {
                let (dir, cache, expected) = (folder.path(), cache.path(), &expected);
                s.spawn(move || {
                    for _ in 0..3 {
                        assert_eq!(
                            &check(dir, Some(cache)),
                            expected,
                            "round {round}, thread {thread}"
                        );
                    }
                });
            }
        });
    }
    assert_eq!(
        std::fs::read_dir(cache.path()).unwrap().count(),
        1,
        "one entry, no temporary file left"
    );
}

#[test]
fn after_a_restore_the_foreign_keys_of_earlier_migrations_are_known() {
    let folder = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut files = vec![
        File {
            down: None,
            name: "tables".into(),
            sql: "CREATE TABLE parent (id INTEGER PRIMARY KEY);\nCREATE TABLE child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent (id));\n".into(),
        },
        File {
            down: None,
            name: "rows".into(),
            sql: "INSERT INTO parent VALUES (1), (2);\nINSERT INTO child (p) VALUES (1), (2);\n".into(),
        },
        File {
            down: None,
            name: "newest".into(),
            sql: "CREATE TABLE other (x);\n".into(),
        },
    ];
    write(folder.path(), &files);
    check(folder.path(), Some(cache.path()));
    // Only the scope read back from the restored database knows `child` references
    // `parent`.
    files[2].sql = "DELETE FROM parent WHERE id = 2;\n".into();
    write(folder.path(), &files);
    let cached = check(folder.path(), Some(cache.path()));
    assert_eq!(USED.get(), Some(2));
    assert!(cached.contains("foreign key"), "{cached}");
    assert_eq!(cached, check(folder.path(), None));
}

#[test]
fn an_edited_down_script_is_validated_again() {
    let folder = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let files = valid_set(4);
    write(folder.path(), &files);
    let down = folder.path().join("003_m3.down.sql");
    std::fs::write(&down, "DROP VIEW v3;\nDROP TABLE t3;\n").unwrap();
    let fine = check(folder.path(), None);
    assert!(fine.starts_with("Ok"), "{fine}");
    assert_eq!(check(folder.path(), Some(cache.path())), fine);
    assert_eq!(check(folder.path(), Some(cache.path())), fine);
    // The down now leaves the view behind: the cached pass must not hide it.
    std::fs::write(&down, "DROP TABLE t3;\n").unwrap();
    let broken = check(folder.path(), None);
    assert!(broken.contains("down script does not undo"), "{broken}");
    assert_eq!(check(folder.path(), Some(cache.path())), broken);
    // And back.
    std::fs::write(&down, "DROP VIEW v3;\nDROP TABLE t3;\n").unwrap();
    assert_eq!(check(folder.path(), Some(cache.path())), fine);
}

/// An entry says which down scripts failed the proof in a lenient build: a strict
/// build of the same folder fails on the first of them as it does without the
/// cache, and a lenient one after it finds them again.
#[test]
fn a_down_script_failing_its_proof_fails_a_strict_build_whatever_the_cache_holds() {
    let folder = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut files = valid_set(6);
    files[1].down = Some("SELECT 1;\n".into());
    files[3].down = Some("DROP VIEW v4;\nDROP TABLE t4;\n".into());
    files[4].down = Some("DROP TABLEX oops;\n".into());
    write(folder.path(), &files);
    let lenient = check_downs(folder.path(), None, Downs::Lenient);
    let strict = check_downs(folder.path(), None, Downs::Strict);
    assert!(strict.starts_with("Err"), "{strict}");
    assert_eq!(
        lenient.matches("does not pass the build's proof").count(),
        2
    );
    for _ in 0..2 {
        let cached = check_downs(folder.path(), Some(cache.path()), Downs::Lenient);
        assert_eq!(cached, lenient);
        assert_eq!(
            check_downs(folder.path(), Some(cache.path()), Downs::Strict),
            strict
        );
    }
    // The newest migration edited: the checkpoint before it comes after the
    // failing down scripts.
    files[5].sql.push_str("CREATE TABLE t7 (x);\n");
    write(folder.path(), &files);
    let lenient = check_downs(folder.path(), None, Downs::Lenient);
    let strict = check_downs(folder.path(), None, Downs::Strict);
    check_downs(folder.path(), Some(cache.path()), Downs::Lenient);
    assert_eq!(
        check_downs(folder.path(), Some(cache.path()), Downs::Strict),
        strict
    );
    assert_eq!(
        check_downs(folder.path(), Some(cache.path()), Downs::Lenient),
        lenient
    );
}

/// Whether a migration before a checkpoint may have broken the database's integrity
/// is stored with it: damage done before the checkpoint is still found after an
/// edit of the newest migration, as without the cache (where the whole-set checks
/// look for it only when such a migration ran).
#[test]
fn damage_before_a_checkpoint_is_found_after_it() {
    let folder = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut files = valid_set(4);
    // Rows that fail a CHECK: damage a checkpoint may follow (the setting is put
    // back after the migration).
    files[1].sql.push_str(
        "CREATE TABLE checked (x INTEGER CHECK (x > 0));\nPRAGMA ignore_check_constraints = ON;\nINSERT INTO checked VALUES (-1);\n",
    );
    write(folder.path(), &files);
    let broken = check(folder.path(), None);
    assert!(broken.contains("integrity_check"), "{broken}");
    assert_eq!(check(folder.path(), Some(cache.path())), broken);
    for edit in 0..2 {
        files[3]
            .sql
            .push_str(&format!("CREATE TABLE edit{edit} (x);\n"));
        write(folder.path(), &files);
        let cached = check(folder.path(), Some(cache.path()));
        assert_eq!(USED.get(), Some(3), "resumed from the checkpoint");
        assert_eq!(cached, check(folder.path(), None));
        assert!(cached.contains("integrity_check"), "{cached}");
    }
}
