//! Why a journal path cannot be used, told as it is: a path under a file
//! (`/etc/passwd/journal.db`) can never hold a journal, and a journal file
//! owned by another user with a private mode is a question of ownership, not
//! of a folder's permissions. Both are found before SQLite gives its terser
//! "unable to open database file".

use super::JournalError;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The folder that holds `path` exists, or could be created: no part of it
/// is a file.
pub fn check_journal_folder(path: &Path) -> Result<(), JournalError> {
    for ancestor in path.ancestors().skip(1) {
        if ancestor.as_os_str().is_empty() {
            return Ok(());
        }
        match std::fs::metadata(ancestor) {
            Ok(m) if m.is_dir() => return Ok(()),
            Ok(_) => {
                return Err(JournalError::NotAFolder {
                    path: path.to_path_buf(),
                    blocker: ancestor.to_path_buf(),
                })
            }
            // Missing (or under a file, found further up): look higher.
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    || e.kind() == std::io::ErrorKind::NotADirectory => {}
            // Unreadable: the open that follows reports it.
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

/// When `path` exists, belongs to another user and this process may not
/// open it for reading and writing, the error that says so.
pub(super) fn owner_problem(path: &Path) -> Option<JournalError> {
    let meta = std::fs::metadata(path).ok()?;
    let me = effective_uid();
    if me == 0 || meta.uid() == me {
        return None;
    }
    let usable = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .is_ok();
    if usable {
        return None;
    }
    Some(JournalError::NotOwner {
        path: path.to_path_buf(),
        owner: user_name(meta.uid()),
        mode: meta.mode() & 0o7777,
        user: user_name(me),
    })
}

fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions, cannot fail and touches no memory.
    unsafe { libc::geteuid() }
}

/// The login name of `uid` from /etc/passwd, else `uid N`.
fn user_name(uid: u32) -> String {
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                let mut f = line.split(':');
                let name = f.next()?;
                let id: u32 = f.nth(1)?.parse().ok()?;
                (id == uid).then(|| name.to_owned())
            })
        })
        .unwrap_or_else(|| format!("uid {uid}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_under_a_file_is_refused_and_a_missing_folder_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain");
        std::fs::write(&file, "x").unwrap();
        for bad in [file.join("journal.db"), file.join("a/b/journal.db")] {
            match check_journal_folder(&bad) {
                Err(JournalError::NotAFolder { blocker, .. }) => assert_eq!(blocker, file),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        assert!(check_journal_folder(&dir.path().join("new/storage/journal.db")).is_ok());
        assert!(check_journal_folder(Path::new("journal.db")).is_ok());
    }

    #[test]
    fn root_is_a_known_user() {
        assert_eq!(user_name(0), "root");
    }
}
