const DIR: &str = "migrations";

fn main() {
    let _ = migrate::migrations!(DIR);
}
