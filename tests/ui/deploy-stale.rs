fn main() {
    // Not opted in: a directive that matches no change is an error all the same.
    let _ = migrate::migrations!("tests/ui/fixtures/deploy_stale");
}
