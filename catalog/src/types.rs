//! Column types as users declare them in `CREATE TABLE`, and how each is stored in Arrow.
//!
//! The names follow the ZeptoDB reference (kdb+ heritage): `SYMBOL` is an interned string used for
//! instrument identifiers, `TIMESTAMP_NS` is nanoseconds since the Unix epoch in UTC. Every type
//! has one canonical name, which `DESCRIBE` prints.

use arrow_schema::{DataType, Field, TimeUnit};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::error::{Error, Result};

/// Time zone stored on every timestamp column: all Strata timestamps are UTC instants. It is also
/// what Delta's `timestamp`/`timestamp_nanos` types map to, so the hot tier and the HDB agree.
pub const UTC: &str = "UTC";

/// The zone a `DATETIME`/`DATETIME64` column is labelled with; `None` is the server's (UTC),
/// declared without one.
pub type Zone = Option<chrono_tz::Tz>;

/// A declared column type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// 64-bit signed integer (`INT64`, `BIGINT`, `LONG`).
    Int64,
    /// 32-bit signed integer (`INT32`, `INT`, `INTEGER`).
    Int32,
    /// 64-bit float (`FLOAT64`, `DOUBLE`).
    Float64,
    /// 32-bit float (`FLOAT32`, `FLOAT`, `REAL`).
    Float32,
    /// Nanosecond UTC timestamp (`TIMESTAMP_NS`, `TIMESTAMP`).
    TimestampNs,
    /// Low-cardinality identifier such as a ticker (`SYMBOL`).
    Symbol,
    /// Free text (`STRING`, `VARCHAR`, `TEXT`).
    String,
    /// Boolean (`BOOL`, `BOOLEAN`).
    Bool,
    /// 8-bit signed integer (`INT8`, ClickHouse's `Int8`).
    Int8,
    /// 16-bit signed integer (`INT16`, `SMALLINT`).
    Int16,
    /// 8-bit unsigned integer (`UINT8`).
    UInt8,
    /// 16-bit unsigned integer (`UINT16`).
    UInt16,
    /// 32-bit unsigned integer (`UINT32`).
    UInt32,
    /// 64-bit unsigned integer (`UINT64`).
    UInt64,
    /// A calendar day (`DATE`, ClickHouse's `Date`).
    Date,
    /// A calendar day of ClickHouse's wider `Date32` (the same values in Strata).
    Date32,
    /// An instant in whole seconds (`DATETIME`, ClickHouse's `DateTime['tz']`).
    DateTime(Zone),
    /// An instant with 3, 6 or 9 fractional digits (ClickHouse's `DateTime64(p[, 'tz'])`).
    DateTime64(u8, Zone),
    /// An exact decimal of `precision` digits, `scale` after the point (`DECIMAL(p, s)`), p ≤ 38.
    Decimal(u8, i8),
    /// A UUID, held as its canonical 36-character text (`UUID`).
    Uuid,
    /// At most `n` bytes of text (ClickHouse's `FixedString(n)`).
    FixedString(u16),
    /// A list of values of one type (ClickHouse's `Array(T)`); the flag says whether an item may be
    /// NULL (`Array(Nullable(T))`). The list itself is never NULL, as in ClickHouse: a row
    /// without one holds the empty list.
    Array(Box<ColumnType>, bool),
    /// Keys of one type to values of another (ClickHouse's `Map(K, V)`): the flag says whether a
    /// value may be NULL (`Map(K, Nullable(V))`). Keys are never NULL, and the map itself never
    /// is either: a row without one holds the empty map.
    Map(Box<ColumnType>, Box<ColumnType>, bool),
}

/// The name of an Arrow list's item field. Arrow's own default, which the Parquet writer keeps in
/// the embedded schema so the HDB reads back the type the hot tier holds.
pub const LIST_ITEM: &str = "item";

/// The names of an Arrow map's entries field and of its key and value fields: the Delta
/// kernel's own, so the HDB's scan and the hot tier hold one type.
pub const MAP_ENTRIES: &str = "key_value";
/// See [`MAP_ENTRIES`].
pub const MAP_KEY: &str = "key";
/// See [`MAP_ENTRIES`].
pub const MAP_VALUE: &str = "value";

impl ColumnType {
    /// An `Array(item)`, its items NULL-able when `items_nullable`.
    pub fn array(item: ColumnType, items_nullable: bool) -> Self {
        ColumnType::Array(Box::new(item), items_nullable)
    }

    /// A `Map(key, value)`, its values NULL-able when `values_nullable`.
    pub fn map(key: ColumnType, value: ColumnType, values_nullable: bool) -> Self {
        ColumnType::Map(Box::new(key), Box::new(value), values_nullable)
    }

    /// Whether values are collections (arrays, maps): never NULL (a row without one holds the
    /// empty one), and never in a sort key.
    pub fn is_collection(&self) -> bool {
        matches!(self, ColumnType::Array(..) | ColumnType::Map(..))
    }

    /// One of each scalar type, in the order the docs list them.
    pub const ALL: [ColumnType; 21] = [
        ColumnType::Int64,
        ColumnType::Int32,
        ColumnType::Float64,
        ColumnType::Float32,
        ColumnType::TimestampNs,
        ColumnType::Symbol,
        ColumnType::String,
        ColumnType::Bool,
        ColumnType::Int8,
        ColumnType::Int16,
        ColumnType::UInt8,
        ColumnType::UInt16,
        ColumnType::UInt32,
        ColumnType::UInt64,
        ColumnType::Date,
        ColumnType::Date32,
        ColumnType::DateTime(None),
        ColumnType::DateTime64(3, Some(chrono_tz::Tz::Europe__Paris)),
        ColumnType::Decimal(18, 4),
        ColumnType::Uuid,
        ColumnType::FixedString(3),
    ];

    /// The canonical name `DESCRIBE` prints, which parses back to this type.
    pub fn name(&self) -> String {
        let zone = |tz: &Zone| tz.map(|tz| format!("'{}'", tz.name()));
        match self {
            ColumnType::Int64 => "INT64".into(),
            ColumnType::Int32 => "INT32".into(),
            ColumnType::Float64 => "FLOAT64".into(),
            ColumnType::Float32 => "FLOAT32".into(),
            ColumnType::TimestampNs => "TIMESTAMP_NS".into(),
            ColumnType::Symbol => "SYMBOL".into(),
            ColumnType::String => "STRING".into(),
            ColumnType::Bool => "BOOL".into(),
            ColumnType::Int8 => "INT8".into(),
            ColumnType::Int16 => "INT16".into(),
            ColumnType::UInt8 => "UINT8".into(),
            ColumnType::UInt16 => "UINT16".into(),
            ColumnType::UInt32 => "UINT32".into(),
            ColumnType::UInt64 => "UINT64".into(),
            ColumnType::Date => "DATE".into(),
            ColumnType::Date32 => "DATE32".into(),
            ColumnType::DateTime(tz) => match zone(tz) {
                Some(tz) => format!("DATETIME({tz})"),
                None => "DATETIME".into(),
            },
            ColumnType::DateTime64(p, tz) => match zone(tz) {
                Some(tz) => format!("DATETIME64({p}, {tz})"),
                None => format!("DATETIME64({p})"),
            },
            ColumnType::Decimal(p, s) => format!("DECIMAL({p}, {s})"),
            ColumnType::Uuid => "UUID".into(),
            ColumnType::FixedString(n) => format!("FIXEDSTRING({n})"),
            ColumnType::Array(item, false) => format!("ARRAY({})", item.name()),
            ColumnType::Array(item, true) => format!("ARRAY(NULLABLE({}))", item.name()),
            ColumnType::Map(key, value, false) => format!("MAP({}, {})", key.name(), value.name()),
            ColumnType::Map(key, value, true) => {
                format!("MAP({}, NULLABLE({}))", key.name(), value.name())
            }
        }
    }

    /// Whether values are instants, so the column can be a table's time column.
    pub fn is_instant(&self) -> bool {
        matches!(
            self,
            ColumnType::TimestampNs | ColumnType::DateTime(_) | ColumnType::DateTime64(..)
        )
    }

    /// The Arrow type values of this column are held in.
    ///
    /// `SYMBOL` is a plain UTF-8 column: Delta and Parquet readers see an ordinary string and
    /// DataFusion's string kernels and group-by paths apply directly. Instants are labelled with
    /// their zone (UTC when none was declared); the zone changes how they print, never the value.
    /// An array is an Arrow `List` whose item field is [`LIST_ITEM`]; a map an Arrow `Map` (its
    /// fields named as [`MAP_ENTRIES`] says), keys unsorted.
    pub fn arrow_type(&self) -> DataType {
        let zone = |tz: &Zone| Some(tz.map_or(UTC, |tz| tz.name()).into());
        match self {
            ColumnType::Int64 => DataType::Int64,
            ColumnType::Int32 => DataType::Int32,
            ColumnType::Float64 => DataType::Float64,
            ColumnType::Float32 => DataType::Float32,
            ColumnType::TimestampNs => DataType::Timestamp(TimeUnit::Nanosecond, Some(UTC.into())),
            ColumnType::Symbol
            | ColumnType::String
            | ColumnType::Uuid
            | ColumnType::FixedString(_) => DataType::Utf8,
            ColumnType::Bool => DataType::Boolean,
            ColumnType::Int8 => DataType::Int8,
            ColumnType::Int16 => DataType::Int16,
            ColumnType::UInt8 => DataType::UInt8,
            ColumnType::UInt16 => DataType::UInt16,
            ColumnType::UInt32 => DataType::UInt32,
            ColumnType::UInt64 => DataType::UInt64,
            ColumnType::Date | ColumnType::Date32 => DataType::Date32,
            ColumnType::DateTime(tz) => DataType::Timestamp(TimeUnit::Second, zone(tz)),
            ColumnType::DateTime64(p, tz) => DataType::Timestamp(precision_unit(*p), zone(tz)),
            ColumnType::Decimal(p, s) => DataType::Decimal128(*p, *s),
            ColumnType::Array(item, nullable) => DataType::List(Arc::new(Field::new(
                LIST_ITEM,
                item.arrow_type(),
                *nullable,
            ))),
            ColumnType::Map(key, value, nullable) => DataType::Map(
                Arc::new(Field::new(
                    MAP_ENTRIES,
                    DataType::Struct(
                        vec![
                            Field::new(MAP_KEY, key.arrow_type(), false),
                            Field::new(MAP_VALUE, value.arrow_type(), *nullable),
                        ]
                        .into(),
                    ),
                    false,
                )),
                false,
            ),
        }
    }
}

/// The Arrow unit of a `DATETIME64(p)` (p is 3, 6 or 9: checked when the type is parsed).
fn precision_unit(p: u8) -> TimeUnit {
    match p {
        0..=3 => TimeUnit::Millisecond,
        4..=6 => TimeUnit::Microsecond,
        _ => TimeUnit::Nanosecond,
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for ColumnType {
    type Err = Error;

    /// Parses a declared type name, case-insensitively, with ClickHouse's `Nullable(…)` and
    /// `LowCardinality(…)` around it ignored (see [`parse_declared`]).
    fn from_str(s: &str) -> Result<Self> {
        parse_declared(s).map(|(ty, _)| ty)
    }
}

/// A declared type: Strata's names (`SYMBOL`, `TIMESTAMP_NS`, …), the SQL aliases (`BIGINT`,
/// `VARCHAR(32)`: a length is accepted and ignored) and ClickHouse's (`UInt32`,
/// `DateTime('Europe/Paris')`, `Decimal(10, 2)`, `LowCardinality(String)`, …), and whether it
/// was wrapped in ClickHouse's `Nullable(…)`. Names are case-insensitive.
///
/// Arrays are `Array(T)` (ClickHouse), `ARRAY<T>` or `T[]` (SQL), nested as deep as wanted, with
/// `Nullable(…)` allowed on the items and refused around the array itself, as in ClickHouse.
/// Maps are `Map(K, V)`: keys of a scalar type and never `Nullable`, values of any type,
/// `Nullable(…)` allowed on the values and refused around the map.
pub fn parse_declared(s: &str) -> Result<(ColumnType, bool)> {
    let unsupported = || Error::UnsupportedType(s.trim().to_string());
    let (mut text, mut nullable) = (s.trim(), false);
    while let Some((name, args)) = split_call(text) {
        match (name.to_ascii_uppercase().as_str(), args.as_slice()) {
            ("NULLABLE", [_]) => nullable = true,
            ("LOWCARDINALITY", [_]) => {}
            _ => break,
        }
        text = args[0];
    }
    if let Some(item) = array_item(text) {
        if nullable {
            return Err(Error::InvalidType(format!(
                "{}: an array cannot be Nullable (a row without one holds the empty array); \
                 Array(Nullable(T)) makes its items NULL-able",
                s.trim()
            )));
        }
        let (item, items_nullable) = parse_declared(item)?;
        return Ok((ColumnType::array(item, items_nullable), false));
    }
    if let Some((name, args)) = split_call(text)
        && name.eq_ignore_ascii_case("MAP")
    {
        return map(s, &args, nullable);
    }
    let (name, args) = match split_call(text) {
        Some((name, args)) => (name, args),
        None if !text.contains(['(', ')']) => (text, Vec::new()),
        None => return Err(unsupported()),
    };
    let upper = name.to_ascii_uppercase();
    let int = |i: usize| args.get(i).and_then(|a| a.parse::<u64>().ok());
    let ty = match (upper.as_str(), args.len()) {
        ("INT64" | "BIGINT" | "LONG", 0) => ColumnType::Int64,
        ("INT32" | "INT" | "INTEGER", 0) => ColumnType::Int32,
        ("FLOAT64" | "DOUBLE" | "DOUBLE PRECISION", 0) => ColumnType::Float64,
        ("FLOAT32" | "FLOAT" | "REAL", 0) => ColumnType::Float32,
        ("TIMESTAMP_NS" | "TIMESTAMP", 0) => ColumnType::TimestampNs,
        ("SYMBOL", 0) => ColumnType::Symbol,
        ("STRING" | "TEXT", 0) => ColumnType::String,
        ("VARCHAR" | "CHARACTER VARYING", 0 | 1) => ColumnType::String,
        ("BOOL" | "BOOLEAN", 0) => ColumnType::Bool,
        ("INT8" | "TINYINT", 0) => ColumnType::Int8,
        ("INT16" | "SMALLINT", 0) => ColumnType::Int16,
        ("UINT8", 0) => ColumnType::UInt8,
        ("UINT16", 0) => ColumnType::UInt16,
        ("UINT32", 0) => ColumnType::UInt32,
        ("UINT64", 0) => ColumnType::UInt64,
        ("DATE", 0) => ColumnType::Date,
        ("DATE32", 0) => ColumnType::Date32,
        ("DATETIME", 0) => ColumnType::DateTime(None),
        ("DATETIME", 1) => ColumnType::DateTime(Some(zone(s, args[0])?)),
        ("DATETIME64", 1 | 2) => {
            let p = int(0).ok_or_else(unsupported)?;
            if !matches!(p, 3 | 6 | 9) {
                return Err(Error::InvalidType(format!(
                    "{}: DateTime64 precision must be 3, 6 or 9 (DateTime holds whole seconds)",
                    s.trim()
                )));
            }
            let tz = args.get(1).map(|a| zone(s, a)).transpose()?;
            ColumnType::DateTime64(p as u8, tz)
        }
        ("DECIMAL" | "NUMERIC", 2) => decimal(s, int(0), int(1))?,
        ("DECIMAL32", 1) => decimal(s, Some(9), int(0))?,
        ("DECIMAL64", 1) => decimal(s, Some(18), int(0))?,
        ("DECIMAL128", 1) => decimal(s, Some(38), int(0))?,
        ("UUID", 0) => ColumnType::Uuid,
        ("FIXEDSTRING", 1) => match int(0).and_then(|n| u16::try_from(n).ok()) {
            Some(n) if n > 0 => ColumnType::FixedString(n),
            _ => {
                return Err(Error::InvalidType(format!(
                    "{}: FixedString's length must be 1 to 65535 bytes",
                    s.trim()
                )));
            }
        },
        _ => return Err(unsupported()),
    };
    Ok((ty, nullable))
}

/// The item type's text of an array declared as `Array(T)`, `ARRAY<T>` or `T[]`.
fn array_item(text: &str) -> Option<&str> {
    if let Some(item) = text.strip_suffix("[]") {
        return Some(item.trim());
    }
    let head = text.get(..5)?;
    if !head.eq_ignore_ascii_case("ARRAY") {
        return None;
    }
    let rest = text[5..].trim_start();
    match split_call(text) {
        Some((name, args)) if name.eq_ignore_ascii_case("ARRAY") && args.len() == 1 => {
            Some(args[0])
        }
        _ => rest.strip_prefix('<')?.strip_suffix('>').map(str::trim),
    }
}

/// `Name(a, b)` → `("Name", ["a", "b"])`, splitting at top-level commas; `None` if `text` is not a
/// call.
fn split_call(text: &str) -> Option<(&str, Vec<&str>)> {
    let open = text.find('(')?;
    let inner = text.strip_suffix(')')?.get(open + 1..)?;
    let (mut depth, mut quoted, mut start, mut args) = (0usize, false, 0, Vec::new());
    for (i, c) in inner.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.checked_sub(1)?,
            ',' if !quoted && depth == 0 => {
                args.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 || quoted {
        return None;
    }
    args.push(inner[start..].trim());
    Some((text[..open].trim(), args))
}

/// The zone named by the quoted argument `arg` of type `s`.
fn zone(s: &str, arg: &str) -> Result<chrono_tz::Tz> {
    let name = arg
        .strip_prefix('\'')
        .and_then(|a| a.strip_suffix('\''))
        .ok_or_else(|| {
            Error::InvalidType(format!("{}: the time zone must be a quoted name", s.trim()))
        })?;
    name.parse().map_err(|_| {
        Error::InvalidType(format!(
            "{}: unknown time zone '{name}' (an IANA name such as 'Europe/Paris')",
            s.trim()
        ))
    })
}

/// The `Map(K, V)` of type `s` whose arguments are `args`.
fn map(s: &str, args: &[&str], nullable: bool) -> Result<(ColumnType, bool)> {
    let invalid = |why: &str| Err(Error::InvalidType(format!("{}: {why}", s.trim())));
    if nullable {
        return invalid(
            "a map cannot be Nullable (a row without one holds the empty map); \
             Map(K, Nullable(V)) makes its values NULL-able",
        );
    }
    let [key, value] = args else {
        return invalid("Map takes a key type and a value type, as in Map(String, UInt64)");
    };
    let (key, key_nullable) = parse_declared(key)?;
    if key_nullable {
        return invalid("a map's keys cannot be Nullable");
    }
    if key.is_collection() || matches!(key, ColumnType::Float32 | ColumnType::Float64) {
        return invalid(&format!(
            "a map's keys cannot be {} (keys are strings, integers, dates, times, UUIDs or \
             decimals)",
            key.name()
        ));
    }
    let (value, values_nullable) = parse_declared(value)?;
    Ok((ColumnType::map(key, value, values_nullable), false))
}

fn decimal(s: &str, precision: Option<u64>, scale: Option<u64>) -> Result<ColumnType> {
    match (precision, scale) {
        (Some(p @ 1..=38), Some(sc)) if sc <= p => Ok(ColumnType::Decimal(p as u8, sc as i8)),
        _ => Err(Error::InvalidType(format!(
            "{}: Decimal needs a precision of 1 to 38 digits and a scale no larger than it",
            s.trim()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clickhouse_names_take_the_nearest_type() {
        for (text, want) in [
            ("UInt32", ColumnType::UInt32),
            ("Nullable(UInt8)", ColumnType::UInt8),
            ("LowCardinality(String)", ColumnType::String),
            (
                "DateTime('UTC')",
                ColumnType::DateTime(Some(chrono_tz::Tz::UTC)),
            ),
            ("Date32", ColumnType::Date32),
            (
                "Nullable(DateTime64(3, 'UTC'))",
                ColumnType::DateTime64(3, Some(chrono_tz::Tz::UTC)),
            ),
            ("Float64", ColumnType::Float64),
        ] {
            assert_eq!(text.parse::<ColumnType>().unwrap(), want, "{text}");
        }
    }

    #[test]
    fn aliases_parse_to_canonical_types() {
        let cases = [
            ("int64", ColumnType::Int64),
            ("BIGINT", ColumnType::Int64),
            ("INT", ColumnType::Int32),
            ("Double", ColumnType::Float64),
            ("REAL", ColumnType::Float32),
            ("TIMESTAMP", ColumnType::TimestampNs),
            ("TIMESTAMP_NS", ColumnType::TimestampNs),
            ("symbol", ColumnType::Symbol),
            ("VARCHAR(20)", ColumnType::String),
            ("text", ColumnType::String),
            ("BOOLEAN", ColumnType::Bool),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<ColumnType>().unwrap(), want, "{text}");
        }
    }

    #[test]
    fn canonical_names_round_trip() {
        for ty in ColumnType::ALL {
            assert_eq!(ty.name().parse::<ColumnType>().unwrap(), ty);
        }
    }

    #[test]
    fn unknown_type_names_the_culprit() {
        let err = "MONEY(10,2)".parse::<ColumnType>().unwrap_err();
        assert!(err.to_string().contains("MONEY(10,2)"), "{err}");
        for bad in [
            "DateTime64(4)",
            "DateTime('Mars/Olympus')",
            "DateTime(UTC)",
            "Decimal(40, 2)",
            "Decimal(5, 6)",
            "FixedString(0)",
            "Nullable(Int64",
        ] {
            assert!(bad.parse::<ColumnType>().is_err(), "{bad}");
        }
    }

    #[test]
    fn arrays_parse_in_every_spelling_and_nest() {
        let ints = ColumnType::array(ColumnType::Int64, false);
        for (text, want) in [
            ("Array(Int64)", ints.clone()),
            ("ARRAY<INT64>", ints.clone()),
            ("BIGINT[]", ints.clone()),
            (
                "Array(Nullable(String))",
                ColumnType::array(ColumnType::String, true),
            ),
            (
                "Array(Array(DateTime64(3, 'UTC')))",
                ColumnType::array(
                    ColumnType::array(ColumnType::DateTime64(3, Some(chrono_tz::Tz::UTC)), false),
                    false,
                ),
            ),
            (
                "Array(LowCardinality(String))",
                ColumnType::array(ColumnType::String, false),
            ),
        ] {
            assert_eq!(
                parse_declared(text).unwrap(),
                (want.clone(), false),
                "{text}"
            );
            assert_eq!(want.name().parse::<ColumnType>().unwrap(), want, "{text}");
        }
        let err = parse_declared("Nullable(Array(Int64))").unwrap_err();
        assert!(err.to_string().contains("cannot be Nullable"), "{err}");
        for bad in [
            "Array()",
            "Array(Int64, Int64)",
            "Array(Money)",
            "ARRAY<INT64",
        ] {
            assert!(parse_declared(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn maps_parse_and_refuse_what_clickhouse_refuses() {
        for (text, want) in [
            (
                "Map(String, UInt64)",
                ColumnType::map(ColumnType::String, ColumnType::UInt64, false),
            ),
            (
                "Map(LowCardinality(String), Nullable(Float64))",
                ColumnType::map(ColumnType::String, ColumnType::Float64, true),
            ),
            (
                "Map(Int32, Array(Map(String, String)))",
                ColumnType::map(
                    ColumnType::Int32,
                    ColumnType::array(
                        ColumnType::map(ColumnType::String, ColumnType::String, false),
                        false,
                    ),
                    false,
                ),
            ),
        ] {
            assert_eq!(
                parse_declared(text).unwrap(),
                (want.clone(), false),
                "{text}"
            );
            assert_eq!(want.name().parse::<ColumnType>().unwrap(), want, "{text}");
            assert!(want.is_collection());
        }
        for (bad, says) in [
            ("Nullable(Map(String, Int64))", "cannot be Nullable"),
            ("Map(Nullable(String), Int64)", "keys cannot be Nullable"),
            ("Map(Array(String), Int64)", "keys cannot be ARRAY(STRING)"),
            ("Map(Float64, Int64)", "keys cannot be FLOAT64"),
            ("Map(String)", "a key type and a value type"),
            ("Map(String, Money)", "Money"),
        ] {
            let err = parse_declared(bad).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
        let ty = ColumnType::map(ColumnType::String, ColumnType::Int64, true);
        let DataType::Map(entries, false) = ty.arrow_type() else {
            panic!("{:?}", ty.arrow_type());
        };
        assert_eq!(entries.name(), MAP_ENTRIES);
        let DataType::Struct(fields) = entries.data_type() else {
            panic!("{entries:?}");
        };
        assert_eq!(
            (fields[0].name().as_str(), fields[0].is_nullable()),
            (MAP_KEY, false)
        );
        assert_eq!(
            (fields[1].name().as_str(), fields[1].is_nullable()),
            (MAP_VALUE, true)
        );
    }

    #[test]
    fn an_array_is_an_arrow_list_of_its_items() {
        let ty = ColumnType::array(ColumnType::Date, true);
        assert_eq!(
            ty.arrow_type(),
            DataType::List(Arc::new(Field::new(LIST_ITEM, DataType::Date32, true)))
        );
        assert_eq!(ty.name(), "ARRAY(NULLABLE(DATE))");
        assert!(!ty.is_instant());
    }

    #[test]
    fn clickhouse_declarations_keep_their_parameters() {
        let paris = Some(chrono_tz::Tz::Europe__Paris);
        for (text, want, nullable) in [
            (
                "DateTime('Europe/Paris')",
                ColumnType::DateTime(paris),
                false,
            ),
            ("DateTime", ColumnType::DateTime(None), false),
            (
                "Nullable(DateTime64(3))",
                ColumnType::DateTime64(3, None),
                true,
            ),
            (
                "DateTime64(9, 'Europe/Paris')",
                ColumnType::DateTime64(9, paris),
                false,
            ),
            ("Decimal(10, 2)", ColumnType::Decimal(10, 2), false),
            ("Decimal64(4)", ColumnType::Decimal(18, 4), false),
            ("Nullable(UUID)", ColumnType::Uuid, true),
            ("LowCardinality(Nullable(String))", ColumnType::String, true),
            ("FixedString(16)", ColumnType::FixedString(16), false),
            ("Date32", ColumnType::Date32, false),
        ] {
            assert_eq!(parse_declared(text).unwrap(), (want, nullable), "{text}");
        }
    }
}
