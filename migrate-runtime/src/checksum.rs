//! The migration checksum, shared by the macro (at compile time) and any tool.

use hmac_sha256::Hash;

/// The SHA-256 checksum of a migration's canonical text.
///
/// The canonical text is what SQLite executes and stores, without the layout around
/// it, so that formatting an applied migration never changes its checksum:
///
/// 1. a leading byte-order mark is dropped;
/// 2. the text is split into statements with SQLite's own tokenizer rules (a `;`
///    inside a string, a comment or a `CREATE TRIGGER … END` body does not end a
///    statement; a last statement needs no `;`; empty statements are dropped);
/// 3. each statement becomes its tokens, without whitespace or comments, joined by
///    exactly one space (`(id` and `( id` both become `( id`);
/// 4. keywords are upper-cased (ASCII). SQLite's 58 reserved keywords ([`HARD`], such
///    as `CREATE`, `SELECT`, `NOT`, `NULL`) always are. The other 89 ([`SOFT`], such
///    as `KEY`, `BEGIN`, `END`, `DESC`, `REPLACE`, `CURRENT_TIMESTAMP`) can also be
///    names in SQLite, where their case shows, so they are upper-cased only where the
///    grammar allows nothing else: `PRIMARY KEY`, `FOREIGN KEY`, `ON DELETE CASCADE`,
///    `NO ACTION`, `IF [NOT] EXISTS` after `CREATE`/`DROP … TABLE|VIEW|INDEX|TRIGGER`,
///    `CREATE TEMP VIEW`, a trigger's `BEFORE`/`AFTER`/`INSTEAD OF`, `FOR EACH ROW`,
///    `BEGIN` and `END`, a `CASE`'s `END`, `ASC`/`DESC` ending an `ORDER BY` item or
///    an index column, `CAST (` and `CURRENT_*` where an expression starts, `LIKE`/
///    `GLOB`/`MATCH`/`REGEXP` between two operands, `INSERT OR REPLACE`,
///    `ON CONFLICT … DO`, `GENERATED ALWAYS AS`, `RENAME [COLUMN]`, `ADD COLUMN`,
///    `WITH [RECURSIVE]`, `LEFT JOIN`, `NULLS FIRST`, window frames, a statement's
///    first word (`BEGIN`, `PRAGMA`, `REPLACE`, `WITH`…) and a few more (the code is
///    `sql/canonical.rs`). Everywhere else a soft keyword keeps its case, which can
///    only make a checksum stricter. `WITHOUT ROWID`, `STRICT` and a generated
///    column's `STORED` are upper-cased too (SQLite compares them without case);
/// 5. names, type names (`INTEGER`, `text`), string literals, quoted identifiers,
///    numbers and blobs are kept byte for byte, case included;
/// 6. the statements are joined with `";\n"` (no `;` after the last one), and the
///    UTF-8 bytes of the result are hashed with SHA-256.
///
/// One exception keeps source text verbatim, bytes and comments included, from the
/// first to the last token of a span: SQLite names a view's (or a
/// `CREATE TABLE … AS SELECT` table's) result column that has no alias after the
/// column's source text, so `SELECT a+b` and `SELECT a + b` give columns named `a+b`
/// and `a + b`, and an application reading the column by name would break. So in
/// `CREATE [TEMP] VIEW … AS` and `CREATE [TEMP] TABLE … AS`, every result column of
/// every `SELECT` (nested ones included) that has no alias for certain (`expr AS name`,
/// or a name or string right after an expression's end) and is not `*`, `t.*` or a
/// column name (`a`, `t.a`, `s.t.a`) is kept verbatim. A view with a column list,
/// `CREATE VIEW v(x, y) AS …`, names its columns itself and needs none. Likewise each
/// argument of `CREATE VIRTUAL TABLE … USING module(…)` is kept verbatim, since SQLite
/// hands its exact text to the module.
///
/// So line endings (CRLF or LF), a BOM, indentation, line breaks, comments and keyword
/// case never change a checksum (outside those verbatim spans), while a change SQLite
/// would execute or store differently does. The canonical text re-tokenizes into the
/// same tokens, so it is unambiguous, and canonicalising it again gives it back.
/// [`canonical`](crate::sql::canonical) returns the text that is hashed.
///
/// [`HARD`]: crate::sql::HARD
/// [`SOFT`]: crate::sql::SOFT
///
/// # Examples
///
/// A migration, its canonical text and its checksum, as stored in
/// `schema_migrations.checksum`:
///
/// ```
/// use migrate_runtime::{checksum, checksum::to_hex, sql::canonical};
///
/// let sql = "-- the users
/// create table users (
///     id INTEGER primary key,   -- key
///     email TEXT not null unique
/// );
/// create view emails as select lower(email), id from users;
/// ";
/// assert_eq!(
///     canonical(sql),
///     "CREATE TABLE users ( id INTEGER PRIMARY KEY , email TEXT NOT NULL UNIQUE );\n\
///      CREATE VIEW emails AS SELECT lower(email) , id FROM users"
/// );
/// assert_eq!(
///     to_hex(&checksum(sql)),
///     "99ac1edaa8346b44b1b36d4260a29a6c3bd70d03c2502a1c0b124672708b70ea"
/// );
/// // Layout, comments and keyword case do not change it…
/// assert_eq!(
///     checksum(sql),
///     checksum("CREATE TABLE users(id INTEGER PRIMARY KEY,email TEXT NOT NULL UNIQUE);\r\n\
///               CREATE VIEW emails AS SELECT lower(email), id FROM users")
/// );
/// // …but names, types, literals and a view column's source text do.
/// assert_ne!(checksum(sql), checksum(&sql.replace("INTEGER", "integer")));
/// assert_ne!(checksum(sql), checksum(&sql.replace("lower(email)", "lower( email )")));
/// ```
pub fn checksum(sql: &str) -> [u8; 32] {
    Hash::hash(crate::sql::canonical(sql).as_bytes())
}

/// The chain of a migration set: one SHA-256 digest that stands for every
/// `(version, checksum)` up to and including a migration.
///
/// `chain(previous, version, checksum)` is the SHA-256 of the 32 bytes of `previous`,
/// the 16 bytes of `version` (big-endian, two's complement), and the 32 bytes of
/// `checksum`. The first migration's `previous` is [`CHAIN_START`] (32 zero bytes).
///
/// The macro computes it for every embedded migration, and the runner stores it with
/// each applied one in `schema_migrations.chain`. So the startup check compares a
/// single row, the highest version's chain, with the embedded one: equal chains mean
/// the same migrations with the same checksums, in the same order.
///
/// # Examples
///
/// ```
/// use migrate_runtime::checksum::{CHAIN_START, chain, checksum};
///
/// let one = chain(&CHAIN_START, 1, &checksum("CREATE TABLE a (x)"));
/// let two = chain(&one, 2, &checksum("CREATE TABLE b (x)"));
/// let edited = chain(&CHAIN_START, 1, &checksum("CREATE TABLE a (y)"));
/// assert_ne!(two, chain(&edited, 2, &checksum("CREATE TABLE b (x)")));
/// ```
pub fn chain(previous: &[u8; 32], version: crate::Version, checksum: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Hash::new();
    hasher.update(previous);
    hasher.update(version.to_be_bytes());
    hasher.update(checksum);
    hasher.finalize()
}

/// The `previous` chain of the first migration: 32 zero bytes.
pub const CHAIN_START: [u8; 32] = [0; 32];

/// Parses 64 hexadecimal digits (either case) back into a checksum or chain.
pub fn from_hex(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let digit = |b: u8| {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut out = [0; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// Lowercase hexadecimal form of a checksum, as stored in `schema_migrations.checksum`.
pub fn to_hex(checksum: &[u8; 32]) -> String {
    use std::fmt::Write;
    checksum.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_sha256_of_the_canonical_text() {
        // the canonical text of "  select 1 ;" is "SELECT 1", whose SHA-256 this is
        // (`printf 'SELECT 1' | sha256sum`)
        assert_eq!(
            to_hex(&checksum("  select 1 ;")),
            "e004ebd5b5532a4b85984a62f8ad48a81aa3460c1ca07701f386135d72cdecf5"
        );
        assert_eq!(
            to_hex(&checksum("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn hex_round_trips_and_rejects_anything_else() {
        let sum = checksum("select 1");
        assert_eq!(from_hex(&to_hex(&sum)), Some(sum));
        assert_eq!(from_hex(&to_hex(&sum).to_uppercase()), Some(sum));
        for bad in [
            "",
            "00",
            &"g".repeat(64),
            &"0".repeat(63),
            &"0".repeat(65),
            &"é".repeat(32),
        ] {
            assert_eq!(from_hex(bad), None, "{bad}");
        }
    }

    #[test]
    fn chain_covers_order_versions_and_checksums() {
        let (a, b) = (checksum("a"), checksum("b"));
        let ab = chain(&chain(&CHAIN_START, 1, &a), 2, &b);
        assert_ne!(
            ab,
            chain(&chain(&CHAIN_START, 1, &b), 2, &a),
            "swapped contents"
        );
        assert_ne!(
            ab,
            chain(&chain(&CHAIN_START, 1, &a), 3, &b),
            "other version"
        );
        assert_ne!(ab, chain(&CHAIN_START, 2, &b), "missing first");
        // SHA-256 of 32 zero bytes, 1 as 16 bytes big-endian, and the checksum of
        // "SELECT 1" (computed with Python's hashlib)
        assert_eq!(
            to_hex(&chain(&CHAIN_START, 1, &checksum("select 1"))),
            "680e951a818392e1b26cbf061a67591a13d5e757d1215a9692a0358bc46c39e7"
        );
    }
}
