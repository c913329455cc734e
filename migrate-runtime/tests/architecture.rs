//! The runtime does not depend on the checking code: nothing outside `src/check/`
//! (and the generated tests that compare the build with the runner) names
//! `crate::check`. The proc macro and tools use `check`; an application's binary only
//! needs the runtime.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_runtime_does_not_use_the_checking_code() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        if relative.starts_with("check") || relative.ends_with("generated.rs") {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            let names_check = code
                .match_indices("crate::check")
                .any(|(at, m)| !code[at + m.len()..].starts_with("sum"));
            if !code.starts_with("//") && names_check {
                found.push(format!("src/{}:{}: {code}", relative.display(), i + 1));
            }
        }
    }
    assert!(files.len() > 20, "found only {} files", files.len());
    assert!(found.is_empty(), "{}", found.join("\n"));
}
