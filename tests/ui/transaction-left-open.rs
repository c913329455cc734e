fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/transaction_left_open");
}
