//! [`TestServer`]: a `strata` process on a free port, stopped when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tempfile::TempDir;

use super::Client;

/// A running server. Dropping it kills the process.
pub(crate) struct TestServer {
    child: Option<Child>,
    base: String,
    dir: TempDir,
}

impl TestServer {
    /// Starts `strata --port 0 <args>` and waits (up to 60 s) until it announces its address.
    pub(crate) async fn start(args: &[&str]) -> Self {
        Self::start_with_env(args, &[]).await
    }

    /// [`TestServer::start`] with extra environment variables.
    pub(crate) async fn start_with_env(args: &[&str], env: &[(&str, String)]) -> Self {
        let dir = TempDir::new().expect("temp dir");
        let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(["--port", "0"])
            .args(args)
            .current_dir(dir.path())
            // The server's default filter (src/telemetry.rs): the storage libraries only warn.
            .env("STRATA_LOG", "info,lance=warn,lance_index=warn,lance_io=warn,lance_table=warn,buoyant_kernel=warn")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start strata");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("Strata listening on ") {
                    let _ = tx.send(addr.to_string());
                }
            }
        });
        let Ok(base) = rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
            panic!("strata did not start within 60 s; log:\n{log}");
        };
        Self {
            child: Some(child),
            base,
            dir,
        }
    }

    /// Runs `strata <args>` expecting it to refuse to start: waits (up to 60 s) for it to exit
    /// and returns its exit code and everything it wrote.
    // Polls a child process with a deadline from synchronous code.
    #[allow(clippy::disallowed_methods)]
    pub(crate) fn refused(args: &[&str]) -> (Option<i32>, String) {
        let dir = TempDir::new().expect("temp dir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(["--port", "0"])
            .args(args)
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start strata");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Ok(Some(status)) = child.try_wait() {
                break status.code();
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("strata {args:?} was expected to refuse to start, but it kept running");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let out = child.wait_with_output().expect("output");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (status, text)
    }

    /// A client for this server.
    pub(crate) fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// Where it listens: `http://127.0.0.1:<port>`, or `https://…` when it serves TLS.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// The server's log so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Kills the process with SIGKILL (a crash: no flush, no WAL sync at shutdown) and waits.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits (up to 30 s) for the process to exit; returns its exit code.
    // Polls a child process with a deadline from synchronous code (also called from Drop paths).
    #[allow(clippy::disallowed_methods)]
    pub(crate) fn terminate(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status.code();
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
