//! The migration checksum, shared by the macro (at compile time) and any tool.

use sha2::{Digest, Sha256};

/// The SHA-256 checksum of a migration's canonical text.
///
/// The canonical text is what SQLite executes, without the layout around it:
///
/// 1. a leading byte-order mark is dropped;
/// 2. the text is split into statements with SQLite's own tokenizer rules (a `;`
///    inside a string, a comment or a `CREATE TRIGGER … END` body does not end a
///    statement; a last statement needs no `;`; empty statements are dropped);
/// 3. within each statement, comments are removed and every run of whitespace and
///    comments between two tokens becomes one space (tokens that touch stay touching);
///    string literals, quoted identifiers and blobs are kept byte for byte;
/// 4. the statements are joined with `";\n"` (no `;` after the last one), and the
///    UTF-8 bytes of the result are hashed with SHA-256.
///
/// So line endings (CRLF or LF), a BOM, indentation and comments never change a
/// checksum, while any change SQLite would execute differently does.
/// [`canonical`](crate::sql::canonical) returns the text that is hashed.
///
/// # Examples
///
/// ```
/// use migrate_runtime::checksum;
///
/// let a = checksum("CREATE TABLE users (\r\n  id INTEGER PRIMARY KEY -- the key\r\n);\r\n");
/// let b = checksum("CREATE TABLE users ( id INTEGER PRIMARY KEY )");
/// assert_eq!(a, b);
/// assert_ne!(a, checksum("CREATE TABLE users ( id INTEGER PRIMARY KEY, name TEXT )"));
/// ```
pub fn checksum(sql: &str) -> [u8; 32] {
    Sha256::digest(crate::sql::canonical(sql).as_bytes()).into()
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
        // the canonical text of "  select 1 ;" is "select 1"
        assert_eq!(
            to_hex(&checksum("  select 1 ;")),
            to_hex(&Sha256::digest(b"select 1").into())
        );
        assert_eq!(
            to_hex(&checksum("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
