fn main() {
    let _ = migrate::migrations!("migrations", collations("nocase"));
}
