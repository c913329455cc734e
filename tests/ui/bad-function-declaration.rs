fn main() {
    let _ = migrate::migrations!("tests/ui/fixtures/bad_function_declaration", functions(user_setting, uuid_v7/0));
}
