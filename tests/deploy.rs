//! Deploy safety through the macro: a set whose destructive, renaming and
//! tightening changes are acknowledged builds with `deploy_safety`, one whose only
//! unacknowledged change comes before `from` builds too, and each migration's
//! classification is embedded (the failing cases are ui cases).

use migrate::Migrations;
use migrate::changes::{ChangeKind, Class};

static ACKNOWLEDGED: Migrations =
    migrate::migrations!("tests/sets/deploy_acknowledged", deploy_safety(from = 2));
// Its 002 drops a column without acknowledging it: it builds while `from` is later
// (`deploy_safety(from = 2)` is the ui case `deploy-drop-column`).
static BEFORE_FROM: Migrations = migrate::migrations!(
    "tests/ui/fixtures/deploy_drop_column",
    deploy_safety(from = 3)
);

#[test]
fn the_classification_is_embedded() {
    let kinds: Vec<Vec<(ChangeKind, String)>> = ACKNOWLEDGED
        .iter()
        .map(|m| {
            m.changes()
                .into_iter()
                .map(|c| (c.kind, c.object))
                .collect()
        })
        .collect();
    let owned = |v: &[(ChangeKind, &str)]| -> Vec<(ChangeKind, String)> {
        v.iter().map(|(k, o)| (*k, (*o).to_owned())).collect()
    };
    assert_eq!(
        kinds,
        [
            owned(&[
                (ChangeKind::CreateTable, "users"),
                (ChangeKind::CreateTable, "books")
            ]),
            owned(&[(ChangeKind::DropColumn, "users.bio")]),
            owned(&[(ChangeKind::TightenColumn, "books.year")]),
            owned(&[(ChangeKind::AddColumn, "books.isbn")]),
            owned(&[(ChangeKind::RenameColumn, "users.name")]),
        ]
    );
    let rename = &ACKNOWLEDGED.as_slice()[4].changes()[0];
    assert_eq!(rename.class(), Class::Renaming);
    assert_eq!(rename.detail, "renamed to full_name");
    assert_eq!(rename.line, 2);
    let drop = &BEFORE_FROM.as_slice()[1].changes()[0];
    assert_eq!(
        (drop.kind, drop.class()),
        (ChangeKind::DropColumn, Class::Destructive)
    );
}

#[test]
fn a_trial_lists_the_pending_migrations_classification() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("app.db");
    let mut conn = migrate::rusqlite::Connection::open(&path)?;
    ACKNOWLEDGED.runner().to(2).run(&mut conn)?;
    drop(conn);
    let trial = ACKNOWLEDGED.trial(&path)?;
    let pending: Vec<(String, Vec<String>)> = trial
        .changes()
        .into_iter()
        .map(|(m, cs)| (m.to_string(), cs.iter().map(ToString::to_string).collect()))
        .collect();
    assert_eq!(
        pending,
        [
            (
                "003_year_as_integer".to_owned(),
                vec![
                    "line 2: tighten-column books.year (tightening): type TEXT -> INTEGER"
                        .to_owned()
                ]
            ),
            (
                "004_add_isbn".to_owned(),
                vec!["line 2: add-column books.isbn (additive)".to_owned()]
            ),
            (
                "005_rename_name".to_owned(),
                vec![
                    "line 2: rename-column users.name (renaming): renamed to full_name".to_owned()
                ]
            ),
        ]
    );
    let shown = trial.to_string();
    assert!(
        shown.contains("003_year_as_integer: ")
            && shown.contains(
                "\n  line 2: tighten-column books.year (tightening): type TEXT -> INTEGER\n"
            )
            && shown.ends_with("integrity: ok; foreign keys: ok"),
        "{shown}"
    );
    Ok(())
}
