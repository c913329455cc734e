//! The migration file name grammar: `<digits>_<name>.sql`.

use crate::Version;
use std::fmt;

/// A valid migration file name, split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName<'a> {
    /// The version, as written (`"001"`).
    pub digits: &'a str,
    /// The version's value.
    pub version: Version,
    /// The description after the first `_` (`"create_users"`).
    pub name: &'a str,
}

/// Why a file name ending in `.sql` is not a migration name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// Not `<digits>_<name>.sql`; carries a corrected name when one can be guessed.
    Invalid {
        /// A name that follows the grammar, when the version could be read.
        suggestion: Option<String>,
    },
    /// A `.down.sql` name: a down script, not an up migration (see the native layout's
    /// down files).
    Down,
    /// The version has more digits than a [`Version`] holds (38).
    VersionTooLarge,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid { .. } => f.write_str("invalid migration file name"),
            Self::Down => f.write_str("a down file is not an up migration"),
            Self::VersionTooLarge => f.write_str("migration version is too large"),
        }
    }
}

/// Whether a directory entry is a migration candidate: a non-hidden name ending in
/// `.sql` (in any case, so `0001_init.SQL` is reported instead of silently skipped).
#[must_use]
pub fn is_candidate(file_name: &str) -> bool {
    !file_name.starts_with('.')
        && file_name.len() > 4
        && file_name
            .get(file_name.len() - 4..)
            .is_some_and(|ext| ext.eq_ignore_ascii_case(".sql"))
}

/// Parses `<digits>_<name>.sql`, where the name holds lowercase ASCII letters, digits and `_`.
///
/// # Errors
///
/// [`NameError`] says why the name does not follow the grammar.
///
/// # Examples
///
/// ```
/// use migrate_runtime::name::parse_file_name;
///
/// let parsed = parse_file_name("001_create_users.sql").unwrap();
/// assert_eq!((parsed.version, parsed.name), (1, "create_users"));
/// assert!(parse_file_name("001-Create Users.sql").is_err());
/// ```
pub fn parse_file_name(file_name: &str) -> Result<FileName<'_>, NameError> {
    let invalid = || NameError::Invalid {
        suggestion: suggest(file_name),
    };
    let Some(stem) = file_name.strip_suffix(".sql") else {
        return Err(invalid());
    };
    if stem.to_ascii_lowercase().ends_with(".down") {
        return Err(NameError::Down);
    }
    let Some((digits, name)) = stem.split_once('_') else {
        return Err(invalid());
    };
    let valid_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    let valid_name = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid_digits || !valid_name {
        return Err(invalid());
    }
    let version = digits
        .parse::<Version>()
        .map_err(|_| NameError::VersionTooLarge)?;
    Ok(FileName {
        digits,
        version,
        name,
    })
}

/// A corrected file name for `file_name`, if its version can be read: `V2__Add Email.up.SQL`
/// becomes `2_add_email.sql`.
///
/// The version is kept as written; whether it fits the folder (unique, same number of
/// digits as the others, no gap) is decided by the folder check, which may suggest
/// another version.
#[must_use]
pub fn suggest(file_name: &str) -> Option<String> {
    let (digits, name) = parts(file_name);
    digits.map(|digits| format!("{digits}_{name}.sql"))
}

/// The version digits of `file_name` as written, if it starts with some (after a
/// refinery `V`/`U` prefix), and its description in the grammar's form: lowercase
/// ASCII letters and digits, runs of anything else as one `_`, `migration` when
/// nothing is left. `.sql`/`.SQL` and a `.up` before it are dropped.
///
/// # Examples
///
/// ```
/// use migrate_runtime::name::parts;
///
/// assert_eq!(parts("V3__Add-Tags.up.SQL"), (Some("3"), "add_tags".to_owned()));
/// assert_eq!(parts("Seed Users.sql"), (None, "seed_users".to_owned()));
/// ```
#[must_use]
pub fn parts(file_name: &str) -> (Option<&str>, String) {
    let mut stem = match file_name
        .len()
        .checked_sub(4)
        .and_then(|end| file_name.get(..end))
    {
        Some(stem) if is_candidate(file_name) => stem,
        _ => file_name,
    };
    if stem.to_ascii_lowercase().ends_with(".up") {
        stem = &stem[..stem.len() - 3];
    }
    // refinery's `V1__name` and `U1__name`
    let unprefixed = match stem.as_bytes() {
        [b'V' | b'v' | b'U' | b'u', d, ..] if d.is_ascii_digit() => &stem[1..],
        _ => stem,
    };
    let digits_end = unprefixed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(unprefixed.len());
    let (digits, rest) = unprefixed.split_at(digits_end);
    let mut name = String::new();
    for c in rest.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            name.push(c);
        } else if !name.is_empty() && !name.ends_with('_') {
            name.push('_');
        }
    }
    let name = name.trim_end_matches('_');
    let name = if name.is_empty() { "migration" } else { name };
    ((!digits.is_empty()).then_some(digits), name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_grammar() {
        let f = parse_file_name("20240101120000_add_2fa.sql").unwrap();
        assert_eq!(f.version, 20_240_101_120_000);
        assert_eq!(f.digits, "20240101120000");
        assert_eq!(f.name, "add_2fa");
        assert_eq!(parse_file_name("0_init.sql").unwrap().version, 0);
    }

    #[test]
    fn rejects_and_suggests() {
        let suggestion = |n: &str| match parse_file_name(n) {
            Err(NameError::Invalid { suggestion }) => suggestion,
            other => panic!("{n}: {other:?}"),
        };
        assert_eq!(
            suggestion("001-Create Users.sql").as_deref(),
            Some("001_create_users.sql")
        );
        assert_eq!(
            suggestion("V2__Add_Email.sql").as_deref(),
            Some("2_add_email.sql")
        );
        assert_eq!(
            suggestion("0003_init.up.sql").as_deref(),
            Some("0003_init.sql")
        );
        assert_eq!(
            suggestion("0004_init.SQL").as_deref(),
            Some("0004_init.sql")
        );
        assert_eq!(suggestion("5.sql").as_deref(), Some("5_migration.sql"));
        assert_eq!(suggestion("init.sql"), None);
        assert_eq!(suggestion("_init.sql"), None);
        assert_eq!(suggest("1aé"), Some("1_a.sql".to_owned()));
        assert_eq!(parse_file_name("0003_init.down.sql"), Err(NameError::Down));
        assert_eq!(parts("init.sql"), (None, "init".to_owned()));
        assert_eq!(parts("_init.sql"), (None, "init".to_owned()));
        assert_eq!(parts("--.sql"), (None, "migration".to_owned()));
        assert_eq!(parts("3_Add-Tags.sql"), (Some("3"), "add_tags".to_owned()));
        assert_eq!(
            parts("20240101120000 Add Tags.sql"),
            (Some("20240101120000"), "add_tags".to_owned())
        );
        assert_eq!(
            parse_file_name("1234567890123456789012345678901234567890_big.sql"),
            Err(NameError::VersionTooLarge)
        );
        // 20 digits are a version like any other.
        assert_eq!(
            parse_file_name("20240101120000000001_big.sql").map(|f| f.version),
            Ok(20_240_101_120_000_000_001)
        );
    }

    #[test]
    fn candidates_end_in_sql_and_are_not_hidden() {
        assert!(is_candidate("1_a.sql"));
        assert!(is_candidate("1_a.SQL"));
        assert!(!is_candidate(".1_a.sql"));
        assert!(!is_candidate("README.md"));
        assert!(!is_candidate(".sql"));
    }
}
