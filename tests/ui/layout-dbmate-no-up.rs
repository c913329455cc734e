fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/layout_dbmate_no_up", layout = "dbmate");
}
