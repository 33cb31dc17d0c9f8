//! The bundled C++ engine and the fuzz entry points of
//! cpp/engine/fuzz_entry.cc.

use std::mem::MaybeUninit;

use corewire::engine::ffi::cw_engine_ops;
use corewire::Engine;

extern "C" {
    fn cw_bundled_engine_open(ops: *mut cw_engine_ops) -> bool;
    fn cw_bundled_engine_close(ops: *mut cw_engine_ops);
    fn cw_fuzz_crc32c(data: *const u8, n: usize) -> u32;
    fn cw_fuzz_read_log(
        data: *const u8,
        size: usize,
        item: ItemFn,
        ctx: *mut std::ffi::c_void,
        out: *mut LogSummary,
    ) -> i32;
}

type ItemFn = unsafe extern "C" fn(
    ctx: *mut std::ffi::c_void,
    kind: u8,
    db: u32,
    tid: u64,
    expire_at_ms: i64,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
);

/// A fresh bundled engine; closed on drop (every worker handle must be
/// closed first).
pub struct BundledEngine {
    ops: Box<cw_engine_ops>,
}

impl BundledEngine {
    pub fn open() -> BundledEngine {
        let mut slot = Box::new(MaybeUninit::<cw_engine_ops>::uninit());
        // SAFETY: slot is writable storage for one table.
        assert!(
            unsafe { cw_bundled_engine_open(slot.as_mut_ptr()) },
            "the bundled engine opens"
        );
        // SAFETY: cw_bundled_engine_open filled every field.
        let ops = unsafe { Box::from_raw(Box::into_raw(slot) as *mut cw_engine_ops) };
        BundledEngine { ops }
    }

    /// The engine as corewire sees it. Valid while `self` lives.
    pub fn engine(&self) -> Engine {
        // SAFETY: the table lives in a Box owned by self.
        unsafe { Engine::from_ops(&*self.ops) }.expect("a valid ops table")
    }
}

impl Drop for BundledEngine {
    fn drop(&mut self) {
        // SAFETY: the table came from cw_bundled_engine_open; the owner has
        // closed its worker handles.
        unsafe { cw_bundled_engine_close(&mut *self.ops) };
    }
}

/// CRC-32C as the engine computes it for every record.
pub fn crc32c(data: &[u8]) -> u32 {
    // SAFETY: data is valid for its length.
    unsafe { cw_fuzz_crc32c(data.as_ptr(), data.len()) }
}

/// `cw_fuzz_log_summary`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogSummary {
    pub records: u64,
    pub valid_end: u64,
    /// 0 end, 1 zeros, 2 torn tail, 3 damage with a good record after it.
    pub tail: u32,
    pub malformed_record: u64,
    pub items: u64,
    pub roundtrip_failures: u64,
}

/// One decoded log item (owned).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub kind: u8,
    pub db: u32,
    pub tid: u64,
    /// Put only (0 for a delete).
    pub expire_at_ms: i64,
    pub key: Vec<u8>,
    /// Put only.
    pub value: Vec<u8>,
}

pub const ITEM_PUT: u8 = 1;
pub const ITEM_DELETE: u8 = 2;

unsafe extern "C" fn collect_item(
    ctx: *mut std::ffi::c_void,
    kind: u8,
    db: u32,
    tid: u64,
    expire_at_ms: i64,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
) {
    // Never unwinds into C++: a failed allocation aborts.
    let bytes = |ptr: *const u8, len: usize| {
        if len == 0 {
            Vec::new()
        } else {
            // SAFETY: the engine passes a slice valid for the call.
            unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec()
        }
    };
    // SAFETY: ctx is the Vec<Item> cw_fuzz_read_log was given.
    let items = unsafe { &mut *(ctx as *mut Vec<Item>) };
    items.push(Item {
        kind,
        db,
        tid,
        expire_at_ms: if kind == ITEM_PUT { expire_at_ms } else { 0 },
        key: bytes(key, key_len),
        value: if kind == ITEM_PUT {
            bytes(value, value_len)
        } else {
            Vec::new()
        },
    });
}

/// Reads a log or snapshot image with the engine's own reader and decoder.
pub fn read_log(image: &[u8]) -> (LogSummary, Vec<Item>) {
    let mut items: Vec<Item> = Vec::new();
    let mut summary = LogSummary::default();
    // SAFETY: image is valid for its length; items and summary outlive the
    // call; collect_item matches the callback type and never unwinds.
    let status = unsafe {
        cw_fuzz_read_log(
            image.as_ptr(),
            image.len(),
            collect_item,
            &mut items as *mut Vec<Item> as *mut std::ffi::c_void,
            &mut summary,
        )
    };
    assert_eq!(status, 0, "cw_fuzz_read_log failed");
    (summary, items)
}
