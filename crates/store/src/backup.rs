//! `tegata backup`: a consistent copy of a SQLite deployment's database, taken while it serves.
//!
//! SQLite's `VACUUM INTO` writes a transaction-consistent snapshot (write-ahead log included)
//! through a read-only connection, so the server's writes go on meanwhile and the copy holds
//! everything committed before the snapshot began. The copy is written under a temporary name
//! beside the target and renamed into place, so an interrupted backup never leaves a partial
//! file under the name asked for.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::Connection;
use sqlx::sqlite::SqliteConnectOptions;
use tegata_core::store::StoreError;

use crate::backend;

/// Copy `<data_dir>/tegata.db` to `target`, which must not exist yet.
pub async fn backup_sqlite(data_dir: &Path, target: &Path) -> Result<(), StoreError> {
    let source = data_dir.join("tegata.db");
    if !source.is_file() {
        return Err(StoreError::Backend(format!(
            "there is no SQLite store at {}",
            source.display()
        )));
    }
    if target.exists() {
        return Err(StoreError::Backend(format!(
            "{} exists already; a backup never overwrites a file",
            target.display()
        )));
    }
    if let Some(parent) = target.parent()
        && !parent.as_os_str().is_empty()
        && !parent.is_dir()
    {
        return Err(StoreError::Backend(format!(
            "{} is not a directory: create it first",
            parent.display()
        )));
    }
    let partial = partial_name(target);
    let _ = std::fs::remove_file(&partial);
    // Made empty and private before SQLite writes into it, so the copy is never readable by
    // others, even while it is being written.
    let mut private = std::fs::OpenOptions::new();
    private.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut private, 0o600);
    private
        .open(&partial)
        .map_err(|e| StoreError::Backend(format!("{}: {e}", partial.display())))?;
    let options = SqliteConnectOptions::new()
        .filename(&source)
        .read_only(true)
        .busy_timeout(Duration::from_secs(10));
    let mut connection = sqlx::SqliteConnection::connect_with(&options)
        .await
        .map_err(backend)?;
    let path = partial
        .to_str()
        .ok_or_else(|| StoreError::Backend(format!("{} is not a UTF-8 path", partial.display())))?;
    // SQLite reads a name starting with `file:` as a URI; `./file:…` is the file itself.
    let path = if path.starts_with("file:") {
        format!("./{path}")
    } else {
        path.to_owned()
    };
    let copied = sqlx::query("VACUUM INTO $1")
        .bind(path)
        .execute(&mut connection)
        .await
        .map_err(backend);
    let _ = connection.close().await;
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::File::open(&partial)
        .and_then(|file| file.sync_all())
        .and_then(|()| std::fs::rename(&partial, target))
        .map_err(|e| StoreError::Backend(format!("{}: {e}", target.display())))
}

fn partial_name(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    target.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partial_copy_sits_beside_the_target() {
        assert_eq!(
            partial_name(Path::new("/backups/tegata-2026-12-02.db")),
            Path::new("/backups/tegata-2026-12-02.db.partial")
        );
    }
}
