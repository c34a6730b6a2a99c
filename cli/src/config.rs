//! Loading the configuration: defaults < TOML file < environment (`SEARCHD_…`) < command line
//! (the flags are applied by `main`). Validated once; an error names the bad key.

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use searchd_api::Config;

/// Loads defaults, then the TOML file (when given), then `SEARCHD_*` variables
/// (`SEARCHD_INDEX__COMMIT_INTERVAL_MS=500` sets `index.commit_interval_ms`).
pub fn load(file: Option<&Path>) -> Result<Config, String> {
    load_from(file, Env::prefixed("SEARCHD_").split("__"))
}

fn load_from(file: Option<&Path>, env: Env) -> Result<Config, String> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    if let Some(file) = file {
        if !file.is_file() {
            return Err(format!("config file {} does not exist", file.display()));
        }
        figment = figment.merge(Toml::file_exact(file));
    }
    let config: Config = figment
        .merge(env)
        .extract()
        .map_err(|e| e.into_iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))?;
    config.validate()?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("searchd.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn unknown_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "[index]\ncommit_every = 5\n");
        let err = load_from(Some(&file), Env::prefixed("SEARCHD_TEST_NONE_")).unwrap_err();
        assert!(err.contains("commit_every"), "{err}");
    }

    #[test]
    #[expect(clippy::result_large_err, reason = "figment's Jail fixes the error type")]
    fn file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "data_dir = \"/srv/searchd\"\n[index]\ncommit_every_docs = 5\n");
        let config = load_from(Some(&file), Env::prefixed("SEARCHD_TEST_NONE_")).unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/srv/searchd"));
        assert_eq!(config.index.commit_every_docs, 5);
        figment::Jail::expect_with(|jail| {
            jail.set_env("SEARCHD_JAILTEST_INDEX__COMMIT_EVERY_DOCS", "7");
            let c = load_from(Some(&file), Env::prefixed("SEARCHD_JAILTEST_").split("__")).unwrap();
            assert_eq!(c.index.commit_every_docs, 7);
            Ok(())
        });
    }

    #[test]
    fn invalid_values_fail_fast() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "[index]\ndefault_language = \"klingon\"\n");
        let err = load_from(Some(&file), Env::prefixed("SEARCHD_TEST_NONE_")).unwrap_err();
        assert!(err.contains("default_language"), "{err}");
        let file = write(dir.path(), "[crawler]\nconcurrency = 0\n");
        let err = load_from(Some(&file), Env::prefixed("SEARCHD_TEST_NONE_")).unwrap_err();
        assert!(err.contains("crawler.concurrency must be at least 1"), "{err}");
        let file = write(dir.path(), "[crawler]\nretention_schedule = \"daily\"\n");
        let err = load_from(Some(&file), Env::prefixed("SEARCHD_TEST_NONE_")).unwrap_err();
        assert!(err.contains("crawler.retention_schedule"), "{err}");
        let file = write(dir.path(), "[index.attributes.price]\ntype = \"number\"\n");
        let err = load_from(Some(&file), Env::prefixed("SEARCHD_TEST_NONE_")).unwrap_err();
        assert!(err.contains("`price` is a built-in field"), "{err}");
        let file = write(dir.path(), "[index.attributes.colour]\ntype = \"colourful\"\n");
        let err = load_from(Some(&file), Env::prefixed("SEARCHD_TEST_NONE_")).unwrap_err();
        assert!(err.contains("colourful"), "{err}");
    }

    /// The configuration page's example is the defaults, every key spelled as the code has it.
    #[test]
    fn the_documented_example_is_the_defaults() {
        let section = include_str!("../../docs/configuration.md");
        let start = section.find("```toml\n").unwrap() + "```toml\n".len();
        let example = &section[start..start + section[start..].find("```").unwrap()];
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), example);
        let config = load_from(Some(&file), Env::prefixed("SEARCHD_TEST_NONE_")).unwrap();
        assert_eq!(config, Config::default());
        // The page's other examples load as they are.
        for example in section.split("```toml\n").skip(2) {
            let example = &example[..example.find("```").unwrap()];
            let file = write(dir.path(), example);
            let loaded = load_from(Some(&file), Env::prefixed("SEARCHD_TEST_NONE_"));
            assert!(loaded.as_ref().is_ok_and(|c| *c != Config::default()), "{example}: {loaded:?}");
        }
    }
}
