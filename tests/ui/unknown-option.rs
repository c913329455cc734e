fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/unknown_option", function(user_setting/2));
}
