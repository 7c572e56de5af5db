//! Inline reads from the SQLite file, for the one hot path that reads on every request: the
//! token endpoint's secret check.
//!
//! sqlx runs each SQLite connection on its own thread and hands every query and every row across
//! a channel. For a lookup by primary key that takes a few microseconds in SQLite itself, the
//! two thread wake-ups cost more than the query: under load, a profile of the token endpoint had
//! about a third of its samples in the kernel's task switching, woken by sqlx's channel, and the
//! endpoint served about 30 % fewer requests than with no database read at all
//! (bench/token.sh). Here the query runs on the calling thread instead, on a connection of
//! its own that only reads.
//!
//! This blocks the async worker for the length of the query. That is acceptable only because
//! the query is a short indexed lookup, and because in WAL mode a reader does not wait for
//! writers; the busy timeout is kept short so that a rare wait (WAL recovery) stays bounded.
//! Nothing is cached: every call reads the committed state, so a revocation in any process
//! sharing the file counts on the next request.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// Read-only connections to one SQLite file, opened on demand and reused. There are never more
/// than the number of threads that read at once, since a read does not yield.
pub struct SqliteReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for SqliteReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteReader").finish_non_exhaustive()
    }
}

impl SqliteReader {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SqliteReader {
            path: path.into(),
            idle: Mutex::new(Vec::new()),
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        // Read-write at the file level, so that the connection can map the WAL index like any
        // other; `query_only` then refuses every write.
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_millis(200))?;
        conn.pragma_update(None, "query_only", true)?;
        // The hot path touches a handful of pages; a small cache keeps the resident size down.
        conn.pragma_update(None, "cache_size", -512)?;
        Ok(conn)
    }

    /// Runs `f` on an idle connection, or a new one. A connection that failed is dropped rather
    /// than reused.
    pub fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let idle = self.idle.lock().ok().and_then(|mut v| v.pop());
        let conn = match idle {
            Some(c) => c,
            None => self.open()?,
        };
        let result = f(&conn);
        if result.is_ok() {
            if let Ok(mut v) = self.idle.lock() {
                v.push(conn);
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_was_committed_and_refuses_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1);",
            )
            .unwrap();
        let reader = SqliteReader::new(&path);
        let read =
            || reader.with(|c| c.query_row("SELECT SUM(v) FROM t", [], |r| r.get::<_, i64>(0)));
        assert_eq!(read().unwrap(), 1);
        writer.execute("INSERT INTO t VALUES (41)", []).unwrap();
        assert_eq!(
            read().unwrap(),
            42,
            "a committed write is seen by the next read"
        );
        assert!(reader
            .with(|c| c.execute("INSERT INTO t VALUES (1)", []))
            .is_err());
        assert_eq!(read().unwrap(), 42);
    }
}
