//! The statement-only classification against the one read from the schema.

use rusqlite::Connection;

use super::*;

/// The changes of `sql` applied after `setup`, read from the schema.
fn from_schema(conn: &Connection, sql: &str) -> Vec<Change> {
    let statements = crate::sql::statements(sql);
    let names = candidates(&statements);
    let before = shape(conn, &names).unwrap();
    conn.execute_batch(sql).unwrap();
    let after = shape(conn, &names).unwrap();
    diff(&before, &after, sql, &statements)
}

#[test]
fn migrations_that_only_add_classify_the_same_from_their_statements() {
    // Random sequences of statements that only add, each migration classified
    // both ways on the same database.
    let mut rng = fastrand::Rng::with_seed(17);
    for round in 0..40 {
        let conn = Connection::open_in_memory().unwrap();
        let mut tables: Vec<String> = Vec::new();
        for m in 0..6 {
            let mut sql = String::from("-- generated\n");
            for s in 0..rng.usize(1..5) {
                let id = format!("{round}_{m}_{s}");
                match (rng.usize(0..6), tables.is_empty()) {
                    (0, _) | (_, true) => {
                        let name = if rng.bool() {
                            format!("T{id}")
                        } else {
                            format!("\"t {id}\"")
                        };
                        sql.push_str(&format!(
                            "CREATE TABLE {name} (id INTEGER PRIMARY KEY, a TEXT);\n"
                        ));
                        tables.push(name);
                    }
                    (1, _) => {
                        let t = &tables[rng.usize(0..tables.len())];
                        sql.push_str(&format!("CREATE INDEX i{id} ON {t} (a);\n"));
                    }
                    (2, _) => {
                        let t = &tables[rng.usize(0..tables.len())];
                        sql.push_str(&format!("CREATE VIEW v{id} AS SELECT id FROM {t};\n"));
                    }
                    (3, _) => {
                        let t = &tables[rng.usize(0..tables.len())];
                        sql.push_str(&format!(
                            "CREATE TRIGGER g{id} AFTER INSERT ON {t} BEGIN SELECT 1; END;\n"
                        ));
                    }
                    _ => {
                        let t = &tables[rng.usize(0..tables.len())];
                        let column = if rng.bool() { "COLUMN " } else { "" };
                        sql.push_str(&format!("ALTER TABLE {t} ADD {column}c{id} TEXT;\n"));
                    }
                }
            }
            let statements = crate::sql::statements(&sql);
            let quick = additive_only(&sql, &statements).expect("only adds");
            assert_eq!(quick, from_schema(&conn, &sql), "{sql}");
        }
    }
}

#[test]
fn other_migrations_are_read_from_the_schema() {
    for sql in [
        "DROP TABLE t",
        "CREATE TABLE IF NOT EXISTS t (a)",
        "CREATE UNIQUE INDEX i ON t (a)",
        "CREATE TEMP TABLE t2 (a)",
        "ALTER TABLE t RENAME TO u",
        "ALTER TABLE t DROP COLUMN a",
    ] {
        assert_eq!(
            additive_only(sql, &crate::sql::statements(sql)),
            None,
            "{sql}"
        );
    }
    assert_eq!(
        additive_only(
            "INSERT INTO t VALUES (1)",
            &crate::sql::statements("INSERT INTO t VALUES (1)")
        ),
        Some(Vec::new())
    );
}
