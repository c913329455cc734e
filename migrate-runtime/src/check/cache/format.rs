//! The entry file: what it holds, byte for byte, and the hashes that keep a damaged
//! or foreign file from passing for a fact.
//!
//! `MAGIC`, then length-prefixed fields: the context (checking code, SQLite,
//! declared options), the layout the files were checked in, each migration (version,
//! name, file name, path, display path, SQL, transaction flag, source id, down
//! script, checksum, chain, its schema changes as classified, and why its down
//! script never runs when it failed the proof), whether the set passed, the hash of
//! those facts, and each checkpoint (length, hash, whether a migration before it
//! may have broken the database's integrity, image).

use std::ops::Range;

use super::SourceMigration;

/// The first bytes of an entry, with the format's version.
pub(super) const MAGIC: &[u8] = b"migrate validation cache, format 9\n";

/// How many fields of a migration an entry stores (see `fields`).
pub(super) const FIELDS: usize = 10;
/// A database image after the first `len` migrations, as stored.
#[derive(Debug, Clone)]
pub(super) struct Stored {
    pub(super) len: usize,
    /// Where the image lies in the entry's bytes.
    pub(super) image: Range<usize>,
    /// [`checkpoint_hash`] of the image and `may_break`.
    pub(super) hash: u64,
    /// Whether a migration before it may have broken the database's integrity
    /// (see `integrity::may_break_integrity`).
    pub(super) may_break: bool,
}

/// A stored migration: where its fields lie in the entry's bytes, and its checksum.
pub(super) struct Record {
    pub(super) version: Range<usize>,
    pub(super) fields: [Range<usize>; FIELDS],
    pub(super) checksum: [u8; 32],
    /// The chain over the stored migrations up to this one.
    pub(super) chain: [u8; 32],
    /// Its schema changes, encoded (see [`Change::encode`](crate::changes::Change::encode)).
    pub(super) changes: Range<usize>,
    /// Why its down script never runs: the proof it failed, as the migration's
    /// irreversible reason; empty when it passed, or there is none.
    pub(super) unproven: Range<usize>,
}

/// What an entry holds, before it is compared with the current migrations.
#[derive(Default)]
pub(super) struct Parsed {
    /// The layout the files were read in with every one-file check (`Debug` of
    /// `Option<Layout>`).
    pub(super) layout: Range<usize>,
    pub(super) records: Vec<Record>,
    pub(super) validated: bool,
    pub(super) images: Vec<Stored>,
}

pub(super) fn image_hash(image: &[u8]) -> u64 {
    // A multiply-xor fold over 16-byte words: each step is a bijection of the state,
    // so one changed word always changes the 128-bit state. It runs in the unoptimised
    // build the macro runs in, so the words are taken as one slice of arrays and
    // walked by index: through a `chunks_exact` iterator, hashing the checkpoint of
    // 1,000 generated migrations took 23 million instructions instead of 3.3
    // (callgrind), and the standard library's SipHash (whose `write` is compiled,
    // unoptimised, into this crate) twice as long as that.
    const K: u128 = 0x9E37_79B9_7F4A_7C15_2545_F491_4F6C_DD1D;
    let mut state = u128::from(image.len() as u64);
    let (words, rest) = image.as_chunks::<16>();
    let mut i = 0;
    while i < words.len() {
        state = (state ^ u128::from_le_bytes(words[i])).wrapping_mul(K);
        i += 1;
    }
    let mut last = [0u8; 16];
    last[..rest.len()].copy_from_slice(rest);
    state = (state ^ u128::from_le_bytes(last)).wrapping_mul(K);
    ((state >> 64) as u64) ^ (state as u64)
}

/// The hash an entry stores for a checkpoint: its image's, with whether a migration
/// before it may have broken the database's integrity folded in, so that a damaged
/// byte in either refuses the checkpoint.
pub(super) fn checkpoint_hash(image: &[u8], may_break: bool) -> u64 {
    image_hash(image) ^ if may_break { 0x9E37_79B9_7F4A_7C15 } else { 0 }
}

/// What an entry asserts of one file: its checksum, its chain, whether it runs in
/// a transaction, its schema changes, and why its down script never runs.
pub(super) type Facts<'a> = (&'a [u8; 32], &'a [u8; 32], bool, &'a [u8], &'a [u8]);

/// The hash of what an entry asserts: the layout its files passed the one-file
/// checks in, the [`Facts`] of each file, and whether the set passed. They are put
/// in one buffer (lengths before the variable fields), folded by [`image_hash`]: the
/// standard library's SipHash, unoptimised in the macro, took 13 million
/// instructions for the 1,000 files of an entry's reading and writing, where the
/// buffer and the fold take about 2 (callgrind).
pub(super) fn facts_hash<'a>(
    layout: &[u8],
    files: impl Iterator<Item = Facts<'a>>,
    validated: bool,
) -> u64 {
    let mut bytes = Vec::new();
    put(&mut bytes, layout);
    for (checksum, chain, transaction, changes, unproven) in files {
        bytes.extend_from_slice(checksum);
        bytes.extend_from_slice(chain);
        bytes.push(u8::from(transaction));
        put(&mut bytes, changes);
        put(&mut bytes, unproven);
    }
    bytes.push(u8::from(validated));
    image_hash(&bytes)
}

/// The fields of a migration that the validation reads.
pub(super) fn fields(m: &SourceMigration) -> [&[u8]; FIELDS] {
    let down = m.down.as_ref();
    [
        m.name.as_bytes(),
        m.file_name.as_bytes(),
        m.path.as_os_str().as_encoded_bytes(),
        m.display_path.as_bytes(),
        m.sql.as_bytes(),
        if m.transaction { b"1" } else { b"0" },
        m.source_id.as_bytes(),
        down.map_or(b"", |d| d.display_path.as_bytes()),
        down.map_or(b"", |d| d.sql.as_bytes()),
        match down {
            None => b"",
            Some(d) if d.transaction => b"1",
            Some(_) => b"0",
        },
    ]
}

pub(super) fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// The bytes of an entry. Its first records are `kept` as stored (their bytes and
/// facts, from the entry read); the others are written from `migrations`, which
/// holds the whole set as read, with their schema `changes` encoded and why their
/// down scripts never run (`unproven`, empty for most).
pub(super) fn serialize(
    context: &str,
    layout: &str,
    kept: (&[u8], &[Facts<'_>]),
    migrations: &[SourceMigration],
    (changes, unproven): (&[String], &[String]),
    validated: bool,
    images: &[(usize, u64, bool, &[u8])],
) -> Vec<u8> {
    let (kept_bytes, kept_facts) = kept;
    let rest = &migrations[kept_facts.len()..];
    let size: usize = images.iter().map(|(.., image)| image.len()).sum::<usize>()
        + kept_bytes.len()
        + rest.iter().map(|m| m.sql.len() + 256).sum::<usize>();
    let mut out = Vec::with_capacity(size + 1024);
    out.extend_from_slice(MAGIC);
    put(&mut out, context.as_bytes());
    put(&mut out, layout.as_bytes());
    put(&mut out, &(migrations.len() as u64).to_le_bytes());
    out.extend_from_slice(kept_bytes);
    let no_changes = String::new();
    let changes_of = |i: usize| changes.get(i).unwrap_or(&no_changes).as_bytes();
    let unproven_of = |i: usize| unproven.get(i).unwrap_or(&no_changes).as_bytes();
    for (i, m) in rest.iter().enumerate() {
        put(&mut out, &m.version.to_le_bytes());
        for field in fields(m) {
            put(&mut out, field);
        }
        put(&mut out, &m.checksum);
        put(&mut out, &m.chain);
        put(&mut out, changes_of(i));
        put(&mut out, unproven_of(i));
    }
    put(&mut out, &[u8::from(validated)]);
    let facts = kept_facts
        .iter()
        .copied()
        .chain(rest.iter().enumerate().map(|(i, m)| {
            (
                &m.checksum,
                &m.chain,
                m.transaction,
                changes_of(i),
                unproven_of(i),
            )
        }));
    put(
        &mut out,
        &facts_hash(layout.as_bytes(), facts, validated).to_le_bytes(),
    );
    put(&mut out, &(images.len() as u64).to_le_bytes());
    for (len, hash, may_break, image) in images {
        put(&mut out, &(*len as u64).to_le_bytes());
        put(&mut out, &hash.to_le_bytes());
        put(&mut out, &[u8::from(*may_break)]);
        put(&mut out, image);
    }
    out
}

impl Parsed {
    /// The bytes of the first `n` records in the entry `data`, and their facts.
    pub(super) fn records_kept<'a>(
        &'a self,
        data: &'a [u8],
        n: usize,
    ) -> (&'a [u8], Vec<Facts<'a>>) {
        let n = n.min(self.records.len());
        if n == 0 {
            return (&[], Vec::new());
        }
        // Each record starts with its version's length prefix.
        let bytes = &data[self.records[0].version.start - 8..self.records[n - 1].unproven.end];
        let facts = self.records[..n]
            .iter()
            .map(|r| {
                (
                    &r.checksum,
                    &r.chain,
                    data[r.fields[5].clone()] == *b"1",
                    &data[r.changes.clone()],
                    &data[r.unproven.clone()],
                )
            })
            .collect();
        (bytes, facts)
    }
}

/// A reader of length-prefixed fields that stops at the first inconsistency.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn range(&mut self) -> Option<Range<usize>> {
        let len = self.bytes.get(self.at..self.at.checked_add(8)?)?;
        let len = usize::try_from(u64::from_le_bytes(len.try_into().ok()?)).ok()?;
        let start = self.at + 8;
        let end = start.checked_add(len)?;
        if end > self.bytes.len() {
            return None;
        }
        self.at = end;
        Some(start..end)
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let range = self.range()?;
        Some(&self.bytes[range])
    }

    fn number(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.bytes()?.try_into().ok()?))
    }
}

/// An entry written under `context`, or `None` when it is damaged or another's.
pub(super) fn parse(bytes: &[u8], context: &str) -> Option<Parsed> {
    let mut r = Reader {
        bytes,
        at: MAGIC.len(),
    };
    if !bytes.starts_with(MAGIC) || r.bytes()? != context.as_bytes() {
        return None;
    }
    let layout = r.range()?;
    let count = usize::try_from(r.number()?).ok()?;
    let mut records = Vec::with_capacity(count.min(100_000));
    for _ in 0..count {
        let version = r.range()?;
        // An indexed loop: iterator adapters cost more than the reading in the
        // unoptimised build the macro runs in.
        let mut fields: [Range<usize>; FIELDS] = Default::default();
        let mut i = 0;
        while i < FIELDS {
            fields[i] = r.range()?;
            i += 1;
        }
        records.push(Record {
            version,
            fields,
            checksum: r.bytes()?.try_into().ok()?,
            chain: r.bytes()?.try_into().ok()?,
            changes: r.range()?,
            unproven: r.range()?,
        });
    }
    let validated = r.bytes()? == [1];
    // What the entry says without the build checking it again: a damaged byte there
    // must not pass for a fact.
    let facts = records.iter().map(|r| {
        (
            &r.checksum,
            &r.chain,
            bytes[r.fields[5].clone()] == *b"1",
            &bytes[r.changes.clone()],
            &bytes[r.unproven.clone()],
        )
    });
    if r.number()? != facts_hash(&bytes[layout.clone()], facts, validated) {
        return None;
    }
    let count = r.number()?;
    let mut images = Vec::new();
    for _ in 0..count {
        let len = usize::try_from(r.number()?).ok()?;
        let hash = r.number()?;
        let may_break = match r.bytes()? {
            [0] => false,
            [1] => true,
            _ => return None,
        };
        let image = r.range()?;
        images.push(Stored {
            len,
            image,
            hash,
            may_break,
        });
    }
    (r.at == bytes.len()).then_some(Parsed {
        layout,
        records,
        validated,
        images,
    })
}

#[cfg(test)]
mod tests {
    use super::image_hash;

    /// The image hash is the fold of 16-byte little-endian words it is documented as,
    /// whatever the length, and changes with any one byte.
    #[test]
    fn the_image_hash_folds_every_word_and_sees_every_byte() {
        fn reference(image: &[u8]) -> u64 {
            const K: u128 = 0x9E37_79B9_7F4A_7C15_2545_F491_4F6C_DD1D;
            let mut state = u128::from(image.len() as u64);
            let mut padded = image.to_vec();
            padded.resize(image.len() / 16 * 16 + 16, 0);
            for word in padded.chunks(16) {
                let word: [u8; 16] = word.try_into().unwrap_or_default();
                state = (state ^ u128::from_le_bytes(word)).wrapping_mul(K);
            }
            ((state >> 64) as u64) ^ (state as u64)
        }
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        for len in (0..70).chain([1024, 4096 + 7]) {
            let image = crate::test_bytes::random_bytes(&mut rng, len);
            let hash = image_hash(&image);
            assert_eq!(hash, reference(&image), "length {len}");
            for at in 0..len {
                let mut changed = image.clone();
                changed[at] ^= 1 << (at % 8);
                assert_ne!(image_hash(&changed), hash, "length {len}, byte {at}");
            }
            let mut longer = image.clone();
            longer.push(0);
            assert_ne!(
                image_hash(&longer),
                hash,
                "length {len} and a zero byte more"
            );
        }
    }
}
