//! The engine boundary: a safe Rust face over the C ABI of
//! `include/corewire_engine.h`.
//!
//! An [`Engine`] is shared by all workers; each worker opens its own
//! [`EngineWorker`] on its own thread and uses it for every request. Values
//! are never returned in engine-allocated memory: the engine hands each value
//! to a sink closure that copies it where it is needed (usually straight into
//! the connection's output buffer), so a GET allocates nothing.
//!
//! Every key operation names a logical database (`db`, 0-based; the engine
//! has [`Engine::databases`] of them). Deadlines (`expire_at_ms`) are Unix
//! milliseconds on the engine's clock (CLOCK_REALTIME for the bundled
//! engine); 0 means "no expiry". The seed ABI serves database 0 only.

pub mod ffi;
#[cfg(test)]
mod tests;

use std::cell::{Cell, OnceCell};
use std::ffi::{c_char, c_void, CStr, CString};
use std::fmt;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;

use crate::stats::EngineCounters;
use ffi::*;

/// Why an engine call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineError {
    Conflict,
    NotInteger,
    Overflow,
    InvalidArgument,
    NoMemory,
    Internal,
    /// The host implements only the seed ABI (GET and SET).
    Unsupported,
    /// The write-ahead log cannot be written (disk full, I/O error):
    /// nothing was written. Carries the errno of the failure (0: unknown).
    LogFailed(i32),
    /// A checkpoint is already running.
    Busy,
}

impl EngineError {
    fn from_status(status: cw_status) -> EngineError {
        match status {
            CW_CONFLICT => EngineError::Conflict,
            CW_NOT_INTEGER => EngineError::NotInteger,
            CW_OVERFLOW => EngineError::Overflow,
            CW_INVALID_ARGUMENT => EngineError::InvalidArgument,
            CW_NO_MEMORY => EngineError::NoMemory,
            CW_LOG_FAILED => EngineError::LogFailed(0),
            CW_BUSY => EngineError::Busy,
            _ => EngineError::Internal,
        }
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            // PostgreSQL's wording; RESP words it as Redis does.
            EngineError::LogFailed(errno) => {
                return write!(
                    f,
                    "could not write to the write-ahead log: {}",
                    os_error_text(*errno)
                )
            }
            EngineError::Busy => "a checkpoint is already running",
            EngineError::Conflict => "transaction conflict",
            EngineError::NotInteger => "value is not an integer",
            EngineError::Overflow => "integer overflow",
            EngineError::InvalidArgument => "invalid argument",
            EngineError::NoMemory => "out of memory",
            EngineError::Internal => "internal engine error",
            EngineError::Unsupported => "not supported by the seed engine ABI",
        };
        f.write_str(text)
    }
}

pub type EngineResult<T> = Result<T, EngineError>;

/// Ok for CW_OK, else the error, with the log's errno for CW_LOG_FAILED.
fn check(ops: &cw_engine_ops, status: cw_status) -> EngineResult<()> {
    if status == CW_OK {
        Ok(())
    } else {
        Err(status_error(ops, status))
    }
}

/// The error for a failed status. CW_LOG_FAILED is rare, so asking the
/// engine for the errno of the log failure then costs nothing that matters.
#[cold]
fn status_error(ops: &cw_engine_ops, status: cw_status) -> EngineError {
    match status {
        CW_LOG_FAILED => EngineError::LogFailed(info_of(ops).map_or(0, |info| info.log_errno)),
        other => EngineError::from_status(other),
    }
}

/// What storage_open answers an engine without the durability group.
const NO_DURABILITY: &str =
    "this engine has no durability (its ops table has no storage functions): unset data-dir, or link an engine that implements the ABI v3 durability functions";

/// The durability figures of the engine behind `ops`.
fn info_of(ops: &cw_engine_ops) -> Option<StorageInfo> {
    let storage_info = ops.storage_info?;
    let mut info = StorageInfo {
        struct_size: std::mem::size_of::<StorageInfo>() as u32,
        ..StorageInfo::default()
    };
    // SAFETY: a valid v3 table; info is a writable cw_storage_info whose
    // struct_size is set, as the header asks.
    let status = unsafe { storage_info(ops.engine, &mut info) };
    (status == CW_OK).then_some(info)
}

/// Copies a v2 table into a v3 one whose durability group is NULL.
///
/// # Safety
/// `ops` must point to CW_ENGINE_OPS_V2_SIZE readable bytes of a valid v2
/// table.
unsafe fn widen_v2(ops: *const cw_engine_ops) -> cw_engine_ops {
    let mut wide = std::mem::MaybeUninit::<cw_engine_ops>::uninit();
    let out = wide.as_mut_ptr();
    // SAFETY: the v2 bytes are readable (contract) and the destination is a
    // whole v3 table; the durability fields start right after them (the
    // layout asserts in ffi.rs) and are written as None below, so every
    // field is initialized before assume_init.
    unsafe {
        std::ptr::copy_nonoverlapping(
            ops as *const u8,
            out as *mut u8,
            CW_ENGINE_OPS_V2_SIZE as usize,
        );
        std::ptr::addr_of_mut!((*out).storage_open).write(None);
        std::ptr::addr_of_mut!((*out).storage_tune).write(None);
        std::ptr::addr_of_mut!((*out).log_appended).write(None);
        std::ptr::addr_of_mut!((*out).log_flush).write(None);
        std::ptr::addr_of_mut!((*out).log_sync).write(None);
        std::ptr::addr_of_mut!((*out).checkpoint).write(None);
        std::ptr::addr_of_mut!((*out).storage_info).write(None);
        (*out).struct_size = std::mem::size_of::<cw_engine_ops>() as u32;
        wide.assume_init()
    }
}

fn data_dir_cstring(path: &std::path::Path) -> Result<CString, String> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| format!("data-dir {}: a path cannot hold a NUL byte", path.display()))
}

/// strerror(errno) without Rust's " (os error N)" suffix; 0 (unknown)
/// reads as EIO, the generic I/O failure.
pub fn os_error_text(errno: i32) -> String {
    let errno = if errno == 0 { libc::EIO } else { errno };
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    match text.rfind(" (os error ") {
        Some(end) => text[..end].to_string(),
        None => text,
    }
}

/// The durability figures of an engine (`cw_storage_info`).
pub type StorageInfo = cw_storage_info;

/// When a worker's log is fsynced (Redis's appendfsync).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// Write per batch; the OS flushes when it likes.
    No,
    /// Write per batch, fsync once a second off the request path.
    Everysec,
    /// Write and fsync per batch before replying.
    Always,
}

impl FsyncPolicy {
    pub const NAMES: &'static str = "always, everysec, no";

    pub fn parse(text: &str) -> Option<FsyncPolicy> {
        match text.trim().to_ascii_lowercase().as_str() {
            "no" => Some(FsyncPolicy::No),
            "everysec" => Some(FsyncPolicy::Everysec),
            "always" => Some(FsyncPolicy::Always),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FsyncPolicy::No => "no",
            FsyncPolicy::Everysec => "everysec",
            FsyncPolicy::Always => "always",
        }
    }

    fn raw(self) -> u32 {
        match self {
            FsyncPolicy::No => CW_FSYNC_NO,
            FsyncPolicy::Everysec => CW_FSYNC_EVERYSEC,
            FsyncPolicy::Always => CW_FSYNC_ALWAYS,
        }
    }

    /// The policy an engine reports (`cw_storage_info.fsync_policy`).
    pub fn from_raw(raw: u32) -> Option<FsyncPolicy> {
        match raw {
            CW_FSYNC_NO => Some(FsyncPolicy::No),
            CW_FSYNC_EVERYSEC => Some(FsyncPolicy::Everysec),
            CW_FSYNC_ALWAYS => Some(FsyncPolicy::Always),
            _ => None,
        }
    }
}

/// What storage_open and storage_tune take (`cw_storage_options`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageOptions {
    pub data_dir: std::path::PathBuf,
    pub fsync: FsyncPolicy,
    /// Checkpoint once the logs since the last one exceed this (0: never
    /// by size).
    pub checkpoint_log_bytes: u64,
    /// Checkpoint this often when anything changed (0: never by time).
    pub checkpoint_interval_ms: u64,
    /// Threads replaying logs at startup (0: one per core).
    pub recovery_threads: u32,
    /// Cut a log at a corrupt record in its middle instead of refusing
    /// to start.
    pub truncate_corrupt: bool,
}

impl StorageOptions {
    /// The C struct, borrowing `data_dir` (which must outlive its use).
    fn raw(&self, data_dir: &CStr) -> cw_storage_options {
        cw_storage_options {
            struct_size: std::mem::size_of::<cw_storage_options>() as u32,
            fsync_policy: self.fsync.raw(),
            data_dir: data_dir.as_ptr(),
            checkpoint_log_bytes: self.checkpoint_log_bytes,
            checkpoint_interval_ms: self.checkpoint_interval_ms,
            recovery_threads: self.recovery_threads,
            truncate_corrupt: u32::from(self.truncate_corrupt),
            log: Some(storage_log),
            log_ctx: std::ptr::null_mut(),
        }
    }
}

/// The engine's log lines (recovery, checkpoints, log failures) into
/// corewire's log at the engine's level. Called from any engine thread;
/// never unwinds into the engine.
unsafe extern "C" fn storage_log(_log_ctx: *mut c_void, level: i32, message: *const c_char) {
    let _ = catch_unwind(|| {
        if message.is_null() {
            return;
        }
        // SAFETY: the engine passes a NUL-terminated string valid for the
        // call.
        let text = unsafe { CStr::from_ptr(message) }.to_string_lossy();
        match level {
            CW_LOG_ERROR => crate::log_error!("{text}"),
            CW_LOG_WARN => crate::log_warn!("{text}"),
            _ => crate::log_info!("{text}"),
        }
    });
}

/// Condition of a single-key write (Redis SET NX / XX).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutCondition {
    Always,
    IfAbsent,
    IfPresent,
}

/// Receives the previous value of a single-key write (`None`: missing).
pub type OldValueSink<'a> = &'a mut dyn FnMut(Option<&[u8]>);

/// Deadline of a write (Redis SET EX/PX/EXAT/PXAT/KEEPTTL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutExpiry {
    /// No deadline: a plain SET clears any existing one.
    None,
    /// Unix ms. One already past deletes the key instead of writing it.
    At(i64),
    /// Keep the key's current deadline, if any.
    Keep,
}

impl PutExpiry {
    fn flags_and_deadline(self) -> (u32, i64) {
        match self {
            PutExpiry::None => (0, 0),
            PutExpiry::At(ms) => (0, ms),
            PutExpiry::Keep => (CW_PUT_KEEP_TTL, 0),
        }
    }
}

/// `db` for [`EngineWorker::clear`] that clears every database (FLUSHALL).
pub const ALL_DATABASES: u32 = CW_ALL_DATABASES;
/// Flags of [`EngineWorker::expire`] (Redis 7 EXPIRE options). Valid: none,
/// NX, XX, GT, LT, XX|GT, XX|LT.
pub const EXPIRE_NX: u32 = CW_EXPIRE_NX;
pub const EXPIRE_XX: u32 = CW_EXPIRE_XX;
pub const EXPIRE_GT: u32 = CW_EXPIRE_GT;
pub const EXPIRE_LT: u32 = CW_EXPIRE_LT;

/// The engine behind a server: the host's rich ops table, or the four seed
/// functions only.
#[derive(Clone, Copy)]
pub enum Engine {
    Seed,
    Rich(RichOps),
}

/// A validated `cw_engine_ops` table.
#[derive(Clone, Copy)]
pub struct RichOps(cw_engine_ops);

// SAFETY: the header requires every ops function to be callable from any
// worker thread; per-thread state lives in the cw_worker handles, which are
// never shared (EngineWorker is !Send).
unsafe impl Send for RichOps {}
// SAFETY: as above; the table itself is immutable.
unsafe impl Sync for RichOps {}

impl Engine {
    /// Validates a host-provided ops table.
    ///
    /// # Safety
    /// `ops` must be NULL or point to a `cw_engine_ops` whose function
    /// pointers are valid for the life of the server.
    pub unsafe fn from_ops(ops: *const cw_engine_ops) -> Result<Engine, String> {
        if ops.is_null() {
            return Err("engine ops table is NULL".into());
        }
        // SAFETY: non-NULL and valid per this function's contract; read the
        // two header words first so that a smaller (older) table is not
        // over-read.
        let (abi_version, struct_size) = unsafe { ((*ops).abi_version, (*ops).struct_size) };
        let v3_size = std::mem::size_of::<cw_engine_ops>();
        let ops = match (abi_version, struct_size) {
            // SAFETY: version and size checked; the caller vouches for
            // validity.
            (CW_ENGINE_ABI_VERSION, size) if size as usize == v3_size => unsafe { *ops },
            (CW_ENGINE_ABI_VERSION_V2, CW_ENGINE_OPS_V2_SIZE) => {
                // SAFETY: a v2 table holds exactly CW_ENGINE_OPS_V2_SIZE
                // valid bytes, the same layout as the start of a v3 one.
                unsafe { widen_v2(ops) }
            }
            (CW_ENGINE_ABI_VERSION | CW_ENGINE_ABI_VERSION_V2, size) => {
                return Err(format!(
                    "engine ops struct_size {size} for ABI version {abi_version}, corewire expects {} (v3) or {CW_ENGINE_OPS_V2_SIZE} (v2)",
                    v3_size
                ))
            }
            (version, _) => {
                return Err(format!(
                    "engine ABI version {version}, corewire expects {CW_ENGINE_ABI_VERSION} (or {CW_ENGINE_ABI_VERSION_V2})"
                ))
            }
        };
        if ops.databases == 0 || ops.databases > CW_MAX_DATABASES {
            return Err(format!(
                "engine has {} databases, corewire accepts 1..={CW_MAX_DATABASES}",
                ops.databases
            ));
        }
        let durability = [
            ops.storage_open.is_some(),
            ops.storage_tune.is_some(),
            ops.log_appended.is_some(),
            ops.log_flush.is_some(),
            ops.log_sync.is_some(),
            ops.checkpoint.is_some(),
            ops.storage_info.is_some(),
        ];
        if durability.contains(&true) && durability.contains(&false) {
            return Err("engine ops: the durability functions must be all set or all NULL".into());
        }
        Ok(Engine::Rich(RichOps(ops)))
    }

    /// Whether the engine implements the durability group (ABI v3).
    pub fn has_durability(&self) -> bool {
        matches!(self, Engine::Rich(RichOps(ops)) if ops.storage_open.is_some())
    }

    /// Opens the data directory, recovers it into the (empty) engine and
    /// starts logging. Call once, before any worker opens. Recovery
    /// progress and warnings reach corewire's log through the options'
    /// callback. Err: the engine's one-line reason.
    pub fn storage_open(&self, options: &StorageOptions) -> Result<(), String> {
        let (ops, open) = match self {
            Engine::Rich(RichOps(ops)) => match ops.storage_open {
                Some(open) => (ops, open),
                None => return Err(NO_DURABILITY.into()),
            },
            Engine::Seed => return Err(NO_DURABILITY.into()),
        };
        let data_dir = data_dir_cstring(&options.data_dir)?;
        let raw = options.raw(&data_dir);
        let mut error = [0 as c_char; 512];
        // SAFETY: a valid v3 table; raw and the data_dir it points at live
        // through the call; error is writable for its length.
        let status = unsafe { open(ops.engine, &raw, error.as_mut_ptr(), error.len()) };
        if status == CW_OK {
            return Ok(());
        }
        // Whatever the engine wrote, it is NUL-terminated within the buffer.
        let last = error.len() - 1;
        error[last] = 0;
        // SAFETY: error holds a NUL-terminated string (the last byte is 0).
        let reason = unsafe { CStr::from_ptr(error.as_ptr()) }.to_string_lossy();
        if reason.is_empty() {
            Err(format!(
                "cannot open {}: {}",
                options.data_dir.display(),
                EngineError::from_status(status)
            ))
        } else {
            Err(reason.into_owned())
        }
    }

    /// Applies the live durability settings (fsync policy, checkpoint
    /// triggers) of `options`; data_dir and the recovery fields are ignored.
    pub fn storage_tune(&self, options: &StorageOptions) -> EngineResult<()> {
        let Engine::Rich(RichOps(ops)) = self else {
            return Err(EngineError::Unsupported);
        };
        let tune = ops.storage_tune.ok_or(EngineError::Unsupported)?;
        let data_dir =
            data_dir_cstring(&options.data_dir).map_err(|_| EngineError::InvalidArgument)?;
        let raw = options.raw(&data_dir);
        // SAFETY: a valid v3 table; raw and data_dir live through the call.
        check(ops, unsafe { tune(ops.engine, &raw) })
    }

    /// Starts a checkpoint (BGSAVE) or, with `wait`, runs one to its end
    /// (SAVE: blocks the caller). `Err(Busy)`: one is already running and
    /// `wait` is false; `Err(LogFailed)`: it failed.
    pub fn checkpoint(&self, wait: bool) -> EngineResult<()> {
        let Engine::Rich(RichOps(ops)) = self else {
            return Err(EngineError::Unsupported);
        };
        let checkpoint = ops.checkpoint.ok_or(EngineError::Unsupported)?;
        // SAFETY: a valid v3 table.
        check(ops, unsafe { checkpoint(ops.engine, u32::from(wait)) })
    }

    /// Durability figures; None without the durability group (or if the
    /// engine fails to answer).
    pub fn storage_info(&self) -> Option<StorageInfo> {
        match self {
            Engine::Rich(RichOps(ops)) => info_of(ops),
            Engine::Seed => None,
        }
    }

    /// Number of logical databases (the seed ABI has only database 0).
    pub fn databases(&self) -> u32 {
        match self {
            Engine::Seed => 1,
            Engine::Rich(RichOps(ops)) => ops.databases,
        }
    }

    /// Opens the engine state of one worker; call it on that worker's thread.
    /// The seed ABI sets up thread state with cpp_worker_thread_init; the
    /// rich ABI with worker_open, whose handle is explicit, so that several
    /// engines (one per test server, say) can live in one process.
    pub fn open_worker(&self, worker_id: usize) -> EngineResult<EngineWorker> {
        match self {
            Engine::Seed => {
                // SAFETY: the seed contract: called once per worker thread,
                // before any request on it.
                unsafe { cpp_worker_thread_init(worker_id) };
                Ok(EngineWorker {
                    ops: None,
                    handle: std::ptr::null_mut(),
                    keys: Vec::new(),
                    home: Rc::new(Home::default()),
                })
            }
            Engine::Rich(RichOps(ops)) => {
                // SAFETY: a valid ops table (from_ops), called on the worker
                // thread that will own the handle.
                let handle = unsafe { (ops.worker_open)(ops.engine, worker_id) };
                if handle.is_null() {
                    return Err(EngineError::Internal);
                }
                Ok(EngineWorker {
                    ops: Some(*ops),
                    handle,
                    keys: Vec::new(),
                    home: Rc::new(Home::default()),
                })
            }
        }
    }
}

/// One worker's engine handle. Not `Send`: it belongs to the thread that
/// opened it.
pub struct EngineWorker {
    ops: Option<cw_engine_ops>,
    handle: *mut cw_worker,
    /// Reused key/value slice arrays for multi-key calls.
    keys: Vec<cw_slice>,
    /// What its transactions share with it.
    home: Rc<Home>,
}

/// Lets a helper thread fsync a worker's log while the worker runs on.
pub struct LogSyncHandle {
    log_sync: unsafe extern "C" fn(*mut cw_worker, u64) -> cw_status,
    handle: *mut cw_worker,
}

// SAFETY: log_sync is the one engine op documented as callable from any
// thread, concurrently with the worker's own calls; the owner keeps the
// worker handle open until every LogSyncHandle is gone (Worker drops its
// syncer before its EngineWorker).
unsafe impl Send for LogSyncHandle {}

impl LogSyncHandle {
    /// fsyncs the log until `ticket` is durable. False if the fsync failed
    /// (the engine then refuses writes until a restart).
    pub fn sync(&self, ticket: u64) -> bool {
        // SAFETY: see the Send impl; the handle is open.
        unsafe { (self.log_sync)(self.handle, ticket) == CW_OK }
    }
}

/// What a worker's [`Txn`]s share with it (an `Rc`: cloning it per
/// transaction costs no locked instruction).
struct Home {
    /// Cleared when the handle closes; worker_close frees every open
    /// transaction, so a [`Txn`] that outlives its worker must not touch
    /// its handle again.
    alive: Cell<bool>,
    /// Where commits, conflicts and aborts are counted, once the runtime
    /// set it ([`EngineWorker::count_into`]).
    counters: OnceCell<Arc<EngineCounters>>,
}

impl Default for Home {
    fn default() -> Home {
        Home {
            alive: Cell::new(true),
            counters: OnceCell::new(),
        }
    }
}

impl Home {
    /// Counts a commit's (or a single-call write's) status: OK is a
    /// commit, a conflict a conflict; other failures count nothing.
    #[inline]
    fn count_status(&self, status: cw_status) {
        if let Some(counters) = self.counters.get() {
            match status {
                CW_OK => counters.commits.add(1),
                CW_CONFLICT => counters.conflicts.add(1),
                _ => {}
            }
        }
    }
}

impl Drop for EngineWorker {
    fn drop(&mut self) {
        self.home.alive.set(false);
        if let Some(ops) = &self.ops {
            // SAFETY: handle came from worker_open on this thread and is
            // closed exactly once.
            unsafe { (ops.worker_close)(self.handle) };
        }
    }
}

/// Context behind a sink: the closure plus a note of whether it panicked,
/// because a panic must not unwind through the engine.
struct SinkCtx<F> {
    on_value: F,
    panicked: bool,
}

unsafe extern "C" fn sink_trampoline<F: FnMut(Option<&[u8]>)>(
    ctx: *mut c_void,
    ptr: *const u8,
    len: usize,
) {
    // SAFETY: ctx is the &mut SinkCtx<F> that `sink_call` passed for the
    // duration of the engine call, and nothing else aliases it meanwhile.
    let ctx = unsafe { &mut *(ctx as *mut SinkCtx<F>) };
    let value = if ptr.is_null() {
        None
    } else if len == 0 {
        Some(&[][..])
    } else {
        // SAFETY: the engine guarantees ptr..ptr+len is readable during
        // this call.
        Some(unsafe { std::slice::from_raw_parts(ptr, len) })
    };
    let on_value = &mut ctx.on_value;
    if catch_unwind(AssertUnwindSafe(|| on_value(value))).is_err() {
        ctx.panicked = true;
    }
}

impl EngineWorker {
    fn rich(&self) -> EngineResult<&cw_engine_ops> {
        self.ops.as_ref().ok_or(EngineError::Unsupported)
    }

    /// Counts this worker's commits, conflicts and aborts into `counters`
    /// from now on (`crate::stats::EngineCounters` says what counts). The
    /// first call wins.
    pub fn count_into(&self, counters: Arc<EngineCounters>) {
        let _ = self.home.counters.set(counters);
    }

    /// Reads one key; `on_value` gets `None` for a missing (or expired) key.
    pub fn get<F: FnMut(Option<&[u8]>)>(
        &mut self,
        db: u32,
        key: &[u8],
        on_value: F,
    ) -> EngineResult<()> {
        self.get_inner(db, key, on_value, std::ptr::null_mut())
    }

    /// Like [`get`](Self::get), and returns the key's deadline in Unix ms
    /// (0: none, or key missing).
    pub fn get_with_expiry<F: FnMut(Option<&[u8]>)>(
        &mut self,
        db: u32,
        key: &[u8],
        on_value: F,
    ) -> EngineResult<i64> {
        let mut deadline = 0i64;
        self.get_inner(db, key, on_value, &mut deadline)?;
        Ok(deadline)
    }

    fn get_inner<F: FnMut(Option<&[u8]>)>(
        &mut self,
        db: u32,
        key: &[u8],
        on_value: F,
        deadline: *mut i64,
    ) -> EngineResult<()> {
        let mut ctx = SinkCtx {
            on_value,
            panicked: false,
        };
        match &self.ops {
            None if db != 0 => return Err(EngineError::Unsupported),
            None => seed_get(key, &mut ctx.on_value)?,
            Some(ops) => {
                // SAFETY: valid handle on its own thread; key, ctx and
                // deadline (NULL or a live i64) outlive the call; the
                // trampoline matches ctx's type.
                let status = unsafe {
                    (ops.get)(
                        self.handle,
                        db,
                        cw_slice::from(key),
                        sink_trampoline::<F>,
                        &mut ctx as *mut SinkCtx<F> as *mut c_void,
                        deadline,
                    )
                };
                check(ops, status)?;
            }
        }
        if ctx.panicked {
            return Err(EngineError::Internal);
        }
        Ok(())
    }

    /// Writes one key with no deadline (clearing any). `on_old` (if given)
    /// sees the previous value whether or not the write happens. Returns
    /// whether it was written.
    pub fn put(
        &mut self,
        db: u32,
        key: &[u8],
        value: &[u8],
        condition: PutCondition,
        on_old: Option<OldValueSink<'_>>,
    ) -> EngineResult<bool> {
        self.put_with_expiry(db, key, value, condition, PutExpiry::None, on_old)
    }

    /// [`put`](Self::put) with a deadline: none, an absolute one (already
    /// past: the key is deleted and `Ok(true)` returned), or the current one.
    pub fn put_with_expiry(
        &mut self,
        db: u32,
        key: &[u8],
        value: &[u8],
        condition: PutCondition,
        expiry: PutExpiry,
        on_old: Option<OldValueSink<'_>>,
    ) -> EngineResult<bool> {
        let Some(ops) = &self.ops else {
            if db != 0
                || condition != PutCondition::Always
                || expiry != PutExpiry::None
                || on_old.is_some()
            {
                return Err(EngineError::Unsupported);
            }
            let written = seed_set(key, value);
            self.home
                .count_status(if written.is_ok() { CW_OK } else { CW_INTERNAL });
            return written.map(|()| true);
        };
        let (ttl_flags, deadline) = expiry.flags_and_deadline();
        let flags = ttl_flags
            | match condition {
                PutCondition::Always => 0,
                PutCondition::IfAbsent => CW_PUT_IF_ABSENT,
                PutCondition::IfPresent => CW_PUT_IF_PRESENT,
            };
        let mut ctx = on_old.map(|on_value| SinkCtx {
            on_value,
            panicked: false,
        });
        let (sink, sink_ctx): (Option<cw_value_sink>, *mut c_void) = match &mut ctx {
            Some(ctx) => (
                Some(sink_trampoline::<&mut dyn FnMut(Option<&[u8]>)>),
                ctx as *mut SinkCtx<_> as *mut c_void,
            ),
            None => (None, std::ptr::null_mut()),
        };
        // SAFETY: valid handle on its own thread; key, value and ctx outlive
        // the call; the trampoline matches ctx's type.
        let status = unsafe {
            (ops.put)(
                self.handle,
                db,
                cw_slice::from(key),
                cw_slice::from(value),
                flags,
                deadline,
                sink,
                sink_ctx,
            )
        };
        self.home.count_status(status);
        if ctx.is_some_and(|ctx| ctx.panicked) {
            return Err(EngineError::Internal);
        }
        match status {
            CW_OK => Ok(true),
            CW_CONDITION_FAILED => Ok(false),
            other => Err(status_error(ops, other)),
        }
    }

    /// Atomic read-and-delete (GETDEL): `on_value` gets the deleted value,
    /// or `None` if the key was missing.
    pub fn take<F: FnMut(Option<&[u8]>)>(
        &mut self,
        db: u32,
        key: &[u8],
        on_value: F,
    ) -> EngineResult<()> {
        let ops = *self.rich()?;
        let mut ctx = SinkCtx {
            on_value,
            panicked: false,
        };
        // SAFETY: valid handle; key and ctx outlive the call; the trampoline
        // matches ctx's type.
        let status = unsafe {
            (ops.take)(
                self.handle,
                db,
                cw_slice::from(key),
                sink_trampoline::<F>,
                &mut ctx as *mut SinkCtx<F> as *mut c_void,
            )
        };
        self.home.count_status(status);
        check(&ops, status)?;
        if ctx.panicked {
            return Err(EngineError::Internal);
        }
        Ok(())
    }

    /// Atomically deletes keys; returns how many existed.
    pub fn del<'a>(&mut self, db: u32, keys: impl Iterator<Item = &'a [u8]>) -> EngineResult<u64> {
        let ops = *self.rich()?;
        self.fill_keys(keys);
        let mut deleted = 0u64;
        // SAFETY: valid handle; self.keys points at slices borrowed for the
        // whole call.
        let status = unsafe {
            (ops.del)(
                self.handle,
                db,
                self.keys.as_ptr(),
                self.keys.len(),
                &mut deleted,
            )
        };
        self.home.count_status(status);
        check(&ops, status)?;
        Ok(deleted)
    }

    /// Counts existing keys, a repeated key once per mention.
    pub fn exists<'a>(
        &mut self,
        db: u32,
        keys: impl Iterator<Item = &'a [u8]>,
    ) -> EngineResult<u64> {
        let ops = *self.rich()?;
        self.fill_keys(keys);
        let mut count = 0u64;
        // SAFETY: as in del.
        check(&ops, unsafe {
            (ops.exists)(
                self.handle,
                db,
                self.keys.as_ptr(),
                self.keys.len(),
                &mut count,
            )
        })?;
        Ok(count)
    }

    /// Sets a key's deadline (Unix ms) under `flags` (0 or a valid mix of
    /// [`EXPIRE_NX`], [`EXPIRE_XX`], [`EXPIRE_GT`], [`EXPIRE_LT`]; a bad mix
    /// is `InvalidArgument`). Returns whether it was applied (false for a
    /// missing key). A deadline already past deletes the key (applied).
    pub fn expire(
        &mut self,
        db: u32,
        key: &[u8],
        expire_at_ms: i64,
        flags: u32,
    ) -> EngineResult<bool> {
        if flags & CW_EXPIRE_PERSIST != 0 {
            return Err(EngineError::InvalidArgument);
        }
        self.expire_inner(db, key, expire_at_ms, flags)
    }

    /// Removes a key's deadline (PERSIST); returns whether it had one.
    pub fn persist(&mut self, db: u32, key: &[u8]) -> EngineResult<bool> {
        self.expire_inner(db, key, 0, CW_EXPIRE_PERSIST)
    }

    fn expire_inner(
        &mut self,
        db: u32,
        key: &[u8],
        expire_at_ms: i64,
        flags: u32,
    ) -> EngineResult<bool> {
        let ops = *self.rich()?;
        let mut applied = 0u32;
        // SAFETY: valid handle; key outlives the call.
        let status = unsafe {
            (ops.expire)(
                self.handle,
                db,
                cw_slice::from(key),
                expire_at_ms,
                flags,
                &mut applied,
            )
        };
        self.home.count_status(status);
        check(&ops, status)?;
        Ok(applied != 0)
    }

    /// Adds `delta` to an integer value (a missing key counts as 0); keeps
    /// the key's deadline.
    pub fn incr_by(&mut self, db: u32, key: &[u8], delta: i64) -> EngineResult<i64> {
        let ops = *self.rich()?;
        let mut result = 0i64;
        // SAFETY: valid handle; key outlives the call.
        let status =
            unsafe { (ops.incr_by)(self.handle, db, cw_slice::from(key), delta, &mut result) };
        self.home.count_status(status);
        check(&ops, status)?;
        Ok(result)
    }

    /// Reads a consistent snapshot of several keys, in order.
    pub fn multi_get<'a, F: FnMut(Option<&[u8]>)>(
        &mut self,
        db: u32,
        keys: impl Iterator<Item = &'a [u8]>,
        on_value: F,
    ) -> EngineResult<()> {
        let ops = *self.rich()?;
        self.fill_keys(keys);
        let mut ctx = SinkCtx {
            on_value,
            panicked: false,
        };
        // SAFETY: valid handle; keys and ctx outlive the call; the
        // trampoline matches ctx's type.
        let status = unsafe {
            (ops.multi_get)(
                self.handle,
                db,
                self.keys.as_ptr(),
                self.keys.len(),
                sink_trampoline::<F>,
                &mut ctx as *mut SinkCtx<F> as *mut c_void,
            )
        };
        check(&ops, status)?;
        if ctx.panicked {
            return Err(EngineError::Internal);
        }
        Ok(())
    }

    /// Atomically writes key/value pairs given as `[k1, v1, k2, v2, ...]`,
    /// clearing their deadlines (MSET).
    pub fn multi_put<'a>(
        &mut self,
        db: u32,
        pairs: impl Iterator<Item = &'a [u8]>,
    ) -> EngineResult<()> {
        self.multi_put_inner(db, pairs, 0).map(|_| ())
    }

    /// MSETNX: writes all pairs only if none of the keys exists, atomically.
    /// Returns whether they were written.
    pub fn multi_put_if_none_exist<'a>(
        &mut self,
        db: u32,
        pairs: impl Iterator<Item = &'a [u8]>,
    ) -> EngineResult<bool> {
        self.multi_put_inner(db, pairs, CW_MPUT_IF_NONE_EXIST)
    }

    fn multi_put_inner<'a>(
        &mut self,
        db: u32,
        pairs: impl Iterator<Item = &'a [u8]>,
        flags: u32,
    ) -> EngineResult<bool> {
        let ops = *self.rich()?;
        // Keys at even positions, values at odd ones; split into two arrays.
        self.fill_keys(pairs);
        let n = self.keys.len() / 2;
        debug_assert_eq!(self.keys.len(), n * 2);
        let interleaved = std::mem::take(&mut self.keys);
        self.keys.extend(interleaved.iter().step_by(2));
        self.keys.extend(interleaved.iter().skip(1).step_by(2));
        // SAFETY: valid handle; both arrays point at slices borrowed for the
        // whole call.
        let mut written = 0u32;
        let status = unsafe {
            (ops.multi_put)(
                self.handle,
                db,
                self.keys.as_ptr(),
                self.keys[n..].as_ptr(),
                n,
                flags,
                &mut written,
            )
        };
        self.keys = interleaved;
        self.home.count_status(status);
        check(&ops, status)?;
        Ok(written != 0)
    }

    /// Number of keys in `db` (may include expired keys not reclaimed yet).
    pub fn count(&mut self, db: u32) -> EngineResult<u64> {
        self.count_with_expiry(db).map(|(keys, _)| keys)
    }

    /// (keys, keys with a deadline) in `db`, for INFO keyspace.
    pub fn count_with_expiry(&mut self, db: u32) -> EngineResult<(u64, u64)> {
        let ops = *self.rich()?;
        let (mut keys, mut expires) = (0u64, 0u64);
        // SAFETY: valid handle; both out-pointers are live.
        check(&ops, unsafe {
            (ops.count)(self.handle, db, &mut keys, &mut expires)
        })?;
        Ok((keys, expires))
    }

    /// Deletes every key of `db`, or of all databases with [`ALL_DATABASES`].
    pub fn clear(&mut self, db: u32) -> EngineResult<()> {
        let ops = *self.rich()?;
        // SAFETY: valid handle.
        let status = unsafe { (ops.clear)(self.handle, db) };
        self.home.count_status(status);
        check(&ops, status)
    }

    /// Active expiry: examines at most `max_checks` slots (round-robin
    /// across databases) and deletes expired keys; returns how many.
    /// Bounded work: call it from a periodic tick. A no-op for the seed ABI.
    pub fn expire_cycle(&mut self, max_checks: usize) -> EngineResult<u64> {
        let Some(ops) = &self.ops else {
            return Ok(0);
        };
        let mut expired = 0u64;
        // SAFETY: valid handle.
        check(ops, unsafe {
            (ops.expire_cycle)(self.handle, max_checks, &mut expired)
        })?;
        Ok(expired)
    }

    /// Redo records this worker has appended since it opened (0 without
    /// durability). A batch that moved it needs a `log_flush` before its
    /// replies go out.
    pub fn log_appended(&mut self) -> u64 {
        match self.ops.as_ref().and_then(|ops| ops.log_appended) {
            // SAFETY: valid handle on its own thread.
            Some(log_appended) => unsafe { log_appended(self.handle) },
            None => 0,
        }
    }

    /// Writes this worker's buffered redo records to its log. Returns the
    /// sync ticket the batch's replies must wait for (`always`; 0: none).
    /// `Err(LogFailed)`: the batch is not durable and must not be
    /// acknowledged. A no-op without durability.
    pub fn log_flush(&mut self) -> EngineResult<u64> {
        let Some(ops) = &self.ops else {
            return Ok(0);
        };
        let Some(log_flush) = ops.log_flush else {
            return Ok(0);
        };
        let mut ticket = 0u64;
        // SAFETY: valid handle on its own thread; ticket outlives the call.
        check(ops, unsafe { log_flush(self.handle, &mut ticket) })?;
        Ok(ticket)
    }

    /// What another thread needs to fsync this worker's log (`log_sync`).
    /// None without durability.
    pub fn log_sync_handle(&self) -> Option<LogSyncHandle> {
        let ops = self.ops.as_ref()?;
        Some(LogSyncHandle {
            log_sync: ops.log_sync?,
            handle: self.handle,
        })
    }

    /// One SCAN step from `cursor` (0 starts): `on_key` gets each returned
    /// key; returns the next cursor (0: done). `count` is a work hint.
    pub fn scan<F: FnMut(&[u8])>(
        &mut self,
        db: u32,
        cursor: u64,
        count: usize,
        mut on_key: F,
    ) -> EngineResult<u64> {
        let ops = *self.rich()?;
        let mut ctx = SinkCtx {
            on_value: |key: Option<&[u8]>| {
                if let Some(key) = key {
                    on_key(key)
                }
            },
            panicked: false,
        };
        let mut next = 0u64;
        // SAFETY: valid handle; ctx and next outlive the call; the
        // trampoline matches ctx's type.
        let status = unsafe {
            (ops.scan)(
                self.handle,
                db,
                cursor,
                count,
                sink_trampoline_for(&ctx),
                &mut ctx as *mut SinkCtx<_> as *mut c_void,
                &mut next,
            )
        };
        check(&ops, status)?;
        if ctx.panicked {
            return Err(EngineError::Internal);
        }
        Ok(next)
    }

    /// RANDOMKEY: `on_key` gets a random live key, or `None` if `db` is empty.
    pub fn random_key<F: FnMut(Option<&[u8]>)>(&mut self, db: u32, on_key: F) -> EngineResult<()> {
        let ops = *self.rich()?;
        let mut ctx = SinkCtx {
            on_value: on_key,
            panicked: false,
        };
        // SAFETY: valid handle; ctx outlives the call; the trampoline
        // matches ctx's type.
        let status = unsafe {
            (ops.random_key)(
                self.handle,
                db,
                sink_trampoline::<F>,
                &mut ctx as *mut SinkCtx<F> as *mut c_void,
            )
        };
        check(&ops, status)?;
        if ctx.panicked {
            return Err(EngineError::Internal);
        }
        Ok(())
    }

    /// Opens an interactive transaction on this worker. It needs no borrow
    /// of the worker (it may stay open across requests) and is aborted when
    /// dropped uncommitted.
    pub fn begin(&mut self) -> EngineResult<Txn> {
        let ops = *self.rich()?;
        // SAFETY: valid handle on its own thread.
        let txn = unsafe { (ops.txn_begin)(self.handle) };
        if txn.is_null() {
            return Err(EngineError::NoMemory);
        }
        Ok(Txn {
            ops,
            txn,
            home: Rc::clone(&self.home),
            _not_send: PhantomData,
        })
    }

    fn fill_keys<'a>(&mut self, keys: impl Iterator<Item = &'a [u8]>) {
        self.keys.clear();
        self.keys.extend(keys.map(cw_slice::from));
    }
}

/// The trampoline for a context whose closure type cannot be named.
fn sink_trampoline_for<F: FnMut(Option<&[u8]>)>(_ctx: &SinkCtx<F>) -> cw_value_sink {
    sink_trampoline::<F>
}

/// An open interactive transaction (MULTI/EXEC, WATCH, SQL BEGIN..COMMIT).
/// Reads go into its read set, writes are buffered until [`commit`]
/// (Txn::commit). Not `Send`: it belongs to its worker's thread. Dropped
/// uncommitted, it aborts. If its worker closes first, the engine has
/// already aborted it and every call returns `InvalidArgument`.
pub struct Txn {
    ops: cw_engine_ops,
    txn: *mut cw_txn,
    home: Rc<Home>,
    _not_send: PhantomData<*mut ()>,
}

impl Txn {
    fn handle(&self) -> EngineResult<*mut cw_txn> {
        if self.home.alive.get() && !self.txn.is_null() {
            Ok(self.txn)
        } else {
            Err(EngineError::InvalidArgument)
        }
    }

    /// Reads through the transaction (its own writes included) and adds the
    /// key to the read set. `on_value` gets `None` for a missing key.
    pub fn get<F: FnMut(Option<&[u8]>)>(
        &mut self,
        db: u32,
        key: &[u8],
        on_value: F,
    ) -> EngineResult<()> {
        self.get_inner(db, key, Some(on_value), std::ptr::null_mut())
    }

    /// Like [`get`](Self::get), and returns the key's deadline (0: none).
    pub fn get_with_expiry<F: FnMut(Option<&[u8]>)>(
        &mut self,
        db: u32,
        key: &[u8],
        on_value: F,
    ) -> EngineResult<i64> {
        let mut deadline = 0i64;
        self.get_inner(db, key, Some(on_value), &mut deadline)?;
        Ok(deadline)
    }

    /// Adds the key to the read set without reading its value (WATCH).
    pub fn watch(&mut self, db: u32, key: &[u8]) -> EngineResult<()> {
        self.get_inner::<fn(Option<&[u8]>)>(db, key, None, std::ptr::null_mut())
    }

    fn get_inner<F: FnMut(Option<&[u8]>)>(
        &mut self,
        db: u32,
        key: &[u8],
        on_value: Option<F>,
        deadline: *mut i64,
    ) -> EngineResult<()> {
        let txn = self.handle()?;
        let mut ctx = on_value.map(|on_value| SinkCtx {
            on_value,
            panicked: false,
        });
        let (sink, sink_ctx): (Option<cw_value_sink>, *mut c_void) = match &mut ctx {
            Some(ctx) => (
                Some(sink_trampoline::<F>),
                ctx as *mut SinkCtx<F> as *mut c_void,
            ),
            None => (None, std::ptr::null_mut()),
        };
        // SAFETY: txn is open (its worker is alive) and used on its thread;
        // key, ctx and deadline outlive the call.
        let status =
            unsafe { (self.ops.txn_get)(txn, db, cw_slice::from(key), sink, sink_ctx, deadline) };
        check(&self.ops, status)?;
        if ctx.is_some_and(|ctx| ctx.panicked) {
            return Err(EngineError::Internal);
        }
        Ok(())
    }

    /// Buffers a write of `key` with the given deadline.
    pub fn put(
        &mut self,
        db: u32,
        key: &[u8],
        value: &[u8],
        expiry: PutExpiry,
    ) -> EngineResult<()> {
        let txn = self.handle()?;
        let (flags, deadline) = expiry.flags_and_deadline();
        // SAFETY: as in get_inner.
        check(&self.ops, unsafe {
            (self.ops.txn_put)(
                txn,
                db,
                cw_slice::from(key),
                cw_slice::from(value),
                flags,
                deadline,
            )
        })
    }

    /// Buffers a delete of `key`.
    pub fn del(&mut self, db: u32, key: &[u8]) -> EngineResult<()> {
        let txn = self.handle()?;
        // SAFETY: as in get_inner.
        check(&self.ops, unsafe {
            (self.ops.txn_del)(txn, db, cw_slice::from(key))
        })
    }

    /// Validates and installs. `Err(Conflict)`: nothing was written.
    pub fn commit(mut self) -> EngineResult<()> {
        let txn = self.handle()?;
        self.txn = std::ptr::null_mut();
        // SAFETY: open txn on its thread; commit frees it, and it is not
        // used again (nulled above, so Drop skips it).
        let status = unsafe { (self.ops.txn_commit)(txn) };
        match status {
            CW_OK | CW_CONFLICT => self.home.count_status(status),
            // Neither committed nor refused on a conflict: gone all the same.
            _ => self.count_abort(),
        }
        check(&self.ops, status)
    }

    fn count_abort(&self) {
        if let Some(counters) = self.home.counters.get() {
            counters.aborts.add(1);
        }
    }

    /// Discards the transaction (as dropping it does).
    pub fn abort(self) {}
}

impl Drop for Txn {
    fn drop(&mut self) {
        if let Ok(txn) = self.handle() {
            // SAFETY: still open, on its thread; freed exactly once here.
            unsafe { (self.ops.txn_abort)(txn) };
            self.count_abort();
        }
    }
}

fn seed_get(key: &[u8], on_value: &mut impl FnMut(Option<&[u8]>)) -> EngineResult<()> {
    let mut out_ptr: *mut u8 = std::ptr::null_mut();
    let mut out_len = 0usize;
    // SAFETY: seed contract: key is borrowed for the call; a non-NULL
    // out_ptr is ours to read and then release with cpp_free_buf.
    let ok = unsafe {
        cpp_execute_request_sync(
            CW_SEED_OP_GET,
            key.as_ptr(),
            key.len(),
            std::ptr::null(),
            0,
            &mut out_ptr,
            &mut out_len,
        )
    };
    if !ok || out_ptr.is_null() {
        on_value(None);
        return Ok(());
    }
    // SAFETY: the host returned out_len readable bytes at out_ptr.
    let value = unsafe { std::slice::from_raw_parts(out_ptr, out_len) };
    let result = catch_unwind(AssertUnwindSafe(|| on_value(Some(value))));
    // SAFETY: returned by cpp_execute_request_sync, freed exactly once.
    unsafe { cpp_free_buf(out_ptr, out_len) };
    result.map_err(|_| EngineError::Internal)
}

fn seed_set(key: &[u8], value: &[u8]) -> EngineResult<()> {
    let mut out_ptr: *mut u8 = std::ptr::null_mut();
    let mut out_len = 0usize;
    // SAFETY: seed contract; key and value are borrowed for the call.
    let ok = unsafe {
        cpp_execute_request_sync(
            CW_SEED_OP_SET,
            key.as_ptr(),
            key.len(),
            value.as_ptr(),
            value.len(),
            &mut out_ptr,
            &mut out_len,
        )
    };
    if !out_ptr.is_null() {
        // SAFETY: a SET should return nothing, but release it if it did.
        unsafe { cpp_free_buf(out_ptr, out_len) };
    }
    if ok {
        Ok(())
    } else {
        Err(EngineError::Internal)
    }
}
