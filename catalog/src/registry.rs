//! The [`Catalog`]: the set of tables, safe to read and change from many requests at once.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::RwLock;

use crate::error::{Error, Result};
use crate::table::TableDefinition;

/// Name → definition for every table. Reads take a shared lock and clone an `Arc`; changes
/// replace the definition as a whole, so a reader never sees a half-altered table.
#[derive(Debug, Default)]
pub struct Catalog {
    tables: RwLock<BTreeMap<String, Arc<TableDefinition>>>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a table. Returns `Ok(false)` without changing anything when the name is taken
    /// and `if_not_exists` is set; an error when it is taken otherwise.
    pub fn create(&self, def: TableDefinition, if_not_exists: bool) -> Result<bool> {
        let mut tables = self.tables.write();
        if tables.contains_key(def.name()) {
            return if if_not_exists {
                Ok(false)
            } else {
                Err(Error::TableExists(def.name().to_string()))
            };
        }
        tables.insert(def.name().to_string(), Arc::new(def));
        Ok(true)
    }

    /// Removes a table. Returns `Ok(false)` when it does not exist and `if_exists` is set.
    pub fn drop_table(&self, name: &str, if_exists: bool) -> Result<bool> {
        match self.tables.write().remove(name) {
            Some(_) => Ok(true),
            None if if_exists => Ok(false),
            None => Err(Error::TableNotFound(name.to_string())),
        }
    }

    /// The definition of a table.
    pub fn get(&self, name: &str) -> Result<Arc<TableDefinition>> {
        self.tables
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::TableNotFound(name.to_string()))
    }

    /// Whether a table exists.
    pub fn contains(&self, name: &str) -> bool {
        self.tables.read().contains_key(name)
    }

    /// All tables, sorted by name.
    pub fn list(&self) -> Vec<Arc<TableDefinition>> {
        self.tables.read().values().cloned().collect()
    }

    /// Replaces the definition of an existing table (ALTER TABLE); readers holding the old
    /// definition keep it.
    pub fn replace(&self, def: TableDefinition) -> Result<()> {
        let mut tables = self.tables.write();
        match tables.get_mut(def.name()) {
            Some(slot) => {
                *slot = Arc::new(def);
                Ok(())
            }
            None => Err(Error::TableNotFound(def.name().to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::ColumnDef;
    use crate::types::ColumnType;

    fn table(name: &str) -> TableDefinition {
        TableDefinition::new(name, vec![ColumnDef::new("a", ColumnType::Int64).unwrap()]).unwrap()
    }

    #[test]
    fn create_get_list_drop() {
        let c = Catalog::new();
        assert!(c.create(table("b"), false).unwrap());
        assert!(c.create(table("a"), false).unwrap());
        assert!(!c.create(table("a"), true).unwrap());
        assert!(matches!(
            c.create(table("a"), false),
            Err(Error::TableExists(_))
        ));
        let names: Vec<_> = c.list().iter().map(|t| t.name().to_string()).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(c.drop_table("a", false).unwrap());
        assert!(!c.drop_table("a", true).unwrap());
        assert!(matches!(
            c.drop_table("a", false),
            Err(Error::TableNotFound(_))
        ));
        assert!(c.get("b").is_ok());
    }

    #[test]
    fn replace_swaps_the_definition_for_new_readers_only() {
        let c = Catalog::new();
        c.create(table("t"), false).unwrap();
        let before = c.get("t").unwrap();
        let wider = before
            .with_column(ColumnDef::new("b", ColumnType::Bool).unwrap())
            .unwrap();
        c.replace(wider).unwrap();
        assert_eq!(before.columns().len(), 1, "old readers keep their snapshot");
        assert_eq!(c.get("t").unwrap().columns().len(), 2);
        assert!(c.replace(table("nope")).is_err());
    }
}
