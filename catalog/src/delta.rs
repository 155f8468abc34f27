//! The Delta Lake schema of a table: how its columns are typed in the HDB's transaction log.
//!
//! Building it at `CREATE TABLE` time proves a table can be written as Delta before any data
//! exists, so a definition never gets stuck in the hot tier unable to flush.

use deltalake::kernel::StructType;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;

use crate::error::{Error, Result};
use crate::table::TableDefinition;

/// The Delta schema of `def`. `TIMESTAMP_NS` maps to Delta's `timestamp_nanos`, so nanoseconds
/// survive the trip to the HDB.
pub fn delta_schema(def: &TableDefinition) -> Result<StructType> {
    let schema = def.arrow_schema();
    schema
        .as_ref()
        .try_into_kernel()
        .map_err(|e| Error::Delta(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::ColumnDef;
    use crate::types::ColumnType;

    #[test]
    fn every_column_type_has_a_delta_type() {
        let cols = ColumnType::ALL
            .iter()
            .enumerate()
            .map(|(i, t)| ColumnDef::new(format!("c{i}"), *t).unwrap())
            .collect();
        let def = TableDefinition::new("t", cols).unwrap();
        let delta = delta_schema(&def).unwrap();
        assert_eq!(delta.fields().count(), ColumnType::ALL.len());
        let ts = delta.field("c4").unwrap();
        assert_eq!(ts.data_type().to_string(), "timestamp_nanos");
    }
}
