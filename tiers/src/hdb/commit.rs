//! The one way the HDB commits: a list of actions as one Delta version, then the handle moved to
//! that version. Every writer (flush, UPDATE/DELETE, compaction, TTL expiry) goes through
//! [`commit`], holding the table's writer lock, so commits to a table are serial and each sees
//! the snapshot it builds on.

use deltalake::DeltaTable;
use deltalake::kernel::Action;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::protocol::DeltaOperation;

use crate::error::Result;

/// Commits `actions` as `operation` on top of `table`'s current snapshot, with `properties`
/// (an application transaction for flushes); returns the new version.
pub(crate) async fn commit(
    table: &mut DeltaTable,
    actions: Vec<Action>,
    operation: DeltaOperation,
    properties: CommitProperties,
) -> Result<u64> {
    let finalized = CommitBuilder::from(properties)
        .with_actions(actions)
        .build(Some(table.snapshot()?), table.log_store(), operation)
        .await?;
    let version = finalized.version();
    table.update_incremental(Some(version)).await?;
    Ok(version)
}
