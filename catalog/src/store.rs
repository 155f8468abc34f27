//! The catalog's persistent form: every table is a Delta table at `<root>/tables/<name>/` in the
//! HDB's object store (a local directory, S3, MinIO, LocalStack). Its Delta metadata is the
//! source of truth for the table's schema and options; the in-memory [`Catalog`](crate::Catalog)
//! is a cache rebuilt from it at start.
//!
//! S3 locations take the standard AWS variables (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ALLOW_HTTP`) from the environment. Commits rely on
//! the store's conditional put; no locking service or unsafe rename is involved.

use std::collections::HashMap;
use std::path::Path;

use deltalake::kernel::StructField;
use deltalake::logstore::ObjectStoreRef;
use deltalake::{DeltaTable, DeltaTableBuilder};
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;
use url::Url;

use crate::delta::{definition_from_delta, delta_configuration, delta_field, delta_schema};
use crate::error::{Error, Result};
use crate::name::validate_table_name;
use crate::table::{ColumnDef, TableDefinition};

/// Directory under the root that holds one Delta table per Strata table.
pub const TABLES_DIR: &str = "tables";
/// Written first when a table is dropped, so a drop cut short by a crash is finished at start
/// instead of leaving a half-deleted table behind.
const DROP_MARKER: &str = "_strata_dropping";

/// Where the HDB lives.
#[derive(Debug, Clone)]
pub struct HdbLocation {
    /// Always ends with `/`.
    root: Url,
    /// Object-store settings beyond the environment's (`--hdb-option key=value`): timeouts,
    /// retries, and the other keys delta-rs and `object_store` accept.
    options: HashMap<String, String>,
}

impl HdbLocation {
    /// A local directory; nothing is created until [`HdbLocation::create_local_root`].
    pub fn local(dir: &Path) -> Result<Self> {
        let abs = std::path::absolute(dir).map_err(|e| io_error(dir, e))?;
        let root = Url::from_directory_path(&abs).map_err(|()| Error::Location {
            location: abs.display().to_string(),
            reason: "not an absolute path".into(),
        })?;
        Ok(Self {
            root,
            options: HashMap::new(),
        })
    }

    /// An object-store URI such as `s3://bucket/prefix` or `file:///abs/dir`.
    pub fn parse(uri: &str) -> Result<Self> {
        let location = |reason: String| Error::Location {
            location: uri.to_string(),
            reason,
        };
        let mut root = Url::parse(uri).map_err(|e| location(e.to_string()))?;
        match root.scheme() {
            "s3" | "s3a" | "file" | "memory" => {}
            other => {
                return Err(location(format!(
                    "unsupported scheme '{other}' (use s3:// or a local path)"
                )));
            }
        }
        if !root.path().ends_with('/') {
            root.set_path(&format!("{}/", root.path()));
        }
        Ok(Self {
            root,
            options: HashMap::new(),
        })
    }

    /// This location with extra object-store settings.
    pub fn with_options(mut self, options: HashMap<String, String>) -> Self {
        self.options = options;
        self
    }

    /// A Delta table builder for `url` (under this root) with this location's settings.
    pub fn builder(&self, url: Url) -> Result<DeltaTableBuilder> {
        Ok(DeltaTableBuilder::from_url(url)?.with_storage_options(self.options.clone()))
    }

    /// Creates the root directory of a local location (nothing for object stores): called when
    /// the HDB is opened, never when flags are parsed.
    pub fn create_local_root(&self) -> Result<()> {
        if self.root.scheme() == "file"
            && let Ok(dir) = self.root.to_file_path()
        {
            std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
        }
        Ok(())
    }

    /// The root URL.
    pub fn root(&self) -> &Url {
        &self.root
    }

    /// Where table `name` lives.
    pub fn table_url(&self, name: &str) -> Result<Url> {
        validate_table_name(name)?;
        self.root
            .join(&format!("{TABLES_DIR}/{name}/"))
            .map_err(|e| Error::Location {
                location: self.root.to_string(),
                reason: e.to_string(),
            })
    }

    /// The object store at the root.
    pub fn object_store(&self) -> Result<ObjectStoreRef> {
        let log_store = self.builder(self.root.clone())?.build_storage()?;
        Ok(log_store.object_store(None))
    }
}

/// Creates, opens, alters and drops the Delta tables behind the catalog.
#[derive(Debug, Clone)]
pub struct TableStore {
    location: HdbLocation,
}

impl TableStore {
    /// A store rooted at `location`.
    pub fn new(location: HdbLocation) -> Self {
        Self { location }
    }

    /// The HDB location.
    pub fn location(&self) -> &HdbLocation {
        &self.location
    }

    /// Creates the Delta table of `def` (version 0). Fails if one exists.
    pub async fn create(&self, def: &TableDefinition) -> Result<DeltaTable> {
        let url = self.location.table_url(def.name())?;
        let schema = delta_schema(def)?;
        if let Ok(dir) = url.to_file_path() {
            // Object stores have no directories; a local one needs the table's to exist.
            std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
        }
        let table = self.location.builder(url)?.build()?;
        table
            .create()
            .with_table_name(def.name())
            .with_columns(schema.fields().cloned())
            .with_configuration(delta_configuration(def))
            // Our own `strata.*` keys are not Delta properties.
            .with_raise_if_key_not_exists(false)
            .with_save_mode(deltalake::protocol::SaveMode::ErrorIfExists)
            .await
            .map_err(Error::from)
    }

    /// Opens table `name` at its latest version.
    pub async fn open(&self, name: &str) -> Result<DeltaTable> {
        let url = self.location.table_url(name)?;
        self.location
            .builder(url)?
            .load()
            .await
            .map_err(Error::from)
    }

    /// Every table under the root with its definition, finishing drops a crash interrupted.
    pub async fn load_all(&self) -> Result<Vec<(TableDefinition, DeltaTable)>> {
        let store = self.location.object_store()?;
        let listing = store
            .list_with_delimiter(Some(&ObjectPath::from(TABLES_DIR)))
            .await?;
        let mut tables = Vec::new();
        for prefix in listing.common_prefixes {
            let Some(name) = prefix.filename().map(str::to_string) else {
                continue;
            };
            if validate_table_name(&name).is_err() {
                tracing::warn!(target: "catalog", "ignoring '{prefix}': not a table name");
                continue;
            }
            let marker = prefix.clone().join(DROP_MARKER);
            if store.head(&marker).await.is_ok() {
                tracing::info!(target: "catalog", table = %name, "finishing an interrupted DROP TABLE");
                delete_prefix(&store, &prefix).await?;
                continue;
            }
            let log = prefix.clone().join("_delta_log");
            if store.list(Some(&log)).next().await.is_none() {
                // An empty directory left by a dropped table on a local store.
                continue;
            }
            let table = self.open(&name).await?;
            let def = definition_of(&name, &table)?;
            tables.push((def, table));
        }
        tables.sort_by(|a, b| a.0.name().cmp(b.0.name()));
        Ok(tables)
    }

    /// Deletes table `name` and all its files.
    pub async fn drop(&self, name: &str) -> Result<()> {
        validate_table_name(name)?;
        let store = self.location.object_store()?;
        let prefix = ObjectPath::from(TABLES_DIR).join(name);
        store
            .put(
                &prefix.clone().join(DROP_MARKER),
                bytes::Bytes::new().into(),
            )
            .await?;
        delete_prefix(&store, &prefix).await?;
        if let Ok(dir) = self.location.table_url(name)?.to_file_path() {
            // Local stores keep empty directories; a new table of the same name starts clean.
            let _ = std::fs::remove_dir_all(dir);
        }
        Ok(())
    }

    /// Adds columns at the end of the table's schema; returns the table at the new version.
    pub async fn add_columns(
        &self,
        table: DeltaTable,
        columns: &[ColumnDef],
    ) -> Result<DeltaTable> {
        let fields: Vec<StructField> = columns.iter().map(delta_field).collect();
        table
            .add_columns()
            .with_fields(fields)
            .await
            .map_err(Error::from)
    }

    /// Records the table's TTL (`None`: forever) in its Delta configuration; returns the table
    /// at the new version.
    pub async fn set_ttl(&self, table: DeltaTable, ttl_nanos: Option<i64>) -> Result<DeltaTable> {
        let value = ttl_nanos.map_or_else(|| "0".to_string(), |n| n.to_string());
        table
            .set_tbl_properties()
            .with_properties(HashMap::from([(crate::delta::TTL_KEY.to_string(), value)]))
            .with_raise_if_not_exists(false)
            .await
            .map_err(Error::from)
    }
}

/// Deletes every object under `prefix`.
async fn delete_prefix(store: &ObjectStoreRef, prefix: &ObjectPath) -> Result<()> {
    let locations = store.list(Some(prefix)).map_ok(|m| m.location).boxed();
    store
        .delete_stream(locations)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

/// The Strata definition of a loaded Delta table.
pub fn definition_of(name: &str, table: &DeltaTable) -> Result<TableDefinition> {
    let snapshot = table.snapshot()?;
    let metadata = snapshot.metadata();
    let config: HashMap<String, String> = metadata.configuration().clone();
    definition_from_delta(name, &snapshot.schema(), &config)
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ColumnType;

    fn def(name: &str) -> TableDefinition {
        TableDefinition::new(
            name,
            vec![
                ColumnDef::new("symbol", ColumnType::Symbol).unwrap(),
                ColumnDef::new("ts", ColumnType::TimestampNs).unwrap(),
            ],
        )
        .unwrap()
    }

    #[tokio::test]
    async fn tables_persist_alter_and_drop() {
        let dir = tempfile::tempdir().unwrap();
        let location = HdbLocation::local(dir.path()).unwrap();
        location.create_local_root().unwrap();
        let store = TableStore::new(location);
        store.create(&def("b")).await.unwrap();
        let a = store.create(&def("a")).await.unwrap();
        assert!(store.create(&def("a")).await.is_err(), "names are unique");

        let extra = ColumnDef::new("note", ColumnType::String).unwrap();
        store.add_columns(a, &[extra]).await.unwrap();

        let loaded = store.load_all().await.unwrap();
        let names: Vec<_> = loaded.iter().map(|(d, _)| d.name()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(loaded[0].0.columns().len(), 3);
        assert_eq!(loaded[0].0.time_column(), Some(1));
        assert_eq!(loaded[1].0, def("b"));

        store.drop("a").await.unwrap();
        let loaded = store.load_all().await.unwrap();
        assert_eq!(loaded.len(), 1);
        assert!(!dir.path().join("tables/a").join("_delta_log").exists());
    }

    #[tokio::test]
    async fn an_interrupted_drop_is_finished_at_load() {
        let dir = tempfile::tempdir().unwrap();
        let location = HdbLocation::local(dir.path()).unwrap();
        location.create_local_root().unwrap();
        let store = TableStore::new(location);
        store.create(&def("t")).await.unwrap();
        std::fs::write(dir.path().join("tables/t").join(DROP_MARKER), b"").unwrap();
        assert!(store.load_all().await.unwrap().is_empty());
    }

    #[test]
    fn locations_are_checked() {
        assert!(HdbLocation::parse("ftp://x/y").is_err());
        let s3 = HdbLocation::parse("s3://bucket/prefix").unwrap();
        assert_eq!(
            s3.table_url("t").unwrap().as_str(),
            "s3://bucket/prefix/tables/t/"
        );
        assert!(s3.table_url("../x").is_err());
    }
}
