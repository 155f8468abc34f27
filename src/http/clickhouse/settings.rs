//! The query settings this edge enforces, from the session's `SET`s, the URL
//! (`?max_execution_time=5`) and the statement's `SETTINGS` clause, each winning over the one
//! before as in ClickHouse: `readonly`, and the bounds of
//! one statement (`max_execution_time` in seconds, `max_result_rows`, `result_overflow_mode`)
//! and whether to send a progress header (`send_progress_in_http_headers`).
//! Every other setting a client sends is accepted and ignored, as ClickHouse's clients send
//! many that only matter to ClickHouse's own engine.

use std::time::Duration;

use super::exception::Exception;
use super::request::Pairs;
use crate::sql::{Bounds, Limit};

/// The settings of one statement: its `SETTINGS` clause over the URL's over its session's.
#[derive(Debug)]
pub struct Settings<'a> {
    clause: &'a [(String, String)],
    url: &'a Pairs,
    session: &'a [(String, String)],
}

impl<'a> Settings<'a> {
    /// The settings of a statement with `clause` sent with `url`, in a session that `SET`
    /// `session` (oldest first).
    pub fn new(
        clause: &'a [(String, String)],
        url: &'a Pairs,
        session: &'a [(String, String)],
    ) -> Self {
        Settings {
            clause,
            url,
            session,
        }
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.clause
            .iter()
            .chain(self.url.iter())
            .chain(self.session.iter().rev())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim().trim_matches('\''))
    }

    /// `readonly` above 0.
    pub fn read_only(&self) -> bool {
        self.get("readonly")
            .is_some_and(|v| v != "0" && !v.is_empty() && !v.eq_ignore_ascii_case("false"))
    }

    /// Whether a progress header is asked for (`send_progress_in_http_headers`), and how often
    /// (`http_headers_progress_interval_ms`, 100 by default as in ClickHouse).
    pub fn progress_interval(&self) -> Result<Option<Duration>, Exception> {
        let asked = self
            .get("send_progress_in_http_headers")
            .is_some_and(|v| v != "0" && !v.is_empty() && !v.eq_ignore_ascii_case("false"));
        if !asked {
            return Ok(None);
        }
        match self.get("http_headers_progress_interval_ms") {
            None => Ok(Some(Duration::from_millis(100))),
            Some(v) => v
                .parse()
                .map(|ms| Some(Duration::from_millis(ms)))
                .map_err(|_| not_a_number("http_headers_progress_interval_ms", v)),
        }
    }

    /// The statement's bounds; a value that is not a number is the client's error. Past
    /// `max_result_rows` the statement fails (`result_overflow_mode = 'throw'`, the default)
    /// or answers the first rows (`'break'`).
    pub fn bounds(&self) -> Result<Bounds, Exception> {
        let timeout = match self.get("max_execution_time") {
            None => None,
            Some(v) => {
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| not_a_number("max_execution_time", v))?;
                (secs > 0.0).then(|| {
                    Limit::new(Duration::from_secs_f64(secs.min(1e9)), "max_execution_time")
                })
            }
        };
        let max_rows = match self.get("max_result_rows") {
            None => None,
            Some(v) => {
                let rows: u64 = v.parse().map_err(|_| not_a_number("max_result_rows", v))?;
                (rows > 0).then(|| {
                    Limit::new(
                        usize::try_from(rows).unwrap_or(usize::MAX),
                        "max_result_rows",
                    )
                })
            }
        };
        let truncate = match self.get("result_overflow_mode") {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("throw") => false,
            Some(v) if v.eq_ignore_ascii_case("break") => true,
            Some(v) => {
                return Err(Exception::new(
                    36,
                    "BAD_ARGUMENTS",
                    format!(
                        "Unexpected value of result_overflow_mode: '{v}' (use 'throw' or 'break')"
                    ),
                ));
            }
        };
        Ok(Bounds {
            max_rows,
            timeout,
            truncate,
        })
    }
}

fn not_a_number(setting: &str, value: &str) -> Exception {
    Exception::new(
        72,
        "CANNOT_PARSE_NUMBER",
        format!("Cannot parse the value '{value}' of setting {setting} as a number"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Pairs {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn the_clause_wins_over_the_url() {
        let url = pairs(&[("max_execution_time", "10"), ("max_result_rows", "5")]);
        let clause = pairs(&[("max_execution_time", "0.5")]);
        let bounds = Settings::new(&clause, &url, &[]).bounds().unwrap();
        assert_eq!(bounds.timeout.unwrap().value, Duration::from_millis(500));
        assert_eq!(bounds.max_rows.unwrap().value, 5);
        assert!(!bounds.truncate);
    }

    #[test]
    fn zero_is_unlimited_and_garbage_is_refused() {
        let url = pairs(&[("max_execution_time", "0"), ("max_result_rows", "0")]);
        let bounds = Settings::new(&[], &url, &[]).bounds().unwrap();
        assert_eq!(bounds, Bounds::default());
        let bad = pairs(&[("max_result_rows", "many")]);
        assert_eq!(Settings::new(&[], &bad, &[]).bounds().unwrap_err().code, 72);
        let bad = pairs(&[("result_overflow_mode", "any")]);
        assert_eq!(Settings::new(&[], &bad, &[]).bounds().unwrap_err().code, 36);
        let clause = pairs(&[("readonly", "1")]);
        assert!(Settings::new(&clause, &Pairs::new(), &[]).read_only());
        let session = [("readonly".to_string(), "1".to_string())];
        assert!(Settings::new(&[], &Pairs::new(), &session).read_only());
        let url = pairs(&[("send_progress_in_http_headers", "1")]);
        let every = Settings::new(&[], &url, &[]).progress_interval().unwrap();
        assert_eq!(every, Some(Duration::from_millis(100)));
        let clause = pairs(&[("http_headers_progress_interval_ms", "soon")]);
        assert!(
            Settings::new(&clause, &url, &[])
                .progress_interval()
                .is_err()
        );
        assert_eq!(
            Settings::new(&[], &Pairs::new(), &[])
                .progress_interval()
                .unwrap(),
            None
        );
        let url = vec![("readonly".to_string(), "0".to_string())];
        assert!(
            !Settings::new(&[], &url, &session).read_only(),
            "the URL wins"
        );
    }
}
