fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/if_not_exists_differs");
}
