//! `INSERT … VALUES` of plain literals without DataFusion: the rows the fast-path scanner
//! (`parser::values`) read, made into one Arrow batch and appended like every other ingest.
//!
//! The result is the one DataFusion's plan gives. It casts every literal, typed as DataFusion
//! types it (`Int64`, `Float64`, `Utf8`, `Boolean`, `NULL`), to its column's type with a strict
//! cast, and its sink then fits the batch to the table ([`crate::ingest::append_conformed`]:
//! defaults for NULLs in columns that hold none, UUID and fixed-string checks). Here a column
//! whose literals are all of one type is built as one array of that type and cast at once by
//! the same fitting; a column that mixes types casts each literal on its own, so `1` and `1.5`
//! in one `INT64` column are 1 and 1 as they would be there, not a float column's truncation of
//! a large integer.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, NullArray, RecordBatch, StringArray,
};
use arrow::compute::{CastOptions, cast_with_options, concat};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::ScalarValue;
use strata_tiers::{TableHandle, Written};

use super::error::{Error, Result};

/// One literal of a `VALUES` row, typed as DataFusion types it.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `NULL`.
    Null,
    /// `TRUE` / `FALSE`.
    Bool(bool),
    /// An integer that fits `Int64`.
    Int(i64),
    /// A number with a point or an exponent.
    Float(f64),
    /// A quoted string.
    Text(String),
}

impl Literal {
    fn scalar(&self) -> ScalarValue {
        match self {
            Literal::Null => ScalarValue::Null,
            Literal::Bool(b) => ScalarValue::Boolean(Some(*b)),
            Literal::Int(i) => ScalarValue::Int64(Some(*i)),
            Literal::Float(f) => ScalarValue::Float64(Some(*f)),
            Literal::Text(s) => ScalarValue::Utf8(Some(s.clone())),
        }
    }
}

/// The rows of a `VALUES` list, column by column; every row has the same width.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueRows {
    columns: Vec<Vec<Literal>>,
    rows: usize,
}

impl ValueRows {
    /// Rows starting with `row`.
    pub(crate) fn first(row: Vec<Literal>) -> Self {
        Self {
            columns: row.into_iter().map(|v| vec![v]).collect(),
            rows: 1,
        }
    }

    /// Adds `row`; refused when it is not as wide as the first.
    pub(crate) fn push(&mut self, row: Vec<Literal>) -> std::result::Result<(), ()> {
        if row.len() != self.columns.len() {
            return Err(());
        }
        for (column, value) in self.columns.iter_mut().zip(row) {
            column.push(value);
        }
        self.rows += 1;
        Ok(())
    }

    /// Values in each row.
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// Rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether there are no rows (never, once read).
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The rows, row by row.
    #[cfg(test)]
    pub(crate) fn into_rows(self) -> Vec<Vec<Literal>> {
        (0..self.rows)
            .map(|r| self.columns.iter().map(|c| c[r].clone()).collect())
            .collect()
    }
}

/// Up to this many rows an `INSERT … VALUES` is built and logged on the async worker that
/// read it: a thread hop costs more than building them (a 1 000-row statement takes about
/// half a millisecond in all).
pub(super) const INLINE_ROWS: usize = 64;

/// Writes `rows` to `handle`'s table, into `columns` (all the table's, in order, when absent);
/// durable once [`Written::durable`] says so.
pub(super) fn append(
    handle: &TableHandle,
    columns: Option<&[String]>,
    rows: &ValueRows,
) -> Result<Written> {
    let schema = handle.schema();
    let batch = batch(handle.name(), &schema, columns, rows)?;
    crate::ingest::append_conformed(handle, &[batch]).map_err(Error::Tiers)
}

/// `rows` as one batch of the named columns, each of its literals' own type (mixed columns cast
/// literal by literal to the table's type).
fn batch(
    table: &str,
    schema: &SchemaRef,
    columns: Option<&[String]>,
    rows: &ValueRows,
) -> Result<RecordBatch> {
    let targets: Vec<&Field> = match columns {
        None => schema.fields().iter().map(AsRef::as_ref).collect(),
        Some(names) => {
            let mut seen = Vec::with_capacity(names.len());
            for name in names {
                let field = schema.field_with_name(name).map_err(|_| {
                    Error::Invalid(format!("Unknown column '{name}' in table '{table}'"))
                })?;
                if seen.iter().any(|f: &&Field| f.name() == name) {
                    return Err(Error::Invalid(format!(
                        "Column '{name}' is named twice in the INSERT into '{table}'"
                    )));
                }
                seen.push(field);
            }
            seen
        }
    };
    if targets.len() != rows.width() {
        return Err(Error::Invalid(format!(
            "The INSERT into '{table}' gives {} values a row for {} columns ({})",
            rows.width(),
            targets.len(),
            targets
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let arrays = targets
        .iter()
        .zip(&rows.columns)
        .map(|(field, values)| column(table, field, values))
        .collect::<Result<Vec<_>>>()?;
    let fields: Vec<Field> = targets
        .iter()
        .zip(&arrays)
        .map(|(f, a)| Field::new(f.name(), a.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(Error::Output)
}

/// One column's literals as an array: of their one type when they share it (NULLs aside),
/// else each cast to `field`'s type on its own.
fn column(table: &str, field: &Field, values: &[Literal]) -> Result<ArrayRef> {
    let mut typed = values.iter().filter(|v| **v != Literal::Null);
    let first = typed.next();
    if typed.any(|v| first.is_some_and(|f| std::mem::discriminant(f) != std::mem::discriminant(v)))
    {
        return literal_by_literal(table, field, values);
    }
    Ok(match first {
        None => Arc::new(NullArray::new(values.len())),
        Some(Literal::Int(_)) => Arc::new(gather::<Int64Array, _>(values, |v| match v {
            Literal::Int(i) => Some(*i),
            _ => None,
        })),
        Some(Literal::Float(_)) => Arc::new(gather::<Float64Array, _>(values, |v| match v {
            Literal::Float(f) => Some(*f),
            _ => None,
        })),
        Some(Literal::Bool(_)) => Arc::new(gather::<BooleanArray, _>(values, |v| match v {
            Literal::Bool(b) => Some(*b),
            _ => None,
        })),
        Some(_) => Arc::new(gather::<StringArray, _>(values, |v| match v {
            Literal::Text(s) => Some(s.as_str()),
            _ => None,
        })),
    })
}

/// `values` as an array of `A`, `pick` giving each one's value (`None`: NULL).
fn gather<'a, A, T>(values: &'a [Literal], pick: impl Fn(&'a Literal) -> Option<T>) -> A
where
    A: FromIterator<Option<T>>,
{
    values.iter().map(pick).collect()
}

/// A column of mixed literals, each cast to `field`'s type on its own.
fn literal_by_literal(table: &str, field: &Field, values: &[Literal]) -> Result<ArrayRef> {
    let strict = CastOptions {
        safe: false,
        ..Default::default()
    };
    let target = field.data_type();
    let cast = values
        .iter()
        .map(|v| {
            let one = v.scalar().to_array().map_err(Error::Engine)?;
            cast_with_options(&one, target, &strict).map_err(|e| {
                Error::Invalid(format!(
                    "Column '{}' of table '{table}' is {target}, and the value {} does not \
                     convert: {e}",
                    field.name(),
                    describe(v)
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let parts: Vec<&dyn Array> = cast.iter().map(AsRef::as_ref).collect();
    if parts.is_empty() {
        return Ok(arrow::array::new_empty_array(target));
    }
    concat(&parts).map_err(Error::Output)
}

fn describe(value: &Literal) -> String {
    match value {
        Literal::Null => "NULL".into(),
        Literal::Bool(b) => b.to_string(),
        Literal::Int(i) => i.to_string(),
        Literal::Float(f) => f.to_string(),
        Literal::Text(s) => format!("'{s}'"),
    }
}

/// The answer of an insert: how many rows, as `inserted`.
pub(super) fn inserted(rows: u64) -> Result<super::QueryOutput> {
    let schema = Arc::new(Schema::new(vec![Field::new(
        super::statement::DmlKind::Insert.column(),
        DataType::Int64,
        false,
    )]));
    let count: ArrayRef = Arc::new(Int64Array::from(vec![rows as i64]));
    let batch = RecordBatch::try_new(Arc::clone(&schema), vec![count]).map_err(Error::Output)?;
    Ok(super::QueryOutput::new(schema, vec![batch]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::AsArray;
    use arrow::datatypes::Int64Type;

    fn table() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Utf8, true),
        ]))
    }

    fn rows(values: Vec<Vec<Literal>>) -> ValueRows {
        let mut values = values.into_iter();
        let mut rows = ValueRows::first(values.next().unwrap());
        for row in values {
            rows.push(row).unwrap();
        }
        rows
    }

    #[test]
    fn columns_of_one_type_keep_it() {
        let r = rows(vec![
            vec![Literal::Int(1), Literal::Text("x".into())],
            vec![Literal::Null, Literal::Null],
        ]);
        let b = batch("t", &table(), None, &r).unwrap();
        assert_eq!(b.column(0).data_type(), &DataType::Int64);
        assert_eq!(b.column(1).data_type(), &DataType::Utf8);
        assert_eq!(b.column(0).null_count(), 1);
    }

    #[test]
    fn mixed_columns_cast_each_literal() {
        let r = rows(vec![
            vec![Literal::Int(i64::MAX)],
            vec![Literal::Float(1.5)],
            vec![Literal::Text("7".into())],
        ]);
        let b = batch("t", &table(), Some(&["a".to_string()]), &r).unwrap();
        let a = b.column(0).as_primitive::<Int64Type>();
        assert_eq!(a.values().to_vec(), vec![i64::MAX, 1, 7]);
        let bad = rows(vec![vec![Literal::Int(1)], vec![Literal::Text("x".into())]]);
        let e = batch("t", &table(), Some(&["a".to_string()]), &bad).unwrap_err();
        assert!(e.to_string().contains("'x' does not convert"), "{e}");
    }

    #[test]
    fn refuses_unknown_repeated_and_miscounted_columns() {
        let r = rows(vec![vec![Literal::Int(1)]]);
        let unknown = batch("t", &table(), Some(&["z".to_string()]), &r).unwrap_err();
        assert!(
            unknown.to_string().contains("Unknown column 'z'"),
            "{unknown}"
        );
        let twice = rows(vec![vec![Literal::Int(1), Literal::Int(2)]]);
        let e = batch("t", &table(), Some(&["a".into(), "a".into()]), &twice).unwrap_err();
        assert!(e.to_string().contains("named twice"), "{e}");
        let e = batch("t", &table(), None, &r).unwrap_err();
        assert!(
            e.to_string().contains("1 values a row for 2 columns"),
            "{e}"
        );
    }
}
