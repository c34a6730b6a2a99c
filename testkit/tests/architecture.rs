//! The workspace keeps the rules ARCHITECTURE.md states: every crate is described there, depends
//! only on the crates its section allows (read from `cargo metadata`), and no source file outside
//! tests grows past 700 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace root").to_path_buf()
}

/// Folder → (package, the folders it may depend on), from ARCHITECTURE.md's sections:
/// "### `folder/` — `package`" followed by a line "May depend on: `a`, `b`." (or "nothing of ours.").
fn allowed() -> BTreeMap<String, (String, BTreeSet<String>)> {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut out = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix("### `") {
            let (folder, rest) = heading.split_once("/`").expect("### `folder/` — `package`");
            let package = rest.split('`').nth(1).expect("the package name in backticks");
            current = Some((folder.to_string(), package.to_string()));
        } else if let Some(list) = line.strip_prefix("May depend on:") {
            let (folder, package) = current.take().expect("a May depend on line belongs to a ### section");
            let folders = list.split('`').skip(1).step_by(2).map(str::to_string).collect();
            out.insert(folder, (package, folders));
        }
    }
    out
}

#[test]
fn crates_depend_only_on_what_architecture_md_allows() {
    let allowed = allowed();
    assert!(allowed.len() >= 12, "ARCHITECTURE.md's sections were not read: {allowed:?}");
    let package_of: BTreeMap<&str, &str> = allowed.iter().map(|(f, (p, _))| (f.as_str(), p.as_str())).collect();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("cargo metadata's JSON");
    let packages = metadata["packages"].as_array().expect("packages");
    let ours: BTreeSet<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
    let mut wrong = Vec::new();
    for package in packages {
        let name = package["name"].as_str().expect("a name");
        let manifest = Path::new(package["manifest_path"].as_str().expect("a manifest path"));
        let folder = manifest.parent().and_then(Path::file_name).and_then(|f| f.to_str()).expect("its folder");
        let Some((documented, may)) = allowed.get(folder) else {
            wrong.push(format!("{folder}/ ({name}) has no section in ARCHITECTURE.md"));
            continue;
        };
        assert_eq!(documented, name, "ARCHITECTURE.md names {folder}/'s package wrongly");
        let may: BTreeSet<&str> = may.iter().filter_map(|f| package_of.get(f.as_str()).copied()).collect();
        for dependency in package["dependencies"].as_array().expect("dependencies") {
            let dep = dependency["name"].as_str().expect("a dependency name");
            // Normal dependencies only: tests and benches may use the test kit.
            if ours.contains(dep) && dependency["kind"].is_null() && !may.contains(dep) {
                wrong.push(format!("{name} depends on {dep}, which ARCHITECTURE.md does not allow"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_source_file_outside_tests_is_over_700_lines() {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(root()).expect("the workspace root").flatten() {
        let src = entry.path().join("src");
        if entry.path().join("Cargo.toml").is_file() && src.is_dir() {
            walk(&src, &mut files);
        }
    }
    assert!(files.len() > 50, "the sources were not found: {} files", files.len());
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).ok()?.lines().count();
            (lines > 700).then(|| format!("{} has {lines} lines", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "{}", long.join("\n"));
}
