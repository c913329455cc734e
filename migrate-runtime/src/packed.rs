//! The form in which `migrations!` embeds a set: all its texts in one string literal
//! and everything else in a table of bytes, written in hexadecimal in a second one,
//! unpacked into [`Migration`]s the first time the program asks for them.
//!
//! A thousand `Migration::new(…)` expressions cost the compiler more than the rest of
//! a rebuild (type checking a constant of a thousand calls, then code for it); two
//! literals cost it almost nothing. The table is hexadecimal rather than a byte
//! string because its bytes (checksums, chains, little-endian numbers) nearly all
//! need an escape in a byte string: escaping 100 KB for 1,000 migrations took the
//! macro 4 to 6 ms (unoptimised, one formatter call per escape) and the compiler
//! more to read back, where hexadecimal is written 16 bytes per call and read as
//! it is. Unpacking a thousand migrations takes a fraction of a millisecond
//! (`migrate-bench`), once per process and set, on the first call that lists them;
//! the startup check reads the last version and chain from the header instead.
//!
//! # Format
//!
//! The table starts with [`FORMAT`]; then, when the set is not empty, the last
//! migration's version (`i128` little-endian) and chain, which the startup check
//! compares without unpacking the set; then one record per migration, in version
//! order:
//!
//! | bytes | field |
//! |---|---|
//! | 16 | the version, `i128` little-endian |
//! | 1 | flags: 1 runs in a transaction, 2 has a down script, 4 the down runs in a transaction |
//! | 32 + 32 | checksum, chain |
//! | 4 × 6 | lengths (`u32` little-endian) of the name, file name, SQL, source id, irreversible reason, encoded changes |
//! | 32 + 4 × 2 | with a down script only: its checksum, the lengths of its file name and SQL |
//!
//! The texts follow each other in the string in the same order. The table is
//! written as two lowercase hexadecimal digits per byte.

use std::sync::{Mutex, PoisonError};

use crate::changes::Change;
use crate::migration::{Down, Migration};
use crate::source::SourceMigration;

/// The first byte of the table: the version of this format, so that a runtime and a
/// macro that disagree on it say so instead of misreading the set.
pub const FORMAT: u8 = 2;

const TRANSACTION: u8 = 1;
const HAS_DOWN: u8 = 2;
const DOWN_TRANSACTION: u8 = 4;

/// A set as the macro embeds it: see the [module](self) documentation.
#[derive(Clone, Copy)]
pub struct Packed {
    count: usize,
    text: &'static str,
    /// The table, in hexadecimal.
    table: &'static str,
}

impl std::fmt::Debug for Packed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.migrations()).finish()
    }
}

impl Packed {
    /// A set of `count` migrations, from what [`encode`] wrote. The macro calls this.
    pub const fn new(count: usize, text: &'static str, table: &'static str) -> Self {
        Self { count, text, table }
    }

    /// How many migrations it holds.
    pub const fn len(&self) -> usize {
        self.count
    }

    /// Whether it holds none.
    pub const fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The last migration's version and chain, read without unpacking the set;
    /// `None` for an empty set (or bytes not in this [`FORMAT`]).
    pub fn tip(&self) -> Option<(crate::Version, [u8; 32])> {
        if self.count == 0 {
            return None;
        }
        let header = unhex(self.table.as_bytes().get(..2 * (1 + 16 + 32))?)?;
        let (&FORMAT, table) = header.split_first()? else {
            return None;
        };
        let mut read = Reader { table, text: "" };
        Some((i128::from_le_bytes(read.array()?), read.array()?))
    }

    /// The migrations, unpacked on the first call and kept for the life of the
    /// process.
    ///
    /// # Panics
    ///
    /// When the table is not in this [`FORMAT`]: the `migrate-macros` that
    /// wrote it does not match this runtime, which the `migrate` crate's exact version
    /// requirement rules out.
    pub fn migrations(&self) -> &'static [Migration] {
        /// Sets unpacked so far, by the addresses of their table and text (the
        /// compiler may merge equal literals: two sets of equal tables may differ in
        /// their names). A program has a set or a few, so a list is enough; a
        /// `const` set used in several places may have one copy per place, and is
        /// unpacked once per copy.
        type Key = (usize, usize);
        static UNPACKED: Mutex<Vec<(Key, &'static [Migration])>> = Mutex::new(Vec::new());
        let key = (self.table.as_ptr() as usize, self.text.as_ptr() as usize);
        let mut unpacked = UNPACKED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, set)) = unpacked.iter().find(|(k, _)| *k == key) {
            return set;
        }
        let set: &'static [Migration] = match decode(self.count, self.text, self.table) {
            Some(migrations) => migrations.leak(),
            None => panic!(
                "migrate: the embedded migrations are not in the format this runtime reads (format {FORMAT}); migrate-macros and migrate-runtime must have the same version"
            ),
        };
        unpacked.push((key, set));
        set
    }
}

/// The string and the table, in hexadecimal, of `migrations` (see the
/// [module](self) documentation). The macro calls this; [`Packed::new`] reads them.
pub fn encode(migrations: &[SourceMigration]) -> (String, String) {
    let mut text = String::new();
    let mut table = vec![FORMAT];
    if let Some(last) = migrations.last() {
        table.extend_from_slice(&last.version.to_le_bytes());
        table.extend_from_slice(&last.chain);
    }
    let mut put = |table: &mut Vec<u8>, s: &str| {
        text.push_str(s);
        // A migration over 4 GiB cannot be embedded anyway (rustc's limit is lower).
        let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
        table.extend_from_slice(&len.to_le_bytes());
    };
    for m in migrations {
        table.extend_from_slice(&m.version.to_le_bytes());
        let mut flags = 0;
        if m.transaction {
            flags |= TRANSACTION;
        }
        if let Some(down) = &m.down {
            flags |= HAS_DOWN;
            if down.transaction {
                flags |= DOWN_TRANSACTION;
            }
        }
        table.push(flags);
        table.extend_from_slice(&m.checksum);
        table.extend_from_slice(&m.chain);
        put(&mut table, &m.name);
        put(&mut table, &m.file_name);
        put(&mut table, &m.sql);
        put(&mut table, &m.source_id);
        put(
            &mut table,
            m.irreversible.as_ref().map_or("", |u| &u.reason),
        );
        put(&mut table, &Change::encode(&m.changes));
        if let Some(down) = &m.down {
            table.extend_from_slice(&down.checksum);
            put(&mut table, &down.file_name);
            put(&mut table, &down.sql);
        }
    }
    (text, hex(&table))
}

/// `bytes` as two lowercase hexadecimal digits each. Sixteen bytes are one call into
/// the standard library's formatting, which is compiled optimised where this crate's
/// loops run unoptimised in the macro.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(2 * bytes.len());
    // Walked by index, as the build cache's image hash is: an iterator adapter
    // costs more than it carries in the unoptimised macro.
    let (words, rest) = bytes.as_chunks::<16>();
    let mut i = 0;
    while i < words.len() {
        let _ = write!(out, "{:032x}", u128::from_be_bytes(words[i]));
        i += 1;
    }
    for byte in rest {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// The bytes `hex` writes in hexadecimal (two digits each, either case); `None` for
/// anything else. Without a branch per digit: random digits made one mispredicted
/// branch in two, and 1,000 migrations' table took 0.7 ms to decode instead of 0.06.
fn unhex(hex: &[u8]) -> Option<Vec<u8>> {
    /// Each byte's value as a hexadecimal digit, or `0xFF`.
    const DIGITS: [u8; 256] = {
        let mut digits = [0xFF; 256];
        let mut i = 0;
        while i < 10 {
            digits[b'0' as usize + i] = i as u8;
            i += 1;
        }
        let mut i = 0;
        while i < 6 {
            digits[b'a' as usize + i] = 10 + i as u8;
            digits[b'A' as usize + i] = 10 + i as u8;
            i += 1;
        }
        digits
    };
    let (pairs, []) = hex.as_chunks::<2>() else {
        return None;
    };
    let mut bytes = vec![0; pairs.len()];
    // Any digit that is not one sets a bit above the low four.
    let mut not_digits = 0;
    for (byte, &[high, low]) in bytes.iter_mut().zip(pairs) {
        let (high, low) = (DIGITS[usize::from(high)], DIGITS[usize::from(low)]);
        not_digits |= high | low;
        *byte = high << 4 | low;
    }
    (not_digits < 16).then_some(bytes)
}

/// Reads `count` migrations; `None` when the strings are not what [`encode`] writes.
fn decode(count: usize, text: &'static str, table: &str) -> Option<Vec<Migration>> {
    let table = unhex(table.as_bytes())?;
    let (&format, table) = table.split_first()?;
    if format != FORMAT {
        return None;
    }
    let mut read = Reader { table, text };
    let tip = if count == 0 {
        None
    } else {
        Some((i128::from_le_bytes(read.array()?), read.array::<32>()?))
    };
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let version = i128::from_le_bytes(read.array()?);
        let [flags] = read.array()?;
        let checksum = read.array()?;
        let chain = read.array()?;
        let name = read.text()?;
        let file_name = read.text()?;
        let sql = read.text()?;
        let source_id = read.text()?;
        let irreversible = read.text()?;
        let changes = read.text()?;
        let down = if flags & HAS_DOWN == 0 {
            None
        } else {
            Some(Down {
                checksum: read.array()?,
                file_name: read.text()?,
                sql: read.text()?,
                transaction: flags & DOWN_TRANSACTION != 0,
            })
        };
        // One write of the whole struct: the builder methods would copy it once per call.
        out.push(Migration {
            version,
            name,
            file_name,
            sql,
            checksum,
            chain,
            transaction: flags & TRANSACTION != 0,
            source_id,
            // An irreversible migration has no down script to run.
            down: down.filter(|_| irreversible.is_empty()),
            irreversible,
            changes,
        });
    }
    let tip_matches = tip == out.last().map(|m| (m.version, m.chain));
    (tip_matches && read.table.is_empty() && read.text.is_empty()).then_some(out)
}

/// What is left to read of the table and of the string.
struct Reader<'a> {
    table: &'a [u8],
    text: &'static str,
}

impl Reader<'_> {
    /// The next `N` bytes of the table.
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.table.split_first_chunk::<N>()?;
        self.table = rest;
        Some(*head)
    }

    /// The next text, whose length is the next `u32` of the table.
    fn text(&mut self) -> Option<&'static str> {
        let len = usize::try_from(u32::from_le_bytes(self.array()?)).ok()?;
        let (head, rest) = self.text.split_at_checked(len)?;
        self.text = rest;
        Some(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changes::ChangeKind;
    use crate::migration::Migrations;
    use crate::source::{SourceDown, UnusedDown};

    fn leak<T>(value: T) -> &'static T {
        Box::leak(Box::new(value))
    }

    fn source(version: i128, sql: &str) -> SourceMigration {
        SourceMigration {
            version,
            name: format!("m{version}"),
            file_name: format!("{version}_m{version}.sql"),
            path: format!("/x/{version}_m{version}.sql").into(),
            display_path: format!("migrations/{version}_m{version}.sql"),
            sql: sql.to_owned(),
            checksum: crate::checksum(sql),
            chain: [u8::try_from(version.rem_euclid(256)).unwrap_or(0); 32],
            transaction: true,
            source_id: String::new(),
            down: None,
            irreversible: None,
            changes: Vec::new(),
        }
    }

    /// Every field in every combination unpacks to what `from_sources` builds.
    #[test]
    fn unpacks_to_the_same_migrations_as_from_sources() {
        let mut sources = Vec::new();
        for i in 0..16_i128 {
            // Non-ASCII text, an empty SQL and a version beyond 64 bits among them.
            let mut m = source(
                i * 1_000_000_000_000_000_000_000 + i,
                &"é; SELECT 1;\n".repeat(usize::try_from(i).unwrap_or(0)),
            );
            let bits = i % 16;
            m.transaction = bits & 1 == 0;
            if bits & 2 != 0 {
                m.down = Some(SourceDown {
                    file_name: format!("{i}.down.sql"),
                    path: "/x/d".into(),
                    display_path: "d".into(),
                    sql: format!("DROP TABLE t{i}; -- ✓"),
                    checksum: [7; 32],
                    transaction: bits & 4 == 0,
                });
            }
            if bits & 4 != 0 && bits & 2 == 0 {
                m.irreversible = Some(UnusedDown {
                    path: "/x/u".into(),
                    reason: format!("line {i}: no such table"),
                });
            }
            if bits & 8 != 0 {
                m.source_id = format!("2024{i:04}_tool");
                m.changes = vec![Change {
                    kind: ChangeKind::DropColumn,
                    object: format!("t{i}.c\tx"),
                    detail: String::new(),
                    line: 3,
                }];
            }
            sources.push(m);
        }
        let (text, table) = encode(&sources);
        let packed = Packed::new(sources.len(), leak(text), leak(table));
        assert!(Packed::new(sources.len(), "", "").tip().is_none());
        let expected = Migrations::from_sources(sources);
        assert_eq!(packed.migrations(), expected.as_slice());
        assert_eq!(packed.len(), expected.len());
        let last = expected
            .as_slice()
            .last()
            .map(|m| (m.version(), *m.chain()));
        assert_eq!(packed.tip(), last);
        // The second call returns the same unpacked slice.
        assert!(std::ptr::eq(packed.migrations(), packed.migrations()));
    }

    #[test]
    fn refuses_another_format_or_a_truncated_table() {
        let (text, table) = encode(&[source(1, "CREATE TABLE t (x);")]);
        let text: &'static str = leak(text);
        let table: &'static str = leak(table);
        assert!(decode(1, text, table).is_some());
        // Half a byte, and a whole byte, short.
        assert!(decode(1, text, &table[..table.len() - 1]).is_none());
        assert!(decode(1, text, &table[..table.len() - 2]).is_none());
        assert!(decode(2, text, table).is_none());
        assert!(decode(1, &text[..text.len() - 1], table).is_none());
        let bytes = unhex(table.as_bytes()).unwrap_or_default();
        let mut other = bytes.clone();
        other[0] = FORMAT + 1;
        assert!(decode(1, text, &hex(&other)).is_none());
        assert!(decode(0, "", "").is_none());
        let (empty_text, empty_table) = encode(&[]);
        assert_eq!(
            decode(0, leak(empty_text), &empty_table).map(|m| m.len()),
            Some(0)
        );
        assert_eq!(Packed::new(0, "", "02").tip(), None);
        // A tip that is not the last record's is refused.
        let mut other = bytes.clone();
        other[20] ^= 1;
        assert!(decode(1, text, &hex(&other)).is_none());
        // Not hexadecimal.
        let mut other = table.to_owned();
        other.replace_range(4..5, "g");
        assert!(decode(1, text, &other).is_none());
    }

    /// Two sets whose tables are one literal (the compiler merges equal ones) but
    /// whose texts differ (names of the same lengths) are unpacked each to its own.
    #[test]
    fn sets_sharing_a_table_unpack_to_their_own_texts() {
        let (mut a, mut b) = (source(1, "SELECT 1;"), source(1, "SELECT 1;"));
        a.name = "aa".to_owned();
        b.name = "bb".to_owned();
        let (text_a, table) = encode(&[a]);
        let (text_b, table_b) = encode(&[b]);
        assert_eq!(table, table_b);
        let table: &'static str = leak(table);
        let first = Packed::new(1, leak(text_a), table);
        let second = Packed::new(1, leak(text_b), table);
        assert_eq!(first.migrations()[0].name(), "aa");
        assert_eq!(second.migrations()[0].name(), "bb");
    }

    /// Every byte string of every length is written in hexadecimal and read back, in
    /// either case, and anything else is refused.
    #[test]
    fn hexadecimal_round_trips() {
        let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
        let mut cases: Vec<Vec<u8>> = vec![(0..=255).collect(), Vec::new()];
        for len in 1..100 {
            cases.push(crate::test_bytes::random_bytes(&mut rng, len));
        }
        for bytes in cases {
            let written = hex(&bytes);
            assert_eq!(written.len(), 2 * bytes.len());
            let expected: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(written, expected);
            assert_eq!(unhex(written.as_bytes()), Some(bytes.clone()));
            assert_eq!(unhex(written.to_uppercase().as_bytes()), Some(bytes));
        }
        for bad in ["0", "0g", "g0", "00 ", " 000", "0x", "é0"] {
            assert_eq!(unhex(bad.as_bytes()), None, "{bad}");
        }
    }
}
