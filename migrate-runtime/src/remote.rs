//! A remote libSQL/Turso primary, over its HTTP pipeline protocol (Hrana over HTTP,
//! `POST /v2/pipeline`): the same embedded, compile-time-checked migrations, the same
//! checks, the same [`Report`] and [`Error`].
//!
//! ```no_run
//! # static MIGRATIONS: migrate_runtime::Migrations = migrate_runtime::Migrations::from_static(&[]);
//! # fn main() -> Result<(), migrate_runtime::Error> {
//! let mut db = migrate_runtime::remote::Remote::new("https://db.example.com")?.auth_token("…");
//! let report = MIGRATIONS.run(&mut db)?;
//! let status = MIGRATIONS.status(&db)?;
//! # Ok(())
//! # }
//! ```
//!
//! There are no interactive transactions over HTTP, so each migration goes as one
//! conditional batch: `BEGIN IMMEDIATE`; its `schema_migrations` row, which fails
//! when the version is already recorded (another process applied it: the rest is
//! skipped and rolled back); its statements; `COMMIT`; each step only when the one
//! before it succeeded, and `ROLLBACK` when `COMMIT` did not run. A failing statement
//! leaves nothing behind: no statement of the migration and no history row.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::backend::Database;
use crate::run::{CREATE_TRACKING_TABLE, stored};
use crate::{AppliedMigration, Error, Migration, Migrations, Report, Result, Runner, Status};

/// The columns read back, in `AppliedMigration`'s order.
const READ_HISTORY: &str = "SELECT version, name, checksum, chain, applied_at, duration_ms FROM schema_migrations ORDER BY version";

/// A libSQL/Turso database reached over HTTP: `Remote::new(url)?.auth_token(token)`.
#[derive(Debug)]
pub struct Remote {
    url: String,
    pipeline: String,
    token: Option<String>,
    agent: ureq::Agent,
    /// Whether each pipeline ends with a `close` request, which frees the stream on
    /// servers that keep it open; tursodb refuses it, and is then sent none.
    close: AtomicBool,
}

impl Remote {
    /// The database at `url` (`https://…`, `http://…`, or `libsql://…` for
    /// `https://…`).
    ///
    /// # Errors
    ///
    /// [`Error::Remote`] when `url` is not an HTTP address.
    pub fn new(url: &str) -> Result<Self> {
        let trimmed = url.trim().trim_end_matches('/');
        let http = if let Some(rest) = trimmed.strip_prefix("libsql://") {
            format!("https://{rest}")
        } else {
            trimmed.to_owned()
        };
        if !(http.starts_with("http://") || http.starts_with("https://")) {
            return Err(Error::Remote {
                url: url.to_owned(),
                status: None,
                message: "not an HTTP address: give the database's URL as `https://…` (or `libsql://…`, `http://…` for a server on this machine)".to_owned(),
            });
        }
        Ok(Self {
            url: http.clone(),
            pipeline: format!("{http}/v2/pipeline"),
            token: None,
            agent: ureq::AgentBuilder::new()
                .timeout_connect(Duration::from_secs(10))
                .timeout(Duration::from_secs(300))
                .build(),
            close: AtomicBool::new(true),
        })
    }

    /// The same database, with the bearer token sent with every request.
    #[must_use]
    pub fn auth_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The server's address.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn error(&self, status: Option<u16>, message: impl Into<String>) -> Error {
        Error::Remote {
            url: self.url.clone(),
            status,
            message: message.into(),
        }
    }

    /// Sends one pipeline of `requests` and returns each request's result: `Ok` with
    /// its response, or `Err` with the server's message.
    fn pipeline(&self, requests: Vec<Value>) -> Result<Vec<std::result::Result<Value, String>>> {
        let close = self.close.load(Ordering::Relaxed);
        match self.send(requests.clone(), close) {
            // A server that does not know `close` refused the whole pipeline before
            // running any of it: send it again without.
            Err(Error::Remote { message, .. }) if close && message.contains("close") => {
                self.close.store(false, Ordering::Relaxed);
                self.send(requests, false)
            }
            other => other,
        }
    }

    /// [`pipeline`](Self::pipeline), with a `close` request at the end when `close`.
    fn send(
        &self,
        mut requests: Vec<Value>,
        close: bool,
    ) -> Result<Vec<std::result::Result<Value, String>>> {
        let count = requests.len();
        if close {
            requests.push(json!({"type": "close"}));
        }
        let body = json!({ "baton": null, "requests": requests }).to_string();
        let mut request = self
            .agent
            .post(&self.pipeline)
            .set("Content-Type", "application/json");
        if let Some(token) = &self.token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        let text = match request.send_string(&body) {
            Ok(response) => response
                .into_string()
                .map_err(|e| self.error(None, format!("cannot read the server's answer: {e}")))?,
            Err(ureq::Error::Status(code, response)) => {
                let said = response.into_string().unwrap_or_default();
                let said = said.trim();
                let what = match code {
                    401 | 403 => {
                        "the server refused the token: check the auth token (a Turso token is created with `turso db tokens create`)"
                    }
                    404 | 405 => {
                        "no libSQL pipeline here (`/v2/pipeline`): is this the address of a libSQL/Turso database?"
                    }
                    _ => "the server refused the request",
                };
                let said = if said.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (the server said: {})",
                        said.chars().take(300).collect::<String>()
                    )
                };
                return Err(self.error(
                    Some(code),
                    format!("HTTP {code}: {what}{said}; nothing was changed by this request"),
                ));
            }
            Err(ureq::Error::Transport(t)) => {
                return Err(self.error(
                    None,
                    format!("cannot reach the server: {t}; nothing was changed"),
                ));
            }
        };
        let not_libsql = || {
            self.error(
                None,
                "the answer is not a libSQL pipeline response: is this the address of a libSQL/Turso database?",
            )
        };
        let answer: Value = serde_json::from_str(&text).map_err(|_| not_libsql())?;
        let results = answer
            .get("results")
            .and_then(Value::as_array)
            .filter(|r| r.len() == count + usize::from(close))
            .ok_or_else(not_libsql)?;
        results
            .iter()
            .take(count)
            .map(|r| match r.get("type").and_then(Value::as_str) {
                Some("ok") => Ok(Ok(r.get("response").cloned().unwrap_or(Value::Null))),
                Some("error") => Ok(Err(message_of(r.get("error")))),
                _ => Err(not_libsql()),
            })
            .collect()
    }

    /// The history, empty when `schema_migrations` does not exist yet.
    fn history(&self) -> Result<Vec<AppliedMigration>> {
        let results = self.pipeline(vec![execute(READ_HISTORY, Vec::new())])?;
        let result = match results.into_iter().next() {
            Some(Ok(response)) => response,
            Some(Err(message)) if message.contains("no such table") => return Ok(Vec::new()),
            Some(Err(message)) => {
                return Err(self.error(None, format!("cannot read schema_migrations: {message}")));
            }
            None => return Ok(Vec::new()),
        };
        let rows = result
            .pointer("/result/rows")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        rows.iter()
            .map(|row| {
                let cell = |i: usize| row.get(i).cloned().unwrap_or(Value::Null);
                let version = match (cell(0).get("type").and_then(Value::as_str), text_of(&cell(0))) {
                    (Some("integer" | "text"), Some(v)) => v.parse::<crate::Version>().ok(),
                    _ => None,
                };
                let Some(version) = version else {
                    return Err(self.error(
                        None,
                        format!("schema_migrations holds a version that is not a number ({}): it was not written by migrate", cell(0)),
                    ));
                };
                Ok(AppliedMigration {
                    version,
                    name: text_of(&cell(1)).unwrap_or_default(),
                    checksum: text_of(&cell(2)).unwrap_or_default(),
                    chain: text_of(&cell(3)).unwrap_or_default(),
                    applied_at: text_of(&cell(4)).unwrap_or_default(),
                    duration_ms: text_of(&cell(5)).and_then(|d| d.parse().ok()).unwrap_or(0),
                })
            })
            .collect()
    }

    /// Refuses a read replica: it would accept the writes locally and lose them at
    /// the next sync. A database that refuses writes is refused the same way.
    fn require_primary(&self) -> Result<()> {
        // A rowid table: tursodb's WITHOUT ROWID is experimental. The columns and the
        // key are the local runner's.
        let create = CREATE_TRACKING_TABLE.trim_end_matches(" WITHOUT ROWID");
        let results = self.pipeline(vec![execute(create, Vec::new())])?;
        match results.into_iter().next() {
            Some(Err(message)) => {
                let lower = message.to_ascii_lowercase();
                let replica = ["replica", "readonly", "read-only", "read only"]
                    .iter()
                    .any(|w| lower.contains(w));
                Err(self.error(
                    None,
                    if replica {
                        format!("the database does not accept writes here ({message}): migrate the primary, never a read replica, which would lose the changes at its next sync")
                    } else {
                        format!("cannot create schema_migrations: {message}")
                    },
                ))
            }
            _ => Ok(()),
        }
    }

    /// Applies `migration` as one conditional batch: `None` when another process had
    /// already recorded it.
    fn apply_one(&self, migration: &Migration) -> Result<Option<(Duration, u64)>> {
        if !migration.runs_in_transaction() {
            return Err(self.error(
                None,
                format!(
                    "migration {} ({}) runs without a transaction (`-- migrate:no-transaction`), which cannot be applied atomically over HTTP: apply it with a local connection to the primary, or in a transaction",
                    migration.version(),
                    migration.name()
                ),
            ));
        }
        let statements = crate::sql::statements(migration.sql());
        let version = match stored(migration.version()) {
            rusqlite::types::Value::Integer(v) => {
                json!({"type": "integer", "value": v.to_string()})
            }
            rusqlite::types::Value::Text(t) => json!({"type": "text", "value": t}),
            _ => Value::Null,
        };
        let text = |s: &str| json!({"type": "text", "value": s});
        let mut steps = vec![
            step("BEGIN IMMEDIATE", Vec::new(), None),
            step(
                "INSERT INTO schema_migrations (version, name, checksum, chain, applied_at, duration_ms) \
                 VALUES (?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 0)",
                vec![
                    version,
                    text(migration.name()),
                    text(&migration.checksum_hex()),
                    text(&crate::checksum::to_hex(migration.chain())),
                ],
                Some(json!({"type": "ok", "step": 0})),
            ),
        ];
        let first_statement = steps.len();
        for s in &statements {
            let previous = steps.len() - 1;
            steps.push(step(
                s.text,
                Vec::new(),
                Some(json!({"type": "ok", "step": previous})),
            ));
        }
        if let Ok(v) = i32::try_from(migration.version()) {
            let previous = steps.len() - 1;
            steps.push(step(
                &format!("PRAGMA user_version = {v}"),
                Vec::new(),
                Some(json!({"type": "ok", "step": previous})),
            ));
        }
        let commit = steps.len();
        steps.push(step(
            "COMMIT",
            Vec::new(),
            Some(json!({"type": "ok", "step": commit - 1})),
        ));
        steps.push(step(
            "ROLLBACK",
            Vec::new(),
            Some(json!({"type": "not", "cond": {"type": "ok", "step": commit}})),
        ));
        let started = Instant::now();
        let results = self.pipeline(vec![json!({"type": "batch", "batch": {"steps": steps}})])?;
        let duration = started.elapsed();
        let response = match results.into_iter().next() {
            Some(Ok(response)) => response,
            Some(Err(message)) => {
                return Err(self.error(
                    None,
                    format!(
                        "the server refused the batch of migration {}: {message}",
                        migration.version()
                    ),
                ));
            }
            None => return Err(self.error(None, "the server gave no result for the batch")),
        };
        let result = response.get("result").cloned().unwrap_or(Value::Null);
        let errors = result
            .get("step_errors")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let step_error = |i: usize| {
            errors
                .get(i)
                .filter(|e| !e.is_null())
                .map(|e| message_of(Some(e)))
        };
        if let Some(message) = step_error(0) {
            return Err(self.error(
                None,
                format!(
                    "cannot begin a transaction for migration {}: {message}",
                    migration.version()
                ),
            ));
        }
        if let Some(message) = step_error(1) {
            let lower = message.to_ascii_lowercase();
            if lower.contains("unique")
                || lower.contains("primary key")
                || lower.contains("constraint")
            {
                // Another process recorded it first: nothing of this batch stayed.
                return Ok(None);
            }
            return Err(self.error(
                None,
                format!("cannot record migration {}: {message}", migration.version()),
            ));
        }
        for (i, s) in statements.iter().enumerate() {
            if let Some(message) = step_error(first_statement + i) {
                let line = crate::sql::line_column(migration.sql(), s.offset).0;
                return Err(Error::Failed {
                    version: migration.version(),
                    name: migration.name().to_owned(),
                    line,
                    statement: s.text.into(),
                    message,
                    error: Box::new(rusqlite::Error::InvalidQuery),
                    on_copy: false,
                    down: false,
                });
            }
        }
        if let Some(message) = (first_statement + statements.len()..=commit).find_map(step_error) {
            return Err(Error::Failed {
                version: migration.version(),
                name: migration.name().to_owned(),
                line: migration.sql().lines().count().max(1),
                statement: "COMMIT".into(),
                message,
                error: Box::new(rusqlite::Error::InvalidQuery),
                on_copy: false,
                down: false,
            });
        }
        let results = result
            .get("step_results")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if results.get(commit).is_none_or(Value::is_null) {
            return Err(self.error(
                None,
                format!(
                    "the server did not commit migration {}",
                    migration.version()
                ),
            ));
        }
        let rows: u64 = (first_statement..first_statement + statements.len())
            .filter_map(|i| results.get(i)?.get("affected_row_count")?.as_u64())
            .sum();
        Ok(Some((duration, rows)))
    }
}

impl Database for Remote {
    fn apply_pending(&mut self, runner: &Runner<'_>) -> Result<Report> {
        if runner.wants_backup() {
            return Err(self.error(
                None,
                "`backup_to` copies a local database file; back up a remote database with its provider's tools",
            ));
        }
        let history = self.history()?;
        let this = &*self;
        let mut checked = false;
        runner.run_planned(history, |migration| {
            if !checked {
                this.require_primary()?;
                checked = true;
            }
            this.apply_one(migration)
        })
    }

    fn read_status(&self, migrations: &Migrations) -> Result<Status> {
        migrations.status_from(self.history()?)
    }
}

/// An `execute` request.
fn execute(sql: &str, args: Vec<Value>) -> Value {
    json!({"type": "execute", "stmt": {"sql": sql, "args": args}})
}

/// A batch step, run when `condition` holds.
fn step(sql: &str, args: Vec<Value>, condition: Option<Value>) -> Value {
    let mut step = json!({"stmt": {"sql": sql, "args": args}});
    if let Some(condition) = condition {
        step["condition"] = condition;
    }
    step
}

/// The text of a Hrana value (`{"type": "text", "value": …}`, an integer as text).
fn text_of(value: &Value) -> Option<String> {
    match value.get("value")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The message of a Hrana error (`{"message": …, "code": …}`).
fn message_of(error: Option<&Value>) -> String {
    let Some(error) = error else {
        return "unknown error".to_owned();
    };
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .map_or_else(|| error.to_string(), str::to_owned);
    match error.get("code").and_then(Value::as_str) {
        Some(code) if !message.contains(code) => format!("{message} ({code})"),
        _ => message,
    }
}
