fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/deploy_books_year", deploy_safety(from = 2));
}
