//! A fixed set of threads for CPU-heavy work, served first come first served.
//!
//! An RSA-2048 signature takes most of a millisecond. Run on an async worker it holds that worker
//! for the whole time, and every task queued behind it waits: the task holding the store's single
//! writer connection among them, so one signature stretches every identity insert by up to a
//! signature. On threads of their own, signatures are preempted by the operating system whenever
//! an async worker wakes up, and they queue in arrival order (which, for jobs of equal size, gives
//! a lower mean latency than sharing the cores between all of them at once).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, mpsc};

type Job = Box<dyn FnOnce() + Send>;

/// Why a job did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CpuPoolStopped {
    /// The queue holds its maximum already: the job was refused, not queued.
    #[error("the CPU pool's queue is full")]
    Full,
    #[error("the CPU pool's thread stopped before finishing the job")]
    Stopped,
}

pub struct CpuPool {
    jobs: mpsc::SyncSender<Job>,
    /// Jobs queued and not yet started (the metrics' queue depth).
    waiting: Arc<std::sync::atomic::AtomicUsize>,
}

impl std::fmt::Debug for CpuPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuPool").finish_non_exhaustive()
    }
}

impl CpuPool {
    /// Starts `threads` threads (at least one) named `name`, with room for `capacity` waiting
    /// jobs. They end when the pool is dropped.
    pub fn new(name: &str, threads: usize, capacity: usize) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::sync_channel::<Job>(capacity);
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("{name}-{index}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while taking the next job, not while running it.
                        let next = queue
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .recv();
                        match next {
                            Ok(job) => job(),
                            Err(mpsc::RecvError) => return,
                        }
                    }
                })?;
        }
        Ok(Self {
            jobs,
            waiting: Arc::default(),
        })
    }

    /// Jobs waiting for a thread.
    pub fn waiting(&self) -> usize {
        self.waiting.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// One thread per core the process may use.
    pub fn per_core(name: &str, capacity: usize) -> std::io::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new(name, cores, capacity)
    }

    /// Queues `work` now and returns a future of its result, so the caller's thread never blocks.
    /// Work whose caller has gone away by its turn (a client that disconnected) is skipped; work
    /// arriving while the queue is full is refused ([`CpuPoolStopped::Full`]).
    pub fn run<T, F>(
        &self,
        work: F,
    ) -> impl Future<Output = Result<T, CpuPoolStopped>> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let waiting = Arc::clone(&self.waiting);
        waiting.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let started = Arc::clone(&waiting);
        let job: Job = Box::new(move || {
            started.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            if reply.is_closed() {
                return;
            }
            // A panicking job must not take its thread with it; the caller sees CpuPoolStopped.
            if let Ok(value) = catch_unwind(AssertUnwindSafe(work)) {
                let _ = reply.send(value);
            }
        });
        let queued = match self.jobs.try_send(job) {
            Ok(()) => Ok(()),
            Err(mpsc::TrySendError::Full(_)) => Err(CpuPoolStopped::Full),
            Err(mpsc::TrySendError::Disconnected(_)) => Err(CpuPoolStopped::Stopped),
        };
        if queued.is_err() {
            waiting.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
        async move {
            queued?;
            answer.await.map_err(|_| CpuPoolStopped::Stopped)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_work_on_its_own_threads_and_returns_the_result() {
        let pool = CpuPool::new("test-pool", 2, 16).unwrap();
        let (value, thread) = pool
            .run(|| (6 * 7, std::thread::current().name().map(str::to_owned)))
            .await
            .unwrap();
        assert_eq!(value, 42);
        assert!(thread.unwrap().starts_with("test-pool-"));
    }

    #[tokio::test]
    async fn a_panicking_job_fails_alone_and_the_thread_keeps_serving() {
        let pool = CpuPool::new("test-pool", 1, 32).unwrap();
        let failed = pool.run(|| -> u8 { panic!("job failed") }).await;
        assert!(failed.is_err());
        assert_eq!(pool.run(|| 7).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn work_whose_caller_left_is_skipped() {
        let pool = CpuPool::new("test-pool", 1, 32).unwrap();
        // Hold the only thread until the second job's caller has gone away.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let first = pool.run(move || held.recv().is_ok());
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let abandoned = pool.run({
            let ran = Arc::clone(&ran);
            move || ran.store(true, std::sync::atomic::Ordering::SeqCst)
        });
        drop(abandoned);
        release.send(()).unwrap();
        assert!(first.await.unwrap());
        // A job queued after the abandoned one runs, so the abandoned one has had its turn.
        pool.run(|| ()).await.unwrap();
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_full_queue_refuses_work_instead_of_growing() {
        let pool = CpuPool::new("test-pool", 1, 1).unwrap();
        let (started, has_started) = std::sync::mpsc::channel::<()>();
        let (release, held) = std::sync::mpsc::channel::<()>();
        let running = pool.run(move || {
            started.send(()).unwrap();
            held.recv().is_ok()
        });
        has_started.recv().unwrap();
        // The thread is busy and the queue's one place is free: one job waits, the next is
        // refused.
        let waiting = pool.run(|| 1);
        assert_eq!(pool.run(|| 2).await.unwrap_err(), CpuPoolStopped::Full);
        release.send(()).unwrap();
        assert!(running.await.unwrap());
        assert_eq!(waiting.await.unwrap(), 1);
    }

    #[tokio::test]
    async fn one_thread_serves_jobs_in_arrival_order() {
        let pool = CpuPool::new("test-pool", 1, 32).unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let runs = (0..20).map(|i| {
            let order = Arc::clone(&order);
            pool.run(move || order.lock().unwrap().push(i))
        });
        for run in runs.collect::<Vec<_>>() {
            run.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), (0..20).collect::<Vec<_>>());
    }
}
