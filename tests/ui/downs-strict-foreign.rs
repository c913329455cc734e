fn main() {
    // Another tool's layout is lenient by default: a down script that does not pass
    // the proof leaves its migration irreversible. `downs = "strict"` fails instead.
    let _ = migrate::migrations!("tests/sets/unproven_golang", downs = "strict");
}
