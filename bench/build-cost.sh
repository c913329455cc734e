#!/usr/bin/env bash
# Build cost of an app using `migrate`, against a floor measured in the same run.
#
#   bash bench/build-cost.sh                      # 1,000 migrations
#   MIGRATE_BEFORE=/path/to/older/checkout bash bench/build-cost.sh
#   N=200 bash bench/build-cost.sh                # another size
#   SET=migrate-runtime/tests/corpus/stash MACRO_ARGS=', functions(durationToTinyInt/1)' \
#       COLD=0 bash bench/build-cost.sh           # a real folder, in its own layout
#
# The floor is a hello world using rusqlite (bundled SQLite) that embeds the same
# migrations with one `include_str!` each and runs them with `execute_batch`: what
# an app checking nothing at build time costs. The app embeds them with
# `migrate::migrations!`. With MIGRATE_BEFORE set, the same app is also built against
# that checkout of migrate ("before").
#
# With SET, the migrations are a copy of that folder (every `.sql` file in it, down
# scripts included, is the floor's; the binaries are built, never run), and
# MACRO_ARGS is appended to the macro's arguments (declared functions, a layout…).
# The newest migration is the last `.sql` file in version order that is not a down
# script, the first one the first.
#
# Reported, for the dev and the release profile: the rebuild after editing the newest
# migration, after editing the first one (once), and after touching main.rs (the
# macro runs again on an unchanged folder); medians of ROUNDS (default 5) rounds,
# each rebuilding every variant in turn. Then a cold release build of the floor and
# of the app: wall time and CPU time. `COLD=0` skips the cold builds. `EXPANSION=1`
# adds the macro expansion alone, as the compiler times it, and `INSTRUCTIONS=1` the
# instructions the compiler runs for the binary crate (see below).
#
# The build cache of the validation goes to a fresh folder (MIGRATE_BUILD_CACHE), so
# the first build starts without one, like a fresh clone.
#
# The apps depend on a copy of each checkout, taken at the start (so editing the
# working tree during a run changes nothing), by path, but built as a registry
# dependency is: Cargo compiles path dependencies incrementally, which splits the
# runtime into 256 codegen units and makes each dev link of the app about 20 ms
# slower than with the crate from crates.io (`incremental = false` for the three
# crates puts that back; measured 0.088 s against 0.110 s for the dev link).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${N:-1000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MIGRATE_BUILD_CACHE="$work/cache"
if [ -n "${SET:-}" ]; then
    cp -r "$SET" "$work/migrations"
    n="$(find "$work/migrations" -name '*.sql' | wc -l) files of $(basename "$SET"),"
else
    cargo run --release --quiet --manifest-path "$root/Cargo.toml" -p migrate-bench -- \
        --write-set "$work/migrations" "$n"
    n="$n migrations,"
fi

# Appends the statement $2 to the file $1, after a `;` on a line of its own: the
# file's last statement may have none (a real folder's often has not).
append() { printf '\n;\n%s\n' "$2" >>"$1"; }

# The migration files of the app in $1, in version order, down scripts left out.
ups() { (cd "$1/migrations" && find . -name '*.sql' | sed 's|^\./||' | grep -v 'down\.sql$' | sort -V); }

# Runs "$@" and prints "wall cpu" in seconds.
timed() {
    if ! /usr/bin/time -f '%e %U %S' -o "$work/time" "$@" >"$work/log" 2>&1; then
        cat "$work/log" >&2
        echo "failed: $*" >&2
        kill $$
    fi
    tail -1 "$work/time" | awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }'
}

# An app named $1 in $work/$1 using the migrations copied in, with dependencies $2
# and Cargo.toml lines $3.
make_app() {
    local dir="$work/$1"
    mkdir -p "$dir/src"
    cp -r "$work/migrations" "$dir/migrations"
    printf '[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2024"\n[dependencies]\n%s\n[workspace]\n%s\n' \
        "$1" "$2" "${3:-}" >"$dir/Cargo.toml"
    cp "$root/Cargo.lock" "$dir/Cargo.lock"
}

# A copy of the checkout $1 in $work/$2, without its build output and history.
snapshot() {
    mkdir -p "$work/$2"
    (cd "$1" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp -P --parents -t "$work/$2")
}
# The three crates built as from a registry: not incrementally.
as_registry=''
for p in migrate migrate-macros migrate-runtime; do
    for profile in dev release; do
        as_registry+="[profile.$profile.package.$p]"$'\n'"incremental = false"$'\n'
    done
done

make_app floor 'rusqlite = { version = ">=0.32, <0.44", features = ["bundled"] }'
{
    echo 'static MIGRATIONS: &[&str] = &['
    (cd "$work/floor/migrations" && find . -name '*.sql' | sed 's|^\./||' | sort -V) | while read -r f; do
        echo "    include_str!(\"../migrations/$f\"),"
    done
    echo '];'
    cat <<'RS'
fn main() {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    for sql in MIGRATIONS {
        conn.execute_batch(sql).unwrap();
    }
    println!("applied {}", MIGRATIONS.len());
}
RS
} >"$work/floor/src/main.rs"

app_main='static MIGRATIONS: migrate::Migrations = migrate::migrations!("migrations"'"${MACRO_ARGS:-}"');
fn main() {
    let mut conn = migrate::rusqlite::Connection::open_in_memory().unwrap();
    println!("applied {}", MIGRATIONS.run(&mut conn).unwrap().applied.len());
}'
snapshot "$root" src-after
make_app after "migrate = { path = \"$work/src-after\" }" "$as_registry"
echo "$app_main" >"$work/after/src/main.rs"
variants="floor after"
if [ -n "${MIGRATE_BEFORE:-}" ]; then
    snapshot "$MIGRATE_BEFORE" src-before
    make_app before "migrate = { path = \"$work/src-before\" }" "$as_registry"
    echo "$app_main" >"$work/before/src/main.rs"
    variants="floor before after"
fi

# Rebuilds in one profile, interleaved: each round edits (or touches) every variant
# in turn, so that a machine getting slower or faster moves all of them alike.
# Sets fig[variant]="last first touch" (medians of $rounds, "first" once).
rounds=${ROUNDS:-5}
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rebuilds() {
    local profile=$1 v flag=()
    [ "$profile" = release ] && flag=(--release)
    # cargo_of VARIANT: the build command of that variant in this profile.
    cargo_of() {
        cmd=(cargo build "${flag[@]}" --offline --manifest-path "$work/$1/Cargo.toml"
            --target-dir "$work/target-$1-$profile")
    }
    local cmd=()
    declare -A lasts=() firsts=() touches=()
    for v in $variants; do
        cargo_of "$v"
        timed "${cmd[@]}" >/dev/null
    done
    for i in $(seq "$rounds"); do
        for v in $variants; do
            append "$work/$v/migrations/$(ups "$work/$v" | tail -1)" "CREATE TABLE edited_last_${profile}_$i (id INTEGER PRIMARY KEY);"
            cargo_of "$v"
            lasts[$v]+=" $(timed "${cmd[@]}" | cut -d' ' -f1)"
        done
    done
    for v in $variants; do
        append "$work/$v/migrations/$(ups "$work/$v" | head -1)" "CREATE TABLE edited_first_$profile (id INTEGER PRIMARY KEY);"
        cargo_of "$v"
        firsts[$v]=$(timed "${cmd[@]}" | cut -d' ' -f1)
    done
    for i in $(seq "$rounds"); do
        for v in $variants; do
            touch "$work/$v/src/main.rs"
            cargo_of "$v"
            touches[$v]+=" $(timed "${cmd[@]}" | cut -d' ' -f1)"
        done
    done
    for v in $variants; do
        # shellcheck disable=SC2086
        fig[$v]="$(median ${lasts[$v]}) ${firsts[$v]} $(median ${touches[$v]})"
    done
}

echo "build cost, $n $(nproc) cores, medians of $rounds interleaved rounds"
for profile in dev release; do
    declare -A fig=()
    rebuilds "$profile"
    printf '\n%s profile          %12s' "$profile" floor
    for v in $variants; do [ "$v" = floor ] || printf '  %18s' "$v"; done
    echo
    i=0
    for what in "edit the newest migration" "edit the first migration" "touch main.rs"; do
        i=$((i + 1))
        base=$(echo "${fig[floor]}" | cut -d' ' -f$i)
        printf '  %-28s %6.2f s' "$what" "$base"
        for v in $variants; do
            [ "$v" = floor ] && continue
            t=$(echo "${fig[$v]}" | cut -d' ' -f$i)
            printf '  %6.2f s (%5.2fx)' "$t" "$(echo "$t / $base" | bc -l)"
        done
        echo
    done
    unset fig
done
# EXPANSION=1: the macro expansion alone, as the compiler times it (`-Z time-passes`,
# allowed on a stable compiler by RUSTC_BOOTSTRAP=1, for this measurement only),
# after an edit of the newest migration: medians of ROUNDS interleaved rebuilds of
# the binary crate. Much less noisy than the wall time of a whole rebuild.
if [ "${EXPANSION:-0}" = 1 ]; then
    echo
    echo "macro expansion inside the compiler, edit the newest migration (ms, medians of $rounds)"
    for profile in dev release; do
        flag=()
        [ "$profile" = release ] && flag=(--release)
        declare -A spent=()
        for i in $(seq 0 "$rounds"); do
            for v in $variants; do
                append "$work/$v/migrations/$(ups "$work/$v" | tail -1)" "CREATE TABLE expanded_${profile}_$i (id INTEGER PRIMARY KEY);"
                out=$(RUSTC_BOOTSTRAP=1 cargo rustc "${flag[@]}" --offline --quiet \
                    --manifest-path "$work/$v/Cargo.toml" --target-dir "$work/target-$v-$profile" \
                    -- -Z time-passes 2>&1)
                # Round 0 only rebuilds with the new flag.
                [ "$i" = 0 ] && continue
                spent[$v]+=" $(echo "$out" | awk '$NF == "expand_crate" { sub(";", "", $2); print $2 * 1000; exit }')"
            done
        done
        printf '  %-8s' "$profile"
        for v in $variants; do
            # shellcheck disable=SC2086
            printf '  %s %4s' "$v" "$(median ${spent[$v]})"
        done
        echo
        unset spent
    done
fi
# INSTRUCTIONS=1: the instructions the compiler runs for the binary crate (the macro's
# threads included, not the linker), counted by `valgrind --tool=callgrind`: the same
# count from one build to the next within about 0.5 %, whatever else the machine
# does, where a wall time moves by a tenth. After an edit of the newest migration
# (following one edit built normally, so that the build cache is in its steady state)
# and after touching main.rs; millions of instructions.
if [ "${INSTRUCTIONS:-0}" = 1 ]; then
    command -v valgrind >/dev/null || { echo "INSTRUCTIONS=1 needs valgrind" >&2; exit 1; }
    # Runs the binary crate's rustc under callgrind; every other unit as it is.
    cat >"$work/count.sh" <<'SH'
#!/usr/bin/env bash
if [[ " $* " == *" --crate-name $COUNT_CRATE "* ]]; then
    exec valgrind --tool=callgrind --callgrind-out-file="$COUNT_OUT" "$@" 2>/dev/null
fi
exec "$@"
SH
    chmod +x "$work/count.sh"
    echo
    echo "instructions of the binary crate's compiler (millions, callgrind)"
    for profile in dev release; do
        flag=()
        [ "$profile" = release ] && flag=(--release)
        for what in edit touch; do
            printf '  %-8s %-6s' "$profile" "$what"
            for v in $variants; do
                build=(cargo build "${flag[@]}" --offline --quiet --manifest-path "$work/$v/Cargo.toml"
                    --target-dir "$work/target-$v-$profile")
                if [ "$what" = edit ]; then
                    append "$work/$v/migrations/$(ups "$work/$v" | tail -1)" "CREATE TABLE counted_${profile}_a (id INTEGER PRIMARY KEY);"
                    "${build[@]}"
                    append "$work/$v/migrations/$(ups "$work/$v" | tail -1)" "CREATE TABLE counted_${profile}_b (id INTEGER PRIMARY KEY);"
                else
                    touch "$work/$v/src/main.rs"
                fi
                COUNT_CRATE=$v COUNT_OUT="$work/count.out" RUSTC_WORKSPACE_WRAPPER="$work/count.sh" "${build[@]}"
                printf '  %s %5d' "$v" "$(awk '/^(summary|totals):/ { print int($2 / 1e6); exit }' "$work/count.out")"
            done
            echo
        done
    done
fi
[ "${COLD:-1}" = 0 ] && exit 0
echo
echo "cold release build (fresh target folder): wall / CPU"
for v in floor after; do
    rm -rf "$work/target-cold"
    read -r wall cpu <<<"$(cd "$work/$v" && timed cargo build --release --offline --timings --target-dir "$work/target-cold")"
    units=$(ls "$work/target-cold/release/deps" | grep -c '\.d$' || true)
    sqlite=$(find "$work/target-cold/release/build" -name 'libsqlite3.a' | wc -l)
    printf '  %-6s %6.1f s / %6.1f s CPU  (%s units, SQLite compiled %s times)\n' "$v" "$wall" "$cpu" "$units" "$sqlite"
    cp "$work/$v"/target/cargo-timings/cargo-timing.html "$work/timing-$v.html" 2>/dev/null ||
        cp "$work/target-cold"/cargo-timings/cargo-timing.html "$work/timing-$v.html" 2>/dev/null || true
done
# Where the app's extra time goes: the longest units of its cold build, from cargo's
# --timings report (a unit built twice, for the macro and for the app, shows twice).
if command -v python3 >/dev/null && [ -f "$work/timing-after.html" ]; then
    echo "  longest units of the app's cold build (seconds):"
    python3 - "$work/timing-after.html" <<'PY'
import json, re, sys
html = open(sys.argv[1]).read()
m = re.search(r"const UNIT_DATA = (\[.*?\]);", html, re.S)
units = json.loads(m.group(1)) if m else []
for u in sorted(units, key=lambda u: -u["duration"])[:14]:
    print(f"    {u['duration']:6.1f}  {u['name']} {u['version']}{u.get('target', '')}")
PY
fi
