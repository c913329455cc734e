fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/undeclared_collation");
}
