//! An interactive engine transaction: reads record versions, buffers
//! writes, validates at commit (optimistic, Silo-style). It holds no lock
//! and pins no memory between calls, so it may stay open across network
//! round trips (WATCH ... EXEC).

use std::ffi::c_void;

use super::ffi::*;
use super::{check, sink_trampoline, EngineError, EngineResult, SinkCtx};

/// Owns a `cw_txn`; aborts it on drop unless committed. Not `Send`: it
/// belongs to the worker thread that began it, and must be dropped before
/// that worker's EngineWorker (which aborts what is left).
pub struct Txn {
    ops: cw_engine_ops,
    handle: *mut cw_txn,
}

impl Txn {
    pub(super) fn new(ops: cw_engine_ops, handle: *mut cw_txn) -> Txn {
        debug_assert!(!handle.is_null());
        Txn { ops, handle }
    }

    /// Reads `key` through the transaction (its own writes included) and
    /// adds it to the read set.
    pub fn get(&mut self, key: &[u8], on_value: &mut dyn FnMut(Option<&[u8]>)) -> EngineResult<()> {
        let mut ctx = SinkCtx {
            on_value,
            panicked: false,
        };
        // SAFETY: live txn on its own thread; key and ctx outlive the call;
        // the trampoline matches ctx's type.
        let status = unsafe {
            (self.ops.txn_get)(
                self.handle,
                cw_slice::from(key),
                Some(sink_trampoline::<&mut dyn FnMut(Option<&[u8]>)>),
                &mut ctx as *mut SinkCtx<_> as *mut c_void,
            )
        };
        check(status)?;
        if ctx.panicked {
            return Err(EngineError::Internal);
        }
        Ok(())
    }

    /// Adds `key` to the read set without reading its value (WATCH).
    pub fn watch(&mut self, key: &[u8]) -> EngineResult<()> {
        // SAFETY: live txn; a NULL sink is allowed.
        check(unsafe {
            (self.ops.txn_get)(self.handle, cw_slice::from(key), None, std::ptr::null_mut())
        })
    }

    pub fn put(&mut self, key: &[u8], value: &[u8]) -> EngineResult<()> {
        // SAFETY: live txn; key and value are copied by the engine.
        check(unsafe {
            (self.ops.txn_put)(self.handle, cw_slice::from(key), cw_slice::from(value))
        })
    }

    pub fn del(&mut self, key: &[u8]) -> EngineResult<()> {
        // SAFETY: live txn; key is copied by the engine.
        check(unsafe { (self.ops.txn_del)(self.handle, cw_slice::from(key)) })
    }

    /// Commits: `Err(EngineError::Conflict)` means nothing was written.
    pub fn commit(self) -> EngineResult<()> {
        let handle = self.handle;
        let commit = self.ops.txn_commit;
        std::mem::forget(self);
        // SAFETY: live txn, freed by commit whatever the outcome.
        check(unsafe { commit(handle) })
    }
}

impl Drop for Txn {
    fn drop(&mut self) {
        // SAFETY: live txn, freed exactly once (commit forgets self).
        unsafe { (self.ops.txn_abort)(self.handle) };
    }
}
