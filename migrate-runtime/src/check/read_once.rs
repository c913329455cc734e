//! Each migration file read from disk once per check: the layout detection reads
//! every `.sql` file for its signals and keeps the bytes for the reader.

use std::cell::RefCell;
use std::ffi::OsString;
use std::path::Path;

thread_local! {
    /// Files the layout detection read during one check, kept for its reader, so
    /// each file is read from disk once; `None` outside a check.
    static READ_AHEAD: RefCell<Option<Kept>> = const { RefCell::new(None) };
}

/// The files kept, sorted by path (as bytes); a file handed to the reader leaves
/// `None`. The detection reads a folder's files in the order of their names, so each
/// one is added at the end: a sorted list searched by halves costs a fraction of a
/// hash map in the unoptimised build the macro runs in (5.8 million instructions
/// for 1,000 files kept, with FxHash).
type Kept = Vec<(OsString, Option<Vec<u8>>)>;

/// Where `path` is, or would be, in `kept`.
fn position(kept: &Kept, path: &Path) -> Result<usize, usize> {
    let path = path.as_os_str().as_encoded_bytes();
    kept.binary_search_by(|(kept, _)| kept.as_encoded_bytes().cmp(path))
}

/// While alive, files read by the layout detection are kept for the reader.
pub(super) struct ReadOnce(());

impl ReadOnce {
    pub fn start() -> Self {
        READ_AHEAD.with(|r| *r.borrow_mut() = Some(Vec::new()));
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
            match position(kept, path) {
                Ok(at) => kept[at].1 = Some(bytes),
                Err(at) => kept.insert(at, (path.as_os_str().to_owned(), Some(bytes))),
            }
        }
    });
    Ok(seen)
}

/// A file's bytes: those the detection kept, else read from disk.
pub(super) fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    let kept = READ_AHEAD.with(|r| {
        let mut r = r.borrow_mut();
        let kept = r.as_mut()?;
        let at = position(kept, path).ok()?;
        kept[at].1.take()
    });
    kept.map_or_else(|| std::fs::read(path), Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever order the files are read ahead in, each is handed to the reader
    /// once with the bytes read ahead; after that, and outside a check, the reader
    /// reads the disk.
    #[test]
    fn each_file_read_ahead_is_handed_over_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = fastrand::Rng::with_seed(7);
        let names: Vec<String> = (0..60)
            .map(|i| format!("{}_{i}.sql", rng.u32(..)))
            .collect();
        for name in &names {
            std::fs::write(dir.path().join(name), format!("before {name}")).unwrap();
        }
        let session = ReadOnce::start();
        let mut order = names.clone();
        rng.shuffle(&mut order);
        for name in &order {
            let path = dir.path().join(name);
            let len = read_ahead(&path, <[u8]>::len).unwrap();
            assert_eq!(len, format!("before {name}").len());
            std::fs::write(&path, format!("after {name}")).unwrap();
        }
        rng.shuffle(&mut order);
        for name in &order {
            let path = dir.path().join(name);
            assert_eq!(read(&path).unwrap(), format!("before {name}").into_bytes());
            assert_eq!(read(&path).unwrap(), format!("after {name}").into_bytes());
        }
        drop(session);
        let path = dir.path().join(&names[0]);
        assert!(read_ahead(&path, |_| ()).is_ok());
        assert_eq!(
            read(&path).unwrap(),
            format!("after {}", names[0]).into_bytes()
        );
    }
}
