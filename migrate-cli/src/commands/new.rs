//! `migrate new`: the next migration file.

use std::process::ExitCode;

use crate::cli::New;
use crate::{Failure, Outcome, folder, scaffold};

pub fn run(args: &New) -> Outcome {
    let corrected = scaffold::corrected(&args.name);
    if args.name != corrected {
        return Err(Failure(format!(
            "invalid migration name `{}`: names are lowercase ASCII letters, digits and `_`; use `{corrected}`",
            args.name
        )));
    }
    let shown = args.dir.display().to_string();
    let layout = folder::layout(args.layout.as_deref())?;
    if args.dir.exists() && !args.dir.is_dir() {
        return Err(Failure(format!(
            "{shown} is not a folder; give the migrations folder with --dir"
        )));
    }
    if !args.dir.exists() {
        std::fs::create_dir_all(&args.dir)
            .map_err(|e| Failure(format!("cannot create the folder {shown}: {e}")))?;
        println!("created the folder {shown}");
    }
    let layout = scaffold::layout_of(&args.dir, &shown, layout)?;
    let files = scaffold::next_files(&args.dir, &shown, layout, &args.name, args.reversible)?;
    for (path, content) in &files {
        if path.exists() {
            return Err(Failure(format!(
                "{} exists already; nothing was written",
                path.display()
            )));
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Failure(format!("cannot create {}: {e}", parent.display())))?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        options
            .open(path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, content.as_bytes()))
            .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))?;
        println!("created {}", path.display());
    }
    build_rs(args)?;
    Ok(ExitCode::SUCCESS)
}

/// Says when the crate beside the folder does not rebuild on an added file, and with
/// `--build-rs` writes the line.
fn build_rs(args: &New) -> Result<(), Failure> {
    let Some((root, relative)) = scaffold::crate_of(&args.dir) else {
        return Ok(());
    };
    let path = root.join("build.rs");
    let existing = std::fs::read_to_string(&path).ok();
    if existing
        .as_deref()
        .is_some_and(|t| scaffold::has_line(t, &relative))
    {
        return Ok(());
    }
    let line = scaffold::build_line(&relative);
    if !args.build_rs {
        eprintln!(
            "note: {} has no line for {relative}: cargo will not rebuild the crate when a migration file is added, \
             and the binary would silently lack it; add `{line}` to `fn main` in build.rs \
             (or `migrate::build::rerun_if_changed(\"{relative}\");`), or run `migrate new` with --build-rs",
            path.display()
        );
        return Ok(());
    }
    let Some(text) = scaffold::with_line(existing.as_deref(), &relative) else {
        return Err(Failure(format!(
            "{} has no `fn main()` to add the line to; add `{line}` to it by hand",
            path.display()
        )));
    };
    std::fs::write(&path, text)
        .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))?;
    println!("added `{line}` to {}", path.display());
    Ok(())
}
