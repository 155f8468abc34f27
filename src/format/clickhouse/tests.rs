//! The encoders against bodies captured from a real ClickHouse server
//! (`clickhouse-http.md` §3, `clickhouse-golden/`) for:
//!
//! ```sql
//! SELECT number AS n, toInt32(number) - 1 AS i32, toString(number) AS s,
//!        if(number = 1, NULL, number * 1.5) AS nf, [number, number + 1] AS arr,
//!        toDate('2024-01-02') + number AS d, toDateTime('2024-01-02 03:04:05', 'UTC') + number AS dt,
//!        'q"t\\b<TAB>x' AS esc
//! FROM system.numbers LIMIT 2
//! ```

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int64Array, ListArray, RecordBatch, StringArray,
    TimestampSecondArray, UInt64Array,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};

use super::*;

fn golden_batch() -> RecordBatch {
    let item = Arc::new(Field::new("item", DataType::UInt64, false));
    let schema = Arc::new(Schema::new(vec![
        Field::new("n", DataType::UInt64, false),
        Field::new("i32", DataType::Int64, false),
        Field::new("s", DataType::Utf8, false),
        Field::new("nf", DataType::Float64, true),
        Field::new("arr", DataType::List(Arc::clone(&item)), false),
        Field::new("d", DataType::Date32, false),
        Field::new(
            "dt",
            DataType::Timestamp(TimeUnit::Second, Some("UTC".into())),
            false,
        ),
        Field::new("esc", DataType::Utf8, false),
    ]));
    // 2024-01-02 is day 19724; 03:04:05 that day is 1704164645.
    let columns: Vec<ArrayRef> = vec![
        Arc::new(UInt64Array::from(vec![0, 1])),
        Arc::new(Int64Array::from(vec![-1, 0])),
        Arc::new(StringArray::from(vec!["0", "1"])),
        Arc::new(Float64Array::from(vec![Some(0.0), None])),
        Arc::new(ListArray::new(
            Arc::clone(&item),
            OffsetBuffer::new(vec![0, 2, 4].into()),
            Arc::new(UInt64Array::from(vec![0, 1, 1, 2])),
            None,
        )),
        Arc::new(Date32Array::from(vec![19724, 19725])),
        Arc::new(
            TimestampSecondArray::from(vec![1_704_164_645, 1_704_164_646]).with_timezone("UTC"),
        ),
        Arc::new(StringArray::from(vec!["q\"t\\b\tx", "q\"t\\b\tx"])),
    ];
    RecordBatch::try_new(schema, columns).unwrap()
}

fn fmt(name: &str) -> TextFormat {
    TextFormat::parse(name).unwrap()
}

fn body(format: TextFormat) -> String {
    let batch = golden_batch();
    String::from_utf8(encode_text(format, &batch.schema(), &[batch]).unwrap()).unwrap()
}

#[test]
fn tab_separated_is_byte_exact() {
    let rows = "0\t-1\t0\t0\t[0,1]\t2024-01-02\t2024-01-02 03:04:05\tq\"t\\\\b\\tx\n1\t0\t1\t\\N\t[1,2]\t2024-01-03\t2024-01-02 03:04:06\tq\"t\\\\b\\tx\n";
    assert_eq!(body(fmt("TabSeparated")), rows);
    assert_eq!(
        body(fmt("TabSeparatedWithNames")),
        format!("n\ti32\ts\tnf\tarr\td\tdt\tesc\n{rows}")
    );
    // A modern server's type names (18.16 printed `Date`, `DateTime` without the zone); the
    // types line is escaped like any TSV value, so ClickHouse prints `DateTime(\'UTC\')`.
    assert_eq!(
        body(fmt("TabSeparatedWithNamesAndTypes")),
        format!(
            "n\ti32\ts\tnf\tarr\td\tdt\tesc\nUInt64\tInt64\tString\tNullable(Float64)\tArray(UInt64)\tDate32\tDateTime(\\'UTC\\')\tString\n{rows}"
        )
    );
    assert!(body(fmt("TabSeparatedRaw")).contains("q\"t\\b\tx\n"));
}

#[test]
fn csv_is_byte_exact() {
    let rows = "0,-1,\"0\",0,\"[0,1]\",\"2024-01-02\",\"2024-01-02 03:04:05\",\"q\"\"t\\b\tx\"\n1,0,\"1\",\\N,\"[1,2]\",\"2024-01-03\",\"2024-01-02 03:04:06\",\"q\"\"t\\b\tx\"\n";
    assert_eq!(body(fmt("CSV")), rows);
    assert_eq!(
        body(fmt("CSVWithNames")),
        format!("\"n\",\"i32\",\"s\",\"nf\",\"arr\",\"d\",\"dt\",\"esc\"\n{rows}")
    );
}

#[test]
fn json_each_row_is_byte_exact() {
    assert_eq!(
        body(fmt("JSONEachRow")),
        "{\"n\":\"0\",\"i32\":\"-1\",\"s\":\"0\",\"nf\":0,\"arr\":[\"0\",\"1\"],\"d\":\"2024-01-02\",\"dt\":\"2024-01-02 03:04:05\",\"esc\":\"q\\\"t\\\\b\\tx\"}\n{\"n\":\"1\",\"i32\":\"0\",\"s\":\"1\",\"nf\":null,\"arr\":[\"1\",\"2\"],\"d\":\"2024-01-03\",\"dt\":\"2024-01-02 03:04:06\",\"esc\":\"q\\\"t\\\\b\\tx\"}\n"
    );
    assert_eq!(
        body(fmt("JSONCompactEachRow")).lines().next().unwrap(),
        "[\"0\",\"-1\",\"0\",0,[\"0\",\"1\"],\"2024-01-02\",\"2024-01-02 03:04:05\",\"q\\\"t\\\\b\\tx\"]"
    );
}

#[test]
fn strata_columns_print_as_clickhouse_does() {
    use arrow::array::{Array, BooleanArray, DictionaryArray, TimestampNanosecondArray};
    use arrow::datatypes::Int32Type;
    let symbol: DictionaryArray<Int32Type> = vec!["AAPL", "MS\tFT"].into_iter().collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("symbol", symbol.data_type().clone(), false),
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            false,
        ),
        Field::new("ok", DataType::Boolean, true),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(symbol),
            Arc::new(
                TimestampNanosecondArray::from(vec![1_711_231_200_000_000_001, -1])
                    .with_timezone("UTC"),
            ),
            Arc::new(BooleanArray::from(vec![Some(true), None])),
        ],
    )
    .unwrap();
    let tsv = encode_text(fmt("TabSeparatedWithNamesAndTypes"), &schema, &[batch]).unwrap();
    assert_eq!(
        String::from_utf8(tsv).unwrap(),
        "symbol\ttimestamp\tok\nString\tDateTime64(9, \\'UTC\\')\tNullable(Bool)\n\
         AAPL\t2024-03-23 22:00:00.000000001\ttrue\n\
         MS\\tFT\t1969-12-31 23:59:59.999999999\t\\N\n"
    );
    assert_eq!(TextFormat::parse("TSV"), Some(fmt("TabSeparated")));
    assert_eq!(TextFormat::parse("JSONEachRowWithNames"), None);
    assert_eq!(TextFormat::parse("Pretty"), None);
}

#[test]
fn json_strings_escape_as_clickhouse_does() {
    let mut out = String::new();
    text::json_string(&mut out, "Etc/UTC \u{1}");
    assert_eq!(out, "\"Etc\\/UTC \\u0001\"");
    let mut tsv = String::new();
    let strings = StringArray::from(vec!["a\\b'c\n\0"]);
    text::write_value(&mut tsv, &strings, 0, text::Dialect::Tsv).unwrap();
    assert_eq!(tsv, "a\\\\b\\'c\\n\\0");
}

/// The body up to `statistics`, as captured (`elapsed` differs run to run); 18.16's type
/// names replaced by a modern server's (`Date32` for Arrow's dates, zoned `DateTime`).
const JSON_GOLDEN: &str = "{\n\t\"meta\":\n\t[\n\t\t{\n\t\t\t\"name\": \"n\",\n\t\t\t\"type\": \"UInt64\"\n\t\t},\n\t\t{\n\t\t\t\"name\": \"i32\",\n\t\t\t\"type\": \"Int64\"\n\t\t},\n\t\t{\n\t\t\t\"name\": \"s\",\n\t\t\t\"type\": \"String\"\n\t\t},\n\t\t{\n\t\t\t\"name\": \"nf\",\n\t\t\t\"type\": \"Nullable(Float64)\"\n\t\t},\n\t\t{\n\t\t\t\"name\": \"arr\",\n\t\t\t\"type\": \"Array(UInt64)\"\n\t\t},\n\t\t{\n\t\t\t\"name\": \"d\",\n\t\t\t\"type\": \"Date\"\n\t\t},\n\t\t{\n\t\t\t\"name\": \"dt\",\n\t\t\t\"type\": \"DateTime\"\n\t\t},\n\t\t{\n\t\t\t\"name\": \"esc\",\n\t\t\t\"type\": \"String\"\n\t\t}\n\t],\n\n\t\"data\":\n\t[\n\t\t{\n\t\t\t\"n\": \"0\",\n\t\t\t\"i32\": \"-1\",\n\t\t\t\"s\": \"0\",\n\t\t\t\"nf\": 0,\n\t\t\t\"arr\": [\"0\",\"1\"],\n\t\t\t\"d\": \"2024-01-02\",\n\t\t\t\"dt\": \"2024-01-02 03:04:05\",\n\t\t\t\"esc\": \"q\\\"t\\\\b\\tx\"\n\t\t},\n\t\t{\n\t\t\t\"n\": \"1\",\n\t\t\t\"i32\": \"0\",\n\t\t\t\"s\": \"1\",\n\t\t\t\"nf\": null,\n\t\t\t\"arr\": [\"1\",\"2\"],\n\t\t\t\"d\": \"2024-01-03\",\n\t\t\t\"dt\": \"2024-01-02 03:04:06\",\n\t\t\t\"esc\": \"q\\\"t\\\\b\\tx\"\n\t\t}\n\t],\n\n\t\"rows\": 2,\n\n\t\"rows_before_limit_at_least\": 2,\n\n";

/// `JSONCompact` from `data` up to `statistics`.
const JSON_COMPACT_GOLDEN: &str = "\t\"data\":\n\t[\n\t\t[\"0\", \"-1\", \"0\", 0, [\"0\",\"1\"], \"2024-01-02\", \"2024-01-02 03:04:05\", \"q\\\"t\\\\b\\tx\"],\n\t\t[\"1\", \"0\", \"1\", null, [\"1\",\"2\"], \"2024-01-03\", \"2024-01-02 03:04:06\", \"q\\\"t\\\\b\\tx\"]\n\t],\n\n\t\"rows\": 2,\n\n\t\"rows_before_limit_at_least\": 2,\n\n";

fn envelope(compact: bool, strings: bool) -> json::Envelope {
    json::Envelope { compact, strings }
}

#[test]
fn json_envelopes_are_byte_exact() {
    let batch = golden_batch();
    let stats = json::Statistics {
        elapsed_secs: 0.5,
        rows_read: 2,
        bytes_read: 16,
    };
    let full = json::encode_json(
        envelope(false, false),
        &batch.schema(),
        std::slice::from_ref(&batch),
        Some(2),
        stats,
    )
    .unwrap();
    let full = String::from_utf8(full).unwrap();
    let want = JSON_GOLDEN
        .replace("\"type\": \"Date\"", "\"type\": \"Date32\"")
        .replace("\"type\": \"DateTime\"", "\"type\": \"DateTime('UTC')\"");
    assert_eq!(
        full,
        format!(
            "{want}\t\"statistics\":\n\t{{\n\t\t\"elapsed\": 0.5,\n\t\t\"rows_read\": 2,\n\t\t\"bytes_read\": 16\n\t}}\n}}\n"
        )
    );
    let compact = json::encode_json(
        envelope(true, false),
        &batch.schema(),
        &[batch],
        Some(2),
        stats,
    )
    .unwrap();
    let compact = String::from_utf8(compact).unwrap();
    assert!(compact.contains(JSON_COMPACT_GOLDEN), "{compact}");
    // No LIMIT, no rows: the envelope stays, `data` is empty.
    let empty = RecordBatch::new_empty(golden_batch().schema());
    let none = json::encode_json(
        envelope(false, false),
        &empty.schema(),
        &[empty],
        None,
        stats,
    )
    .unwrap();
    let none = String::from_utf8(none).unwrap();
    assert!(
        none.contains("\"data\":\n\t[\n\n\t],\n\n\t\"rows\": 0,\n\n\t\"statistics\""),
        "{none}"
    );
}

/// `RowBinary` as captured, with 18.16's 2-byte `Date` widened to the 4-byte `Date32` Arrow's
/// dates are.
const ROW_BINARY_GOLDEN: &str = "0000000000000000ffffffffffffffff013000000000000000000002000000000000000001000000000000000c4d257d9365077122745c6209780100000000000000000000000000000001310102010000000000000002000000000000000d4d267d9365077122745c620978";

#[test]
fn row_binary_is_byte_exact() {
    let batch = golden_batch();
    let want = ROW_BINARY_GOLDEN
        .replace("0c4d257d9365", "0c4d0000257d9365")
        .replace("0d4d267d9365", "0d4d0000267d9365");
    let got = binary::encode_row_binary(Header::None, &batch.schema(), &[batch]).unwrap();
    assert_eq!(hex::encode(got), want);

    // The documented header: `SELECT toUInt8(5) AS a, 'z' AS b`.
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", DataType::UInt8, false),
        Field::new("b", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(arrow::array::UInt8Array::from(vec![5])),
            Arc::new(StringArray::from(vec!["z"])),
        ],
    )
    .unwrap();
    let got = binary::encode_row_binary(Header::NamesAndTypes, &schema, &[batch]).unwrap();
    assert_eq!(got, b"\x02\x01a\x01b\x05UInt8\x06String\x05\x01z");
    let mut big = Vec::new();
    binary::write_varuint(&mut big, 300);
    assert_eq!(big, [0xac, 0x02]);
}

/// `Native` as captured (no `client_protocol_version`), with 18.16's `Date`/`DateTime` columns
/// as Strata's `Date32`/`DateTime('UTC')`, and zeros under the NULL (18.16 left 1.5 there;
/// the value under a NULL is arbitrary).
const NATIVE_GOLDEN: &str = "0802016e0655496e743634000000000000000001000000000000000369333205496e743634ffffffffffffffff0000000000000000017306537472696e6701300131026e66114e756c6c61626c6528466c6f617436342900010000000000000000000000000000f83f036172720d41727261792855496e74363429020000000000000004000000000000000000000000000000010000000000000001000000000000000200000000000000016404446174650c4d0d4d026474084461746554696d65257d9365267d93650365736306537472696e67077122745c620978077122745c620978";

#[test]
fn native_is_byte_exact() {
    let batch = golden_batch();
    let date32 = hex::encode("Date32");
    let datetime = hex::encode("DateTime('UTC')");
    let want = NATIVE_GOLDEN
        .replace(
            "00010000000000000000000000000000f83f",
            "000100000000000000000000000000000000",
        )
        .replace(
            "016404446174650c4d0d4d",
            &format!("016406{date32}0c4d00000d4d0000"),
        )
        .replace("026474084461746554696d65", &format!("0264740f{datetime}"));
    let got = native::encode_native(0, &batch.schema(), &[batch]).unwrap();
    assert_eq!(hex::encode(got), want);
}

#[test]
fn native_follows_the_protocol_revision() {
    let check = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new(
            "check",
            DataType::UInt8,
            false,
        )])),
        vec![Arc::new(arrow::array::UInt8Array::from(vec![1]))],
    )
    .unwrap();
    // clickhouse-connect's probe (54405): BlockInfo, no has_custom byte.
    let probe =
        native::encode_native(54405, &check.schema(), std::slice::from_ref(&check)).unwrap();
    assert_eq!(
        probe,
        b"\x01\x00\x02\xff\xff\xff\xff\x00\x01\x01\x05check\x05UInt8\x01"
    );
    // clickhouse-go (54460): BlockInfo and has_custom = 0 before the values.
    let schema = Arc::new(Schema::new(vec![
        Field::new("revision()", DataType::UInt32, false),
        Field::new("timezone()", DataType::Utf8, false),
    ]));
    let handshake = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(arrow::array::UInt32Array::from(vec![54460])),
            Arc::new(StringArray::from(vec!["UTC"])),
        ],
    )
    .unwrap();
    let got = native::encode_native(54460, &schema, &[handshake]).unwrap();
    let mut want = b"\x01\x00\x02\xff\xff\xff\xff\x00\x02\x01".to_vec();
    want.extend_from_slice(b"\x0arevision()\x06UInt32\x00\xbc\xd4\x00\x00");
    want.extend_from_slice(b"\x0atimezone()\x06String\x00\x03UTC");
    assert_eq!(got, want);
    // No rows: one block of headers, so the client still learns the columns.
    let empty = RecordBatch::new_empty(check.schema());
    let got = native::encode_native(0, &empty.schema(), &[empty]).unwrap();
    assert_eq!(got, b"\x01\x00\x05check\x05UInt8");
}

#[test]
fn strings_values_and_header_variants_follow_clickhouse() {
    assert_eq!(
        body(fmt("JSONStringsEachRow")).lines().nth(1).unwrap(),
        "{\"n\":\"1\",\"i32\":\"0\",\"s\":\"1\",\"nf\":\"ᴺᵁᴸᴸ\",\"arr\":\"[1,2]\",\"d\":\"2024-01-03\",\"dt\":\"2024-01-02 03:04:06\",\"esc\":\"q\\\"t\\\\b\\tx\"}"
    );
    let lines: Vec<String> = body(fmt("JSONCompactEachRowWithNamesAndTypes"))
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        lines[0],
        "[\"n\",\"i32\",\"s\",\"nf\",\"arr\",\"d\",\"dt\",\"esc\"]"
    );
    assert_eq!(
        lines[1],
        "[\"UInt64\",\"Int64\",\"String\",\"Nullable(Float64)\",\"Array(UInt64)\",\"Date32\",\"DateTime('UTC')\",\"String\"]"
    );
    assert_eq!(lines.len(), 4);
    assert_eq!(
        body(fmt("JSONCompactStringsEachRow"))
            .lines()
            .next()
            .unwrap(),
        "[\"0\",\"-1\",\"0\",\"0\",\"[0,1]\",\"2024-01-02\",\"2024-01-02 03:04:05\",\"q\\\"t\\\\b\\tx\"]"
    );
    // Values: SQL tuples, no line breaks, strings escaped inside single quotes.
    assert_eq!(
        body(fmt("Values")),
        "(0,-1,'0',0,[0,1],'2024-01-02','2024-01-02 03:04:05','q\"t\\\\b\\tx'),\
         (1,0,'1',NULL,[1,2],'2024-01-03','2024-01-02 03:04:06','q\"t\\\\b\\tx')"
    );
    assert!(body(fmt("CSVWithNamesAndTypes")).starts_with("\"n\",\"i32\",\"s\",\"nf\",\"arr\",\"d\",\"dt\",\"esc\"\n\"UInt64\",\"Int64\",\"String\",\"Nullable(Float64)\""));
    assert!(TextFormat::parse("ValuesWithNames").is_none());
}

#[test]
fn json_strings_envelopes_quote_every_value() {
    let batch = golden_batch();
    let stats = json::Statistics::default();
    let got =
        json::encode_json(envelope(true, true), &batch.schema(), &[batch], None, stats).unwrap();
    let got = String::from_utf8(got).unwrap();
    assert!(
        got.contains("\t\t[\"1\", \"0\", \"1\", \"ᴺᵁᴸᴸ\", \"[1,2]\", \"2024-01-03\", \"2024-01-02 03:04:06\", \"q\\\"t\\\\b\\tx\"]\n"),
        "{got}"
    );
    assert!(got.contains("\"type\": \"Nullable(Float64)\""), "{got}");
}

#[test]
fn format_names_are_case_insensitive() {
    assert_eq!(super::canonical_name("tsv"), Some("TSV"));
    assert_eq!(
        super::canonical_name("jsoncompacteachrowwithnames"),
        Some("JSONCompactEachRowWithNames")
    );
    assert_eq!(
        super::canonical_name("PRETTYCOMPACT"),
        Some("PrettyCompact")
    );
    assert_eq!(super::canonical_name("Nope"), None);
}

/// A `Map(String, UInt8)` column: `{'a':1,'bc':2}`, then the empty map.
fn map_batch() -> RecordBatch {
    use arrow::array::{Array, MapBuilder, MapFieldNames, StringBuilder, UInt8Builder};
    let names = MapFieldNames {
        entry: strata_catalog::MAP_ENTRIES.into(),
        key: strata_catalog::MAP_KEY.into(),
        value: strata_catalog::MAP_VALUE.into(),
    };
    let mut b =
        MapBuilder::new(Some(names), StringBuilder::new(), UInt8Builder::new()).with_values_field(
            Field::new(strata_catalog::MAP_VALUE, DataType::UInt8, false),
        );
    for (k, v) in [("a", 1), ("bc", 2)] {
        b.keys().append_value(k);
        b.values().append_value(v);
    }
    b.append(true).unwrap();
    b.append(true).unwrap();
    let map = b.finish();
    let schema = Arc::new(Schema::new(vec![Field::new(
        "m",
        map.data_type().clone(),
        false,
    )]));
    RecordBatch::try_new(schema, vec![Arc::new(map)]).unwrap()
}

#[test]
fn maps_are_written_and_read_as_clickhouse_does() {
    let batch = map_batch();
    let schema = batch.schema();
    let text = |name: &str| {
        String::from_utf8(encode_text(fmt(name), &schema, std::slice::from_ref(&batch)).unwrap())
            .unwrap()
    };
    assert_eq!(text("TabSeparated"), "{'a':1,'bc':2}\n{}\n");
    assert_eq!(text("CSV"), "\"{'a':1,'bc':2}\"\n\"{}\"\n");
    assert_eq!(
        text("JSONEachRow"),
        "{\"m\":{\"a\":1,\"bc\":2}}\n{\"m\":{}}\n"
    );
    assert_eq!(
        text("TabSeparatedWithNamesAndTypes"),
        "m\nMap(String, UInt8)\n{'a':1,'bc':2}\n{}\n"
    );
    // RowBinary: a count, then key, value, key, value.
    let row_binary =
        binary::encode_row_binary(Header::None, &schema, std::slice::from_ref(&batch)).unwrap();
    assert_eq!(hex::encode(&row_binary), "020161010262630200");
    // Native: the offsets, then every key, then every value.
    let native = native::encode_native(0, &schema, std::slice::from_ref(&batch)).unwrap();
    let map_type = hex::encode("Map(String, UInt8)");
    assert_eq!(
        hex::encode(&native),
        format!("0102016d12{map_type}0200000000000000020000000000000001610262630102")
    );
    // Both read back to the same map.
    for (format, body) in [("RowBinary", row_binary), ("Native", native)] {
        let got = input::decode(format, &bytes::Bytes::from(body), &schema, None, 1 << 20)
            .unwrap_or_else(|e| panic!("{format}: {e}"));
        let got = arrow::compute::cast(got[0].column(0), schema.field(0).data_type()).unwrap();
        assert_eq!(got.as_ref(), batch.column(0).as_ref(), "{format}");
    }
}
