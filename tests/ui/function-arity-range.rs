fn main() {
    let _ = migrate::migrations!("migrations", functions(user_setting/200));
}
