fn main() {
    let _ = migrate::migrations!("/srv/app/migrations");
}
