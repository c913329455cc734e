fn main() {
    let _ = migrate::migrations!("migrations", layout = "native", layout = "sqlx");
}
