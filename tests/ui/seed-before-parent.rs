fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/seed_before_parent");
}
