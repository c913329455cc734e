// A `.sql` file beside diesel's folders would never run: an error, not skipped.
fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/layout_diesel_file_beside_folders");
}
