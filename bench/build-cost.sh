#!/usr/bin/env bash
# Build cost of an app using `migrate`: a cold release build in a fresh target
# folder, then the rebuild after editing one of 1,000 migrations. A hello world
# using rusqlite alone (bundled SQLite) is the floor. Run from anywhere:
#   bash bench/build-cost.sh
# With OPTIMIZE_MACROS=1, the app sets `[profile.release.build-override] opt-level = 3`,
# so that the macro's SQLite is the same build as the application's.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo run --release --quiet --manifest-path "$root/Cargo.toml" -p migrate-bench -- \
    --write-set "$work/app/migrations" 1000

seconds() { # runs "$@", prints the wall time in seconds
    local start end
    start=$(date +%s.%N)
    "$@" >"$work/log" 2>&1 || { cat "$work/log"; exit 1; }
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

mkdir -p "$work/app/src" "$work/floor/src"
cat >"$work/app/Cargo.toml" <<TOML
[package]
name = "app"
version = "0.1.0"
edition = "2024"
[dependencies]
migrate = { path = "${MIGRATE_UNDER_TEST:-$root}" }
[workspace]
TOML
if [ "${OPTIMIZE_MACROS:-0}" = 1 ]; then
    printf '[profile.release.build-override]\nopt-level = 3\n' >>"$work/app/Cargo.toml"
fi
cat >"$work/app/src/main.rs" <<'RS'
static MIGRATIONS: migrate::Migrations = migrate::migrations!("migrations");
fn main() {
    let mut conn = migrate::rusqlite::Connection::open_in_memory().unwrap();
    println!("applied {}", MIGRATIONS.run(&mut conn).unwrap().applied.len());
}
RS
cat >"$work/floor/Cargo.toml" <<TOML
[package]
name = "floor"
version = "0.1.0"
edition = "2024"
[dependencies]
rusqlite = { version = "0.41.1", features = ["bundled"] }
[workspace]
TOML
cat >"$work/floor/src/main.rs" <<'RS'
fn main() {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    println!("{}", conn.query_row("SELECT sqlite_version()", [], |r| r.get::<_, String>(0)).unwrap());
}
RS
cp "$root/Cargo.lock" "$work/app/Cargo.lock"

floor=$(cd "$work/floor" && seconds cargo build --release --offline --target-dir "$work/t-floor")
cold=$(cd "$work/app" && seconds cargo build --release --offline --target-dir "$work/t-app")
sqlite_builds=$(find "$work/t-app/release/build" -name 'libsqlite3.a' | wc -l)
echo "CREATE TABLE edited (id INTEGER PRIMARY KEY);" >>"$work/app/migrations/00500_"*.sql
edit=$(cd "$work/app" && seconds cargo build --release --offline --target-dir "$work/t-app")
touch "$work/app/src/main.rs"
touch_only=$(cd "$work/app" && seconds cargo build --release --offline --target-dir "$work/t-app")

printf 'cold release build, hello world with rusqlite (bundled) only: %6.1f s\n' "$floor"
printf 'cold release build, hello world with migrate, 1,000 migrations: %6.1f s  (%.2fx; SQLite compiled %s times)\n' \
    "$cold" "$(echo "$cold / $floor" | bc -l)" "$sqlite_builds"
printf 'rebuild after editing one of the 1,000 migrations: %6.1f s\n' "$edit"
printf 'rebuild after touching main.rs (the macro runs again): %6.1f s\n' "$touch_only"
