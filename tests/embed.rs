//! What the macro embedded equals what the runtime computes from the same files.

use std::path::Path;

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

#[test]
fn usable_in_a_function_body_and_a_const() {
    const SET: migrate::Migrations = migrate::migrations!("migrations");
    let local = migrate::migrations!("migrations");
    assert_eq!(SET.len(), local.len());
    assert_eq!(local.iter().next().unwrap().to_string(), "001_create_users");
}
