//! `DELTA(x) OVER (…)`: difference from the previous row (kdb+'s `deltas`).
//!
//! `d₀ = x₀`, `dᵢ = xᵢ − xᵢ₋₁`; NULL where either value is NULL. Integers stay integers, floats
//! stay doubles. Without `ORDER BY` in `OVER`, rows are taken in the table's time order.

use std::any::Any;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, PrimitiveArray};
use arrow::datatypes::{ArrowPrimitiveType, DataType, Field, FieldRef, Float64Type, Int64Type};
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{PartitionEvaluator, Signature, Volatility, WindowUDFImpl};

/// The `delta` window function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct Delta {
    signature: Signature,
}

impl Delta {
    pub(crate) fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl WindowUDFImpl for Delta {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn name(&self) -> &str {
        "delta"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] if t.is_integer() || t.is_null() => Ok(vec![DataType::Int64]),
            [t] if t.is_numeric() => Ok(vec![DataType::Float64]),
            _ => plan_err!("DELTA(x) takes one numeric argument"),
        }
    }

    fn partition_evaluator(
        &self,
        _args: PartitionEvaluatorArgs<'_>,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        Ok(Box::new(DeltaEvaluator))
    }

    fn field(&self, field_args: WindowUDFFieldArgs<'_>) -> Result<FieldRef> {
        let ty = field_args
            .get_input_field(0)
            .map_or(DataType::Float64, |f| f.data_type().clone());
        Ok(Arc::new(Field::new(field_args.name(), ty, true)))
    }
}

#[derive(Debug)]
struct DeltaEvaluator;

fn deltas<T: ArrowPrimitiveType>(
    xs: &PrimitiveArray<T>,
    sub: impl Fn(T::Native, T::Native) -> T::Native,
) -> PrimitiveArray<T> {
    let mut prev: Option<Option<T::Native>> = None;
    xs.iter()
        .map(|x| {
            let d = match prev {
                None => x,
                Some(p) => x.zip(p).map(|(x, p)| sub(x, p)),
            };
            prev = Some(x);
            d
        })
        .collect()
}

impl PartitionEvaluator for DeltaEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], _num_rows: usize) -> Result<ArrayRef> {
        let x = &values[0];
        Ok(match x.data_type() {
            DataType::Int64 => Arc::new(deltas(x.as_primitive::<Int64Type>(), i64::wrapping_sub)),
            DataType::Float64 => Arc::new(deltas(x.as_primitive::<Float64Type>(), |a, b| a - b)),
            other => return exec_err!("DELTA: unexpected input type {other}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;

    #[test]
    fn first_row_is_itself_then_differences() {
        let xs: ArrayRef = Arc::new(Int64Array::from(vec![Some(100), Some(110), None, Some(90)]));
        let out = DeltaEvaluator.evaluate_all(&[xs], 4).unwrap();
        let out: Vec<_> = out.as_primitive::<Int64Type>().iter().collect();
        assert_eq!(out, [Some(100), Some(10), None, None]);
    }
}
