//! `EPOCH_S(ts)` and `EPOCH_MS(ts)`: a timestamp as whole seconds / milliseconds since the epoch.
//!
//! Integers are taken as nanoseconds, the unit of `TIMESTAMP_NS`. Rounds toward negative infinity,
//! so instants before 1970 land in the right second.

use std::any::Any;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::{DataType, Int64Type, TimeUnit, TimestampNanosecondType};
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// `EPOCH_S` or `EPOCH_MS`, by the unit divisor.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct Epoch {
    name: &'static str,
    nanos_per_unit: i64,
    signature: Signature,
}

impl Epoch {
    pub(crate) fn seconds() -> Self {
        Self::new("epoch_s", 1_000_000_000)
    }

    pub(crate) fn millis() -> Self {
        Self::new("epoch_ms", 1_000_000)
    }

    fn new(name: &'static str, nanos_per_unit: i64) -> Self {
        Self {
            name,
            nanos_per_unit,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Epoch {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [DataType::Timestamp(_, tz)] => {
                Ok(vec![DataType::Timestamp(TimeUnit::Nanosecond, tz.clone())])
            }
            [t] if t.is_integer() || t.is_null() => Ok(vec![DataType::Int64]),
            _ => plan_err!(
                "{}(ts) takes one timestamp (or integer nanoseconds)",
                self.name
            ),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let x = args.args[0].to_array(args.number_rows)?;
        let unit = self.nanos_per_unit;
        let out: ArrayRef = match x.data_type() {
            DataType::Timestamp(..) => Arc::new(
                x.as_primitive::<TimestampNanosecondType>()
                    .unary::<_, Int64Type>(|v| v.div_euclid(unit)),
            ),
            DataType::Int64 => Arc::new(
                x.as_primitive::<Int64Type>()
                    .unary::<_, Int64Type>(|v| v.div_euclid(unit)),
            ),
            other => return exec_err!("{}: unexpected argument type {other}", self.name),
        };
        Ok(ColumnarValue::Array(out))
    }
}
