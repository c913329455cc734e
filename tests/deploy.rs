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
