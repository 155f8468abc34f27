//! ClickHouse HTTP sessions: `session_id=…` names a session whose `SET` settings apply to
//! every later request that names it, until it has been idle for `session_timeout` seconds
//! (default 60, at most 3600, as ClickHouse). A session serves one request at a time: a second
//! request while one runs is refused with 373 SESSION_IS_LOCKED, as ClickHouse refuses it.
//! `session_check=1` asks for an existing session (372 SESSION_NOT_FOUND otherwise).
//!
//! A session belongs to the identity that opened it; another identity naming it is told it does
//! not exist, so a session id reveals nothing of someone else's settings. The registry is
//! bounded: idle sessions are dropped once expired, and past [`MAX_SESSIONS`] live ones a new
//! session is refused.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::exception::Exception;

/// Live sessions kept at most.
pub const MAX_SESSIONS: usize = 10_000;
/// Idle time before a session ends, unless `session_timeout` says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest `session_timeout` accepted (ClickHouse's `max_session_timeout`).
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// What a request says about its session (the URL's `session_*` parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionParams {
    /// `session_id`.
    pub id: String,
    /// `session_timeout`, in seconds (`None`: the default).
    pub timeout: Option<String>,
    /// `session_check=1`: the session must exist.
    pub check: bool,
}

/// Every live session.
#[derive(Debug, Default)]
pub struct Sessions {
    live: Mutex<HashMap<String, Arc<Session>>>,
}

#[derive(Debug)]
struct Session {
    owner: String,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    settings: Vec<(String, String)>,
    busy: bool,
    timeout: Duration,
    idle_since: Instant,
}

/// One request's hold on its session: its settings, and the session's lock until dropped.
#[derive(Debug)]
pub struct Held {
    session: Arc<Session>,
    id: String,
}

impl Sessions {
    /// Takes the session `params` names for a request of `owner`, opening it if new.
    pub fn hold(&self, params: &SessionParams, owner: &str) -> Result<Held, Exception> {
        let timeout = match &params.timeout {
            None => DEFAULT_TIMEOUT,
            Some(text) => text
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs)
                .filter(|t| *t <= MAX_TIMEOUT)
                .ok_or_else(|| {
                    Exception::new(
                        72,
                        "CANNOT_PARSE_NUMBER",
                        format!(
                            "session_timeout must be whole seconds, at most {}: got '{text}'",
                            MAX_TIMEOUT.as_secs()
                        ),
                    )
                })?,
        };
        let not_found = || {
            Exception::new(
                372,
                "SESSION_NOT_FOUND",
                format!("Session {} not found", params.id),
            )
        };
        let now = Instant::now();
        let mut live = self.live.lock();
        live.retain(|_, s| {
            let state = s.state.lock();
            state.busy || now.duration_since(state.idle_since) < state.timeout
        });
        let session = match live.get(&params.id) {
            Some(session) if session.owner == owner => Arc::clone(session),
            Some(_) => return Err(not_found()),
            None if params.check => return Err(not_found()),
            None if live.len() >= MAX_SESSIONS => {
                return Err(Exception::new(
                    202,
                    "TOO_MANY_SIMULTANEOUS_QUERIES",
                    format!("Too many sessions open (at most {MAX_SESSIONS}); reuse a session_id"),
                ));
            }
            None => {
                let session = Arc::new(Session {
                    owner: owner.to_string(),
                    state: Mutex::new(State {
                        settings: Vec::new(),
                        busy: false,
                        timeout,
                        idle_since: now,
                    }),
                });
                live.insert(params.id.clone(), Arc::clone(&session));
                session
            }
        };
        drop(live);
        {
            let mut state = session.state.lock();
            if state.busy {
                return Err(Exception::new(
                    373,
                    "SESSION_IS_LOCKED",
                    format!(
                        "Session {} is locked by a concurrent client: a session runs one \
                         request at a time",
                        params.id
                    ),
                ));
            }
            state.busy = true;
            state.timeout = timeout;
        }
        Ok(Held {
            session,
            id: params.id.clone(),
        })
    }

    /// Sessions open now (expired ones included until the next request prunes them).
    #[cfg(test)]
    fn open(&self) -> usize {
        self.live.lock().len()
    }
}

impl Held {
    /// The settings `SET` gave the session, oldest first.
    pub fn settings(&self) -> Vec<(String, String)> {
        self.session.state.lock().settings.clone()
    }

    /// Records `assigned` (a `SET`): each replaces an earlier value of the same name.
    pub fn set(&self, assigned: &[(String, String)]) {
        let mut state = self.session.state.lock();
        for (name, value) in assigned {
            state.settings.retain(|(n, _)| n != name);
            state.settings.push((name.clone(), value.clone()));
        }
    }

    /// The session's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut state = self.session.state.lock();
        state.busy = false;
        state.idle_since = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(id: &str) -> SessionParams {
        SessionParams {
            id: id.into(),
            timeout: None,
            check: false,
        }
    }

    #[test]
    fn settings_last_and_one_request_at_a_time() {
        let sessions = Sessions::default();
        let held = sessions.hold(&params("s"), "alice").unwrap();
        held.set(&[("max_result_rows".into(), "5".into())]);
        let busy = sessions.hold(&params("s"), "alice").unwrap_err();
        assert_eq!(busy.code, 373);
        drop(held);
        let again = sessions.hold(&params("s"), "alice").unwrap();
        assert_eq!(again.settings(), [("max_result_rows".into(), "5".into())]);
        again.set(&[("max_result_rows".into(), "7".into())]);
        assert_eq!(again.settings(), [("max_result_rows".into(), "7".into())]);
    }

    #[test]
    fn other_identities_and_checks_find_nothing() {
        let sessions = Sessions::default();
        drop(sessions.hold(&params("s"), "alice").unwrap());
        assert_eq!(sessions.hold(&params("s"), "bob").unwrap_err().code, 372);
        let check = SessionParams {
            check: true,
            ..params("new")
        };
        assert_eq!(sessions.hold(&check, "alice").unwrap_err().code, 372);
        let bad = SessionParams {
            timeout: Some("forever".into()),
            ..params("t")
        };
        assert_eq!(sessions.hold(&bad, "alice").unwrap_err().code, 72);
    }

    #[test]
    fn idle_sessions_end() {
        let sessions = Sessions::default();
        let quick = SessionParams {
            timeout: Some("0".into()),
            ..params("q")
        };
        drop(sessions.hold(&quick, "alice").unwrap());
        drop(sessions.hold(&params("other"), "alice").unwrap());
        assert_eq!(sessions.open(), 1, "the expired session was pruned");
    }
}
