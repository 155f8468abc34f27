//! `xbar(x, bucket)`: round `x` down to a multiple of `bucket` (kdb+'s `xbar`).
//!
//! Works on integers, floats and timestamps; on a timestamp the bucket is in nanoseconds and the
//! result is still a timestamp, so `GROUP BY xbar(timestamp, 300000000000)` makes 5-minute bars.
//! Rounding is toward negative infinity, as in kdb+, so pre-1970 times bucket correctly too.

use std::any::Any;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, PrimitiveArray};
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Float64Type, Int64Type, TimeUnit, TimestampNanosecondType,
};
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The `xbar` scalar function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct Xbar {
    signature: Signature,
}

impl Xbar {
    pub(crate) fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Xbar {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn name(&self) -> &str {
        "xbar"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [x, bucket] = arg_types else {
            return plan_err!("xbar(x, bucket) takes 2 arguments, got {}", arg_types.len());
        };
        let numeric = |t: &DataType| t.is_numeric() || t.is_null();
        if !numeric(bucket) {
            return plan_err!("xbar: bucket must be a number, got {bucket}");
        }
        match x {
            DataType::Timestamp(_, tz) => Ok(vec![
                DataType::Timestamp(TimeUnit::Nanosecond, tz.clone()),
                DataType::Int64,
            ]),
            t if (t.is_integer() || t.is_null()) && (bucket.is_integer() || bucket.is_null()) => {
                Ok(vec![DataType::Int64, DataType::Int64])
            }
            t if numeric(t) => Ok(vec![DataType::Float64, DataType::Float64]),
            other => plan_err!("xbar: cannot bucket values of type {other}"),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [x, bucket] = args.args.as_slice() else {
            return exec_err!("xbar takes 2 arguments");
        };
        let x = x.to_array(args.number_rows)?;
        let out: ArrayRef = match x.data_type() {
            DataType::Timestamp(_, tz) => {
                let ts = x.as_primitive::<TimestampNanosecondType>();
                Arc::new(bucket_ints(ts, bucket, args.number_rows)?.with_timezone_opt(tz.clone()))
            }
            DataType::Int64 => Arc::new(bucket_ints(
                x.as_primitive::<Int64Type>(),
                bucket,
                args.number_rows,
            )?),
            DataType::Float64 => {
                let xs = x.as_primitive::<Float64Type>();
                let b = bucket.to_array(args.number_rows)?;
                let b = b.as_primitive::<Float64Type>();
                if b.iter().flatten().any(|b| b <= 0.0 || !b.is_finite()) {
                    return exec_err!("xbar: bucket must be a positive number");
                }
                Arc::new(arrow::compute::kernels::arity::binary::<
                    _,
                    _,
                    _,
                    Float64Type,
                >(xs, b, |v, b| (v / b).floor() * b)?)
            }
            other => return exec_err!("xbar: unexpected argument type {other}"),
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// Integer bucketing, with the common constant-bucket case as a single pass.
fn bucket_ints<T>(
    xs: &PrimitiveArray<T>,
    bucket: &ColumnarValue,
    rows: usize,
) -> Result<PrimitiveArray<T>>
where
    T: ArrowPrimitiveType<Native = i64>,
{
    let floor = |v: i64, b: i64| v.div_euclid(b) * b;
    match bucket {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(b))) => {
            if *b <= 0 {
                return exec_err!("xbar: bucket must be a positive integer, got {b}");
            }
            Ok(xs.unary(|v| floor(v, *b)))
        }
        ColumnarValue::Scalar(s) if s.is_null() => Ok(PrimitiveArray::new_null(xs.len())),
        other => {
            let b = other.to_array(rows)?;
            let b = b.as_primitive::<Int64Type>();
            if b.iter().flatten().any(|b| b <= 0) {
                return exec_err!("xbar: bucket must be a positive integer");
            }
            let out: PrimitiveArray<T> = xs
                .iter()
                .zip(b.iter())
                .map(|(v, b)| Some(floor(v?, b?)))
                .collect();
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int64Array};
    use arrow::datatypes::Field;
    use datafusion::config::ConfigOptions;

    fn call(x: ArrayRef, bucket: ScalarValue) -> Result<ArrayRef> {
        let rows = x.len();
        let args = ScalarFunctionArgs {
            arg_fields: vec![
                Arc::new(Field::new("x", x.data_type().clone(), true)),
                Arc::new(Field::new("b", bucket.data_type(), true)),
            ],
            return_field: Arc::new(Field::new("r", x.data_type().clone(), true)),
            args: vec![ColumnarValue::Array(x), ColumnarValue::Scalar(bucket)],
            number_rows: rows,
            config_options: Arc::new(ConfigOptions::default()),
        };
        Xbar::new().invoke_with_args(args)?.to_array(rows)
    }

    #[test]
    fn integers_floor_toward_negative_infinity() {
        let out = call(
            Arc::new(Int64Array::from(vec![Some(7), Some(-1), None])),
            ScalarValue::Int64(Some(5)),
        )
        .unwrap();
        let out = out.as_primitive::<Int64Type>();
        assert_eq!(out.iter().collect::<Vec<_>>(), [Some(5), Some(-5), None]);
    }

    #[test]
    fn floats_bucket() {
        let out = call(
            Arc::new(Float64Array::from(vec![2.7, 3.1])),
            ScalarValue::Float64(Some(0.5)),
        )
        .unwrap();
        assert_eq!(out.as_primitive::<Float64Type>().values(), &[2.5, 3.0]);
    }

    #[test]
    fn non_positive_buckets_are_refused() {
        let err = call(
            Arc::new(Int64Array::from(vec![1])),
            ScalarValue::Int64(Some(0)),
        )
        .unwrap_err();
        assert!(err.to_string().contains("positive"), "{err}");
    }
}
