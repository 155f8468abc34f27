//! The query runtime: DataFusion plans and runs statements on threads of its own.
//!
//! A plan's partitions are CPU-bound tasks that may go a long time between yields (a nested-loop
//! join over a large cross product is one). On the server's own runtime they would hold every
//! worker thread, and the HTTP server, the query timer and `DELETE /admin/queries/{id}` would
//! wait for them: a kill answered seconds late, a 3 s `max_execution_time` after 20 s. Here the
//! server's runtime only awaits the query's task, so it keeps answering, and the operating
//! system shares the cores between the two. Dropping the awaiting future (a kill, a timeout, a
//! client gone) aborts the task, which drops the plan's streams and the tasks DataFusion
//! spawned for them at their next yield.
//!
//! The same split as InfluxDB 3's dedicated executor, kept to what Strata needs: one runtime for
//! the life of the service, and object-store I/O made from query tasks runs on it too.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::runtime::{Builder, Handle, Runtime};
use tokio::task::JoinHandle;

/// A multi-threaded tokio runtime for query execution, shut down (without waiting for its
/// tasks) when dropped.
#[derive(Debug)]
pub struct QueryRuntime {
    handle: Handle,
    // Dropped in `Drop` with `shutdown_background`: dropping a runtime normally blocks until its
    // tasks finish, which panics inside another runtime (every test and the server itself).
    runtime: Option<Runtime>,
}

impl QueryRuntime {
    /// A runtime with `threads` workers (at least one), named `strata-query`.
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let runtime = Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("strata-query")
            .enable_all()
            .build()?;
        Ok(Self {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
        })
    }

    /// Runs `work` on the query threads. The returned future completes with its output, or with
    /// a message when the work panicked; dropping it aborts the work.
    pub fn spawn<T>(&self, work: impl Future<Output = T> + Send + 'static) -> Spawned<T>
    where
        T: Send + 'static,
    {
        Spawned(self.handle.spawn(work))
    }
}

impl Drop for QueryRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Query work running on a [`QueryRuntime`]; aborted when dropped before it finished.
#[derive(Debug)]
pub struct Spawned<T>(JoinHandle<T>);

impl<T> Future for Spawned<T> {
    type Output = Result<T, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|done| {
            done.map_err(|e| {
                if e.is_panic() {
                    "the query's task panicked".to_owned()
                } else {
                    "the query's task was stopped".to_owned()
                }
            })
        })
    }
}

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn runs_work_off_the_callers_runtime() {
        let runtime = QueryRuntime::new(1).unwrap();
        let name = runtime
            .spawn(async { std::thread::current().name().map(str::to_owned) })
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("strata-query"));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_caller_keeps_running_while_the_work_blocks() {
        // The work holds its thread until the caller, whose timers must still fire, lets it go.
        let runtime = QueryRuntime::new(1).unwrap();
        let (release, held) = std::sync::mpsc::channel::<()>();
        let work = runtime.spawn(async move { held.recv().is_ok() });
        tokio::time::sleep(Duration::from_millis(10)).await;
        release.send(()).unwrap();
        let done = tokio::time::timeout(Duration::from_secs(10), work).await;
        assert_eq!(done.expect("the work finished"), Ok(true));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn dropping_the_future_aborts_the_work() {
        let runtime = QueryRuntime::new(1).unwrap();
        // The work never finishes on its own; its sender goes only when the task is dropped.
        let (alive, gone) = tokio::sync::oneshot::channel::<()>();
        let work = runtime.spawn(async move {
            let _alive = alive;
            std::future::pending::<()>().await;
        });
        drop(work);
        let dropped = tokio::time::timeout(Duration::from_secs(10), gone).await;
        assert!(matches!(dropped, Ok(Err(_))), "the aborted work ran on");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_panic_is_an_error_not_a_crash() {
        let runtime = QueryRuntime::new(1).unwrap();
        let outcome = runtime.spawn(async { panic!("boom") }).await;
        assert_eq!(
            outcome,
            Err::<(), _>("the query's task panicked".to_owned())
        );
    }
}
