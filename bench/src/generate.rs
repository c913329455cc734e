//! A generator of synthetic, realistic migration sets of any size.
//!
//! The mix follows what real SQLite projects write (see `../shared/corpus`): tables
//! with foreign keys and indexes, seed rows, triggers, views, added columns, and the
//! create-copy-drop-rename rebuild that SQLite's limited `ALTER TABLE` forces.

use std::fmt::Write as _;
use std::path::Path;

/// Writes migrations `00001_….sql` to `nnnnn_….sql` into `dir`, which must exist.
///
/// # Errors
///
/// When a file cannot be written.
pub fn write_set(dir: &Path, n: usize) -> std::io::Result<()> {
    for (i, (name, sql)) in generate(n).into_iter().enumerate() {
        std::fs::write(dir.join(format!("{:05}_{name}.sql", i + 1)), sql)?;
    }
    Ok(())
}

/// The `n` migrations, as (description, SQL), in version order.
pub fn generate(n: usize) -> Vec<(String, String)> {
    let mut state = State::default();
    (1..=n).map(|i| state.migration(i)).collect()
}

#[derive(Default)]
struct State {
    /// Tables with a foreign key to an earlier one; views, triggers and indexes use them.
    entities: Vec<usize>,
    /// Stand-alone tables that get rebuilt; nothing references them.
    logs: Vec<usize>,
}

impl State {
    /// Picks an earlier table deterministically, spreading the picks.
    fn pick(list: &[usize], i: usize) -> usize {
        list[(i * 7919) % list.len()]
    }

    fn migration(&mut self, i: usize) -> (String, String) {
        let mut sql = String::new();
        if i == 1 {
            sql.push_str(
                "-- The audit table every trigger writes to.\n\
                 CREATE TABLE audit (\n    id INTEGER PRIMARY KEY,\n    entity TEXT NOT NULL,\n    row_id INTEGER NOT NULL,\n    at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP\n);\n",
            );
            self.entity(&mut sql, i);
            self.log(&mut sql, i);
            return ("init".to_owned(), sql);
        }
        let name = match i % 10 {
            1 | 2 | 6 => {
                self.entity(&mut sql, i);
                format!("create_e{i}")
            }
            3 => {
                let e = Self::pick(&self.entities, i);
                for row in 0..5 {
                    let _ = writeln!(
                        sql,
                        "INSERT INTO e{e} (name, ref_id) VALUES ('seed {i}-{row}', NULL);"
                    );
                }
                format!("seed_e{e}")
            }
            4 => {
                let e = Self::pick(&self.entities, i);
                let _ = writeln!(
                    sql,
                    "CREATE INDEX idx_{i}_e{e}_name ON e{e} (name, created_at);"
                );
                format!("index_e{e}")
            }
            5 => {
                self.log(&mut sql, i);
                format!("create_l{i}")
            }
            7 => {
                let e = Self::pick(&self.entities, i);
                let _ = writeln!(
                    sql,
                    "CREATE TRIGGER trg_{i}_e{e} AFTER UPDATE ON e{e}\nBEGIN\n    INSERT INTO audit (entity, row_id) VALUES ('e{e}', NEW.id);\nEND;"
                );
                format!("audit_e{e}")
            }
            8 => {
                let a = Self::pick(&self.entities, i);
                let b = Self::pick(&self.entities, i + 1);
                let _ = writeln!(
                    sql,
                    "CREATE VIEW v{i} AS\n    SELECT a.id, a.name, b.name AS ref_name\n    FROM e{a} AS a LEFT JOIN e{b} AS b ON a.ref_id = b.id;"
                );
                format!("view_e{a}_e{b}")
            }
            9 => {
                let l = Self::pick(&self.logs, i);
                let _ = write!(
                    sql,
                    "-- Rebuild: SQLite cannot change a column's constraints in place.\n\
                     CREATE TABLE l{l}_new (\n    id INTEGER PRIMARY KEY,\n    msg TEXT NOT NULL,\n    level INTEGER NOT NULL DEFAULT 0 CHECK (level BETWEEN 0 AND {i}),\n    extra TEXT\n);\n\
                     INSERT INTO l{l}_new (id, msg, level, extra) SELECT id, msg, level, extra FROM l{l};\n\
                     DROP TABLE l{l};\n\
                     ALTER TABLE l{l}_new RENAME TO l{l};\n\
                     CREATE INDEX l{l}_level ON l{l} (level);\n"
                );
                format!("rebuild_l{l}")
            }
            _ => {
                let e = Self::pick(&self.entities, i);
                let _ = writeln!(
                    sql,
                    "ALTER TABLE e{e} ADD COLUMN c{i} TEXT NOT NULL DEFAULT '';\nUPDATE e{e} SET c{i} = name WHERE id % 2 = 0;"
                );
                format!("add_c{i}_to_e{e}")
            }
        };
        (name, sql)
    }

    fn entity(&mut self, sql: &mut String, i: usize) {
        let parent = self.entities.last().copied();
        let reference = parent.map_or_else(String::new, |p| {
            format!(" REFERENCES e{p} (id) ON DELETE CASCADE")
        });
        let _ = write!(
            sql,
            "CREATE TABLE e{i} (\n    id INTEGER PRIMARY KEY,\n    name TEXT NOT NULL,\n    ref_id INTEGER{reference},\n    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP\n);\n\
             CREATE INDEX e{i}_ref ON e{i} (ref_id);\n"
        );
        self.entities.push(i);
    }

    fn log(&mut self, sql: &mut String, i: usize) {
        let _ = write!(
            sql,
            "CREATE TABLE l{i} (\n    id INTEGER PRIMARY KEY,\n    msg TEXT NOT NULL,\n    level INTEGER NOT NULL DEFAULT 0,\n    extra TEXT\n);\n\
             INSERT INTO l{i} (msg, level) VALUES ('created', 1), ('checked', 2), ('ready', 0);\n"
        );
        self.logs.push(i);
    }
}
