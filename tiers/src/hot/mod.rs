//! The hot tier (the RDB): every table's recent rows in memory as Arrow batches, in day
//! [`partition`]s of immutable chunks, each with lazily built symbol and time [`index`]es and
//! value [`zone`] maps.

pub mod footprint;
pub mod index;
pub mod partition;
pub mod table;
pub mod zone;

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::RwLock;

pub use index::Selection;
pub use partition::{Chunk, NANOS_PER_DAY, Partition, PartitionKey};
pub use table::{AppendOutcome, FrozenRows, HotTable, Pending, SeqRange, Snapshot};

/// Name → [`HotTable`].
#[derive(Debug, Default)]
pub struct HotTier {
    tables: RwLock<BTreeMap<String, Arc<HotTable>>>,
}

impl HotTier {
    /// Adds (or replaces) a table.
    pub fn insert(&self, table: Arc<HotTable>) {
        self.tables.write().insert(table.name().to_string(), table);
    }

    /// Removes a table; its memory is freed when the last scan holding a snapshot finishes.
    pub fn remove(&self, name: &str) -> Option<Arc<HotTable>> {
        self.tables.write().remove(name)
    }

    /// A table by name.
    pub fn get(&self, name: &str) -> Option<Arc<HotTable>> {
        self.tables.read().get(name).cloned()
    }

    /// All tables, sorted by name.
    pub fn tables(&self) -> Vec<Arc<HotTable>> {
        self.tables.read().values().cloned().collect()
    }
}
