//! The build cache of the validation: the in-memory database after the longest
//! prefix of a folder's migrations that is unchanged since the last expansion, so
//! that editing the newest migration executes only that one again.
//!
//! The state after migration k depends only on migrations 1..k, on the checking
//! code and on the SQLite that runs them. An entry holds, for one folder, the text,
//! names and paths of its migrations, whether that whole set passed every check,
//! and up to [`KEPT`] *checkpoints*: the database image after the first k
//! migrations, each validated without a problem (the one before the newest
//! migration, and the one a partial validation started from). A checkpoint is used
//! only when the stored migrations 1..k are byte for byte the current ones, and the
//! checking code (a fingerprint of this crate's source), the SQLite (source id and
//! compile options) and the declared functions, collations and modules are the
//! same. Problems are never cached: a failing migration is executed again from the
//! checkpoint before it, so diagnostics are those of a full validation.
//!
//! A checkpoint is taken only where the database image is the whole state: between
//! migrations, with no temporary objects, after no `ATTACH`, `DETACH` or `PRAGMA`
//! that changes the connection beyond what the runner puts back.
//!
//! One file per folder (and declared options), `<hash>.cache` in the cache folder,
//! written under a temporary name and renamed, so concurrent builds read a whole old
//! or a whole new entry. The folder keeps the [`MAX_ENTRIES`] most recently written
//! entries. A file that is missing, unreadable, truncated, foreign or stale is
//! ignored, and an image is checked against its hash before it is used: the
//! validation then runs in full.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use hmac_sha256::Hash;
use rusqlite::{Connection, OpenFlags};

use super::{Layout, Options, SourceMigration};
use crate::rules::{self, FOREIGN_KEYS, RESTORED_PRAGMAS};
use crate::sql::Statement;
use format::{FIELDS, Parsed, Stored, checkpoint_hash, fields, parse, serialize};

/// The checkpoints an entry keeps.
const KEPT: usize = 2;
/// The entries the cache folder keeps, most recently written first.
pub const MAX_ENTRIES: usize = 32;

#[cfg(test)]
thread_local! {
    /// How the last validation on this thread used the cache: `Some(k)` when it
    /// started after the first k migrations (all of them: nothing executed).
    pub(super) static USED: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// Records, for tests, how a validation used the cache.
pub(super) fn note_use(_skipped: Option<usize>) {
    #[cfg(test)]
    USED.set(_skipped);
}

/// One folder's entry.
pub(super) struct Cache {
    dir: PathBuf,
    file: PathBuf,
    context: String,
    /// The entry file's bytes.
    data: Vec<u8>,
    parsed: Parsed,
    /// Whether the files are read with every one-file check.
    files_checked: bool,
    /// The layout the files are read in (`Debug` of `Option<Layout>`), once known:
    /// a stored file passed the one-file checks when it was stored in that layout.
    layout: String,
    /// The stored migrations by display path.
    by_path: rustc_hash::FxHashMap<String, usize>,
    /// The stored checkpoints that match the current migrations.
    stored: Vec<Stored>,
    /// How many stored migrations, from the first, are the current ones.
    same: usize,
    /// Whether the stored set is the current one, byte for byte.
    same_set: bool,
    /// The stored migrations' schema changes, decoded (see [`decode`](Self::decode)).
    decoded: Vec<Vec<crate::changes::Change>>,
    /// Whether the current set passed every check (stored so).
    pub validated: bool,
}

impl Cache {
    /// The entry of the migrations in `folder` checked with `options`, read from
    /// the cache folder `dir`. `None` when the SQLite in use cannot be identified.
    ///
    /// `files_checked` says that the caller reads the files with every check of one
    /// file alone, in the layout it then gives to [`read_in`](Self::read_in); the
    /// entry records which files passed them. The layout is not needed to open the
    /// entry, so that it can be read while the layout is being detected.
    pub fn open(
        dir: &Path,
        folder: &Path,
        files_checked: bool,
        options: &Options<'_>,
    ) -> Option<Self> {
        let sqlite: String = Connection::open_in_memory()
            .and_then(|conn| {
                conn.query_row(
                    "SELECT sqlite_source_id() || ' ' || (SELECT group_concat(compile_options, ' ') FROM pragma_compile_options)",
                    [],
                    |r| r.get(0),
                )
            })
            .ok()?;
        let declared = format!(
            "functions {:?}\ncollations {:?}\nmodules {:?}",
            options.functions, options.collations, options.modules
        );
        let context = format!(
            "{}\n{sqlite}\n{declared}\nfiles checked {files_checked}",
            env!("MIGRATE_RUNTIME_FINGERPRINT")
        );
        let mut name = Hash::new();
        name.update(folder.as_os_str().as_encoded_bytes());
        name.update(b"\n");
        name.update(declared.as_bytes());
        name.update(if files_checked { "checked" } else { "" });
        let name: String = name.finalize()[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let file = dir.join(format!("{name}.cache"));
        let data = std::fs::read(&file).unwrap_or_default();
        let parsed = parse(&data, &context).unwrap_or_default();
        let by_path = parsed
            .records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                (
                    String::from_utf8_lossy(&data[r.fields[3].clone()]).into_owned(),
                    i,
                )
            })
            .collect();
        Some(Self {
            dir: dir.to_owned(),
            file,
            context,
            data,
            parsed,
            files_checked,
            layout: format!("{:?}", None::<Layout>),
            by_path,
            stored: Vec::new(),
            same: 0,
            same_set: false,
            decoded: Vec::new(),
            validated: false,
        })
    }

    /// The layout the files are read in, with every one-file check.
    pub fn read_in(&mut self, layout: Layout) {
        self.layout = format!("{:?}", Some(layout));
    }

    /// A migration file stored with the same path and SQL, read in the same layout:
    /// such a file passed every check that reads one file alone.
    pub fn known(&self, display_path: &str, sql: &str) -> Option<KnownFile> {
        if !self.files_checked || self.data[self.parsed.layout.clone()] != *self.layout.as_bytes() {
            return None;
        }
        let index = *self.by_path.get(display_path)?;
        let record = &self.parsed.records[index];
        if self.data[record.fields[4].clone()] != *sql.as_bytes() {
            return None;
        }
        let version = self.data[record.version.clone()].try_into().ok()?;
        let previous = match index {
            0 => crate::checksum::CHAIN_START,
            i => self.parsed.records[i - 1].chain,
        };
        Some(KnownFile {
            checksum: record.checksum,
            transaction: self.data[record.fields[5].clone()] == *b"1",
            chain: (
                crate::Version::from_le_bytes(version),
                previous,
                record.chain,
            ),
        })
    }

    /// Compares the entry with `migrations`: the checkpoints that still apply, and
    /// whether the set is the one stored as passing. A stored migration whose down
    /// script failed the proof counts as unchanged only with `lenient_downs`
    /// (else the proof fails the build, and is run again to say so).
    pub fn compare(&mut self, migrations: &[SourceMigration], lenient_downs: bool) {
        let mut same = 0;
        for (record, m) in self.parsed.records.iter().zip(migrations) {
            // An indexed loop: iterator adapters cost more than the comparisons in
            // the unoptimised build the macro runs in.
            let current = fields(m);
            let mut equal = self.data[record.version.clone()] == m.version.to_le_bytes();
            let mut i = 0;
            while equal && i < FIELDS {
                equal = self.data[record.fields[i].clone()] == *current[i];
                i += 1;
            }
            if !equal || (!lenient_downs && !record.unproven.is_empty()) {
                break;
            }
            same += 1;
        }
        self.same = same;
        self.same_set = same == self.parsed.records.len() && same == migrations.len();
        self.validated = self.parsed.validated && self.same_set;
        self.stored = self
            .parsed
            .images
            .iter()
            .filter(|c| c.len > 0 && c.len <= same)
            .cloned()
            .collect();
    }

    /// Decodes the schema changes of every stored migration, ahead of
    /// [`take_changes`](Self::take_changes) (on the thread that read the entry,
    /// while the files are read).
    pub fn decode(&mut self) {
        self.decoded = self
            .parsed
            .records
            .iter()
            .map(|r| {
                crate::changes::Change::decode(&String::from_utf8_lossy(
                    &self.data[r.changes.clone()],
                ))
            })
            .collect();
    }

    /// The schema changes of the stored migration at `index`, as classified when it
    /// was validated; only meaningful for the migrations [`compare`](Self::compare)
    /// found unchanged. Each is taken once.
    pub fn take_changes(&mut self, index: usize) -> Vec<crate::changes::Change> {
        if self.decoded.is_empty() {
            self.decode();
        }
        self.decoded
            .get_mut(index)
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// The first `len` stored migrations whose down scripts failed the proof, by
    /// index, with why they never run; only meaningful for the migrations
    /// [`compare`](Self::compare) found unchanged.
    pub fn unproven(&self, len: usize) -> Vec<(usize, String)> {
        let records = self.parsed.records.iter().take(len).enumerate();
        records
            .filter(|(_, r)| !r.unproven.is_empty())
            .map(|(i, r)| {
                let reason = String::from_utf8_lossy(&self.data[r.unproven.clone()]);
                (i, reason.into_owned())
            })
            .collect()
    }

    /// The length of the longest checkpoint.
    pub fn best(&self) -> Option<usize> {
        self.stored.iter().map(|c| c.len).max()
    }

    /// Replaces `conn`'s main database with the image after `len` migrations, once
    /// its hash is checked.
    pub fn restore(&self, len: usize, conn: &mut Connection) -> bool {
        self.stored.iter().find(|c| c.len == len).is_some_and(|c| {
            let image = &self.data[c.image.clone()];
            restore(&self.dir, image, c.hash, c.may_break, conn)
        })
    }

    /// Whether a migration before the checkpoint after `len` migrations may have
    /// broken the database's integrity (`true` when there is no such checkpoint).
    pub fn may_break_integrity(&self, len: usize) -> bool {
        self.stored
            .iter()
            .find(|c| c.len == len)
            .is_none_or(|c| c.may_break)
    }

    /// The longest checkpoint the entry holds, whether or not it matches the
    /// migrations (not compared yet): to restore ahead, on another thread, while the
    /// files are read.
    pub fn longest(&self) -> Option<Checkpoint> {
        let c = self
            .parsed
            .images
            .iter()
            .filter(|c| c.len > 0)
            .max_by_key(|c| c.len)?;
        Some(Checkpoint {
            dir: self.dir.clone(),
            len: c.len,
            image: self.data[c.image.clone()].to_vec(),
            hash: c.hash,
            may_break: c.may_break,
        })
    }

    /// The image of `conn`'s main database, when it is the connection's whole state.
    pub fn capture(&self, conn: &Connection) -> Option<Vec<u8>> {
        let temp_objects: i64 = conn
            .query_row("SELECT count(*) FROM temp.sqlite_schema", [], |r| r.get(0))
            .ok()?;
        if temp_objects != 0 || !conn.is_autocommit() {
            return None;
        }
        std::fs::create_dir_all(&self.dir).ok()?;
        let temp = temp_path(&self.dir, "capture");
        let image = (|| -> rusqlite::Result<bool> {
            let mut target = Connection::open(&temp)?;
            let backup = rusqlite::backup::Backup::new(conn, &mut target)?;
            Ok(backup.step(-1)? == rusqlite::backup::StepResult::Done)
        })()
        .ok()
        .filter(|done| *done)
        .and_then(|_| std::fs::read(&temp).ok());
        let _ = std::fs::remove_file(&temp);
        image
    }

    /// The bytes of the entry for `migrations` (as read, down scripts included):
    /// `validated` when the whole set passed, why each down script that failed the
    /// proof never runs (`unproven`, by index), the `captured` images (after their
    /// `len` migrations) and the stored ones that still apply, the [`KEPT`]
    /// longest. `None` when the file already says all that. The first `reused`
    /// migrations' changes came from this entry: their records are copied as they
    /// are.
    pub fn entry(
        &self,
        migrations: &[SourceMigration],
        changes: &[Vec<crate::changes::Change>],
        unproven: &[String],
        reused: usize,
        captured: &[(usize, Vec<u8>, bool)],
        validated: bool,
    ) -> Option<Vec<u8>> {
        if captured.is_empty() && self.same_set && self.validated == validated {
            return None;
        }
        let mut images: Vec<(usize, u64, bool, &[u8])> = captured
            .iter()
            .map(|(len, image, may_break)| {
                let hash = checkpoint_hash(image, *may_break);
                (*len, hash, *may_break, image.as_slice())
            })
            .collect();
        for old in &self.stored {
            if !images.iter().any(|(len, ..)| *len == old.len) {
                let image = &self.data[old.image.clone()];
                images.push((old.len, old.hash, old.may_break, image));
            }
        }
        images.sort_by_key(|(len, ..)| std::cmp::Reverse(*len));
        images.truncate(KEPT);
        let (kept, kept_facts) = self.parsed.records_kept(&self.data, reused.min(self.same));
        let changes: Vec<String> = changes[kept_facts.len()..]
            .iter()
            .map(|c| crate::changes::Change::encode(c))
            .collect();
        Some(serialize(
            &self.context,
            &self.layout,
            (kept, &kept_facts),
            migrations,
            (
                &changes,
                unproven.get(kept_facts.len()..).unwrap_or_default(),
            ),
            validated,
            &images,
        ))
    }

    /// Writes the entry's `bytes` (from [`entry`](Self::entry)) under a temporary
    /// name, renamed over the old file.
    pub fn write(&self, bytes: &[u8]) {
        if std::fs::create_dir_all(&self.dir).is_err() {
            return;
        }
        let temp = temp_path(&self.dir, "entry");
        if std::fs::write(&temp, bytes).is_err() || std::fs::rename(&temp, &self.file).is_err() {
            let _ = std::fs::remove_file(&temp);
            return;
        }
        evict(&self.dir, &self.file);
    }
}

/// A file the build cache stored: it passed every check of one file alone.
#[derive(Debug, Clone, Copy)]
pub(in crate::check) struct KnownFile {
    pub checksum: [u8; 32],
    pub transaction: bool,
    /// The version, previous chain and chain it was stored with.
    pub chain: (crate::Version, [u8; 32], [u8; 32]),
}

/// The chain after a migration: the stored one when the file is `known` with the
/// same version after the same chain, else computed (SHA-256, slow in the
/// unoptimised build the macro runs in).
pub(in crate::check) fn next_chain(
    previous: &[u8; 32],
    version: crate::Version,
    checksum: &[u8; 32],
    known: Option<&KnownFile>,
) -> [u8; 32] {
    match known {
        Some(k) if k.chain.0 == version && k.chain.1 == *previous && k.checksum == *checksum => {
            k.chain.2
        }
        _ => crate::checksum::chain(previous, version, checksum),
    }
}

/// A stored database image, copied out of its entry.
pub(super) struct Checkpoint {
    dir: PathBuf,
    /// The migrations it is the state after.
    pub len: usize,
    image: Vec<u8>,
    hash: u64,
    may_break: bool,
}

impl Checkpoint {
    /// A checkpoint of nothing, which fails to restore.
    #[cfg(test)]
    pub fn empty_for_tests() -> Self {
        Self {
            dir: std::env::temp_dir(),
            len: 1,
            image: Vec::new(),
            hash: 1,
            may_break: false,
        }
    }

    /// Replaces `conn`'s main database with the image, once its hash is checked.
    pub fn restore(&self, conn: &mut Connection) -> bool {
        restore(&self.dir, &self.image, self.hash, self.may_break, conn)
    }
}

/// Replaces `conn`'s main database with `image`, if its [`checkpoint_hash`] with
/// `may_break` is `hash`.
fn restore(dir: &Path, image: &[u8], hash: u64, may_break: bool, conn: &mut Connection) -> bool {
    if checkpoint_hash(image, may_break) != hash {
        return false;
    }
    let temp = temp_path(dir, "restore");
    let restored = std::fs::write(&temp, image).is_ok()
        && (|| -> rusqlite::Result<bool> {
            let source = Connection::open_with_flags(&temp, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            let backup = rusqlite::backup::Backup::new(&source, conn)?;
            Ok(backup.step(-1)? == rusqlite::backup::StepResult::Done)
        })()
        .unwrap_or(false);
    let _ = std::fs::remove_file(&temp);
    restored
}

/// Whether a checkpoint may follow `statements`: none of them changes the connection
/// in a way the database image does not hold and the runner does not put back.
pub(super) fn keeps_state_in_image(statements: &[Statement<'_>]) -> bool {
    statements.iter().all(|s| {
        let text = s.text;
        match s.tokens.first() {
            Some(t) if t.is_keyword(text, "ATTACH") || t.is_keyword(text, "DETACH") => false,
            Some(t) if t.is_keyword(text, "PRAGMA") => rules::pragma(s).is_none_or(|p| {
                !p.sets
                    || p.name == FOREIGN_KEYS
                    || p.name == "user_version"
                    || p.name == "application_id"
                    || RESTORED_PRAGMAS.contains(&p.name.as_str())
            }),
            _ => true,
        }
    })
}

fn temp_path(dir: &Path, what: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    dir.join(format!(
        ".{what}-{}-{nanos}-{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Removes the oldest entries beyond [`MAX_ENTRIES`], and temporary files an
/// interrupted build left more than an hour ago.
fn evict(dir: &Path, keep: &Path) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    let mut entries = Vec::new();
    for entry in read.flatten() {
        let path = entry.path();
        let Ok(modified) = entry.metadata().and_then(|m| m.modified()) else {
            continue;
        };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".tmp") {
            if now
                .duration_since(modified)
                .is_ok_and(|age| age.as_secs() > 3600)
            {
                let _ = std::fs::remove_file(&path);
            }
        } else if name.ends_with(".cache") && path != keep {
            entries.push((modified, path));
        }
    }
    entries.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
    for (_, path) in entries.iter().skip(MAX_ENTRIES - 1) {
        let _ = std::fs::remove_file(path);
    }
}

mod format;
#[cfg(test)]
mod tests;
