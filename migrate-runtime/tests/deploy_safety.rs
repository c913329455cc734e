//! Deploy safety: each migration's schema changes classified by comparing the schema
//! before and after it, and the `-- migrate:allow` acknowledgements checked against
//! them.

use migrate_runtime::changes::{Change, Class};
use migrate_runtime::check::{Options, check_dir_opts};
use migrate_runtime::diagnostic::Diagnostic;

/// A native folder with `files`, checked with `deploy_safety`.
fn check(
    files: &[(&str, &str)],
    deploy_safety: Option<i128>,
) -> Result<Vec<Vec<Change>>, Vec<Diagnostic>> {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, sql) in files {
        std::fs::write(dir.path().join(name), sql).expect("write");
    }
    check_dir_opts(
        dir.path(),
        "migrations",
        &Options {
            deploy_safety,
            ..Options::default()
        },
    )
    .map(|ms| ms.into_iter().map(|m| m.changes).collect())
}

/// The changes of the last migration, as `kind object` (and `: detail`), with lines.
fn last(files: &[(&str, &str)]) -> Vec<String> {
    let changes = check(files, None).unwrap_or_else(|ds| panic!("{}", shown(&ds)));
    changes
        .last()
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn shown(ds: &[Diagnostic]) -> String {
    ds.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

const USERS: (&str, &str) = (
    "001_users.sql",
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, bio TEXT);\nCREATE INDEX users_name ON users (name);\n",
);
const BOOKS: (&str, &str) = (
    "001_books.sql",
    "CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT NOT NULL, year TEXT);\nINSERT INTO books (title, year) VALUES ('Dune', '1965');\n",
);

#[test]
fn new_objects_are_additive() {
    assert_eq!(
        last(&[USERS]),
        [
            "line 1: create-table users (additive)",
            "line 2: create-index users_name (additive)"
        ]
    );
    assert_eq!(
        last(&[
            USERS,
            (
                "002_more.sql",
                "ALTER TABLE users ADD COLUMN email TEXT;\nCREATE VIEW named AS SELECT id, name FROM users;\nCREATE TRIGGER users_touch AFTER UPDATE ON users BEGIN SELECT 1; END;\n"
            )
        ]),
        [
            "line 1: add-column users.email (additive)",
            "line 2: create-view named (additive)",
            "line 3: create-trigger users_touch (additive)"
        ]
    );
    // Rows only: no change.
    assert!(
        last(&[
            USERS,
            ("002_rows.sql", "INSERT INTO users (name) VALUES ('ada');\n")
        ])
        .is_empty()
    );
}

#[test]
fn drops_are_destructive_and_renames_renaming() {
    assert_eq!(
        last(&[
            USERS,
            ("002_drop.sql", "ALTER TABLE users DROP COLUMN bio;\n")
        ]),
        ["line 1: drop-column users.bio (destructive)"]
    );
    assert_eq!(
        last(&[USERS, ("002_drop.sql", "DROP TABLE users;\n")]),
        ["line 1: drop-table users (destructive)"]
    );
    assert_eq!(
        last(&[
            USERS,
            (
                "002_rename.sql",
                "-- renames\nALTER TABLE users RENAME COLUMN name TO full_name;\n"
            )
        ]),
        ["line 2: rename-column users.name (renaming): renamed to full_name"]
    );
    assert_eq!(
        last(&[
            USERS,
            ("002_rename.sql", "ALTER TABLE users RENAME TO people;\n")
        ]),
        ["line 1: rename-table users (renaming): renamed to people"]
    );
    assert_eq!(
        last(&[
            USERS,
            (
                "002_view.sql",
                "CREATE VIEW v AS SELECT id FROM users;\nCREATE TRIGGER t AFTER INSERT ON users BEGIN SELECT 1; END;\n"
            ),
            (
                "003_drop.sql",
                "DROP VIEW v;\nDROP TRIGGER t;\nDROP INDEX users_name;\n"
            )
        ]),
        [
            "line 1: drop-view v (destructive)",
            "line 2: drop-trigger t (destructive)",
            "line 3: drop-index users_name (additive)"
        ]
    );
}

/// The lesson's recreate pattern: `books.year` from TEXT to INTEGER.
const BOOKS_YEAR_INTEGER: &str =
    "CREATE TABLE books_new (id INTEGER PRIMARY KEY, title TEXT NOT NULL, year INTEGER);
INSERT INTO books_new (id, title, year) SELECT id, title, CAST(year AS INTEGER) FROM books;
DROP TABLE books;
ALTER TABLE books_new RENAME TO books;
";

#[test]
fn a_rebuild_reports_only_what_it_changes() {
    assert_eq!(
        last(&[BOOKS, ("002_year.sql", BOOKS_YEAR_INTEGER)]),
        ["line 1: tighten-column books.year (tightening): type TEXT -> INTEGER"]
    );
    // Only a new nullable column: additive, nothing to acknowledge.
    assert_eq!(
        last(&[
            BOOKS,
            (
                "002_isbn.sql",
                "CREATE TABLE books_new (id INTEGER PRIMARY KEY, title TEXT NOT NULL, year TEXT, isbn TEXT);
INSERT INTO books_new (id, title, year) SELECT id, title, year FROM books;
DROP TABLE books;
ALTER TABLE books_new RENAME TO books;
"
            )
        ]),
        ["line 1: add-column books.isbn (additive)"]
    );
    // A column copied under another name.
    assert_eq!(
        last(&[
            BOOKS,
            (
                "002_rename.sql",
                "CREATE TABLE books_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL, year TEXT);
INSERT INTO books_new (id, name, year) SELECT id, title, year FROM books;
DROP TABLE books;
ALTER TABLE books_new RENAME TO books;
"
            )
        ]),
        ["line 2: rename-column books.title (renaming): renamed to name"]
    );
    // Constraints added to existing columns.
    assert_eq!(
        last(&[
            BOOKS,
            (
                "002_tighten.sql",
                "CREATE TABLE authors (id INTEGER PRIMARY KEY);
CREATE TABLE books_new (id INTEGER PRIMARY KEY, title TEXT NOT NULL UNIQUE, year TEXT NOT NULL CHECK (length(year) = 4), author INTEGER REFERENCES authors (id));
INSERT INTO books_new (id, title, year) SELECT id, title, year FROM books;
DROP TABLE books;
ALTER TABLE books_new RENAME TO books;
"
            )
        ]),
        [
            "line 1: create-table authors (additive)",
            "line 2: add-column books.author (additive)",
            "line 2: tighten-column books.title (tightening): UNIQUE (title)",
            "line 2: tighten-column books.year (tightening): NOT NULL, CHECK ( length ( year ) = 4 )"
        ]
    );
    assert_eq!(
        last(&[
            BOOKS,
            (
                "002_unique.sql",
                "CREATE UNIQUE INDEX books_title ON books (title);\n"
            )
        ]),
        [
            "line 1: create-index books_title (additive)",
            "line 1: tighten-column books.title (tightening): UNIQUE (title)"
        ]
    );
}

#[test]
fn every_change_is_classified_once_by_its_kind() {
    for changes in check(
        &[
            BOOKS,
            ("002_year.sql", BOOKS_YEAR_INTEGER),
            ("003_drop.sql", "DROP TABLE books;\n"),
        ],
        None,
    )
    .unwrap()
    {
        for c in changes {
            assert_eq!(c.class(), c.kind.class());
            assert_eq!(c.needs_acknowledgement(), c.class() != Class::Additive);
        }
    }
}

const DROP_BIO: &str = "ALTER TABLE users DROP COLUMN bio;\n";

#[test]
fn from_the_named_version_each_change_must_be_acknowledged() {
    let files = [USERS, ("002_drop_bio.sql", DROP_BIO)];
    // Not opted in, or opted in after the change: it builds.
    assert!(check(&files, None).is_ok());
    assert!(check(&files, Some(3)).is_ok());
    // From 2 on: the change is listed with its line and the directive to add.
    let problems = check(&files, Some(2)).unwrap_err();
    let text = shown(&problems);
    assert_eq!(problems.len(), 1, "{text}");
    assert!(
        text.starts_with("migrations/002_drop_bio.sql:1:1: migration 2 may break the code still running during a deploy; these changes are not acknowledged:\n  line 1: drop-column users.bio (destructive)"),
        "{text}"
    );
    assert!(
        text.contains(
            "-- migrate:allow drop-column users.bio -- <why the running code is not affected>"
        ) && text.contains("ship the code that stops using what is dropped or renamed"),
        "{text}"
    );
    // Acknowledged (any case for the object, a reason after `--`): it builds.
    let acknowledged = [
        USERS,
        (
            "002_drop_bio.sql",
            "-- migrate:allow drop-column Users.BIO -- the app stopped reading bio in 2.3\nALTER TABLE users DROP COLUMN bio;\n",
        ),
    ];
    assert!(check(&acknowledged, Some(2)).is_ok());
    // The lesson's type change needs its own acknowledgement.
    let books = [BOOKS, ("002_year.sql", BOOKS_YEAR_INTEGER)];
    let year_problem = shown(&check(&books, Some(1)).unwrap_err());
    assert!(
        year_problem.contains("-- migrate:allow tighten-column books.year"),
        "{year_problem}"
    );
    let mut year =
        String::from("-- migrate:allow tighten-column books.year -- 2.4 writes integers\n");
    year.push_str(BOOKS_YEAR_INTEGER);
    assert!(check(&[BOOKS, ("002_year.sql", &year)], Some(1)).is_ok());
}

#[test]
fn a_directive_that_matches_no_change_is_always_an_error() {
    let with = |directive: &str| {
        let sql = format!("{directive}\n{DROP_BIO}");
        let problems = check(&[USERS, ("002_drop_bio.sql", &sql)], None).unwrap_err();
        assert_eq!(problems.len(), 1, "{}", shown(&problems));
        shown(&problems)
    };
    let stale = with("-- migrate:allow drop-table users");
    assert!(
        stale.contains("`-- migrate:allow drop-table users` names the wrong kind")
            || stale.contains("acknowledges a change this migration does not make"),
        "{stale}"
    );
    let stale = with("-- migrate:allow drop-view users_by_name");
    assert!(
        stale.starts_with("migrations/002_drop_bio.sql:1:1: `-- migrate:allow drop-view users_by_name` acknowledges a change this migration does not make; the changes it makes that need one: `drop-column users.bio`"),
        "{stale}"
    );
    let misspelt = with("-- migrate:allow drop-column users.boi");
    assert!(
        misspelt.contains("did you mean `-- migrate:allow drop-column users.bio`?"),
        "{misspelt}"
    );
    let kind = with("-- migrate:allow drop-colum users.bio");
    assert!(
        kind.contains("unknown kind of change `drop-colum`")
            && kind.contains("did you mean `drop-column`?"),
        "{kind}"
    );
    let wrong = with("-- migrate:allow rename-column users.bio");
    assert!(
        wrong.contains("names the wrong kind: the change to `users.bio` is `drop-column` (line 2)")
            && wrong.contains("write `-- migrate:allow drop-column users.bio`"),
        "{wrong}"
    );
    let bare = with("-- migrate:allow");
    assert!(
        bare.contains("does not say which change it acknowledges"),
        "{bare}"
    );
    let additive = with("-- migrate:allow add-column users.bio");
    assert!(additive.contains("`add-column` is additive"), "{additive}");
    // Two directives for one change: the second is stale.
    let twice =
        with("-- migrate:allow drop-column users.bio\n-- migrate:allow drop-column users.bio");
    assert!(
        twice.contains("migrations/002_drop_bio.sql:2:1:"),
        "{twice}"
    );
}

#[test]
fn a_rename_is_acknowledged_by_its_old_or_its_new_name() {
    for directive in [
        "-- migrate:allow rename-column users.name",
        "-- migrate:allow rename-column users.full_name",
    ] {
        let sql = format!("{directive}\nALTER TABLE users RENAME COLUMN name TO full_name;\n");
        assert!(
            check(&[USERS, ("002_rename.sql", &sql)], Some(2)).is_ok(),
            "{directive}"
        );
    }
    for directive in [
        "-- migrate:allow rename-table users",
        "-- migrate:allow rename-table people",
    ] {
        let sql = format!("{directive}\nALTER TABLE users RENAME TO people;\n");
        assert!(
            check(&[USERS, ("002_rename.sql", &sql)], Some(2)).is_ok(),
            "{directive}"
        );
    }
}

#[test]
fn the_other_rebuild_order_renames_the_old_table_first() {
    assert_eq!(
        last(&[
            BOOKS,
            (
                "002_year.sql",
                "ALTER TABLE books RENAME TO books_old;
CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT NOT NULL, year INTEGER, isbn TEXT);
INSERT INTO books (id, title, year) SELECT id, title, CAST(year AS INTEGER) FROM books_old;
DROP TABLE books_old;
"
            )
        ]),
        [
            "line 2: add-column books.isbn (additive)",
            "line 2: tighten-column books.year (tightening): type TEXT -> INTEGER"
        ]
    );
}

#[test]
fn what_goes_with_a_table_and_what_a_rebuild_leaves_out() {
    let with_extras = (
        "002_extras.sql",
        "CREATE TRIGGER users_audit AFTER UPDATE ON users BEGIN SELECT 1; END;\nCREATE VIEW names AS SELECT id, name, bio FROM users;\n",
    );
    // A dropped table takes its indexes and triggers: only the table is reported.
    assert_eq!(
        last(&[
            USERS,
            with_extras,
            ("003_drop.sql", "DROP VIEW names;\nDROP TABLE users;\n")
        ]),
        [
            "line 1: drop-view names (destructive)",
            "line 2: drop-table users (destructive)"
        ]
    );
    // A rebuild that does not create the trigger again drops it (at its `DROP
    // TABLE`); a loosened column is additive; a view defined again without a column
    // drops that column for its readers.
    assert_eq!(
        last(&[
            USERS,
            with_extras,
            (
                "003_rebuild.sql",
                "DROP VIEW names;
CREATE TABLE users_new (id INTEGER PRIMARY KEY, name TEXT, bio TEXT);
INSERT INTO users_new SELECT id, name, bio FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_name ON users (name);
CREATE VIEW names AS SELECT id, name FROM users;
"
            )
        ]),
        [
            "line 2: loosen-column users.name (additive): NOT NULL removed",
            "line 4: drop-trigger users_audit (destructive)",
            "line 7: drop-column names.bio (destructive): no longer in the view"
        ]
    );
    // A view that loses a column it had: that column is dropped for its readers.
    assert_eq!(
        last(&[
            USERS,
            with_extras,
            (
                "003_view.sql",
                "DROP VIEW names;\nCREATE VIEW names AS SELECT id, name FROM users;\n"
            )
        ]),
        ["line 2: drop-column names.bio (destructive): no longer in the view"]
    );
    // Nothing happens: nothing is reported.
    assert!(
        last(&[
            USERS,
            (
                "002_again.sql",
                "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, bio TEXT);\n"
            )
        ])
        .is_empty()
    );
}

/// A migration that both breaks a view and drops a column unacknowledged: the
/// broken view is reported (the whole-set checks come before deploy safety), with
/// the build cache and without; a set whose only problem is the unacknowledged
/// change reports that.
#[test]
fn a_whole_set_failure_comes_before_deploy_safety() {
    let files = [
        USERS,
        (
            "002_view.sql",
            "CREATE VIEW named AS SELECT name FROM users;\n",
        ),
        (
            "003_drop.sql",
            "ALTER TABLE users DROP COLUMN bio;\nDROP TABLE users;\n",
        ),
    ];
    let cache = tempfile::tempdir().expect("temp dir");
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, sql) in files {
        std::fs::write(dir.path().join(name), sql).expect("write");
    }
    // The problems reported, with the cache or without.
    let problems = |with_cache: bool| {
        let options = Options {
            deploy_safety: Some(1),
            cache: with_cache.then_some(cache.path()),
            ..Options::default()
        };
        shown(&check_dir_opts(dir.path(), "migrations", &options).unwrap_err())
    };
    for with_cache in [false, true, true] {
        let shown = problems(with_cache);
        assert!(shown.contains("breaks view `named`"), "{shown}");
        assert!(!shown.contains("migrate:allow"), "{shown}");
    }
    let (name, _) = files[2];
    std::fs::write(
        dir.path().join(name),
        "ALTER TABLE users DROP COLUMN bio;\n",
    )
    .expect("write");
    for with_cache in [false, true] {
        let shown = problems(with_cache);
        assert!(shown.contains("migrate:allow"), "{shown}");
    }
}
