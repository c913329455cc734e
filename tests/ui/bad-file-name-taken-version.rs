fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/bad_file_name_taken_version");
}
