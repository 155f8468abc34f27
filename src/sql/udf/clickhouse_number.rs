//! Two helpers the ClickHouse front end's rewrites call (`crate::sql::parser::clickhouse`):
//!
//! - `clickhouse_number(x)`: the number ClickHouse's conversions (`toUInt32(ts)`) see in a
//!   value: a timestamp's whole seconds since the epoch, a date's days; any other value
//!   unchanged. So `toUInt32(ts)` is the Unix time, as in ClickHouse.
//! - `cast_like(x, y)`: `x` cast to `y`'s type, so `toStartOfInterval(t, …)` keeps `t`'s type
//!   (a `DateTime` stays a `DateTime`) although `date_bin` answers nanoseconds.
//!
//! Both keep their argument's nullability: `toUInt32(7)` is `UInt32`, not `Nullable(UInt32)`.

use std::any::Any;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef, Int64Type, TimeUnit, TimestampNanosecondType};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct ClickHouseNumber {
    signature: Signature,
}

impl ClickHouseNumber {
    pub(crate) fn new() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for ClickHouseNumber {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn name(&self) -> &str {
        "clickhouse_number"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(match arg_types.first() {
            Some(DataType::Timestamp(..)) => DataType::Int64,
            Some(DataType::Date32) => DataType::Int32,
            Some(other) => other.clone(),
            None => DataType::Null,
        })
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs<'_>) -> Result<FieldRef> {
        let types: Vec<DataType> = args
            .arg_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let nullable = args.arg_fields.iter().any(|f| f.is_nullable());
        Ok(Arc::new(Field::new(
            self.name(),
            self.return_type(&types)?,
            nullable,
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let x = args.args[0].to_array(args.number_rows)?;
        let out: ArrayRef = match x.data_type() {
            DataType::Timestamp(..) => {
                let nanos = cast(&x, &DataType::Timestamp(TimeUnit::Nanosecond, None))?;
                Arc::new(
                    nanos
                        .as_primitive::<TimestampNanosecondType>()
                        .unary::<_, Int64Type>(|v| v.div_euclid(1_000_000_000)),
                )
            }
            DataType::Date32 => cast(&x, &DataType::Int32)?,
            _ => x,
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// `cast_like(x, y)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct CastLike {
    signature: Signature,
}

impl CastLike {
    pub(crate) fn new() -> Self {
        Self {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for CastLike {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn name(&self) -> &str {
        "cast_like"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types.get(1).cloned().unwrap_or(DataType::Null))
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs<'_>) -> Result<FieldRef> {
        let types: Vec<DataType> = args
            .arg_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let nullable = args.arg_fields.first().is_none_or(|f| f.is_nullable());
        Ok(Arc::new(Field::new(
            self.name(),
            self.return_type(&types)?,
            nullable,
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let target = args.args[1].data_type();
        let x = args.args[0].to_array(args.number_rows)?;
        Ok(ColumnarValue::Array(cast(&x, &target)?))
    }
}
