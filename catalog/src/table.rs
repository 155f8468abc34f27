//! A table's definition: its columns in order, their declared types and nullability, which
//! column is time, the sort key of its stored files and its TTL.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::{Field, Schema, SchemaRef};

use crate::error::{Error, Result};
use crate::name::{validate_column_name, validate_table_name};
use crate::types::ColumnType;

/// Arrow field metadata key marking a table's time column. Query planning reads it to order
/// `first`/`last` and kdb-style window functions by time, through subqueries and joins alike.
pub const TIME_COLUMN_METADATA_KEY: &str = "strata.time_column";

/// Arrow field metadata key holding a column's declared type ([`ColumnType::name`]), so a result
/// column read straight from a table can be described as declared (`Date` and `UUID` columns are
/// held in the same Arrow types as `Date32` and `String` ones).
pub const DECLARED_TYPE_METADATA_KEY: &str = "strata.type";

/// The declared type of a result column read straight from a table, if `field` carries it.
pub fn declared_type(field: &Field) -> Option<ColumnType> {
    field
        .metadata()
        .get(DECLARED_TYPE_METADATA_KEY)?
        .parse()
        .ok()
}

/// Whether `field` is its table's time column (an Arrow schema from
/// [`TableDefinition::arrow_schema`] marks it with [`TIME_COLUMN_METADATA_KEY`]).
pub fn is_time_column(field: &Field) -> bool {
    field.metadata().contains_key(TIME_COLUMN_METADATA_KEY)
}

/// The position of the time column in a table's Arrow schema, if it has one.
pub fn time_column_index(schema: &Schema) -> Option<usize> {
    schema.fields().iter().position(|f| is_time_column(f))
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    /// Column name (a validated identifier).
    pub name: String,
    /// Declared type.
    pub ty: ColumnType,
    /// Whether the column holds NULLs. A column that does not (ClickHouse's plain `UInt32`, or
    /// `NOT NULL`) stores its type's default where a row has no value.
    pub nullable: bool,
}

impl ColumnDef {
    /// A nullable column, with its name validated. An array or map column never holds NULLs (as
    /// in ClickHouse, a row without one holds the empty one), whatever it is declared.
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Result<Self> {
        let name = name.into();
        validate_column_name(&name)?;
        let nullable = !ty.is_collection();
        Ok(Self { name, ty, nullable })
    }

    /// This column, holding NULLs or not (an array or map column never does).
    pub fn with_nullable(self, nullable: bool) -> Self {
        let nullable = nullable && !self.ty.is_collection();
        Self { nullable, ..self }
    }
}

/// The definition of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDefinition {
    name: String,
    columns: Vec<ColumnDef>,
    /// Chosen once, when the table is created (or first gets a timestamp column), and kept
    /// through ALTERs: stored data is partitioned by it, so it must not move.
    time_column: Option<usize>,
    /// Rows whose day is older than this are removed (`ALTER TABLE … SET TTL`), in nanoseconds.
    ttl_nanos: Option<i64>,
    /// The columns stored files are sorted by (ClickHouse's `ORDER BY`); empty: by symbol then
    /// time, whichever the table has.
    sort_key: Vec<String>,
}

impl TableDefinition {
    /// A table definition; checks the name, that there is at least one column and that column
    /// names are unique.
    pub fn new(name: impl Into<String>, columns: Vec<ColumnDef>) -> Result<Self> {
        let name = name.into();
        validate_table_name(&name)?;
        if columns.is_empty() {
            return Err(Error::InvalidDefinition(format!(
                "Table '{name}' needs at least one column"
            )));
        }
        let mut seen = HashMap::new();
        for c in &columns {
            if seen.insert(c.name.as_str(), ()).is_some() {
                return Err(Error::ColumnExists {
                    table: name,
                    column: c.name.clone(),
                });
            }
        }
        let time_column = derive_time_column(&columns);
        Ok(Self {
            name,
            columns,
            time_column,
            ttl_nanos: None,
            sort_key: Vec::new(),
        })
    }

    /// The columns stored files are sorted by, in order (empty: symbol, then time).
    pub fn sort_key(&self) -> &[String] {
        &self.sort_key
    }

    /// This definition with its files sorted by `columns` (each must be a column).
    pub fn with_sort_key(&self, columns: Vec<String>) -> Result<Self> {
        if let Some(missing) = columns.iter().find(|c| self.column_index(c).is_none()) {
            return Err(Error::InvalidDefinition(format!(
                "Table '{}' has no column '{missing}' to sort by (ORDER BY names columns)",
                self.name
            )));
        }
        let collection = columns.iter().find_map(|c| {
            self.column_index(c)
                .map(|i| &self.columns[i])
                .filter(|column| column.ty.is_collection())
        });
        if let Some(column) = collection {
            let kind = match column.ty {
                ColumnType::Map(..) => "map",
                _ => "array",
            };
            return Err(Error::InvalidDefinition(format!(
                "Table '{}': the {kind} column '{}' cannot be in the sort key (ORDER BY names \
                 scalar columns)",
                self.name, column.name
            )));
        }
        Ok(Self {
            sort_key: columns,
            ..self.clone()
        })
    }

    /// This definition with `column` as its time column (it must hold instants).
    pub fn with_time_column(&self, column: &str) -> Result<Self> {
        match self.column_index(column) {
            Some(i) if self.columns[i].ty.is_instant() => Ok(Self {
                time_column: Some(i),
                ..self.clone()
            }),
            _ => Err(Error::InvalidDefinition(format!(
                "Table '{}': the time column '{column}' must be a TIMESTAMP_NS, DateTime or \
                 DateTime64 column",
                self.name
            ))),
        }
    }

    /// A definition read back from storage, with its time column as it was chosen then (`None`:
    /// the table has none). Checks what [`TableDefinition::new`] checks.
    pub fn restore(
        name: impl Into<String>,
        columns: Vec<ColumnDef>,
        time_column: Option<&str>,
    ) -> Result<Self> {
        let mut def = Self::new(name, columns)?;
        def.time_column = match time_column {
            None => None,
            Some(time) => match def.column_index(time) {
                Some(i) if def.columns[i].ty.is_instant() => Some(i),
                _ => {
                    return Err(Error::InvalidDefinition(format!(
                        "Table '{}': time column '{time}' is not a column of instants",
                        def.name
                    )));
                }
            },
        };
        Ok(def)
    }

    /// How long rows are kept, in nanoseconds of the time column (`None`: forever).
    pub fn ttl_nanos(&self) -> Option<i64> {
        self.ttl_nanos
    }

    /// This definition with a TTL (`None` or 0: keep rows forever). Needs a time column.
    pub fn with_ttl(&self, ttl_nanos: Option<i64>) -> Result<Self> {
        let ttl_nanos = ttl_nanos.filter(|&n| n > 0);
        if ttl_nanos.is_some() && self.time_column.is_none() {
            return Err(Error::InvalidDefinition(format!(
                "Table '{}' has no TIMESTAMP column: a TTL counts from the time column",
                self.name
            )));
        }
        Ok(Self {
            ttl_nanos,
            ..self.clone()
        })
    }

    /// The table name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The columns in declaration order.
    pub fn columns(&self) -> &[ColumnDef] {
        &self.columns
    }

    /// Position of a column by name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The time column: at creation, the column of instants (`TIMESTAMP_NS`, `DATETIME`,
    /// `DATETIME64`) named `timestamp`, `timestamp_ns`, `ts` or `time` if there is one, else the
    /// first `TIMESTAMP_NS` column, else the first column of instants. It orders `first`/`last`,
    /// and partitions the table by day.
    pub fn time_column(&self) -> Option<usize> {
        self.time_column
    }

    /// The Arrow schema rows of this table are held in: each field carries its declared type
    /// ([`DECLARED_TYPE_METADATA_KEY`]) and the time column [`TIME_COLUMN_METADATA_KEY`].
    pub fn arrow_schema(&self) -> SchemaRef {
        let time = self.time_column();
        let fields: Vec<Field> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut metadata =
                    HashMap::from([(DECLARED_TYPE_METADATA_KEY.to_string(), c.ty.name())]);
                if Some(i) == time {
                    metadata.insert(TIME_COLUMN_METADATA_KEY.to_string(), "true".to_string());
                }
                Field::new(&c.name, c.ty.arrow_type(), c.nullable).with_metadata(metadata)
            })
            .collect();
        Arc::new(Schema::new(fields))
    }

    /// This definition with one more column at the end. It holds NULLs whatever was declared:
    /// the rows already stored have no value for it.
    pub fn with_column(&self, column: ColumnDef) -> Result<Self> {
        let column = column.with_nullable(true);
        if self.column_index(&column.name).is_some() {
            return Err(Error::ColumnExists {
                table: self.name.clone(),
                column: column.name,
            });
        }
        let mut columns = self.columns.clone();
        columns.push(column);
        let time_column = self.time_column.or_else(|| derive_time_column(&columns));
        Ok(Self {
            columns,
            time_column,
            ..self.clone()
        })
    }

    /// This definition without the named column. The time column cannot be dropped: it
    /// partitions the stored data.
    pub fn without_column(&self, column: &str) -> Result<Self> {
        let idx = self
            .column_index(column)
            .ok_or_else(|| Error::ColumnNotFound {
                table: self.name.clone(),
                column: column.to_string(),
            })?;
        if Some(idx) == self.time_column() {
            return Err(Error::InvalidDefinition(format!(
                "Cannot drop column '{column}': it is the time column of table '{}'",
                self.name
            )));
        }
        if self.columns.len() == 1 {
            return Err(Error::InvalidDefinition(format!(
                "Cannot drop column '{column}': it is the last column of table '{}'",
                self.name
            )));
        }
        if self.sort_key.iter().any(|c| c == column) {
            return Err(Error::InvalidDefinition(format!(
                "Cannot drop column '{column}': the files of table '{}' are sorted by it",
                self.name
            )));
        }
        let mut columns = self.columns.clone();
        columns.remove(idx);
        let time_column = self.time_column.map(|t| if t > idx { t - 1 } else { t });
        Ok(Self {
            columns,
            time_column,
            ..self.clone()
        })
    }
}

/// The conventional time column of a new table; see [`TableDefinition::time_column`].
fn derive_time_column(columns: &[ColumnDef]) -> Option<usize> {
    let is_instant = |i: &usize| columns[*i].ty.is_instant();
    let is_ns = |i: &usize| columns[*i].ty == ColumnType::TimestampNs;
    let position = |name: &str| columns.iter().position(|c| c.name == name);
    ["timestamp", "timestamp_ns", "ts", "time"]
        .iter()
        .find_map(|p| position(p).filter(is_instant))
        .or_else(|| (0..columns.len()).find(is_ns))
        .or_else(|| (0..columns.len()).find(is_instant))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(cols: &[(&str, ColumnType)]) -> TableDefinition {
        TableDefinition::new(
            "t",
            cols.iter()
                .map(|(n, t)| ColumnDef::new(*n, t.clone()).unwrap())
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn time_column_prefers_conventional_names() {
        let t = def(&[
            ("recv", ColumnType::TimestampNs),
            ("symbol", ColumnType::Symbol),
            ("timestamp", ColumnType::TimestampNs),
        ]);
        assert_eq!(t.time_column(), Some(2));
        let t = def(&[("a", ColumnType::Int64), ("recv", ColumnType::TimestampNs)]);
        assert_eq!(t.time_column(), Some(1));
        let t = def(&[("timestamp", ColumnType::Int64)]);
        assert_eq!(t.time_column(), None);
    }

    #[test]
    fn arrow_schema_marks_the_time_column() {
        let t = def(&[
            ("symbol", ColumnType::Symbol),
            ("ts", ColumnType::TimestampNs),
        ]);
        let schema = t.arrow_schema();
        assert!(
            schema
                .field(1)
                .metadata()
                .contains_key(TIME_COLUMN_METADATA_KEY)
        );
        assert!(
            !schema
                .field(0)
                .metadata()
                .contains_key(TIME_COLUMN_METADATA_KEY)
        );
        assert_eq!(declared_type(schema.field(0)), Some(ColumnType::Symbol));
    }

    #[test]
    fn duplicate_columns_are_refused() {
        let cols = vec![
            ColumnDef::new("a", ColumnType::Int64).unwrap(),
            ColumnDef::new("a", ColumnType::Bool).unwrap(),
        ];
        assert!(matches!(
            TableDefinition::new("t", cols),
            Err(Error::ColumnExists { .. })
        ));
    }

    #[test]
    fn add_and_drop_columns() {
        let t = def(&[("a", ColumnType::Int64), ("ts", ColumnType::TimestampNs)]);
        let t2 = t
            .with_column(ColumnDef::new("b", ColumnType::Bool).unwrap())
            .unwrap();
        assert_eq!(t2.columns().len(), 3);
        assert!(
            t2.with_column(ColumnDef::new("a", ColumnType::Bool).unwrap())
                .is_err()
        );
        assert_eq!(t2.without_column("a").unwrap().columns().len(), 2);
        assert!(t2.without_column("ts").is_err(), "time column must stay");
        assert!(t2.without_column("zz").is_err());
    }

    #[test]
    fn the_time_column_stays_put_through_alters() {
        let t = def(&[("a", ColumnType::Int64), ("recv", ColumnType::TimestampNs)]);
        let t = t
            .with_column(ColumnDef::new("ts", ColumnType::TimestampNs).unwrap())
            .unwrap();
        assert_eq!(t.time_column(), Some(1), "a new 'ts' does not take over");
        let t = t.without_column("a").unwrap();
        assert_eq!(t.time_column(), Some(0));
        let untimed = def(&[("a", ColumnType::Int64)]);
        let timed = untimed
            .with_column(ColumnDef::new("t", ColumnType::TimestampNs).unwrap())
            .unwrap();
        assert_eq!(timed.time_column(), Some(1), "first timestamp becomes time");
    }
}
