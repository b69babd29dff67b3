//! A SQLite VFS that writes a commit's WAL frames with one system call instead of two per page.
//!
//! SQLite appends each frame of a commit with two `pwrite`s (its 24-byte header, then the
//! page). A group of registrations commits ~270 frames, so the one writer spent ~550 system
//! calls per commit, about a tenth of its time (bench/RESULTS.md, session 9). This VFS wraps
//! the default one and, for write-ahead logs only, gathers consecutive appends in memory;
//! every other operation on the file (sync, read, size, truncate, close, file control) first
//! writes what was gathered, in order. The durability is unchanged: a commit's frames reach
//! the file before its `fsync`, and nothing is acknowledged before that `fsync` returns.
//!
//! Only for `synchronous = FULL` (what [`crate::Db::connect`] sets): there a commit always
//! syncs the WAL before it publishes its frames to other connections. With `NORMAL` a commit
//! publishes frames without touching the WAL file again, and other connections could read
//! frames still gathered here.

use libsqlite3_sys as ffi;
use std::ffi::{c_int, c_void};
use std::sync::OnceLock;

/// The name connections ask for (`SqliteConnectOptions::vfs`).
pub const NAME: &str = "aftersales-wal";
const NAME_C: &std::ffi::CStr = c"aftersales-wal";

/// Gathered bytes are written once they reach this much (a commit of ~270 frames is ~1.1 MB).
const CAP: usize = 1 << 20;

/// The most one call to the wrapped VFS writes: SQLite's own never writes more than a page
/// (64 KiB at most), and the unix VFS cuts a longer write short (to 128 KiB - 1 bytes).
const CHUNK: usize = 64 << 10;

/// The wrapped VFS, registered once per process.
struct Registered {
    real: *mut ffi::sqlite3_vfs,
}

// SAFETY: the pointer is SQLite's default VFS, a static object that lives as long as the
// process and whose methods are thread-safe.
unsafe impl Send for Registered {}
// SAFETY: as above.
unsafe impl Sync for Registered {}

static VFS: OnceLock<Result<Registered, c_int>> = OnceLock::new();

/// Registers the VFS under [`NAME`] (once; later calls return the first result).
pub fn register() -> Result<(), String> {
    let r = VFS.get_or_init(|| {
        // SAFETY: sqlite3_vfs_find(NULL) returns the default VFS or NULL; the copy made here
        // is leaked on purpose, as SQLite keeps a registered VFS for the process's lifetime.
        unsafe {
            let rc = ffi::sqlite3_initialize();
            if rc != ffi::SQLITE_OK {
                return Err(rc);
            }
            let real = ffi::sqlite3_vfs_find(std::ptr::null());
            if real.is_null() {
                return Err(ffi::SQLITE_ERROR);
            }
            let mut v: ffi::sqlite3_vfs = std::ptr::read(real);
            v.zName = NAME_C.as_ptr();
            v.pNext = std::ptr::null_mut();
            v.szOsFile = (wal_offset() + (*real).szOsFile as usize) as c_int;
            v.xOpen = Some(open);
            let v = Box::leak(Box::new(v));
            let rc = ffi::sqlite3_vfs_register(v, 0);
            if rc != ffi::SQLITE_OK {
                return Err(rc);
            }
            Ok(Registered { real })
        }
    });
    match r {
        Ok(_) => Ok(()),
        Err(rc) => Err(format!("SQLite VFS {NAME}: error {rc}")),
    }
}

fn real_vfs() -> *mut ffi::sqlite3_vfs {
    match VFS.get() {
        Some(Ok(r)) => r.real,
        _ => std::ptr::null_mut(),
    }
}

/// An open write-ahead log: the wrapped file sits right after this header, in the memory
/// SQLite allocated for the file (`szOsFile`).
#[repr(C)]
struct WalFile {
    base: ffi::sqlite3_file,
    real: *mut ffi::sqlite3_file,
    /// Bytes appended but not yet written, which belong at `start` in the file.
    buf: Vec<u8>,
    start: i64,
}

/// Where the wrapped file begins, 16-byte aligned.
const fn wal_offset() -> usize {
    (std::mem::size_of::<WalFile>() + 15) & !15
}

static WAL_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let real = real_vfs();
    // SAFETY: SQLite hands over `szOsFile` bytes at `file`, enough for the default VFS's file
    // alone or for a WalFile followed by it; `real` is the default VFS.
    unsafe {
        let Some(real_open) = (*real).xOpen else {
            return ffi::SQLITE_ERROR;
        };
        if flags & ffi::SQLITE_OPEN_WAL == 0 {
            return real_open(real, name, file, flags, out_flags);
        }
        let inner = file
            .cast::<u8>()
            .add(wal_offset())
            .cast::<ffi::sqlite3_file>();
        (*inner).pMethods = std::ptr::null();
        let rc = real_open(real, name, inner, flags, out_flags);
        if rc != ffi::SQLITE_OK {
            if let Some(m) = (*inner).pMethods.as_ref()
                && let Some(close) = m.xClose
            {
                close(inner);
            }
            (*file).pMethods = std::ptr::null();
            return rc;
        }
        std::ptr::write(
            file.cast::<WalFile>(),
            WalFile {
                base: ffi::sqlite3_file {
                    pMethods: &WAL_METHODS,
                },
                real: inner,
                buf: Vec::new(),
                start: 0,
            },
        );
        ffi::SQLITE_OK
    }
}

/// The WalFile behind a file SQLite opened through [`open`] with the WAL flag.
///
/// # Safety
/// `f` must be such a file, used by one connection at a time (SQLite's own rule).
unsafe fn wal<'a>(f: *mut ffi::sqlite3_file) -> &'a mut WalFile {
    // SAFETY: see the function's contract.
    unsafe { &mut *f.cast::<WalFile>() }
}

/// The wrapped file's methods.
///
/// # Safety
/// As [`wal`].
unsafe fn methods<'a>(w: &WalFile) -> &'a ffi::sqlite3_io_methods {
    // SAFETY: an open file's methods are static and non-null.
    unsafe { &*(*w.real).pMethods }
}

/// Writes what was gathered.
///
/// # Safety
/// As [`wal`].
unsafe fn flush(w: &mut WalFile) -> c_int {
    if w.buf.is_empty() {
        return ffi::SQLITE_OK;
    }
    let mut rc = ffi::SQLITE_OK;
    let mut off = w.start;
    for chunk in w.buf.chunks(CHUNK) {
        // SAFETY: the wrapped file is open; the chunk outlives the call.
        rc = unsafe {
            match methods(w).xWrite {
                Some(x) => x(
                    w.real,
                    chunk.as_ptr().cast::<c_void>(),
                    chunk.len() as c_int,
                    off,
                ),
                None => ffi::SQLITE_IOERR_WRITE,
            }
        };
        if rc != ffi::SQLITE_OK {
            break;
        }
        off += chunk.len() as i64;
    }
    w.buf.clear();
    rc
}

/// Flushes, then runs `then` on the wrapped file if that succeeded.
///
/// # Safety
/// As [`wal`].
unsafe fn flushed(f: *mut ffi::sqlite3_file, then: impl FnOnce(&WalFile) -> c_int) -> c_int {
    // SAFETY: see the function's contract.
    unsafe {
        let w = wal(f);
        let rc = flush(w);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        then(w)
    }
}

unsafe extern "C" fn close(f: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite closes a file once; the WalFile is dropped in place here and never used
    // again.
    unsafe {
        let w = wal(f);
        let rc = flush(w);
        let real = w.real;
        std::ptr::drop_in_place(f.cast::<WalFile>());
        let closed = match (*real).pMethods.as_ref().and_then(|m| m.xClose) {
            Some(x) => x(real),
            None => ffi::SQLITE_OK,
        };
        if rc != ffi::SQLITE_OK { rc } else { closed }
    }
}

unsafe extern "C" fn read(f: *mut ffi::sqlite3_file, p: *mut c_void, n: c_int, off: i64) -> c_int {
    // SAFETY: forwarded as SQLite called it.
    unsafe {
        flushed(f, |w| match methods(w).xRead {
            Some(x) => x(w.real, p, n, off),
            None => ffi::SQLITE_IOERR_READ,
        })
    }
}

unsafe extern "C" fn write(
    f: *mut ffi::sqlite3_file,
    p: *const c_void,
    n: c_int,
    off: i64,
) -> c_int {
    // SAFETY: `p` holds `n` bytes (SQLite's contract for xWrite).
    unsafe {
        let w = wal(f);
        let n_us = n.max(0) as usize;
        let appends = !w.buf.is_empty() && off == w.start + w.buf.len() as i64;
        if !appends || w.buf.len() + n_us > CAP {
            let rc = flush(w);
            if rc != ffi::SQLITE_OK {
                return rc;
            }
            if n_us > CHUNK {
                return match methods(w).xWrite {
                    Some(x) => x(w.real, p, n, off),
                    None => ffi::SQLITE_IOERR_WRITE,
                };
            }
            w.start = off;
        }
        w.buf
            .extend_from_slice(std::slice::from_raw_parts(p.cast::<u8>(), n_us));
        ffi::SQLITE_OK
    }
}

unsafe extern "C" fn truncate(f: *mut ffi::sqlite3_file, size: i64) -> c_int {
    // SAFETY: forwarded as SQLite called it.
    unsafe {
        flushed(f, |w| match methods(w).xTruncate {
            Some(x) => x(w.real, size),
            None => ffi::SQLITE_IOERR_TRUNCATE,
        })
    }
}

unsafe extern "C" fn sync(f: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    // SAFETY: forwarded as SQLite called it.
    unsafe {
        flushed(f, |w| match methods(w).xSync {
            Some(x) => x(w.real, flags),
            None => ffi::SQLITE_IOERR_FSYNC,
        })
    }
}

unsafe extern "C" fn file_size(f: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    // SAFETY: forwarded as SQLite called it.
    unsafe {
        flushed(f, |w| match methods(w).xFileSize {
            Some(x) => x(w.real, size),
            None => ffi::SQLITE_IOERR_FSTAT,
        })
    }
}

unsafe extern "C" fn lock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    // SAFETY: forwarded as SQLite called it.
    unsafe {
        let w = wal(f);
        match methods(w).xLock {
            Some(x) => x(w.real, level),
            None => ffi::SQLITE_OK,
        }
    }
}

unsafe extern "C" fn unlock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    // SAFETY: forwarded as SQLite called it.
    unsafe {
        let w = wal(f);
        match methods(w).xUnlock {
            Some(x) => x(w.real, level),
            None => ffi::SQLITE_OK,
        }
    }
}

unsafe extern "C" fn check_reserved_lock(f: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    // SAFETY: forwarded as SQLite called it.
    unsafe {
        let w = wal(f);
        match methods(w).xCheckReservedLock {
            Some(x) => x(w.real, out),
            None => {
                *out = 0;
                ffi::SQLITE_OK
            }
        }
    }
}

unsafe extern "C" fn file_control(f: *mut ffi::sqlite3_file, op: c_int, arg: *mut c_void) -> c_int {
    // SAFETY: forwarded as SQLite called it.
    unsafe {
        flushed(f, |w| match methods(w).xFileControl {
            Some(x) => x(w.real, op, arg),
            None => ffi::SQLITE_NOTFOUND,
        })
    }
}

unsafe extern "C" fn sector_size(f: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: forwarded as SQLite called it.
    unsafe {
        let w = wal(f);
        match methods(w).xSectorSize {
            Some(x) => x(w.real),
            None => 4096,
        }
    }
}

unsafe extern "C" fn device_characteristics(f: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: forwarded as SQLite called it.
    unsafe {
        let w = wal(f);
        match methods(w).xDeviceCharacteristics {
            Some(x) => x(w.real),
            None => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::db::tests::temp_dir;
    use libsqlite3_sys as ffi;
    use std::ffi::CString;

    /// Runs SQL on a raw connection, panicking with SQLite's message on failure.
    fn exec(db: *mut ffi::sqlite3, sql: &str) {
        let sql = CString::new(sql).expect("sql");
        let mut err: *mut std::ffi::c_char = std::ptr::null_mut();
        // SAFETY: `db` is open; `err` is freed with sqlite3_free as the API asks.
        let rc =
            unsafe { ffi::sqlite3_exec(db, sql.as_ptr(), None, std::ptr::null_mut(), &mut err) };
        if rc != ffi::SQLITE_OK {
            // SAFETY: on failure SQLite sets `err` to a message it allocated (or leaves NULL).
            let msg = unsafe {
                let m = if err.is_null() {
                    String::new()
                } else {
                    std::ffi::CStr::from_ptr(err).to_string_lossy().into_owned()
                };
                ffi::sqlite3_free(err.cast());
                m
            };
            panic!("{sql:?}: {rc} {msg}");
        }
    }

    /// The WAL as this VFS writes it is the WAL SQLite meant to write: a copy of the files
    /// taken before any checkpoint (as a power cut would leave them) opens through the plain
    /// VFS, recovers every committed transaction from the frames, checksums included, and
    /// passes the integrity check. The big transaction's frames exceed the gathering buffer,
    /// so they are written in several pieces.
    #[tokio::test]
    async fn a_wal_written_in_pieces_recovers_like_sqlites_own() {
        super::register().expect("register");
        let dir = temp_dir("aftersales-walbuf");
        let path = CString::new(dir.join("t.db").to_string_lossy().as_bytes()).expect("path");
        let vfs = CString::new(super::NAME).expect("name");
        let mut db: *mut ffi::sqlite3 = std::ptr::null_mut();
        // SAFETY: plain open; closed below.
        let rc = unsafe {
            ffi::sqlite3_open_v2(
                path.as_ptr(),
                &mut db,
                ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE,
                vfs.as_ptr(),
            )
        };
        assert_eq!(rc, ffi::SQLITE_OK);
        exec(
            db,
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB);
             BEGIN;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
             INSERT INTO t (v) SELECT randomblob(1000) FROM n;
             COMMIT;",
        );
        for i in 0..20 {
            exec(db, &format!("INSERT INTO t (v) VALUES (zeroblob({i}))"));
        }
        exec(db, "UPDATE t SET v = zeroblob(7) WHERE id % 100 = 0");
        // A read through the same file sees the frames gathered before it.
        exec(db, "SELECT COUNT(*) FROM t");
        for (from, to) in [("t.db", "c.db"), ("t.db-wal", "c.db-wal")] {
            std::fs::copy(dir.join(from), dir.join(to)).expect("copy");
        }
        let wal = std::fs::metadata(dir.join("c.db-wal")).expect("wal").len();
        // SAFETY: opened above, no statement left open.
        unsafe { ffi::sqlite3_close(db) };
        assert!(
            wal > 3 << 20,
            "the WAL holds the transactions ({wal} bytes)"
        );

        use sqlx::{ConnectOptions, Connection};
        let mut c = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.join("c.db"))
            .connect()
            .await
            .expect("open the copy");
        let ok: (String,) = sqlx::query_as("PRAGMA integrity_check")
            .fetch_one(&mut c)
            .await
            .expect("check");
        assert_eq!(ok.0, "ok");
        let n: (i64, i64) = sqlx::query_as("SELECT COUNT(*), SUM(length(v)) FROM t")
            .fetch_one(&mut c)
            .await
            .expect("count");
        // 3,000 blobs of 1,000 bytes, 30 of them cut to 7; 20 of 0..19 bytes.
        assert_eq!(n, (3020, 2970 * 1000 + 30 * 7 + 190));
        c.close().await.expect("close");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Every connection of a SQLite [`crate::Db`] opens its files through this VFS (the
    /// writer's WAL is the one that matters).
    #[tokio::test]
    async fn the_database_writes_through_this_vfs() {
        let dir = temp_dir("aftersales-walbuf-db");
        let db = crate::Db::connect(&format!("sqlite:{}", dir.join("t.db").display()), 2)
            .await
            .expect("connect");
        let mut tx = db.begin().await.expect("begin");
        let name = match &mut tx {
            crate::db::Tx::Sqlite(t, _) => {
                let mut h = t.lock_handle().await.expect("handle");
                let mut vfs: *mut ffi::sqlite3_vfs = std::ptr::null_mut();
                // SAFETY: the handle is locked for this call; FCNTL_VFS_POINTER writes one
                // pointer to the connection's VFS, static while the process runs.
                unsafe {
                    let rc = ffi::sqlite3_file_control(
                        h.as_raw_handle().as_ptr(),
                        c"main".as_ptr(),
                        ffi::SQLITE_FCNTL_VFS_POINTER,
                        (&mut vfs as *mut *mut ffi::sqlite3_vfs).cast(),
                    );
                    assert_eq!(rc, ffi::SQLITE_OK);
                    std::ffi::CStr::from_ptr((*vfs).zName)
                        .to_string_lossy()
                        .into_owned()
                }
            }
            crate::db::Tx::Postgres(_) => unreachable!("a SQLite URL"),
        };
        tx.commit().await.expect("commit");
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(name, super::NAME);
    }
}
