//! Generated sets that search for a diagnostic blaming the wrong migration.
//!
//! For each whole-set check (views, triggers, foreign key parents, foreign key
//! checks, integrity), an object is created in migration N and broken by one
//! statement of a later migration M, among unrelated statements before and after, in
//! randomly sized migrations with random blank lines and comments. The build must
//! report migration M, at the line of the breaking statement, and name the object.
//!
//! `MIGRATE_BLAME_CASES=N` runs N sets per class.

use std::fmt::Write as _;

use super::{sources, validate};

/// One way to break an object made by an older migration.
struct Class {
    name: &'static str,
    /// Statements the object needs, run before it (in its migration or an earlier one).
    setup: &'static [&'static str],
    /// The statement that creates the object.
    create: &'static str,
    /// Statements the breaking migration starts with.
    prefix: &'static [&'static str],
    /// The statement that breaks it.
    breaks: &'static str,
    /// The object's name, which the message must contain.
    object: &'static str,
}

const CLASSES: &[Class] = &[
    Class {
        name: "view, table dropped",
        setup: &["CREATE TABLE ta (id INTEGER PRIMARY KEY, x TEXT, y TEXT)"],
        create: "CREATE VIEW va AS SELECT id, x FROM ta",
        prefix: &[],
        breaks: "DROP TABLE ta",
        object: "va",
    },
    Class {
        name: "view, column dropped under legacy_alter_table",
        setup: &["CREATE TABLE ta (id INTEGER PRIMARY KEY, x TEXT, y TEXT)"],
        create: "CREATE VIEW va AS SELECT id, x FROM ta",
        prefix: &["PRAGMA legacy_alter_table = ON"],
        breaks: "ALTER TABLE ta DROP COLUMN x",
        object: "va",
    },
    Class {
        name: "view, table renamed under legacy_alter_table",
        setup: &["CREATE TABLE ta (id INTEGER PRIMARY KEY, x TEXT, y TEXT)"],
        create: "CREATE VIEW va AS SELECT id, x FROM ta",
        prefix: &["PRAGMA legacy_alter_table = ON"],
        breaks: "ALTER TABLE ta RENAME TO ta_moved",
        object: "va",
    },
    Class {
        name: "view, inner view dropped",
        setup: &[
            "CREATE TABLE ta (id INTEGER PRIMARY KEY, x TEXT, y TEXT)",
            "CREATE VIEW vb AS SELECT id, x FROM ta",
        ],
        create: "CREATE VIEW va AS SELECT x FROM vb",
        prefix: &[],
        breaks: "DROP VIEW vb",
        object: "va",
    },
    Class {
        name: "trigger, written table dropped",
        setup: &[
            "CREATE TABLE ta (id INTEGER PRIMARY KEY, x TEXT)",
            "CREATE TABLE tb (id INTEGER PRIMARY KEY, x TEXT)",
        ],
        create: "CREATE TRIGGER tra AFTER INSERT ON ta BEGIN INSERT INTO tb (x) VALUES (NEW.x); END",
        prefix: &[],
        breaks: "DROP TABLE tb",
        object: "ta",
    },
    Class {
        name: "trigger, written table renamed under legacy_alter_table",
        setup: &[
            "CREATE TABLE ta (id INTEGER PRIMARY KEY, x TEXT)",
            "CREATE TABLE tb (id INTEGER PRIMARY KEY, x TEXT)",
        ],
        create: "CREATE TRIGGER tra AFTER UPDATE ON ta BEGIN UPDATE tb SET x = NEW.x; END",
        prefix: &["PRAGMA legacy_alter_table = ON"],
        breaks: "ALTER TABLE tb RENAME TO tb_moved",
        object: "ta",
    },
    Class {
        name: "foreign key, parent dropped",
        setup: &["CREATE TABLE tp (id INTEGER PRIMARY KEY, k TEXT)"],
        create: "CREATE TABLE tc (id INTEGER PRIMARY KEY, p INTEGER REFERENCES tp (id))",
        prefix: &[],
        breaks: "DROP TABLE tp",
        object: "tc",
    },
    Class {
        name: "foreign key, parent renamed under legacy_alter_table",
        setup: &["CREATE TABLE tp (id INTEGER PRIMARY KEY, k TEXT)"],
        create: "CREATE TABLE tc (id INTEGER PRIMARY KEY, p INTEGER REFERENCES tp (id))",
        prefix: &["PRAGMA legacy_alter_table = ON"],
        breaks: "ALTER TABLE tp RENAME TO tp_moved",
        object: "tc",
    },
    Class {
        name: "foreign key check, unique parent key dropped",
        setup: &[
            "CREATE TABLE tp (id INTEGER PRIMARY KEY, k TEXT)",
            "CREATE UNIQUE INDEX tp_k ON tp (k)",
        ],
        create: "CREATE TABLE tc (id INTEGER PRIMARY KEY, k TEXT REFERENCES tp (k))",
        prefix: &[],
        breaks: "DROP INDEX tp_k",
        object: "tc",
    },
    Class {
        name: "integrity, index edited as data",
        setup: &[
            "CREATE TABLE ti (id INTEGER PRIMARY KEY, x TEXT)",
            "INSERT INTO ti (x) VALUES ('a'), ('b')",
        ],
        create: "CREATE INDEX ti_x ON ti (x)",
        prefix: &[
            "PRAGMA writable_schema = ON",
            "UPDATE sqlite_schema SET sql = 'CREATE INDEX ti_x ON ti (id)' WHERE name = 'ti_x'",
        ],
        // SQLite reads the edited schema only once its version changes.
        breaks: "PRAGMA schema_version = 4242",
        object: "integrity_check",
    },
];

/// An unrelated statement; `n` keeps names apart.
fn filler(rng: &mut fastrand::Rng, n: usize) -> String {
    match rng.u8(..4) {
        0 => format!("CREATE TABLE f{n} (id INTEGER PRIMARY KEY, v TEXT)"),
        1 => format!("CREATE TABLE f{n} (id INTEGER PRIMARY KEY); INSERT INTO f{n} VALUES (1)"),
        2 => format!(
            "CREATE TABLE f{n} (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX f{n}_v ON f{n} (v)"
        ),
        _ => format!("CREATE VIEW f{n} AS SELECT {n} AS n"),
    }
}

/// Lines between statements: none, blank lines or comments.
fn gap(rng: &mut fastrand::Rng) -> &'static str {
    ["\n", "\n\n", "\n-- a comment\n", "\n/* two\n lines */\n"][rng.usize(..4)]
}

#[test]
fn whole_set_failures_blame_the_statement_that_broke_them() {
    #[expect(
        clippy::disallowed_methods,
        reason = "a test knob, not the macro's environment"
    )]
    let cases: u64 = std::env::var("MIGRATE_BLAME_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    for class in CLASSES {
        for seed in 0..cases {
            let mut rng = fastrand::Rng::with_seed(seed);
            let count = rng.usize(2..7);
            let n = rng.usize(..count - 1);
            let m = rng.usize(n + 1..count);
            // Each migration: a list of (statement, is the breaking one).
            let mut plan: Vec<Vec<(String, bool)>> = vec![Vec::new(); count];
            let mut next = 0;
            let mut fill = |rng: &mut fastrand::Rng, list: &mut Vec<(String, bool)>| {
                for _ in 0..rng.usize(..3) {
                    next += 1;
                    list.push((filler(rng, next), false));
                }
            };
            let setup_in = rng.usize(..=n);
            for (i, list) in plan.iter_mut().enumerate() {
                if i == m {
                    list.extend(class.prefix.iter().map(|s| ((*s).to_owned(), false)));
                }
                fill(&mut rng, list);
                if i == setup_in {
                    list.extend(class.setup.iter().map(|s| ((*s).to_owned(), false)));
                    fill(&mut rng, list);
                }
                if i == n {
                    list.push((class.create.to_owned(), false));
                }
                if i == m {
                    list.push((class.breaks.to_owned(), true));
                }
                fill(&mut rng, list);
                if list.is_empty() {
                    list.push((format!("CREATE TABLE e{i} (id INTEGER PRIMARY KEY)"), false));
                }
            }
            let mut breaking_line = 0;
            let texts: Vec<String> = plan
                .iter()
                .map(|list| {
                    let mut text = String::new();
                    for (statement, breaks) in list {
                        text.push_str(gap(&mut rng));
                        if *breaks {
                            breaking_line = text.lines().count() + 1;
                        }
                        let _ = write!(text, "{statement};");
                    }
                    text
                })
                .collect();
            let set = sources(&texts);
            let context = || format!("{}, seed {seed}:\n{}", class.name, texts.join("\n----\n"));
            let d = validate(&set, &[]).expect_err(&context());
            assert_eq!(d.path, set[m].display_path, "{d}\n{}", context());
            assert_eq!(
                d.location.map(|l| l.line),
                Some(breaking_line),
                "{d}\n{}",
                context()
            );
            assert!(d.message.contains(class.object), "{d}\n{}", context());
        }
    }
}
