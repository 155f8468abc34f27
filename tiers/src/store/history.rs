//! Time travel over the HDB: a table at an older Delta version, and the list of versions.

use std::sync::Arc;

use strata_catalog::TableDefinition;

use super::Tiers;
use crate::error::{Error, Result};
use crate::hdb::HdbView;

/// Which HDB version a time-travel query reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsOf {
    /// `VERSION AS OF n`.
    Version(u64),
    /// `TIMESTAMP AS OF '<RFC 3339>'`: the last version committed at or before it.
    Timestamp(String),
}

/// One commit of a table's Delta log, as `DESCRIBE HISTORY` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// Delta version.
    pub version: u64,
    /// Commit time, milliseconds since the epoch.
    pub timestamp_ms: Option<i64>,
    /// What the commit did (`CREATE TABLE`, `WRITE`, `DELETE`, …).
    pub operation: String,
    /// Its parameters, as JSON.
    pub parameters: String,
}

impl Tiers {
    /// Table `name` as the HDB held it at `as_of` (hot rows are not part of any version).
    pub async fn table_as_of(
        &self,
        name: &str,
        as_of: &AsOf,
    ) -> Result<(TableDefinition, HdbView)> {
        let durable = self.durable.as_ref().ok_or_else(|| {
            Error::InvalidData(
                "Time travel reads the HDB's history: start Strata with --hdb-dir or --hdb-uri"
                    .into(),
            )
        })?;
        let hdb = durable.table(name)?;
        let builder = durable.store.location().builder(hdb.url().clone())?;
        let builder = match as_of {
            AsOf::Version(v) => builder.with_version(*v),
            AsOf::Timestamp(t) => builder.with_datestring(t).map_err(|e| {
                Error::InvalidData(format!(
                    "TIMESTAMP AS OF '{t}': not an RFC 3339 time such as 2024-03-23T22:00:00Z ({e})"
                ))
            })?,
        };
        let table = builder.load().await.map_err(|e| {
            Error::InvalidData(format!("Table '{name}' has no version {as_of:?}: {e}"))
        })?;
        let def = strata_catalog::store::definition_of(name, &table)?;
        Ok((def, Arc::new(table)))
    }

    /// The commits of table `name`, newest first.
    pub async fn history(&self, name: &str) -> Result<Vec<HistoryEntry>> {
        let durable = self.durable.as_ref().ok_or_else(|| {
            Error::InvalidData(
                "DESCRIBE HISTORY reads the HDB: start Strata with --hdb-dir or --hdb-uri".into(),
            )
        })?;
        let hdb = durable.table(name)?;
        let table = durable
            .store
            .location()
            .builder(hdb.url().clone())?
            .load()
            .await?;
        let latest = table.version().unwrap_or(0);
        let commits: Vec<_> = table.history(None).await?.collect();
        Ok(commits
            .into_iter()
            .enumerate()
            .map(|(i, c)| HistoryEntry {
                version: latest.saturating_sub(i as u64),
                timestamp_ms: c.timestamp,
                operation: c.operation.unwrap_or_default(),
                parameters: serde_json::to_string(&c.operation_parameters.unwrap_or_default())
                    .unwrap_or_default(),
            })
            .collect())
    }
}
