//! Reading the migrations folder with the macro's own checks.

use migrate_runtime::check::{self, Options, layout::Layout};
use migrate_runtime::diagnostic::Diagnostic;
use migrate_runtime::{Migrations, SourceMigration};

use crate::Failure;
use crate::cli::Folder;

/// The folder as messages show it (as the user wrote it).
pub fn display(folder: &Folder) -> String {
    folder.dir.display().to_string()
}

/// The layout named by `--layout`.
pub fn layout(name: Option<&str>) -> Result<Option<Layout>, Failure> {
    name.map(|name| {
        Layout::parse(name).ok_or_else(|| {
            let all: Vec<&str> = Layout::ALL.iter().map(|l| l.name()).collect();
            Failure(format!(
                "unknown layout `{name}` for --layout; the layouts are {}",
                all.join(", ")
            ))
        })
    })
    .transpose()
}

/// Fails when the folder does not exist: every command but `new` needs it.
pub fn require(folder: &Folder) -> Result<(), Failure> {
    if folder.dir.is_dir() {
        Ok(())
    } else if folder.dir.exists() {
        Err(Failure(format!(
            "{} is not a folder; give the migrations folder with --dir",
            display(folder)
        )))
    } else {
        Err(Failure(format!(
            "migrations folder not found: {}; give it with --dir (the default is `migrations`, relative to the current folder)",
            display(folder)
        )))
    }
}

/// Runs every build-time check on the folder: the migrations, or every problem.
pub fn check(folder: &Folder) -> Result<Result<Vec<SourceMigration>, Vec<Diagnostic>>, Failure> {
    require(folder)?;
    let layout = layout(folder.layout.as_deref())?;
    let mut functions = Vec::new();
    for f in &folder.functions {
        let parsed = f
            .split_once('/')
            .and_then(|(name, arity)| Some((name, arity.parse::<i32>().ok()?)))
            .filter(|(name, arity)| !name.is_empty() && (-1..=127).contains(arity));
        let Some(parsed) = parsed else {
            return Err(Failure(format!(
                "--function `{f}` is not `name/arity` (for example `user_setting/2`, the arity from -1 to 127)"
            )));
        };
        functions.push(parsed);
    }
    let collations: Vec<&str> = folder.collations.iter().map(String::as_str).collect();
    let modules: Vec<&str> = folder.modules.iter().map(String::as_str).collect();
    // The macro's build cache: `migrate check` after a build (or the other way round)
    // validates only what changed.
    #[expect(
        clippy::disallowed_methods,
        reason = "the command reads the same setting as the macro"
    )]
    let setting = std::env::var_os("MIGRATE_BUILD_CACHE");
    let cache = check::cache_dir(setting.as_deref(), dirs::cache_dir());
    let options = Options {
        layout,
        functions: &functions,
        collations: &collations,
        modules: &modules,
        cache: cache.as_deref(),
        downs: folder
            .downs
            .as_deref()
            .and_then(check::Downs::parse)
            .unwrap_or_default(),
        deploy_safety: folder.deploy_safety_from,
    };
    Ok(check::check_dir_opts(
        &folder.dir,
        &display(folder),
        &options,
    ))
}

/// The checked migrations as a set the runner applies; a folder with problems is an
/// error pointing at `migrate check`.
pub fn load(folder: &Folder) -> Result<Migrations, Failure> {
    match check(folder)? {
        Ok(sources) => Ok(Migrations::from_sources(sources)),
        Err(diagnostics) => {
            let first = diagnostics
                .first()
                .map(|d| d.to_string().lines().next().unwrap_or_default().to_owned())
                .unwrap_or_default();
            Err(Failure(format!(
                "the migrations in {} do not pass the build-time checks ({} problem(s), the first: {first}); `migrate check --dir {}` shows them all",
                display(folder),
                diagnostics.len(),
                display(folder)
            )))
        }
    }
}
