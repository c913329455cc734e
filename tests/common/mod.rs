//! Helpers shared by the integration tests that kill a process mid-migration.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `test` of the current test binary in a child process with `env` set to the
/// database `db`, waits until its rollback journal `journal` appears (a migration is
/// writing), then SIGKILLs it. Panics if the child ends on its own first.
///
/// The kill waits for a journal of at least `min_journal` bytes: a test that must
/// stop one large statement, and not the small ones before it, asks for more than
/// they write.
pub fn kill_while_writing(
    test: &str,
    env: &str,
    db: &Path,
    journal: &Path,
    min_journal: u64,
) -> std::io::Result<()> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(["--exact", test, "--test-threads", "1"])
        .env(env, db)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let started = Instant::now();
    while std::fs::metadata(journal).map_or(true, |m| m.len() < min_journal.max(1)) {
        assert!(
            child.try_wait()?.is_none(),
            "the child ended before it started writing"
        );
        assert!(
            started.elapsed().as_secs() < 120,
            "the child never started writing"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(20));
    child.kill()?;
    assert!(
        !child.wait()?.success(),
        "the child finished before it was killed"
    );
    Ok(())
}
