//! Each migration file read from disk once per check: the layout detection reads
//! every `.sql` file for its signals and keeps the bytes for the reader.

use std::cell::RefCell;
use std::ffi::OsString;
use std::path::Path;

use rustc_hash::FxHashMap;

thread_local! {
    /// Files the layout detection read during one check, kept for its reader, so
    /// each file is read from disk once; `None` outside a check.
    static READ_AHEAD: RefCell<Option<FxHashMap<OsString, Vec<u8>>>> = const { RefCell::new(None) };
}

/// While alive, files read by the layout detection are kept for the reader.
pub(super) struct ReadOnce(());

impl ReadOnce {
    pub fn start() -> Self {
        READ_AHEAD.with(|r| *r.borrow_mut() = Some(FxHashMap::default()));
        Self(())
    }
}

impl Drop for ReadOnce {
    fn drop(&mut self) {
        READ_AHEAD.with(|r| *r.borrow_mut() = None);
    }
}

/// Reads a file for the layout detection, which `inspect`s its bytes, and keeps
/// them for the reader.
pub(super) fn read_ahead<T>(path: &Path, inspect: impl FnOnce(&[u8]) -> T) -> std::io::Result<T> {
    let bytes = std::fs::read(path)?;
    let seen = inspect(&bytes);
    READ_AHEAD.with(|r| {
        if let Some(kept) = r.borrow_mut().as_mut() {
            kept.insert(path.as_os_str().to_owned(), bytes);
        }
    });
    Ok(seen)
}

/// A file's bytes: those the detection kept, else read from disk.
pub(super) fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    let kept = READ_AHEAD.with(|r| {
        r.borrow_mut()
            .as_mut()
            .and_then(|kept| kept.remove(path.as_os_str()))
    });
    kept.map_or_else(|| std::fs::read(path), Ok)
}
