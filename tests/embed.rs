//! What the macro embedded equals what the runtime computes from the same files.

use std::path::Path;

use migrate::check::layout::Layout;

static MIGRATIONS: migrate::Migrations = migrate::migrations!("migrations");

#[test]
fn embedded_set_equals_a_runtime_recomputation() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let checked = migrate::check::check_dir(&dir, "migrations").expect("the example set is valid");
    assert_eq!(MIGRATIONS.len(), checked.len());
    for (embedded, source) in MIGRATIONS.iter().zip(&checked) {
        assert_eq!(embedded.version(), source.version);
        assert_eq!(embedded.name(), source.name);
        assert_eq!(embedded.file_name(), source.file_name);
        assert_eq!(embedded.sql(), source.sql);
        assert_eq!(embedded.checksum(), &source.checksum);
        assert_eq!(embedded.checksum(), &migrate::checksum(embedded.sql()));
        let on_disk = std::fs::read_to_string(&source.path).unwrap();
        assert_eq!(embedded.checksum(), &migrate::checksum(&on_disk));
    }
}

#[test]
fn embedded_set_is_sorted_with_unique_versions() {
    let versions: Vec<migrate::Version> = MIGRATIONS.iter().map(|m| m.version()).collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    assert_eq!(MIGRATIONS.get(2).map(|m| m.name()), Some("add_users_bio"));
}

#[test]
fn the_default_folder_is_migrations() {
    let default = migrate::migrations!();
    assert_eq!(default.as_slice(), MIGRATIONS.as_slice());
}

/// The macro's input as other macros and styles pass it: an `expr` fragment of a
/// `macro_rules!` (which arrives in an invisible group), a raw string, escapes, and
/// options with suffixed and `_`-separated integers.
#[test]
fn the_input_in_other_spellings() {
    macro_rules! through_expr {
        ($dir:expr) => {
            migrate::migrations!($dir)
        };
    }
    macro_rules! through_expr_with_option {
        ($dir:expr, $arity:expr) => {
            migrate::migrations!($dir, functions(user_setting / $arity))
        };
    }
    let sets = [
        through_expr!("migrations"),
        through_expr_with_option!("migrations", 2),
        migrate::migrations!(r"migrations"),
        migrate::migrations!(r#"migrations"#),
        migrate::migrations!("migr\u{61}tions"),
        migrate::migrations!("migrations", deploy_safety(from = 1_000u64),),
        migrate::migrations!(
            "migrations",
            functions(user_setting / 2, uuid_v7 / 0x0,),
            collations(nocase2,)
        ),
    ];
    for set in sets {
        assert_eq!(set.as_slice(), MIGRATIONS.as_slice());
    }
}

#[test]
fn usable_in_a_function_body_and_a_const() {
    const SET: migrate::Migrations = migrate::migrations!("migrations");
    let local = migrate::migrations!("migrations");
    assert_eq!(SET.len(), local.len());
    assert_eq!(local.iter().next().unwrap().to_string(), "001_create_users");
}

/// Every field the macro embeds (in its packed form) equals what the runtime builds
/// from the same folder checked at run time: down scripts (one without a
/// transaction), migrations without a transaction, other tools' identifiers,
/// irreversible migrations of a lenient layout, schema changes, versions beyond 64
/// bits.
#[test]
fn every_field_of_packed_sets_equals_a_runtime_recomputation() {
    static REVERSIBLE: migrate::Migrations = migrate::migrations!("tests/sets/reversible");
    static REVERSIBLE_NOTX: migrate::Migrations =
        migrate::migrations!("tests/sets/reversible_notx");
    static NOTX: migrate::Migrations = migrate::migrations!("tests/sets/notx");
    static GOOSE: migrate::Migrations = migrate::migrations!("tests/layouts/goose");
    static PRISMA: migrate::Migrations = migrate::migrations!("tests/layouts/prisma");
    static DRIZZLE: migrate::Migrations = migrate::migrations!("tests/layouts/drizzle");
    static UNPROVEN: migrate::Migrations = migrate::migrations!("tests/sets/unproven_golang");
    static LESSON: migrate::Migrations = migrate::migrations!("tests/sets/lesson");
    static LONG: migrate::Migrations =
        migrate::migrations!("tests/sets/long_versions", layout = "sqlx");
    static ACKNOWLEDGED: migrate::Migrations =
        migrate::migrations!("tests/sets/deploy_acknowledged", deploy_safety(from = 2));
    let sets = [
        (&REVERSIBLE, "tests/sets/reversible", None),
        (&REVERSIBLE_NOTX, "tests/sets/reversible_notx", None),
        (&NOTX, "tests/sets/notx", None),
        (&GOOSE, "tests/layouts/goose", None),
        (&PRISMA, "tests/layouts/prisma", None),
        (&DRIZZLE, "tests/layouts/drizzle", None),
        (&UNPROVEN, "tests/sets/unproven_golang", None),
        (&LESSON, "tests/sets/lesson", None),
        (&LONG, "tests/sets/long_versions", Some(Layout::Sqlx)),
        (&ACKNOWLEDGED, "tests/sets/deploy_acknowledged", None),
    ];
    let (mut downs, mut notx, mut ids, mut irreversible, mut changes) = (0, 0, 0, 0, 0);
    for (embedded, dir, layout) in sets {
        let options = migrate::check::Options {
            layout,
            deploy_safety: Some(2).filter(|_| dir.ends_with("acknowledged")),
            ..migrate::check::Options::default()
        };
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let checked = migrate::check::check_dir_opts(&path, dir, &options)
            .unwrap_or_else(|d| panic!("{dir}: {d:?}"));
        let expected = migrate::Migrations::from_sources(checked);
        assert_eq!(embedded.len(), expected.len(), "{dir}");
        let fields = |set: &migrate::Migrations| set.iter().map(fields).collect::<Vec<_>>();
        assert_eq!(fields(embedded), fields(&expected), "{dir}");
        assert_eq!(
            embedded.latest_version(),
            expected.latest_version(),
            "{dir}"
        );
        for m in embedded {
            downs += usize::from(m.is_reversible());
            notx += usize::from(!m.runs_in_transaction());
            ids += usize::from(!m.source_id().is_empty());
            irreversible += usize::from(m.irreversible_reason().is_some());
            changes += usize::from(!m.changes().is_empty());
        }
    }
    // The sets hold every kind of field, so the comparison above covers each.
    assert!(
        downs > 0 && notx > 0 && ids > 0 && irreversible > 0 && changes > 0,
        "{downs} {notx} {ids} {irreversible} {changes}"
    );
}

/// Everything a migration holds, with the position in an irreversible reason left
/// out: the macro's SQLite always points at the failing token (`:2:23`), while
/// `check_dir` in a build without `bundled` points at the statement (`:2:1`).
#[allow(clippy::type_complexity)]
fn fields(
    m: &migrate::Migration,
) -> (
    migrate::Version,
    &str,
    &str,
    &str,
    [u8; 32],
    [u8; 32],
    bool,
    &str,
    Option<migrate::Down>,
    Option<String>,
    Vec<migrate::changes::Change>,
) {
    let reason = m.irreversible_reason().map(|r| match r.find(".sql:") {
        Some(at) => {
            let rest = &r[at + 4..];
            let message = rest.find(": ").map_or(rest, |end| &rest[end..]);
            format!("{}{message}", &r[..at + 4])
        }
        None => r.to_owned(),
    });
    (
        m.version(),
        m.name(),
        m.file_name(),
        m.sql(),
        *m.checksum(),
        *m.chain(),
        m.runs_in_transaction(),
        m.source_id(),
        m.down().copied(),
        reason,
        m.changes(),
    )
}
