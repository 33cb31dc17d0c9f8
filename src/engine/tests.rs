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
