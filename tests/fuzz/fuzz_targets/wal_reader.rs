//! The C++ log and snapshot reader (cpp/engine/wal_format.*, recovery.cc,
//! the checkpoint manifest): record framing, CRC checks, damage
//! classification and the item decoder, first in memory, then as real
//! recovery of a data dir through the engine's storage_open.
//!
//! Input (structure-aware, so that CRCs hold and the item decoder is
//! reached):
//!   flags u8: 1 truncate-corrupt, 2 leave CRCs as they are (raw), 4 a
//!     checkpoint (snapshot part + manifest), 8 the logs are older than the
//!     checkpoint, 16 damage one record's CRC, 32 two recovery threads,
//!     64 a manifest whose part size is wrong (the checkpoint is skipped)
//!   damage u8: which record (in file order) the damage flag hits
//!   [u16 LE length, snapshot part image]   with flag 4
//!   u16 LE length, log of slot 0; the rest: log of slot 1
//! Each image is walked as `u32 len | payload | u32 crc` records and every
//! CRC is rewritten to match (unless raw), so mutations of the payloads
//! reach DecodeItems. A real log file, behind its header bytes, is a valid
//! input as it is.
//!
//! Checks: the engine's reader (cpp/engine/fuzz_entry.cc) agrees with an
//! independent reader here on every record, item and the kind of damage;
//! items re-encode to themselves; recovery fails exactly when the model
//! says (corruption mid-file without truncate-corrupt, a malformed record,
//! a bad database index), and otherwise leaves exactly the keys and values
//! the model predicts (per key the highest TID wins; expired puts vanish).
#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use corewire::engine::{FsyncPolicy, StorageOptions};
use corewire_fuzz::engine::{
    crc32c, read_log, BundledEngine, Item, LogSummary, ITEM_DELETE, ITEM_PUT,
};
use libfuzzer_sys::fuzz_target;

const FLAG_TRUNCATE: u8 = 1;
const FLAG_RAW: u8 = 2;
const FLAG_CHECKPOINT: u8 = 4;
const FLAG_OLD_LOGS: u8 = 8;
const FLAG_DAMAGE: u8 = 16;
const FLAG_TWO_THREADS: u8 = 32;
const FLAG_BAD_MANIFEST: u8 = 64;

const GENERATION: u64 = 3;
const DATABASES: u32 = 16;

fn u32_at(data: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

/// Takes a u16-prefixed section (shorter if the input ends).
fn section<'a>(input: &mut &'a [u8]) -> &'a [u8] {
    if input.len() < 2 {
        *input = &[];
        return &[];
    }
    let n = (u16::from_le_bytes([input[0], input[1]]) as usize).min(input.len() - 2);
    let taken = &input[2..2 + n];
    *input = &input[2 + n..];
    taken
}

/// Rewrites the CRC of each record that fits; returns where each starts.
fn fix_crcs(image: &mut [u8]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut at = 0;
    while image.len() - at >= 8 {
        let length = u32_at(image, at) as usize;
        if length == 0 || length > image.len() - at - 8 {
            break;
        }
        let crc = crc32c(&image[at..at + 4 + length]);
        image[at + 4 + length..at + 8 + length].copy_from_slice(&crc.to_le_bytes());
        starts.push(at);
        at += 8 + length;
    }
    starts
}

/// DecodeItems, written again from the format description in
/// wal_format.h. None: malformed (items before the fault are kept).
fn decode_items(payload: &[u8], items: &mut Vec<Item>) -> bool {
    fn varint(p: &mut &[u8]) -> Option<u64> {
        let mut value = 0u64;
        let mut shift = 0;
        while shift < 64 {
            let (&byte, rest) = p.split_first()?;
            *p = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
            shift += 7;
        }
        None
    }
    fn fixed64(p: &mut &[u8]) -> Option<u64> {
        let (head, rest) = p.split_first_chunk::<8>()?;
        *p = rest;
        Some(u64::from_le_bytes(*head))
    }
    fn bytes(p: &mut &[u8], n: u64) -> Option<Vec<u8>> {
        if n > p.len() as u64 {
            return None;
        }
        let (head, rest) = p.split_at(n as usize);
        *p = rest;
        Some(head.to_vec())
    }
    fn one(p: &mut &[u8]) -> Option<Item> {
        let (&kind, rest) = p.split_first()?;
        *p = rest;
        if kind != ITEM_PUT && kind != ITEM_DELETE {
            return None;
        }
        let db = u32::try_from(varint(p)?).ok()?;
        let tid = fixed64(p)?;
        let expire_at_ms = if kind == ITEM_PUT {
            fixed64(p)? as i64
        } else {
            0
        };
        let key_len = varint(p)?;
        let key = bytes(p, key_len)?;
        let value = if kind == ITEM_PUT {
            let value_len = varint(p)?;
            bytes(p, value_len)?
        } else {
            Vec::new()
        };
        Some(Item {
            kind,
            db,
            tid,
            expire_at_ms,
            key,
            value,
        })
    }
    let mut p = payload;
    if p.is_empty() {
        return false;
    }
    while !p.is_empty() {
        match one(&mut p) {
            Some(item) => items.push(item),
            None => return false,
        }
    }
    true
}

/// ReadRecord + VerifyFile's damage classification + ApplyChunk's
/// decoding, written again.
fn model_read(image: &[u8]) -> (LogSummary, Vec<Item>) {
    let mut summary = LogSummary {
        malformed_record: u64::MAX,
        ..LogSummary::default()
    };
    let mut items = Vec::new();
    let mut at = 0;
    let bad = loop {
        if at == image.len() {
            break false;
        }
        if image.len() - at < 8 {
            break true;
        }
        let length = u32_at(image, at) as usize;
        if length == 0 || length > image.len() - at - 8 {
            break true;
        }
        if crc32c(&image[at..at + 4 + length]) != u32_at(image, at + 4 + length) {
            break true;
        }
        if summary.malformed_record == u64::MAX {
            let before = items.len();
            if !decode_items(&image[at + 4..at + 4 + length], &mut items) {
                summary.malformed_record = summary.records;
            }
            summary.items += (items.len() - before) as u64;
        }
        summary.records += 1;
        at += 8 + length;
    };
    summary.valid_end = at as u64;
    summary.tail = if !bad {
        0
    } else if image[at..].iter().all(|&b| b == 0) {
        1
    } else if valid_record_after(image, at) {
        3
    } else {
        2
    };
    (summary, items)
}

fn valid_record_after(data: &[u8], offset: usize) -> bool {
    let mut at = offset + 1;
    while at + 8 < data.len() {
        let length = u32_at(data, at) as usize;
        let fits = length != 0 && length <= data.len() - at - 8;
        if fits && matches!(data[at + 4], ITEM_PUT | ITEM_DELETE) {
            if crc32c(&data[at..at + 4 + length]) == u32_at(data, at + 4 + length) {
                return true;
            }
        }
        at += 1;
    }
    false
}

struct File {
    name: String,
    image: Vec<u8>,
    snapshot: bool,
}

/// What recovery should leave: None if it must fail; else the keys of
/// each database with their values, and keys whose outcome the model
/// cannot tell (equal TIDs, a deadline near now).
struct Expected {
    keys: BTreeMap<(u32, Vec<u8>), Vec<u8>>,
    unsure: BTreeSet<(u32, Vec<u8>)>,
}

fn model_recovery(replayed: &[&File], truncate: bool, now_ms: i64) -> Option<Expected> {
    // (db, key) -> the winning items so far (several if they tie).
    let mut latest: BTreeMap<(u32, Vec<u8>), (u64, Vec<Item>)> = BTreeMap::new();
    for file in replayed {
        let (summary, items) = model_read(&file.image);
        let middle = file.snapshot || summary.tail == 3;
        if matches!(summary.tail, 2 | 3) && middle && !truncate {
            return None;
        }
        if summary.malformed_record != u64::MAX {
            return None;
        }
        for item in items {
            if item.db >= DATABASES {
                return None;
            }
            let version = item.tid & !7;
            let entry = latest
                .entry((item.db, item.key.clone()))
                .or_insert((0, Vec::new()));
            if version > entry.0 {
                *entry = (version, vec![item]);
            } else if version == entry.0 && version != 0 {
                entry.1.push(item);
            }
        }
    }
    let mut expected = Expected {
        keys: BTreeMap::new(),
        unsure: BTreeSet::new(),
    };
    const NEAR_MS: u64 = 10 * 60 * 1000;
    for (key, (_, winners)) in latest {
        let [winner] = winners.as_slice() else {
            if !winners.is_empty() {
                expected.unsure.insert(key);
            }
            continue;
        };
        if winner.kind == ITEM_DELETE {
            continue;
        }
        let deadline = winner.expire_at_ms;
        if deadline != 0 && deadline.abs_diff(now_ms) < NEAR_MS {
            expected.unsure.insert(key);
        } else if deadline == 0 || deadline > now_ms {
            expected.keys.insert(key, winner.value.clone());
        }
    }
    Some(expected)
}

fn data_dir() -> PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    base.join(format!("corewire-fuzz-wal-{}", std::process::id()))
}

fn recover(files: &[File], manifest: Option<String>, flags: u8) {
    let dir = data_dir();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp data dir");
    for file in files {
        std::fs::write(dir.join(&file.name), &file.image).expect("write a file");
    }
    if let Some(text) = &manifest {
        std::fs::write(dir.join(format!("checkpoint-{GENERATION:08}")), text)
            .expect("write the manifest");
    }
    let have_checkpoint = manifest.is_some() && flags & FLAG_BAD_MANIFEST == 0;
    let log_generation = |name: &str| name[4..12].parse::<u64>().unwrap();
    let replayed: Vec<&File> = files
        .iter()
        .filter(|f| {
            if f.snapshot {
                have_checkpoint
            } else {
                !f.image.is_empty() && (!have_checkpoint || log_generation(&f.name) >= GENERATION)
            }
        })
        .collect();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let truncate = flags & FLAG_TRUNCATE != 0;
    let expected = model_recovery(&replayed, truncate, now_ms);

    let bundled = BundledEngine::open();
    let engine = bundled.engine();
    let options = StorageOptions {
        data_dir: dir.clone(),
        fsync: FsyncPolicy::No,
        checkpoint_log_bytes: 0,
        checkpoint_interval_ms: 0,
        recovery_threads: if flags & FLAG_TWO_THREADS != 0 { 2 } else { 1 },
        truncate_corrupt: truncate,
    };
    let opened = engine.storage_open(&options);
    if std::env::var_os("CW_FUZZ_DEBUG").is_some() {
        let keys = expected.as_ref().map(|e| e.keys.len());
        eprintln!("recovery: {opened:?}; the model expects {keys:?} keys");
    }
    match (&expected, &opened) {
        (None, Ok(())) => panic!("recovery accepted what it must refuse"),
        (Some(_), Err(error)) => panic!("recovery failed: {error}"),
        (None, Err(error)) => assert!(error.starts_with("recovery: "), "{error}"),
        (Some(_), Ok(())) => {}
    }
    if let Some(expected) = expected {
        assert_eq!(engine.databases(), DATABASES);
        let mut worker = engine.open_worker(0).expect("an engine handle");
        let mut found = BTreeMap::new();
        for db in 0..DATABASES {
            let mut keys = BTreeSet::new();
            let mut cursor = 0;
            loop {
                cursor = worker
                    .scan(db, cursor, 100, |key| {
                        keys.insert(key.to_vec());
                    })
                    .expect("scan");
                if cursor == 0 {
                    break;
                }
            }
            for key in keys {
                let id = (db, key);
                if expected.unsure.contains(&id) {
                    continue;
                }
                let mut value = None;
                worker
                    .get(db, &id.1, |v| value = v.map(<[u8]>::to_vec))
                    .expect("get");
                found.insert(id, value.expect("a scanned key has a value"));
            }
        }
        assert!(
            found == expected.keys,
            "recovered {} keys, expected {}",
            found.len(),
            expected.keys.len()
        );
        drop(worker);
    }
    drop(bundled);
    let _ = std::fs::remove_dir_all(&dir);
}

fuzz_target!(|data: &[u8]| {
    corewire_fuzz::quiet_log();
    if data.len() < 2 {
        return;
    }
    let (flags, damage) = (data[0], data[1] as usize);
    let mut input = &data[2..];
    let checkpoint = flags & FLAG_CHECKPOINT != 0;
    let snapshot = if checkpoint { section(&mut input) } else { &[] };
    let log0 = section(&mut input);
    let log1 = input;
    let log_generation = if !checkpoint {
        1
    } else if flags & FLAG_OLD_LOGS != 0 {
        GENERATION - 1
    } else {
        GENERATION
    };
    let mut files = Vec::new();
    if checkpoint {
        files.push(File {
            name: format!("snap-{GENERATION:08}-00.dat"),
            image: snapshot.to_vec(),
            snapshot: true,
        });
    }
    for (slot, image) in [log0, log1].into_iter().enumerate() {
        files.push(File {
            name: format!("wal-{log_generation:08}-{slot:03}.log"),
            image: image.to_vec(),
            snapshot: false,
        });
    }
    if flags & FLAG_RAW == 0 {
        let mut index = 0;
        for file in &mut files {
            for start in fix_crcs(&mut file.image) {
                if flags & FLAG_DAMAGE != 0 && index == damage {
                    let length = u32_at(&file.image, start) as usize;
                    file.image[start + 4 + length] ^= 1;
                }
                index += 1;
            }
        }
    }

    // The engine's reader against the model, file by file.
    for file in &files {
        let (summary, items) = read_log(&file.image);
        let (model_summary, model_items) = model_read(&file.image);
        assert_eq!(
            summary.roundtrip_failures, 0,
            "an item did not re-encode to itself"
        );
        assert_eq!(
            summary,
            LogSummary {
                roundtrip_failures: 0,
                ..model_summary
            },
            "{}",
            file.name
        );
        assert_eq!(items, model_items, "{}", file.name);
    }

    let manifest = checkpoint.then(|| {
        let part_bytes = files[0].image.len() + usize::from(flags & FLAG_BAD_MANIFEST != 0);
        format!(
            "corewire checkpoint 1\ngeneration {GENERATION}\nkeys 0\nparts 1\npart 0 {part_bytes}\n"
        )
    });
    recover(&files, manifest, flags);
});
