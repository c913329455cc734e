fn main() {
    let _ = migrate::migrations!("migrations", deploy_safety(from = -1));
}
