//! Naming and numbering in the native layout: the folder's width, duplicate versions,
//! digit counts, gaps, and the one corrected name per file that makes the whole folder
//! pass (`Plan`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::source::{DEFAULT_DIGITS, Misnamed, NAME_RULE, Named, Problem, TIMESTAMP_DIGITS};
use crate::Version;
use crate::diagnostic::Diagnostic;

/// The name a file should have so that the whole folder passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    /// The new file name.
    pub(super) file_name: String,
    pub(super) version: Version,
    /// The version the file's own digits ask for, in the folder's width, if any.
    pub(super) asked: Option<Version>,
    /// The file holding `asked`, when that is why the file gets another version.
    pub(super) holder: Option<String>,
}

/// A file that keeps (or gets) a version.
#[derive(Debug, Clone)]
pub(super) struct Holder {
    /// Its current name.
    pub(super) file_name: String,
    /// Its description.
    pub(super) name: String,
}

/// One name for every file such that, with all renames applied, the folder passes:
/// each version used once, all with the folder's number of digits, and no gap that was
/// not there already.
///
/// Files of the folder's width keep their version (the first file by name, when
/// several share one). A file to rename keeps its own version when that is free and,
/// for sequential versions, next to a version in use (so it fills a gap or extends the
/// run); otherwise it gets the next free version after the newest: the next number,
/// or, for timestamps, the next second (minute, hour: by their width).
pub(super) struct Plan {
    pub(super) width: usize,
    /// Final version → the file that will hold it.
    pub(super) versions: BTreeMap<Version, Holder>,
    /// Current file name → new name; `None` when no version of the folder's width is free.
    pub(super) renames: BTreeMap<String, Option<Target>>,
}

impl Plan {
    pub(super) fn new(named: &[Named], misnamed: &[Misnamed]) -> Self {
        let width = folder_width(named, misnamed);
        let timestamps = width >= TIMESTAMP_DIGITS;
        let mut versions: BTreeMap<Version, Holder> = BTreeMap::new();
        // (current name, own digits, description) of every file that needs a new name
        let mut movers: Vec<(&str, Option<&str>, &str)> = Vec::new();
        for n in named {
            if n.digits.len() == width && !versions.contains_key(&n.version) {
                versions.insert(
                    n.version,
                    Holder {
                        file_name: n.file_name.clone(),
                        name: n.name.clone(),
                    },
                );
            } else {
                movers.push((&n.file_name, Some(&n.digits), &n.name));
            }
        }
        for m in misnamed.iter().filter(|m| m.problem != Problem::Down) {
            movers.push((&m.file_name, m.digits.as_deref(), &m.name));
        }

        // The version a file's own digits ask for, in the folder's width.
        let own = |digits: Option<&str>| -> Option<Version> {
            let digits = digits?;
            if timestamps {
                // a shorter or longer timestamp: `202401011200` → `20240101120000`
                if digits.len() < TIMESTAMP_DIGITS || !looks_like_a_time(digits) {
                    return None;
                }
                let mut fitted: String = digits.chars().take(width).collect();
                while fitted.len() < width {
                    fitted.push('0');
                }
                fitted.parse().ok()
            } else {
                let v: Version = digits.parse().ok()?;
                (format!("{v:0width$}").len() == width).then_some(v)
            }
        };
        let mut movers: Vec<(&str, Option<Version>, &str)> = movers
            .into_iter()
            .map(|(file, digits, name)| (file, own(digits), name))
            .collect();
        movers.sort_by_key(|&(file, asked, _)| (asked.is_none(), asked, file));

        let mut renames: BTreeMap<String, Option<Target>> = BTreeMap::new();
        let holder_of = |versions: &BTreeMap<Version, Holder>, v: Option<Version>| {
            v.and_then(|v| versions.get(&v))
                .map(|h| h.file_name.clone())
        };
        // Own versions first, until none more fits: a run 7, 8 after 6 fits in order.
        loop {
            let mut progress = false;
            for &(file, asked, name) in &movers {
                let Some(v) = asked else { continue };
                let fits = !versions.contains_key(&v)
                    && (timestamps
                        || versions.is_empty()
                        || v.checked_sub(1).is_some_and(|p| versions.contains_key(&p))
                        || v.checked_add(1).is_some_and(|n| versions.contains_key(&n)));
                if fits && !renames.contains_key(file) {
                    versions.insert(
                        v,
                        Holder {
                            file_name: file.to_owned(),
                            name: name.to_owned(),
                        },
                    );
                    renames.insert(
                        file.to_owned(),
                        Some(Target {
                            file_name: format!("{v:0width$}_{name}.sql"),
                            version: v,
                            asked,
                            holder: None,
                        }),
                    );
                    progress = true;
                }
            }
            if !progress {
                break;
            }
        }
        // Then the next free version after the newest, in order.
        for &(file, asked, name) in &movers {
            if renames.contains_key(file) {
                continue;
            }
            let holder = holder_of(&versions, asked);
            let next = match versions.last_key_value() {
                Some((&newest, _)) if timestamps => next_timestamp(newest, width),
                Some((&newest, _)) => newest.checked_add(1),
                None if timestamps => None,
                None => Some(1),
            }
            .filter(|v| *v >= 0 && format!("{v:0width$}").len() == width);
            let target = next.map(|v| {
                versions.insert(
                    v,
                    Holder {
                        file_name: file.to_owned(),
                        name: name.to_owned(),
                    },
                );
                Target {
                    file_name: format!("{v:0width$}_{name}.sql"),
                    version: v,
                    asked,
                    holder,
                }
            });
            renames.insert(file.to_owned(), target);
        }
        Self {
            width,
            versions,
            renames,
        }
    }

    pub(super) fn target(&self, file_name: &str) -> Option<&Target> {
        self.renames.get(file_name).and_then(Option::as_ref)
    }

    pub(super) fn pad(&self, version: Version) -> String {
        format!("{version:0width$}", width = self.width)
    }

    /// Why `target` has the version it has, as a parenthesis after the new name (empty
    /// when the file keeps its own version).
    pub(super) fn why(&self, target: &Target) -> String {
        let next = if self.width >= TIMESTAMP_DIGITS {
            format!(
                "{} is the first free timestamp after the newest migration",
                self.pad(target.version)
            )
        } else {
            format!("{} is the next free version", self.pad(target.version))
        };
        match (target.asked, &target.holder) {
            (Some(asked), _) if asked == target.version => String::new(),
            (Some(asked), Some(holder)) => {
                format!(
                    " (version {} is taken by `{holder}`; {next})",
                    self.pad(asked)
                )
            }
            (Some(asked), None) => {
                format!(" ({} would leave a gap; {next})", self.pad(asked))
            }
            _ => format!(" ({next})"),
        }
    }
}

/// The number of digits the folder's versions use: the most common among the valid
/// names (ties: the first file's), else among the readable versions of the others.
pub(super) fn folder_width(named: &[Named], misnamed: &[Misnamed]) -> usize {
    let most_common = |lengths: Vec<usize>| {
        let first = *lengths.first()?;
        let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
        for l in &lengths {
            *counts.entry(*l).or_default() += 1;
        }
        counts
            .into_iter()
            .max_by_key(|&(w, count)| (count, w == first))
            .map(|(w, _)| w)
    };
    most_common(named.iter().map(|n| n.digits.len()).collect())
        .or_else(|| {
            most_common(
                misnamed
                    .iter()
                    .filter(|m| m.problem != Problem::TooLarge)
                    .filter_map(|m| m.digits.as_ref().map(String::len))
                    .collect(),
            )
        })
        .unwrap_or(DEFAULT_DIGITS)
}

/// Whether `digits` start like a `YYYYMMDD…` timestamp (years 1900 to 2999), so that
/// padding or cutting them to the folder's width keeps their meaning.
pub(super) fn looks_like_a_time(digits: &str) -> bool {
    let number = |range: std::ops::Range<usize>| {
        digits
            .get(range)
            .and_then(|d| d.parse::<u32>().ok())
            .unwrap_or(0)
    };
    (1900..3000).contains(&number(0..4))
        && (1..=12).contains(&number(4..6))
        && (1..=31).contains(&number(6..8))
}

/// The version after `version`: the next second, minute or hour for a timestamp of
/// 14, 12 or 10 digits (`YYYYMMDDHH[MM[SS]]`), the next number otherwise.
pub(super) fn next_timestamp(version: Version, width: usize) -> Option<Version> {
    let fields = match width {
        14 => 6,
        12 => 5,
        10 => 4,
        _ => return version.checked_add(1),
    };
    // [year, month, day, hour, minute, second], the missing ones 0
    let mut t = [0 as Version; 6];
    let mut rest = version;
    for i in (1..fields).rev() {
        t[i] = rest % 100;
        rest /= 100;
    }
    t[0] = rest;
    let days = |year: Version, month: Version| match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    };
    let is_time = (1000..=9999).contains(&t[0])
        && (1..=12).contains(&t[1])
        && (1..=days(t[0], t[1])).contains(&t[2])
        && t[3] < 24
        && t[4] < 60
        && t[5] < 60;
    if !is_time {
        return version.checked_add(1);
    }
    t[fields - 1] += 1;
    // carry into the field before: seconds, minutes, hours, days, months
    let limits = [0, 13, days(t[0], t[1]) + 1, 24, 60, 60];
    let firsts = [0, 1, 1, 0, 0, 0];
    for i in (1..fields).rev() {
        if t[i] == limits[i] {
            t[i] = firsts[i];
            t[i - 1] += 1;
        }
    }
    Some(t[..fields].iter().fold(0, |acc, v| acc * 100 + v))
}

/// The diagnostic for a candidate whose name is not a migration name.
pub(super) fn name_error(display_path: &str, m: &Misnamed, plan: &Plan) -> Diagnostic {
    let file_name = &m.file_name;
    let target = plan.target(file_name);
    let rename = target.map(|t| format!("rename it to `{}`{}", t.file_name, plan.why(t)));
    match m.problem {
        Problem::Invalid => Diagnostic::new(
            display_path,
            format!("invalid migration file name `{file_name}`; expected `<version>_<name>.sql`"),
        )
        .with_help(match rename {
            Some(rename) => format!("{rename}; {NAME_RULE}"),
            None => format!("rename it to `<version>_{}.sql`; {NAME_RULE}", m.name),
        }),
        Problem::NotUtf8 => Diagnostic::new(display_path, "migration file name is not valid UTF-8")
            .with_help(match rename {
                Some(rename) => format!("{rename}; {NAME_RULE}"),
                None => "rename the file to `<version>_<name>.sql` in ASCII".to_owned(),
            }),
        Problem::Down => Diagnostic::new(
            display_path,
            format!("invalid down file name `{file_name}`; expected `<version>_<name>.down.sql`"),
        )
        .with_help(format!(
            "name a down file after its up migration, `<version>_{}.down.sql` beside `<version>_{}.sql`; {NAME_RULE}",
            m.name, m.name
        )),
        Problem::TooLarge => Diagnostic::new(
            display_path,
            format!(
                "migration version in `{file_name}` is beyond the largest version, {}",
                Version::MAX
            ),
        )
        .with_help(match rename {
            Some(rename) => format!(
                "{rename}; versions are sequential numbers (`001`) or timestamps (`20240101120000`)"
            ),
            None => "use a shorter version: sequential numbers (`001`) or a timestamp (`20240101120000`)".to_owned(),
        }),
    }
}

/// `n` and the noun, singular for one: `1 file`, `2 files`.
pub(super) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `a`, `a and b`, `a, b and c`.
pub(super) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Duplicate versions, mixed widths and gaps in sequential numbering.
pub(super) fn numbering(named: &[Named], plan: &Plan, display_dir: &str) -> Vec<Diagnostic> {
    let mut diagnostics = duplicates(named, plan, display_dir);
    diagnostics.extend(widths(named, plan, display_dir));
    diagnostics.extend(gaps(plan, display_dir));
    diagnostics
}

/// Files sharing a version.
pub(super) fn duplicates(named: &[Named], plan: &Plan, display_dir: &str) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let display = |file: &str| format!("{display_dir}/{file}");
    let width = plan.width;
    let timestamps = width >= TIMESTAMP_DIGITS;
    // Duplicates among the files of the folder's width: the first by name keeps the
    // version, the others are new.
    let mut by_version: BTreeMap<Version, Vec<&Named>> = BTreeMap::new();
    for n in named.iter().filter(|n| n.digits.len() == width) {
        by_version.entry(n.version).or_default().push(n);
    }
    for (version, files) in &by_version {
        let kept = files[0];
        for new in &files[1..] {
            let mut help = match plan.target(&new.file_name) {
                Some(t) => format!(
                    "rename `{}` to `{}`, {}",
                    new.file_name,
                    t.file_name,
                    if timestamps {
                        "the first free timestamp after the newest migration"
                    } else {
                        "the next free version"
                    }
                ),
                None => format!(
                    "give `{}` a version of its own: no {width}-digit version is free after the newest migration, so renumber the migrations with {} digits",
                    new.file_name,
                    width + 1
                ),
            };
            help.push_str("; of two files with the same version, the one whose name sorts later is taken as the new one, as the other may already be applied to a database");
            if let (Some(t), 2) = (plan.target(&new.file_name), files.len()) {
                let _ = write!(
                    help,
                    "; if `{}` is the new one, rename `{}` to `{}_{}.sql` instead",
                    kept.file_name,
                    kept.file_name,
                    plan.pad(t.version),
                    kept.name
                );
            }
            diagnostics.push(
                Diagnostic::new(
                    display(&new.file_name),
                    format!(
                        "duplicate migration version {version}: `{}` reuses the version of `{}`",
                        new.file_name, kept.file_name
                    ),
                )
                .with_help(help),
            );
        }
    }
    diagnostics
}

/// Files whose version has another number of digits than the folder's.
pub(super) fn widths(named: &[Named], plan: &Plan, display_dir: &str) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let display = |file: &str| format!("{display_dir}/{file}");
    let width = plan.width;
    let timestamps = width >= TIMESTAMP_DIGITS;
    // Files of another width. Sequential numbers among timestamps (or the reverse) are
    // one problem of the folder; other widths are a problem of each file.
    let is_timestamp = |n: &&Named| n.digits.len() >= TIMESTAMP_DIGITS;
    let (other_scheme, other_width): (Vec<&Named>, Vec<&Named>) = named
        .iter()
        .filter(|n| n.digits.len() != width)
        .partition(|n| is_timestamp(n) != timestamps);
    for n in other_width {
        let help = match plan.target(&n.file_name) {
            Some(t) => format!(
                "rename it to `{}`{}; all versions must have the same number of digits so that files sort in the order they run",
                t.file_name,
                plan.why(t)
            ),
            None => format!(
                "renumber the migrations so that every version has {} digits",
                n.digits.len().max(width)
            ),
        };
        diagnostics.push(
            Diagnostic::new(
                display(&n.file_name),
                format!(
                    "migration version `{}` has {} but the other migrations use {width}",
                    n.digits,
                    count(n.digits.len(), "digit"),
                ),
            )
            .with_help(help),
        );
    }
    if let Some(first_odd) = other_scheme.first() {
        let (sequential, stamped): (Vec<&Named>, Vec<&Named>) =
            named.iter().partition(|n| !is_timestamp(n));
        let renames: Vec<String> = other_scheme
            .iter()
            .filter_map(|n| {
                let t = plan.target(&n.file_name)?;
                Some(format!("`{}` to `{}`", n.file_name, t.file_name))
            })
            .collect();
        let one_scheme = if renames.len() < other_scheme.len() {
            "renumber every migration with versions of one width".to_owned()
        } else if timestamps {
            format!(
                "rename {} (the first free timestamp{} after the newest migration)",
                and_list(&renames),
                if renames.len() > 1 { "s" } else { "" }
            )
        } else {
            format!(
                "rename {} (the next free sequential version{})",
                and_list(&renames),
                if renames.len() > 1 { "s" } else { "" }
            )
        };
        let other_way = if timestamps {
            "rename every migration to a sequential number of one width (`001`, `002`, …) in the order they must run"
        } else {
            "rename every migration to a timestamp of one width (`YYYYMMDDHHMMSS`), keeping the order they must run in"
        };
        diagnostics.push(
            Diagnostic::new(
                display(&first_odd.file_name),
                format!(
                    "the folder mixes sequential versions and timestamps: {} numbered like `{}`, {} with a timestamp like `{}`",
                    count(sequential.len(), "file"),
                    sequential[0].file_name,
                    count(stamped.len(), "file"),
                    stamped[0].file_name,
                ),
            )
            .with_help(format!("use one scheme: {one_scheme}, or {other_way}")),
        );
    }
    diagnostics
}

/// Gaps in sequential versions.
pub(super) fn gaps(plan: &Plan, display_dir: &str) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let display = |file: &str| format!("{display_dir}/{file}");
    let width = plan.width;
    let timestamps = width >= TIMESTAMP_DIGITS;
    // Gaps in the versions the files have once renamed.
    if !timestamps {
        let versions: Vec<(&Version, &Holder)> = plan.versions.iter().collect();
        for pair in versions.windows(2) {
            let ((&low, low_file), (&high, high_file)) = (pair[0], pair[1]);
            if high - low <= 1 {
                continue;
            }
            let missing = if high - low - 1 <= 5 {
                let list: Vec<String> = (low + 1..high).map(|v| plan.pad(v)).collect();
                list.join(", ")
            } else {
                format!("{} to {}", plan.pad(low + 1), plan.pad(high - 1))
            };
            let (low_name, high_name) = (&low_file.file_name, &high_file.file_name);
            diagnostics.push(
                Diagnostic::new(
                    display(high_name),
                    format!("gap in migration versions: {missing} missing between `{low_name}` and `{high_name}`"),
                )
                .with_help(format!(
                    "sequential versions must not skip a number: rename `{high_name}` to `{}_{}.sql` (and renumber the files after it), or use 14-digit timestamp versions, which only need to be unique",
                    plan.pad(low + 1),
                    high_file.name
                )),
            );
        }
    }
    diagnostics
}
