//! The safe wrapper over the bundled C++ engine (linked by build.rs).

use super::*;

extern "C" {
    fn cw_bundled_engine_open(ops: *mut cw_engine_ops) -> bool;
    fn cw_bundled_engine_close(ops: *mut cw_engine_ops);
}

/// A bundled engine, closed on drop (after every worker it opened).
struct Bundled(Box<cw_engine_ops>);

impl Bundled {
    fn open() -> (Bundled, Engine) {
        let mut slot = Box::new(std::mem::MaybeUninit::<cw_engine_ops>::uninit());
        // SAFETY: the function fills the struct when it returns true.
        assert!(unsafe { cw_bundled_engine_open(slot.as_mut_ptr()) });
        // SAFETY: filled above.
        let ops: Box<cw_engine_ops> = unsafe { Box::from_raw(Box::into_raw(slot).cast()) };
        // SAFETY: a valid table that outlives the Engine value in each test.
        let engine = unsafe { Engine::from_ops(&*ops) }.expect("valid ops table");
        (Bundled(ops), engine)
    }
}

impl Drop for Bundled {
    fn drop(&mut self) {
        // SAFETY: tests drop their workers first (declared after Bundled).
        unsafe { cw_bundled_engine_close(&mut *self.0) };
    }
}

fn get(w: &mut EngineWorker, db: u32, key: &[u8]) -> Option<Vec<u8>> {
    let mut out = None;
    w.get(db, key, |v| out = v.map(<[u8]>::to_vec)).unwrap();
    out
}

fn far_future() -> i64 {
    i64::MAX / 2
}

#[test]
fn databases_expiry_and_iteration() {
    let (_bundled, engine) = Bundled::open();
    assert_eq!(engine.databases(), 16);
    let mut w = engine.open_worker(0).unwrap();
    assert!(w.put(0, b"k", b"zero", PutCondition::Always, None).unwrap());
    assert!(w.put(5, b"k", b"five", PutCondition::Always, None).unwrap());
    assert_eq!(get(&mut w, 0, b"k").as_deref(), Some(&b"zero"[..]));
    assert_eq!(get(&mut w, 5, b"k").as_deref(), Some(&b"five"[..]));
    assert_eq!(
        w.get(16, b"k", |_| {}).unwrap_err(),
        EngineError::InvalidArgument
    );

    let at = far_future();
    assert!(w.expire(0, b"k", at, EXPIRE_NX).unwrap());
    assert!(!w.expire(0, b"k", at + 1, EXPIRE_NX).unwrap());
    assert!(w.expire(0, b"k", at + 1, EXPIRE_XX | EXPIRE_GT).unwrap());
    assert_eq!(
        w.expire(0, b"k", at, EXPIRE_NX | EXPIRE_XX).unwrap_err(),
        EngineError::InvalidArgument
    );
    assert_eq!(w.get_with_expiry(0, b"k", |_| {}).unwrap(), at + 1);
    assert_eq!(w.count_with_expiry(0).unwrap(), (1, 1));
    assert!(w
        .put_with_expiry(0, b"k", b"new", PutCondition::Always, PutExpiry::Keep, None)
        .unwrap());
    assert_eq!(w.get_with_expiry(0, b"k", |_| {}).unwrap(), at + 1);
    assert!(w.persist(0, b"k").unwrap());
    assert!(!w.persist(0, b"k").unwrap());
    // A deadline in the past deletes.
    assert!(w
        .put_with_expiry(
            0,
            b"gone",
            b"v",
            PutCondition::Always,
            PutExpiry::At(1),
            None
        )
        .unwrap());
    assert_eq!(get(&mut w, 0, b"gone"), None);
    assert!(w.expire(5, b"k", 1, 0).unwrap());
    assert_eq!(get(&mut w, 5, b"k"), None);

    let mut taken = None;
    w.take(0, b"k", |v| taken = v.map(<[u8]>::to_vec)).unwrap();
    assert_eq!(taken.as_deref(), Some(&b"new"[..]));
    assert_eq!(w.count(0).unwrap(), 0);

    let pairs: [&[u8]; 4] = [b"a", b"1", b"b", b"2"];
    assert!(w.multi_put_if_none_exist(3, pairs.iter().copied()).unwrap());
    assert!(!w.multi_put_if_none_exist(3, pairs.iter().copied()).unwrap());
    let mut keys = Vec::new();
    let mut cursor = 0;
    loop {
        cursor = w.scan(3, cursor, 10, |k| keys.push(k.to_vec())).unwrap();
        if cursor == 0 {
            break;
        }
    }
    keys.sort();
    assert_eq!(keys, vec![b"a".to_vec(), b"b".to_vec()]);
    let mut random = None;
    w.random_key(3, |k| random = k.map(<[u8]>::to_vec)).unwrap();
    assert!(matches!(random.as_deref(), Some(b"a") | Some(b"b")));
    w.random_key(4, |k| random = k.map(<[u8]>::to_vec)).unwrap();
    assert_eq!(random, None);
    assert_eq!(w.expire_cycle(1000).unwrap(), 0);
    w.clear(ALL_DATABASES).unwrap();
    assert_eq!(w.count(3).unwrap(), 0);
}

#[test]
fn transactions() {
    let (_bundled, engine) = Bundled::open();
    let mut w = engine.open_worker(0).unwrap();
    let mut other = engine.open_worker(1).unwrap();
    w.put(0, b"m", b"v", PutCondition::Always, None).unwrap();

    // MOVE across databases.
    let mut txn = w.begin().unwrap();
    let mut seen = None;
    txn.get(0, b"m", |v| seen = v.map(<[u8]>::to_vec)).unwrap();
    assert_eq!(seen.as_deref(), Some(&b"v"[..]));
    txn.put(2, b"m", b"v", PutExpiry::At(far_future())).unwrap();
    txn.del(0, b"m").unwrap();
    assert_eq!(txn.get_with_expiry(2, b"m", |_| {}).unwrap(), far_future());
    assert_eq!(get(&mut w, 2, b"m"), None); // buffered
    txn.commit().unwrap();
    assert_eq!(get(&mut w, 0, b"m"), None);
    assert_eq!(get(&mut w, 2, b"m").as_deref(), Some(&b"v"[..]));

    // WATCH then a concurrent write: conflict, nothing written.
    let mut txn = w.begin().unwrap();
    txn.watch(2, b"m").unwrap();
    other
        .put(2, b"m", b"changed", PutCondition::Always, None)
        .unwrap();
    txn.put(2, b"x", b"1", PutExpiry::None).unwrap();
    assert_eq!(txn.commit().unwrap_err(), EngineError::Conflict);
    assert_eq!(get(&mut w, 2, b"x"), None);

    // Dropped or aborted uncommitted: discarded.
    let mut txn = w.begin().unwrap();
    txn.put(2, b"x", b"1", PutExpiry::None).unwrap();
    drop(txn);
    let mut txn = w.begin().unwrap();
    txn.put(2, b"x", b"1", PutExpiry::None).unwrap();
    txn.abort();
    assert_eq!(get(&mut w, 2, b"x"), None);

    // A transaction that outlives its worker is inert (the engine freed it).
    let mut txn = other.begin().unwrap();
    txn.put(2, b"x", b"1", PutExpiry::None).unwrap();
    drop(other);
    assert_eq!(
        txn.put(2, b"y", b"1", PutExpiry::None).unwrap_err(),
        EngineError::InvalidArgument
    );
    assert_eq!(txn.commit().unwrap_err(), EngineError::InvalidArgument);
    assert_eq!(get(&mut w, 2, b"x"), None);
}

/// A v2 table (ABI 2, CW_ENGINE_OPS_V2_SIZE bytes) is still served, with
/// no durability; only its v2 bytes are read.
#[test]
fn a_v2_table_is_served_without_durability() {
    let (bundled, _) = Bundled::open();
    let words = CW_ENGINE_OPS_V2_SIZE as usize / 8;
    // Exactly the v2 bytes, 8-aligned: reading past them would be a bug.
    let mut v2 = vec![0u64; words];
    // SAFETY: both regions are at least CW_ENGINE_OPS_V2_SIZE bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(
            &*bundled.0 as *const cw_engine_ops as *const u8,
            v2.as_mut_ptr() as *mut u8,
            CW_ENGINE_OPS_V2_SIZE as usize,
        )
    };
    // SAFETY: the buffer starts with the header words of a table.
    unsafe {
        let header = v2.as_mut_ptr() as *mut cw_engine_ops;
        (*header).abi_version = CW_ENGINE_ABI_VERSION_V2;
        (*header).struct_size = CW_ENGINE_OPS_V2_SIZE;
    }
    // SAFETY: a v2 table whose functions are the bundled engine's.
    let engine = unsafe { Engine::from_ops(v2.as_ptr() as *const cw_engine_ops) }.unwrap();
    assert!(!engine.has_durability());
    assert!(engine.storage_info().is_none());
    assert_eq!(engine.checkpoint(false), Err(EngineError::Unsupported));
    let options = StorageOptions {
        data_dir: "/nonexistent/corewire-test".into(),
        fsync: FsyncPolicy::Everysec,
        checkpoint_log_bytes: 0,
        checkpoint_interval_ms: 0,
        recovery_threads: 0,
        truncate_corrupt: false,
    };
    let error = engine.storage_open(&options).unwrap_err();
    assert!(error.contains("no durability"), "{error}");
    let mut w = engine.open_worker(0).unwrap();
    assert!(w.put(0, b"k", b"v", PutCondition::Always, None).unwrap());
    assert_eq!(get(&mut w, 0, b"k").as_deref(), Some(&b"v"[..]));
    assert_eq!(w.log_appended(), 0);
    assert_eq!(w.log_flush(), Ok(0));
}

#[test]
fn bad_versions_sizes_and_half_durability_are_refused() {
    let (bundled, _) = Bundled::open();
    let mut ops = *bundled.0;
    ops.struct_size = CW_ENGINE_OPS_V2_SIZE; // v3 version, v2 size
                                             // SAFETY: a valid table (only its header is read before the refusal).
    assert!(unsafe { Engine::from_ops(&ops) }
        .err()
        .unwrap()
        .contains("struct_size"));
    ops = *bundled.0;
    ops.abi_version = 1;
    // SAFETY: as above.
    assert!(unsafe { Engine::from_ops(&ops) }
        .err()
        .unwrap()
        .contains("ABI version 1"));

    unsafe extern "C" fn refuse_open(
        _engine: *mut c_void,
        _options: *const cw_storage_options,
        _error: *mut c_char,
        _error_len: usize,
    ) -> cw_status {
        CW_INTERNAL
    }
    ops = *bundled.0;
    if ops.storage_open.is_some() {
        ops.log_flush = None;
    } else {
        ops.storage_open = Some(refuse_open);
    }
    // SAFETY: a valid table except for the durability group under test.
    let error = unsafe { Engine::from_ops(&ops) }.err().unwrap();
    assert!(error.contains("all set or all NULL"), "{error}");
}

#[test]
fn log_failures_read_as_strerror() {
    assert_eq!(os_error_text(libc::ENOSPC), "No space left on device");
    assert_eq!(os_error_text(0), "Input/output error");
    assert_eq!(
        EngineError::LogFailed(libc::ENOSPC).to_string(),
        "could not write to the write-ahead log: No space left on device"
    );
    assert_eq!(EngineError::from_status(CW_BUSY), EngineError::Busy);
    assert_eq!(FsyncPolicy::parse("EverySec"), Some(FsyncPolicy::Everysec));
    for policy in [FsyncPolicy::No, FsyncPolicy::Everysec, FsyncPolicy::Always] {
        assert_eq!(FsyncPolicy::parse(policy.name()), Some(policy));
        assert_eq!(FsyncPolicy::from_raw(policy.raw()), Some(policy));
    }
}

/// The log callback takes any level and never unwinds.
#[test]
fn the_storage_log_callback_accepts_any_line() {
    let line = CString::new("recovery: done in 1 ms").unwrap();
    for level in [CW_LOG_ERROR, CW_LOG_WARN, CW_LOG_INFO, 42] {
        // SAFETY: a NUL-terminated message; NULL is allowed too.
        unsafe {
            storage_log(std::ptr::null_mut(), level, line.as_ptr());
            storage_log(std::ptr::null_mut(), level, std::ptr::null());
        }
    }
}
