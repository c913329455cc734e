//! Probes the compiler for `proc_macro::tracked::path` (nightly, feature
//! `proc_macro_tracked_path`), with which the macro registers the migrations folder
//! itself, so that an added file rebuilds the crate without a `build.rs` line. On
//! stable, or when the probe fails for any reason, nothing changes.

use std::path::PathBuf;
use std::process::{Command, Stdio};

const PROBE: &str = r#"
#![feature(proc_macro_tracked_path)]
extern crate proc_macro;
pub fn probe() {
    proc_macro::tracked::path("migrations");
}
"#;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // The probe's answer depends on it: a build with `RUSTC_BOOTSTRAP=1` (nightly
    // features on a stable compiler) must not leave the cfg on for the next one.
    println!("cargo:rerun-if-env-changed=RUSTC_BOOTSTRAP");
    println!("cargo:rustc-check-cfg=cfg(migrate_tracked_path)");
    if tracked_path_available() {
        println!("cargo:rustc-cfg=migrate_tracked_path");
    }
}

fn tracked_path_available() -> bool {
    #[allow(
        clippy::disallowed_methods,
        reason = "a build script reads cargo's variables"
    )]
    let var = |name: &str| std::env::var_os(name);
    let (Some(rustc), Some(out_dir)) = (var("RUSTC"), var("OUT_DIR")) else {
        return false;
    };
    let out_dir = PathBuf::from(out_dir);
    let source = out_dir.join("probe_tracked_path.rs");
    if std::fs::write(&source, PROBE).is_err() {
        return false;
    }
    let mut command = match var("RUSTC_WRAPPER").filter(|w| !w.is_empty()) {
        Some(wrapper) => {
            let mut c = Command::new(wrapper);
            c.arg(rustc);
            c
        }
        None => Command::new(rustc),
    };
    command
        .arg("--edition=2021")
        .arg("--crate-type=lib")
        .arg("--crate-name=migrate_probe_tracked_path")
        .arg("--emit=metadata")
        .arg("--out-dir")
        .arg(&out_dir)
        .arg(&source)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(target) = var("TARGET") {
        command.arg("--target").arg(target);
    }
    command.status().is_ok_and(|s| s.success())
}
