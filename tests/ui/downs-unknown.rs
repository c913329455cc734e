fn main() {
    let _ = migrate::migrations!("tests/sets/unproven_golang", downs = "ignore");
}
