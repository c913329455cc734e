// A folder shaped like diesel's (`007_tags/up.sql`) among native files, read in the
// native layout: an error pointing at the layout option, never silently left out.
static MIGRATIONS: migrate::Migrations =
    migrate::migrations!("tests/ui/fixtures/native_subfolder", layout = "native");

fn main() {}
