//! What each migration changes in the schema, classified by what it does to the code
//! still running during a deploy: the build computes it by comparing the schema
//! before and after the migration, and embeds it ([`Migration::changes`](crate::Migration::changes)).

use std::fmt;

/// How a change affects the code still running against the new schema during a
/// deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// The old code keeps working: something new, or a constraint loosened.
    Additive,
    /// Something the old code may read or write is gone.
    Destructive,
    /// Something the old code may use has another name.
    Renaming,
    /// Rows the old code writes may now be refused, or read as another type.
    Tightening,
}

impl Class {
    /// `additive`, `destructive`, `renaming` or `tightening`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Additive => "additive",
            Self::Destructive => "destructive",
            Self::Renaming => "renaming",
            Self::Tightening => "tightening",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a change is. The kinds that are not additive are the ones a
/// `-- migrate:allow <kind> <object>` directive acknowledges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeKind {
    /// A new table.
    CreateTable,
    /// A new column, nullable or with a default.
    AddColumn,
    /// A new index.
    CreateIndex,
    /// A new view.
    CreateView,
    /// A new trigger.
    CreateTrigger,
    /// An index dropped (no code breaks; queries may slow down).
    DropIndex,
    /// A view defined again, with the columns it had (and maybe more).
    ChangeView,
    /// A trigger defined again.
    ChangeTrigger,
    /// A column's constraint removed (NOT NULL, UNIQUE, CHECK, foreign key).
    LoosenColumn,
    /// A table dropped.
    DropTable,
    /// A column dropped, from a table or from a view's result.
    DropColumn,
    /// A view dropped.
    DropView,
    /// A trigger dropped (other than with its table).
    DropTrigger,
    /// A table renamed (named by its old name).
    RenameTable,
    /// A column renamed (named by its old name).
    RenameColumn,
    /// A column gets NOT NULL, UNIQUE, CHECK or a foreign key, another declared type,
    /// loses the default a NOT NULL column had, or is new and NOT NULL without a
    /// default.
    TightenColumn,
}

impl ChangeKind {
    /// Every kind, in order.
    pub const ALL: [Self; 16] = [
        Self::CreateTable,
        Self::AddColumn,
        Self::CreateIndex,
        Self::CreateView,
        Self::CreateTrigger,
        Self::DropIndex,
        Self::ChangeView,
        Self::ChangeTrigger,
        Self::LoosenColumn,
        Self::DropTable,
        Self::DropColumn,
        Self::DropView,
        Self::DropTrigger,
        Self::RenameTable,
        Self::RenameColumn,
        Self::TightenColumn,
    ];

    /// The kind as directives and reports spell it (`drop-column`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CreateTable => "create-table",
            Self::AddColumn => "add-column",
            Self::CreateIndex => "create-index",
            Self::CreateView => "create-view",
            Self::CreateTrigger => "create-trigger",
            Self::DropIndex => "drop-index",
            Self::ChangeView => "change-view",
            Self::ChangeTrigger => "change-trigger",
            Self::LoosenColumn => "loosen-column",
            Self::DropTable => "drop-table",
            Self::DropColumn => "drop-column",
            Self::DropView => "drop-view",
            Self::DropTrigger => "drop-trigger",
            Self::RenameTable => "rename-table",
            Self::RenameColumn => "rename-column",
            Self::TightenColumn => "tighten-column",
        }
    }

    /// The kind spelt `text`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// What the change does to the code still running.
    pub const fn class(self) -> Class {
        match self {
            Self::CreateTable
            | Self::AddColumn
            | Self::CreateIndex
            | Self::CreateView
            | Self::CreateTrigger
            | Self::DropIndex
            | Self::ChangeView
            | Self::ChangeTrigger
            | Self::LoosenColumn => Class::Additive,
            Self::DropTable | Self::DropColumn | Self::DropView | Self::DropTrigger => {
                Class::Destructive
            }
            Self::RenameTable | Self::RenameColumn => Class::Renaming,
            Self::TightenColumn => Class::Tightening,
        }
    }

    /// Whether the object is `table.column` rather than a table, view, index or
    /// trigger name.
    pub const fn names_a_column(self) -> bool {
        matches!(
            self,
            Self::AddColumn
                | Self::LoosenColumn
                | Self::DropColumn
                | Self::RenameColumn
                | Self::TightenColumn
        )
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change a migration makes to the schema.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Change {
    /// What it is.
    pub kind: ChangeKind,
    /// The object: `table`, `view`, `index` or `trigger` name, or `table.column`;
    /// for a rename, the old name.
    pub object: String,
    /// What changed, for people (`renamed to novels`, `TEXT -> INTEGER`); may be empty.
    pub detail: String,
    /// The line of the migration's statement that makes it (1-based).
    pub line: usize,
}

impl Change {
    /// What the change does to the code still running.
    pub const fn class(&self) -> Class {
        self.kind.class()
    }

    /// Whether a deploy must acknowledge it: not additive.
    pub const fn needs_acknowledgement(&self) -> bool {
        !matches!(self.kind.class(), Class::Additive)
    }

    /// The directive that acknowledges it: `-- migrate:allow drop-column users.bio`.
    pub fn directive(&self) -> String {
        format!("-- migrate:allow {} {}", self.kind, self.object)
    }

    /// The changes as the macro embeds them: one per line, `kind`, `object`, `line`
    /// and `detail` separated by tabs (a tab, line break or backslash inside a field
    /// escaped as `\\t`, `\\n`, `\\\\`).
    pub fn encode(changes: &[Self]) -> String {
        fn escaped(out: &mut String, text: &str) {
            // Most names and details need no escape: copied whole, where a push
            // per character is most of the cost in the macro's unoptimised build.
            if !text.contains('\\') && !text.contains('\t') && !text.contains('\n') {
                out.push_str(text);
                return;
            }
            for c in text.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    c => out.push(c),
                }
            }
        }
        let mut out = String::new();
        for c in changes {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(c.kind.as_str());
            out.push('\t');
            escaped(&mut out, &c.object);
            out.push('\t');
            out.push_str(&c.line.to_string());
            out.push('\t');
            escaped(&mut out, &c.detail);
        }
        out
    }

    /// The changes [`encode`](Self::encode) wrote; lines that do not parse are left out.
    pub fn decode(text: &str) -> Vec<Self> {
        fn unescaped(text: &str) -> String {
            if !text.contains('\\') {
                return text.to_owned();
            }
            let mut out = String::with_capacity(text.len());
            let mut chars = text.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    match chars.next() {
                        Some('t') => out.push('\t'),
                        Some('n') => out.push('\n'),
                        Some(other) => out.push(other),
                        None => {}
                    }
                } else {
                    out.push(c);
                }
            }
            out
        }
        text.split('\n')
            .filter_map(|line| {
                let mut parts = line.split('\t');
                let kind = ChangeKind::parse(parts.next()?)?;
                let object = unescaped(parts.next()?);
                let line = parts.next()?.parse().ok()?;
                let detail = unescaped(parts.next().unwrap_or_default());
                Some(Self {
                    kind,
                    object,
                    detail,
                    line,
                })
            })
            .collect()
    }
}

/// `line N: drop-column users.bio (destructive)`, and the detail.
impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: {} {} ({})",
            self.line,
            self.kind,
            self.object,
            self.class()
        )?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_encoding_keeps_every_field() {
        for kind in ChangeKind::ALL {
            assert_eq!(ChangeKind::parse(kind.as_str()), Some(kind));
        }
        let changes = vec![
            Change {
                kind: ChangeKind::TightenColumn,
                object: "books.year".to_owned(),
                detail: "TEXT -> INTEGER".to_owned(),
                line: 3,
            },
            Change {
                kind: ChangeKind::CreateTable,
                object: "odd\tname\\ with\nbreaks".to_owned(),
                detail: String::new(),
                line: 1,
            },
        ];
        assert_eq!(Change::decode(&Change::encode(&changes)), changes);
        // Names and details of any characters, with escapes or without.
        let mut rng = fastrand::Rng::with_seed(5);
        let pieces = ["a", "\\", "\t", "\n", "\\t", "t", "n", "é", " ", "\\\\"];
        let text = |rng: &mut fastrand::Rng| -> String {
            (0..rng.usize(..6))
                .map(|_| pieces[rng.usize(..pieces.len())])
                .collect()
        };
        for _ in 0..300 {
            let changes: Vec<Change> = (0..rng.usize(1..4))
                .map(|_| Change {
                    kind: ChangeKind::ALL[rng.usize(..ChangeKind::ALL.len())],
                    object: text(&mut rng),
                    detail: text(&mut rng),
                    line: rng.usize(..100),
                })
                .collect();
            assert_eq!(Change::decode(&Change::encode(&changes)), changes);
        }
        assert_eq!(
            changes[0].directive(),
            "-- migrate:allow tighten-column books.year"
        );
        assert_eq!(
            changes[0].to_string(),
            "line 3: tighten-column books.year (tightening): TEXT -> INTEGER"
        );
    }
}
