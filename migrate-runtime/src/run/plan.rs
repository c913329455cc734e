//! What every backend shares before it applies anything: the report a run starts
//! with, the checks on the history read (an edited migration, a database ahead of the
//! code, an out-of-order pending migration) and the plan; and the driving of a
//! backend that applies one migration at a time (the remote one).

use std::collections::VecDeque;

use super::{Runner, compare, events, stale};
use crate::{Applied, AppliedMigration, Migration, Report, Result, Warning};

impl Runner<'_> {
    /// [`run`](Self::run) for a backend that applies one migration at a time, each
    /// atomically with its history row: the same checks and plan as on a local
    /// connection from `history`, then `apply` for each pending migration, which
    /// gives its duration and rows changed, or `None` when another process applied
    /// it first.
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    pub(crate) fn run_planned(
        &self,
        history: Vec<AppliedMigration>,
        mut apply: impl FnMut(&'static Migration) -> Result<Option<(std::time::Duration, u64)>>,
    ) -> Result<Report> {
        stale::check(self.migrations)?;
        let mut report = self.new_report();
        for migration in self.plan(history, &mut report)? {
            events::started(self.hook, migration);
            if let Some((duration, rows_changed)) = apply(migration)? {
                events::applied(
                    self.hook,
                    &mut report,
                    Applied {
                        migration,
                        duration,
                        rows_changed,
                    },
                );
            }
        }
        Ok(report)
    }

    /// An empty report, with the warnings of the options.
    pub(super) fn new_report(&self) -> Report {
        Report {
            applied: Vec::new(),
            warnings: self.warnings(),
            backup: None,
            imported: None,
            adopted: None,
            reverted: Vec::new(),
        }
    }

    /// The checks before anything is applied, on the history read: an edited
    /// migration, a database ahead of the code (a warning when allowed), an
    /// out-of-order pending migration (logged when allowed); then the migrations to
    /// apply, in order.
    pub(super) fn plan(
        &self,
        history: Vec<AppliedMigration>,
        report: &mut Report,
    ) -> Result<VecDeque<&'static Migration>> {
        let status = compare(self.migrations, history);
        self.verify(&status)?;
        if !status.unknown.is_empty() {
            report.warnings.push(Warning::UnknownApplied {
                versions: status.unknown.iter().map(|a| a.version).collect(),
            });
        }
        events::warned(&report.warnings);
        for m in status.out_of_order() {
            log::warn!(target: "migrate", "applying {m} out of order, below the latest applied migration (allowed by `allow_out_of_order`)");
        }
        Ok(self.pending(status))
    }

    /// Whether [`backup_to`](Self::backup_to) was asked for.
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    pub(crate) fn wants_backup(&self) -> bool {
        self.backup_to.is_some()
    }
}
