//! What a run tells while it works: `log` events, and the hook a tool such as the
//! `migrate` command sets with [`Runner::on_event`](crate::Runner::on_event).

use std::fmt;

use super::report::{Applied, Report, Warning};
use crate::Migration;

/// Something a run is doing, passed to the hook set with
/// [`Runner::on_event`](crate::Runner::on_event).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A migration is about to run.
    Started(&'static Migration),
    /// A migration was applied (its transaction is committed, or about to be in
    /// [`single_transaction`](crate::Runner::single_transaction) mode).
    Applied(&'a Applied),
}

/// The hook, with a `Debug` that `Runner` can derive.
#[derive(Clone, Copy)]
pub(super) struct Hook<'a>(pub(super) &'a (dyn Fn(Event<'_>) + 'a));

impl fmt::Debug for Hook<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hook(..)")
    }
}

pub(super) fn started(hook: Option<Hook<'_>>, migration: &'static Migration) {
    log::debug!(target: "migrate", "applying migration {migration}");
    if let Some(Hook(f)) = hook {
        f(Event::Started(migration));
    }
}

/// Logs and reports a migration applied, then adds it to the run's report.
pub(super) fn applied(hook: Option<Hook<'_>>, report: &mut Report, applied: Applied) {
    log::info!(
        target: "migrate",
        "applied migration {} in {} ms, {} row(s) changed",
        applied.migration,
        applied.duration.as_millis(),
        applied.rows_changed
    );
    if let Some(Hook(f)) = hook {
        f(Event::Applied(&applied));
    }
    report.applied.push(applied);
}

pub(super) fn warned(warnings: &[Warning]) {
    for warning in warnings {
        log::warn!(target: "migrate", "{warning}");
    }
}
