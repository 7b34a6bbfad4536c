//! Whole-registry passes of the embedded store: every subject's accounts folded on every core.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use registry_core::report::{AccountHistory, SubjectKey};

use crate::{ScanProgress, Store, StoreError, StoreResult};

/// Subject keys a thread takes at a time: enough to amortise a query, few enough that the
/// threads finish together.
const CHUNK_KEYS: i64 = 4_096;

/// Folds every subject with its accounts (`Store::for_each_subject_accounts`) into one
/// accumulator per thread, each made by `init`; returns them for the caller to merge. Threads
/// take the next chunk of keys as soon as they are free; `progress` hears subject keys done.
pub(crate) fn fold_subjects<S, A>(
    store: &S,
    init: &(dyn Fn() -> A + Sync),
    fold: &(dyn Fn(&mut A, SubjectKey, &[AccountHistory]) + Sync),
    progress: &ScanProgress<'_>,
) -> StoreResult<Vec<A>>
where
    S: Store + ?Sized,
    A: Send,
{
    let Some(max_key) = store.subject_key_max()? else { return Ok(Vec::new()) };
    let chunks = max_key / CHUNK_KEYS + 1;
    let total = (max_key + 1) as u64;
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let next_chunk = AtomicI64::new(0);
    let done = AtomicU64::new(0);
    let failure: Mutex<Option<StoreError>> = Mutex::new(None);
    let folded = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut accumulator = init();
                    loop {
                        let chunk = next_chunk.fetch_add(1, Ordering::Relaxed);
                        if chunk >= chunks || failure.lock().is_ok_and(|f| f.is_some()) {
                            return accumulator;
                        }
                        let keys = chunk * CHUNK_KEYS..((chunk + 1) * CHUNK_KEYS).min(max_key + 1);
                        let scanned = store.for_each_subject_accounts(keys.clone(), &mut |subject, accounts| {
                            fold(&mut accumulator, subject, &accounts);
                            Ok(std::ops::ControlFlow::Continue(()))
                        });
                        if let Err(e) = scanned {
                            if let Ok(mut slot) = failure.lock() {
                                slot.get_or_insert(e);
                            }
                            return accumulator;
                        }
                        let so_far = done.fetch_add((keys.end - keys.start) as u64, Ordering::Relaxed) + (keys.end - keys.start) as u64;
                        progress(so_far, total);
                    }
                })
            })
            .collect();
        // A thread that panicked is a bug: its panic goes on up.
        handles.into_iter().map(|handle| handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect::<Vec<_>>()
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner) {
        return Err(e);
    }
    Ok(folded)
}
