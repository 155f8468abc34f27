//! Shared test helpers: a server process and an HTTP client for it.

mod client;
pub(crate) mod external;
pub(crate) mod hdb;
pub(crate) mod rng;
mod server;

pub(crate) use client::{Client, Reply};
pub(crate) use server::TestServer;

/// 2024-03-23T22:00:00Z in nanoseconds: hour- and 5-minute-aligned.
pub(crate) const T0: i64 = 1_711_231_200_000_000_000;

/// One minute in nanoseconds.
pub(crate) const MINUTE: i64 = 60_000_000_000;

/// A server with a `ticks` table holding a small, known data set:
///
/// | symbol | price | volume | timestamp |
/// |---|---|---|---|
/// | AAPL | 100 | 10 | T0 |
/// | AAPL | 110 | 20 | T0 + 1 min |
/// | AAPL | 90 | 30 | T0 + 2 min |
/// | AAPL | 105 | 40 | T0 + 5 min |
/// | MSFT | 200 | 5 | T0 |
/// | MSFT | 210 | 15 | T0 + 1 min |
///
/// Rows are inserted out of time order, so functions that must follow time (first, last, EMA)
/// cannot pass by following arrival order.
pub(crate) async fn ticks_server() -> (TestServer, Client) {
    ticks_server_with(&[]).await
}

/// [`ticks_server`] started with extra flags.
pub(crate) async fn ticks_server_with(args: &[&str]) -> (TestServer, Client) {
    let server = TestServer::start(args).await;
    let client = server.client();
    client
        .sql_ok("CREATE TABLE ticks (symbol SYMBOL, price FLOAT64, volume INT64, timestamp TIMESTAMP_NS)")
        .await;
    let q = format!(
        "INSERT INTO ticks VALUES ('AAPL',105,40,{}),('MSFT',210,15,{}),('AAPL',90,30,{}),\
         ('AAPL',100,10,{}),('MSFT',200,5,{}),('AAPL',110,20,{})",
        T0 + 5 * MINUTE,
        T0 + MINUTE,
        T0 + 2 * MINUTE,
        T0,
        T0,
        T0 + MINUTE
    );
    client.sql_ok(&q).await;
    (server, client)
}
