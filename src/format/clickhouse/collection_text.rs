//! ClickHouse's text form of an array (`[1,'a\'b',NULL,[2]]`) or a map (`{'a':1,'b':[2]}`), as
//! the TabSeparated, CSV and `Values` formats and the `…Strings` JSON formats carry it, read into
//! an Arrow list or map of the column's type. The text becomes JSON (an array, or an object whose
//! keys are the map's keys as text; quoted items as strings, `NULL` as null, `true`/`false` as
//! booleans, every other item as its text) that arrow-json reads by the column's types, so an
//! item is parsed exactly as the same value would be in JSON, and a number is never rounded
//! through a float on its way to a `Decimal` or `UInt64`.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde_json::Value;

/// Whether values of `ty` are written in this text form: arrays and maps.
pub(super) fn is_collection(ty: &DataType) -> bool {
    matches!(ty, DataType::List(_) | DataType::Map(..))
}

/// `batch` (text columns named as `target`'s) with each column `target` holds as a list or map
/// parsed from its text; the other columns stay text for the insert to cast.
pub(super) fn parse_columns(batch: RecordBatch, target: &SchemaRef) -> Result<RecordBatch, String> {
    let is_list = |f: &Field| is_collection(f.data_type());
    if !target.fields().iter().any(|f| is_list(f)) {
        return Ok(batch);
    }
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        match target.field_with_name(field.name()) {
            Ok(list) if is_list(list) && column.data_type() == &DataType::Utf8 => {
                let parsed = parse_column(list, column)?;
                fields.push(Field::new(field.name(), parsed.data_type().clone(), true));
                columns.push(parsed);
            }
            _ => {
                fields.push(field.as_ref().clone());
                columns.push(Arc::clone(column));
            }
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| e.to_string())
}

/// The text arrays or maps of `column` as an array of `list`'s type.
fn parse_column(list: &Field, column: &ArrayRef) -> Result<ArrayRef, String> {
    let rows = column
        .as_string::<i32>()
        .iter()
        .enumerate()
        .map(|(row, text)| {
            let value = match text {
                None => Value::Null,
                Some(text) => to_json(text)
                    .map_err(|e| format!("row {}, column '{}': {e}", row + 1, list.name()))?,
            };
            Ok(serde_json::Map::from_iter([(list.name().clone(), value)]))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let schema = Arc::new(Schema::new(vec![list.clone().with_nullable(true)]));
    let mut decoder = arrow::json::ReaderBuilder::new(schema)
        .with_batch_size(rows.len().max(1))
        .build_decoder()
        .map_err(|e| e.to_string())?;
    decoder
        .serialize(&rows)
        .map_err(|e| format!("column '{}': {e}", list.name()))?;
    match decoder.flush().map_err(|e| e.to_string())? {
        Some(batch) => Ok(Arc::clone(batch.column(0))),
        None => Ok(arrow::array::new_empty_array(list.data_type())),
    }
}

/// One array's or map's text as JSON.
pub(super) fn to_json(text: &str) -> Result<Value, String> {
    let mut cursor = Cursor { text, at: 0 };
    cursor.skip_space();
    if !matches!(cursor.peek(), Some(b'[' | b'{')) {
        return Err(format!(
            "'{text}' is neither an array nor a map (written [a, b, …] and {{k: v, …}})"
        ));
    }
    let value = cursor.value()?;
    cursor.skip_space();
    if cursor.at != text.len() {
        return Err(cursor.error("text after the closing bracket"));
    }
    Ok(value)
}

struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.at += 1;
        }
    }

    fn error(&self, what: &str) -> String {
        format!("'{}' at byte {}: {what}", self.text, self.at)
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some(b'[') => self.array(),
            Some(b'{') => self.map(),
            Some(b'\'') => self.quoted().map(Value::String),
            Some(_) => {
                let start = self.at;
                while self
                    .peek()
                    .is_some_and(|b| !b.is_ascii_whitespace() && !b",[]{}:'".contains(&b))
                {
                    self.at += 1;
                }
                Ok(match &self.text[start..self.at] {
                    "" => return Err(self.error("expected an item")),
                    w if w.eq_ignore_ascii_case("null") => Value::Null,
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    w => Value::String(w.to_string()),
                })
            }
            None => Err(self.error("the array does not end")),
        }
    }

    fn array(&mut self) -> Result<Value, String> {
        self.at += 1;
        let mut items = Vec::new();
        self.skip_space();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_space();
            items.push(self.value()?);
            self.skip_space();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error("expected ',' or ']' after an item")),
            }
        }
    }

    /// `{k: v, …}` as a JSON object whose keys are the keys' text.
    fn map(&mut self) -> Result<Value, String> {
        self.at += 1;
        let mut entries = serde_json::Map::new();
        self.skip_space();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Value::Object(entries));
        }
        loop {
            self.skip_space();
            let key = match self.value()? {
                Value::String(key) => key,
                Value::Bool(b) => b.to_string(),
                Value::Null => return Err(self.error("a map's key cannot be NULL")),
                _ => return Err(self.error("a map's key is a single value")),
            };
            self.skip_space();
            if self.peek() != Some(b':') {
                return Err(self.error("expected ':' after a key"));
            }
            self.at += 1;
            self.skip_space();
            entries.insert(key, self.value()?);
            self.skip_space();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Value::Object(entries));
                }
                _ => return Err(self.error("expected ',' or '}' after a value")),
            }
        }
    }

    /// A single-quoted string: backslash escapes as in ClickHouse, `''` as one quote.
    fn quoted(&mut self) -> Result<String, String> {
        let (text, len) = super::text_read::quoted_literal(&self.text[self.at..])
            .ok_or_else(|| self.error("a quoted item does not end"))?;
        self.at += len;
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, StringArray};
    use arrow::datatypes::Int64Type;

    use super::*;

    #[test]
    fn text_arrays_become_json() {
        let parsed = to_json(r"[1, 'a\'b', NULL, ['it''s', []], true]").unwrap();
        assert_eq!(
            parsed,
            serde_json::json!(["1", "a'b", null, ["it's", []], true])
        );
        for bad in ["1", "[1", "[1,]", "[1] x", "['a]", "[1 2]"] {
            assert!(to_json(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_maps_become_json_objects() {
        let parsed = to_json(r"{'a':1, 'b\'c' : [NULL], 7:{'x':'y'}}").unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({"a": "1", "b'c": [null], "7": {"x": "y"}})
        );
        assert_eq!(to_json("{}").unwrap(), serde_json::json!({}));
        for bad in ["{", "{'a'}", "{'a':1,}", "{NULL:1}", "{'a':1} x", "{[1]:2}"] {
            assert!(to_json(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn list_columns_are_parsed_by_their_item_type() {
        let item = Arc::new(Field::new("item", DataType::Int64, true));
        let target = Arc::new(Schema::new(vec![
            Field::new("a", DataType::List(item), false),
            Field::new("s", DataType::Utf8, true),
        ]));
        let text = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("s", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            text,
            vec![
                Arc::new(StringArray::from(vec![
                    Some("[1,NULL,9007199254740993]"),
                    None,
                ])),
                Arc::new(StringArray::from(vec!["[x]", "y"])),
            ],
        )
        .unwrap();
        let out = parse_columns(batch, &target).unwrap();
        let lists = out.column(0).as_list::<i32>();
        let first = lists.value(0);
        let first = first.as_primitive::<Int64Type>();
        assert_eq!(first.value(2), 9_007_199_254_740_993, "no float on the way");
        assert!(first.is_null(1));
        assert!(lists.is_null(1));
        assert_eq!(out.column(1).as_string::<i32>().value(0), "[x]");
    }
}
