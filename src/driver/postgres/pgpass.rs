//! `~/.pgpass` (libpq format): `host:port:database:user:password`, `*` matches
//! anything, `\:` and `\\` escape. Passwords stay out of the config file this
//! way; a file that group or others can read is refused, as libpq does.

use std::path::{Path, PathBuf};

/// The password file libpq would read: `$PGPASSFILE`, else `~/.pgpass`.
pub fn pgpass_path() -> Option<PathBuf> {
    match std::env::var_os("PGPASSFILE") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| Path::new(&h).join(".pgpass")),
    }
}

/// The password for (host, port, database, user), when `.pgpass` has one.
/// Errors when the file exists but is readable by group/world.
pub fn lookup_pgpass(
    host: &str,
    port: u16,
    database: &str,
    user: &str,
) -> Result<Option<String>, String> {
    match pgpass_path() {
        Some(path) => lookup_pgpass_in(&path, host, port, database, user),
        None => Ok(None),
    }
}

/// [`lookup_pgpass`] in the file at `path`. A missing file is `Ok(None)`.
pub fn lookup_pgpass_in(
    path: &Path,
    host: &str,
    port: u16,
    database: &str,
    user: &str,
) -> Result<Option<String>, String> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(None);
    };
    if !meta.is_file() {
        return Ok(None);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "the password file {} has permissions {mode:04o}: group or others can read it, so it is refused. Run: chmod 0600 {}",
                path.display(),
                path.display()
            ));
        }
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read the password file {}: {e}. Check that it is a text file owned by this user",
            path.display()
        )
    })?;
    let port = port.to_string();
    let want = [host, port.as_str(), database, user];
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split_fields(line);
        if fields.len() != 5 {
            continue;
        }
        if fields[..4]
            .iter()
            .zip(want)
            .all(|((field, escaped), w)| (field == "*" && !escaped) || field == w)
        {
            return Ok(Some(fields[4].0.clone()));
        }
    }
    Ok(None)
}

/// The five fields of a line, each with "contained an escape" (an escaped
/// `\*` is a literal star, not a wildcard).
fn split_fields(line: &str) -> Vec<(String, bool)> {
    let mut out = vec![(String::new(), false)];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        let last = out.len() - 1;
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out[last].0.push(n);
                    out[last].1 = true;
                }
            }
            ':' if out.len() < 5 => out.push((String::new(), false)),
            c => out[last].0.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str, mode: u32) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(f.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        }
        f
    }

    #[test]
    fn matches_fields_wildcards_and_escapes() {
        let f = file(
            "# comment\n\
             db1:5432:erp:reader:first\n\
             *:5433:*:reader:wild\r\n\
             h\\:x:5432:erp:u:p\\:w\\\\d:more\n",
            0o600,
        );
        let get =
            |h: &str, p: u16, d: &str, u: &str| lookup_pgpass_in(f.path(), h, p, d, u).unwrap();
        assert_eq!(get("db1", 5432, "erp", "reader").as_deref(), Some("first"));
        assert_eq!(get("other", 5433, "x", "reader").as_deref(), Some("wild"));
        assert_eq!(get("h:x", 5432, "erp", "u").as_deref(), Some("p:w\\d:more"));
        assert_eq!(get("db1", 5432, "erp", "nobody"), None);
    }

    #[test]
    fn escaped_star_is_literal() {
        let f = file("\\*:5432:erp:u:pw\n", 0o600);
        assert_eq!(
            lookup_pgpass_in(f.path(), "db", 5432, "erp", "u").unwrap(),
            None
        );
        assert_eq!(
            lookup_pgpass_in(f.path(), "*", 5432, "erp", "u")
                .unwrap()
                .as_deref(),
            Some("pw")
        );
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_readable_file() {
        let f = file("*:*:*:*:pw\n", 0o640);
        let e = lookup_pgpass_in(f.path(), "h", 5432, "d", "u").unwrap_err();
        assert!(
            e.contains("chmod 0600") && e.contains("0640") && !e.contains("pw\n"),
            "{e}"
        );
    }

    #[test]
    fn missing_file_is_no_password() {
        let p = Path::new("/nonexistent/branchsync/.pgpass");
        assert_eq!(lookup_pgpass_in(p, "h", 5432, "d", "u").unwrap(), None);
    }
}
