//! Raw mirror of `include/corewire_engine.h`. Layouts are pinned by the
//! asserts at the bottom; the header pins the same numbers.
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_void};

pub type cw_status = i32;
pub const CW_OK: cw_status = 0;
pub const CW_NOT_FOUND: cw_status = 1;
pub const CW_CONFLICT: cw_status = 2;
pub const CW_NOT_INTEGER: cw_status = 3;
pub const CW_OVERFLOW: cw_status = 4;
pub const CW_CONDITION_FAILED: cw_status = 5;
pub const CW_INVALID_ARGUMENT: cw_status = 6;
pub const CW_NO_MEMORY: cw_status = 7;
pub const CW_INTERNAL: cw_status = 8;
pub const CW_LOG_FAILED: cw_status = 9;
pub const CW_BUSY: cw_status = 10;

pub const CW_ENGINE_ABI_VERSION: u32 = 3;
/// The previous ABI, still accepted: a table without the durability group.
pub const CW_ENGINE_ABI_VERSION_V2: u32 = 2;
/// Size of a v2 `cw_engine_ops` (everything up to txn_abort).
pub const CW_ENGINE_OPS_V2_SIZE: u32 = 24 + 22 * 8;
pub const CW_SEED_OP_GET: u32 = 1;
pub const CW_SEED_OP_SET: u32 = 2;
pub const CW_MAX_DATABASES: u32 = 256;
pub const CW_ALL_DATABASES: u32 = 0xFFFF_FFFF;
pub const CW_PUT_IF_ABSENT: u32 = 1;
pub const CW_PUT_IF_PRESENT: u32 = 2;
pub const CW_PUT_KEEP_TTL: u32 = 4;
pub const CW_EXPIRE_NX: u32 = 1;
pub const CW_EXPIRE_XX: u32 = 2;
pub const CW_EXPIRE_GT: u32 = 4;
pub const CW_EXPIRE_LT: u32 = 8;
pub const CW_EXPIRE_PERSIST: u32 = 16;
pub const CW_MPUT_IF_NONE_EXIST: u32 = 1;
pub const CW_FSYNC_NO: u32 = 0;
pub const CW_FSYNC_EVERYSEC: u32 = 1;
pub const CW_FSYNC_ALWAYS: u32 = 2;
pub const CW_LOG_ERROR: i32 = 0;
pub const CW_LOG_WARN: i32 = 1;
pub const CW_LOG_INFO: i32 = 2;

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct cw_slice {
    pub ptr: *const u8,
    pub len: usize,
}

impl cw_slice {
    pub fn from(bytes: &[u8]) -> cw_slice {
        cw_slice {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
        }
    }
}

/// Opaque per-worker engine state.
#[repr(C)]
pub struct cw_worker {
    _opaque: [u8; 0],
}

/// Opaque interactive transaction.
#[repr(C)]
pub struct cw_txn {
    _opaque: [u8; 0],
}

pub type cw_value_sink = unsafe extern "C" fn(sink_ctx: *mut c_void, ptr: *const u8, len: usize);

/// Receives one engine log line (`cw_storage_options.log`).
pub type cw_log_fn = unsafe extern "C" fn(log_ctx: *mut c_void, level: i32, message: *const c_char);

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct cw_storage_options {
    pub struct_size: u32,
    pub fsync_policy: u32,
    pub data_dir: *const c_char,
    pub checkpoint_log_bytes: u64,
    pub checkpoint_interval_ms: u64,
    pub recovery_threads: u32,
    pub truncate_corrupt: u32,
    pub log: Option<cw_log_fn>,
    pub log_ctx: *mut c_void,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct cw_storage_info {
    pub struct_size: u32,
    pub fsync_policy: u32,
    pub checkpoint_running: u32,
    pub last_checkpoint_ok: u32,
    pub log_ok: u32,
    pub log_errno: i32,
    pub last_checkpoint_unix_s: i64,
    pub last_checkpoint_duration_ms: i64,
    pub checkpoint_started_unix_ms: i64,
    pub checkpoints: u64,
    pub checkpoint_failures: u64,
    pub last_checkpoint_keys: u64,
    pub last_checkpoint_bytes: u64,
    pub log_bytes: u64,
    pub log_bytes_written: u64,
    pub log_records_written: u64,
    pub log_writes: u64,
    pub fsyncs: u64,
    pub fsync_time_us: u64,
    pub changes_since_checkpoint: u64,
    pub recovered_records: u64,
    pub recovered_bytes: u64,
    pub recovered_keys: u64,
    pub recovery_ms: u64,
    pub recovery_dropped_records: u64,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct cw_engine_ops {
    pub abi_version: u32,
    pub struct_size: u32,
    pub engine: *mut c_void,
    pub databases: u32,
    pub reserved: u32,
    pub worker_open: unsafe extern "C" fn(*mut c_void, usize) -> *mut cw_worker,
    pub worker_close: unsafe extern "C" fn(*mut cw_worker),
    pub get: unsafe extern "C" fn(
        *mut cw_worker,
        u32,
        cw_slice,
        cw_value_sink,
        *mut c_void,
        *mut i64,
    ) -> cw_status,
    pub put: unsafe extern "C" fn(
        *mut cw_worker,
        u32,
        cw_slice,
        cw_slice,
        u32,
        i64,
        Option<cw_value_sink>,
        *mut c_void,
    ) -> cw_status,
    pub take: unsafe extern "C" fn(
        *mut cw_worker,
        u32,
        cw_slice,
        cw_value_sink,
        *mut c_void,
    ) -> cw_status,
    pub del:
        unsafe extern "C" fn(*mut cw_worker, u32, *const cw_slice, usize, *mut u64) -> cw_status,
    pub exists:
        unsafe extern "C" fn(*mut cw_worker, u32, *const cw_slice, usize, *mut u64) -> cw_status,
    pub expire:
        unsafe extern "C" fn(*mut cw_worker, u32, cw_slice, i64, u32, *mut u32) -> cw_status,
    pub incr_by: unsafe extern "C" fn(*mut cw_worker, u32, cw_slice, i64, *mut i64) -> cw_status,
    pub multi_get: unsafe extern "C" fn(
        *mut cw_worker,
        u32,
        *const cw_slice,
        usize,
        cw_value_sink,
        *mut c_void,
    ) -> cw_status,
    pub multi_put: unsafe extern "C" fn(
        *mut cw_worker,
        u32,
        *const cw_slice,
        *const cw_slice,
        usize,
        u32,
        *mut u32,
    ) -> cw_status,
    pub count: unsafe extern "C" fn(*mut cw_worker, u32, *mut u64, *mut u64) -> cw_status,
    pub clear: unsafe extern "C" fn(*mut cw_worker, u32) -> cw_status,
    pub expire_cycle: unsafe extern "C" fn(*mut cw_worker, usize, *mut u64) -> cw_status,
    pub scan: unsafe extern "C" fn(
        *mut cw_worker,
        u32,
        u64,
        usize,
        cw_value_sink,
        *mut c_void,
        *mut u64,
    ) -> cw_status,
    pub random_key:
        unsafe extern "C" fn(*mut cw_worker, u32, cw_value_sink, *mut c_void) -> cw_status,
    pub txn_begin: unsafe extern "C" fn(*mut cw_worker) -> *mut cw_txn,
    pub txn_get: unsafe extern "C" fn(
        *mut cw_txn,
        u32,
        cw_slice,
        Option<cw_value_sink>,
        *mut c_void,
        *mut i64,
    ) -> cw_status,
    pub txn_put: unsafe extern "C" fn(*mut cw_txn, u32, cw_slice, cw_slice, u32, i64) -> cw_status,
    pub txn_del: unsafe extern "C" fn(*mut cw_txn, u32, cw_slice) -> cw_status,
    pub txn_commit: unsafe extern "C" fn(*mut cw_txn) -> cw_status,
    pub txn_abort: unsafe extern "C" fn(*mut cw_txn),

    // Durability (v3): all set or all NULL (an in-memory engine).
    pub storage_open: Option<
        unsafe extern "C" fn(
            *mut c_void,
            *const cw_storage_options,
            *mut c_char,
            usize,
        ) -> cw_status,
    >,
    pub storage_tune:
        Option<unsafe extern "C" fn(*mut c_void, *const cw_storage_options) -> cw_status>,
    pub log_appended: Option<unsafe extern "C" fn(*mut cw_worker) -> u64>,
    pub log_flush: Option<unsafe extern "C" fn(*mut cw_worker, *mut u64) -> cw_status>,
    /// The one op callable from another thread than the worker's.
    pub log_sync: Option<unsafe extern "C" fn(*mut cw_worker, u64) -> cw_status>,
    pub checkpoint: Option<unsafe extern "C" fn(*mut c_void, u32) -> cw_status>,
    pub storage_info: Option<unsafe extern "C" fn(*mut c_void, *mut cw_storage_info) -> cw_status>,
}

// Implemented by the host (seed ABI) or by the bundled engine (cpp/engine).
extern "C" {
    pub fn cpp_worker_thread_init(thread_id: usize);
    pub fn cpp_execute_request_sync(
        op: u32,
        key_ptr: *const u8,
        key_len: usize,
        val_ptr: *const u8,
        val_len: usize,
        out_ptr: *mut *mut u8,
        out_len: *mut usize,
    ) -> bool;
    pub fn cpp_free_buf(ptr: *mut u8, len: usize);
}

const _: () = {
    assert!(std::mem::size_of::<cw_slice>() == 16);
    assert!(std::mem::offset_of!(cw_slice, ptr) == 0);
    assert!(std::mem::offset_of!(cw_slice, len) == 8);
    assert!(std::mem::size_of::<cw_engine_ops>() == 24 + 29 * 8);
    assert!(std::mem::offset_of!(cw_engine_ops, storage_open) == CW_ENGINE_OPS_V2_SIZE as usize);
    assert!(std::mem::offset_of!(cw_engine_ops, storage_info) == 24 + 28 * 8);
    assert!(std::mem::size_of::<cw_storage_options>() == 56);
    assert!(std::mem::offset_of!(cw_storage_options, data_dir) == 8);
    assert!(std::mem::offset_of!(cw_storage_options, recovery_threads) == 32);
    assert!(std::mem::offset_of!(cw_storage_options, log) == 40);
    assert!(std::mem::offset_of!(cw_storage_options, log_ctx) == 48);
    assert!(std::mem::size_of::<cw_storage_info>() == 24 + 19 * 8);
    assert!(std::mem::offset_of!(cw_storage_info, log_errno) == 20);
    assert!(std::mem::offset_of!(cw_storage_info, last_checkpoint_unix_s) == 24);
    assert!(std::mem::offset_of!(cw_storage_info, checkpoints) == 48);
    assert!(std::mem::offset_of!(cw_storage_info, recovery_dropped_records) == 24 + 18 * 8);
    assert!(std::mem::offset_of!(cw_engine_ops, engine) == 8);
    assert!(std::mem::offset_of!(cw_engine_ops, databases) == 16);
    assert!(std::mem::offset_of!(cw_engine_ops, worker_open) == 24);
    assert!(std::mem::offset_of!(cw_engine_ops, take) == 24 + 4 * 8);
    assert!(std::mem::offset_of!(cw_engine_ops, random_key) == 24 + 15 * 8);
    assert!(std::mem::offset_of!(cw_engine_ops, txn_abort) == 24 + 21 * 8);
};
