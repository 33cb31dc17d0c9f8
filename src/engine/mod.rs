//! The engine boundary: a safe Rust face over the C ABI of
//! `include/corewire_engine.h`.
//!
//! An [`Engine`] is shared by all workers; each worker opens its own
//! [`EngineWorker`] on its own thread and uses it for every request. Values
//! are never returned in engine-allocated memory: the engine hands each value
//! to a sink closure that copies it where it is needed (usually straight into
//! the connection's output buffer), so a GET allocates nothing.

pub mod ffi;
pub mod txn;

use std::ffi::c_void;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

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
}

impl EngineError {
    fn from_status(status: cw_status) -> EngineError {
        match status {
            CW_CONFLICT => EngineError::Conflict,
            CW_NOT_INTEGER => EngineError::NotInteger,
            CW_OVERFLOW => EngineError::Overflow,
            CW_INVALID_ARGUMENT => EngineError::InvalidArgument,
            CW_NO_MEMORY => EngineError::NoMemory,
            _ => EngineError::Internal,
        }
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
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

pub(crate) fn check(status: cw_status) -> EngineResult<()> {
    if status == CW_OK {
        Ok(())
    } else {
        Err(EngineError::from_status(status))
    }
}

/// Condition of a single-key write (Redis SET NX / XX).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutCondition {
    Always,
    IfAbsent,
    IfPresent,
}

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
        if abi_version != CW_ENGINE_ABI_VERSION {
            return Err(format!(
                "engine ABI version {abi_version}, corewire expects {CW_ENGINE_ABI_VERSION}"
            ));
        }
        if struct_size as usize != std::mem::size_of::<cw_engine_ops>() {
            return Err(format!(
                "engine ops struct_size {struct_size}, corewire expects {}",
                std::mem::size_of::<cw_engine_ops>()
            ));
        }
        // SAFETY: size and version checked; the caller vouches for validity.
        Ok(Engine::Rich(RichOps(unsafe { *ops })))
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
}

impl Drop for EngineWorker {
    fn drop(&mut self) {
        if let Some(ops) = &self.ops {
            // SAFETY: handle came from worker_open on this thread and is
            // closed exactly once.
            unsafe { (ops.worker_close)(self.handle) };
        }
    }
}

/// Context behind a sink: the closure plus a note of whether it panicked,
/// because a panic must not unwind through the engine.
pub(crate) struct SinkCtx<F> {
    pub(crate) on_value: F,
    pub(crate) panicked: bool,
}

pub(crate) unsafe extern "C" fn sink_trampoline<F: FnMut(Option<&[u8]>)>(
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
    /// Starts an interactive transaction on this worker's engine state.
    pub fn begin(&mut self) -> EngineResult<txn::Txn> {
        let ops = *self.rich()?;
        // SAFETY: valid handle on its own thread.
        let handle = unsafe { (ops.txn_begin)(self.handle) };
        if handle.is_null() {
            return Err(EngineError::NoMemory);
        }
        Ok(txn::Txn::new(ops, handle))
    }

    fn rich(&self) -> EngineResult<&cw_engine_ops> {
        self.ops.as_ref().ok_or(EngineError::Unsupported)
    }

    /// Reads one key; `on_value` gets `None` for a missing key.
    pub fn get<F: FnMut(Option<&[u8]>)>(&mut self, key: &[u8], on_value: F) -> EngineResult<()> {
        let mut ctx = SinkCtx {
            on_value,
            panicked: false,
        };
        match &self.ops {
            None => seed_get(key, &mut ctx.on_value)?,
            Some(ops) => {
                // SAFETY: valid handle on its own thread; key and ctx outlive
                // the call; the trampoline matches ctx's type.
                let status = unsafe {
                    (ops.get)(
                        self.handle,
                        cw_slice::from(key),
                        sink_trampoline::<F>,
                        &mut ctx as *mut SinkCtx<F> as *mut c_void,
                    )
                };
                check(status)?;
            }
        }
        if ctx.panicked {
            return Err(EngineError::Internal);
        }
        Ok(())
    }

    /// Writes one key. `on_old` (if given) sees the previous value whether
    /// or not the write happens. Returns whether it was written.
    pub fn put(
        &mut self,
        key: &[u8],
        value: &[u8],
        condition: PutCondition,
        on_old: Option<&mut dyn FnMut(Option<&[u8]>)>,
    ) -> EngineResult<bool> {
        let Some(ops) = &self.ops else {
            if condition != PutCondition::Always || on_old.is_some() {
                return Err(EngineError::Unsupported);
            }
            return seed_set(key, value).map(|()| true);
        };
        let flags = match condition {
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
                cw_slice::from(key),
                cw_slice::from(value),
                flags,
                sink,
                sink_ctx,
            )
        };
        if ctx.is_some_and(|ctx| ctx.panicked) {
            return Err(EngineError::Internal);
        }
        match status {
            CW_OK => Ok(true),
            CW_CONDITION_FAILED => Ok(false),
            other => Err(EngineError::from_status(other)),
        }
    }

    /// Atomically deletes keys; returns how many existed.
    pub fn del<'a>(&mut self, keys: impl Iterator<Item = &'a [u8]>) -> EngineResult<u64> {
        let ops = *self.rich()?;
        self.fill_keys(keys);
        let mut deleted = 0u64;
        // SAFETY: valid handle; self.keys points at slices borrowed for the
        // whole call.
        check(unsafe {
            (ops.del)(
                self.handle,
                self.keys.as_ptr(),
                self.keys.len(),
                &mut deleted,
            )
        })?;
        Ok(deleted)
    }

    /// Counts existing keys, a repeated key once per mention.
    pub fn exists<'a>(&mut self, keys: impl Iterator<Item = &'a [u8]>) -> EngineResult<u64> {
        let ops = *self.rich()?;
        self.fill_keys(keys);
        let mut count = 0u64;
        // SAFETY: as in del.
        check(unsafe {
            (ops.exists)(self.handle, self.keys.as_ptr(), self.keys.len(), &mut count)
        })?;
        Ok(count)
    }

    /// Adds `delta` to an integer value (a missing key counts as 0).
    pub fn incr_by(&mut self, key: &[u8], delta: i64) -> EngineResult<i64> {
        let ops = *self.rich()?;
        let mut result = 0i64;
        // SAFETY: valid handle; key outlives the call.
        check(unsafe { (ops.incr_by)(self.handle, cw_slice::from(key), delta, &mut result) })?;
        Ok(result)
    }

    /// Reads a consistent snapshot of several keys, in order.
    pub fn multi_get<'a, F: FnMut(Option<&[u8]>)>(
        &mut self,
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
                self.keys.as_ptr(),
                self.keys.len(),
                sink_trampoline::<F>,
                &mut ctx as *mut SinkCtx<F> as *mut c_void,
            )
        };
        check(status)?;
        if ctx.panicked {
            return Err(EngineError::Internal);
        }
        Ok(())
    }

    /// Atomically writes key/value pairs given as `[k1, v1, k2, v2, ...]`.
    pub fn multi_put<'a>(&mut self, pairs: impl Iterator<Item = &'a [u8]>) -> EngineResult<()> {
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
        let status =
            unsafe { (ops.multi_put)(self.handle, self.keys.as_ptr(), self.keys[n..].as_ptr(), n) };
        self.keys = interleaved;
        check(status)
    }

    /// Number of live keys.
    pub fn count(&mut self) -> EngineResult<u64> {
        let ops = *self.rich()?;
        let mut n = 0u64;
        // SAFETY: valid handle.
        check(unsafe { (ops.count)(self.handle, &mut n) })?;
        Ok(n)
    }

    /// Deletes every key.
    pub fn clear(&mut self) -> EngineResult<()> {
        let ops = *self.rich()?;
        // SAFETY: valid handle.
        check(unsafe { (ops.clear)(self.handle) })
    }

    fn fill_keys<'a>(&mut self, keys: impl Iterator<Item = &'a [u8]>) {
        self.keys.clear();
        self.keys.extend(keys.map(cw_slice::from));
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
