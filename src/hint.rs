//! Every hint the tool prints is a command that works when pasted: when the
//! config is not `./branchsync.toml`, it carries `--config PATH`. A cron mail
//! read in another shell has neither the crontab's `$BRANCHSYNC_CONFIG` nor its
//! working directory, so a path from either is written out (absolute when it
//! can be made so). Set once at start-up; unset (tests, library use) means
//! the default config.

use std::path::Path;
use std::sync::OnceLock;

static CONFIG: OnceLock<String> = OnceLock::new();

/// Record the config path in use (`None` or the default: hints stay short).
pub fn set_config(path: &Path) {
    if path == Path::new("branchsync.toml") {
        return;
    }
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let _ = CONFIG.set(shell_quote(&path.to_string_lossy()));
}

/// `branchsync [--config PATH] ARGS`, ready to paste.
pub fn cmd(args: &str) -> String {
    match CONFIG.get() {
        Some(path) => format!("branchsync --config {path} {args}"),
        None => format!("branchsync {args}"),
    }
}

/// `s` as one shell word (single-quoted when it needs quoting).
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:,@%=".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_for_the_shell_only_when_needed() {
        assert_eq!(
            shell_quote("/etc/branchsync/prod.toml"),
            "/etc/branchsync/prod.toml"
        );
        assert_eq!(shell_quote("/srv/my sync/b.toml"), "'/srv/my sync/b.toml'");
        assert_eq!(shell_quote("/srv/it's.toml"), r"'/srv/it'\''s.toml'");
    }
}
