fn main() {
    let _ = migrate::migrations!("migrations", functions(user_setting/2 uuid_v7/0));
}
