//! `RATIO(x) OVER (…)`: ratio to the previous row (kdb+'s `ratios`), as a double.
//!
//! `r₀ = 1`, `rᵢ = xᵢ / xᵢ₋₁`; NULL where either value is NULL or the previous value is 0 (a
//! division by zero has no ratio). Without `ORDER BY` in `OVER`, rows are taken in time order.

use std::any::Any;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Float64Array};
use arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{PartitionEvaluator, Signature, Volatility, WindowUDFImpl};

/// The `ratio` window function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct Ratio {
    signature: Signature,
}

impl Ratio {
    pub(crate) fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl WindowUDFImpl for Ratio {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn name(&self) -> &str {
        "ratio"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] if t.is_numeric() || t.is_null() => Ok(vec![DataType::Float64]),
            _ => plan_err!("RATIO(x) takes one numeric argument"),
        }
    }

    fn partition_evaluator(
        &self,
        _args: PartitionEvaluatorArgs<'_>,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        Ok(Box::new(RatioEvaluator))
    }

    fn field(&self, field_args: WindowUDFFieldArgs<'_>) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(
            field_args.name(),
            DataType::Float64,
            true,
        )))
    }
}

#[derive(Debug)]
struct RatioEvaluator;

impl PartitionEvaluator for RatioEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], _num_rows: usize) -> Result<ArrayRef> {
        let xs = values[0].as_primitive::<Float64Type>();
        let mut prev: Option<Option<f64>> = None;
        let out: Float64Array = xs
            .iter()
            .map(|x| {
                let r = match prev {
                    None => x.map(|_| 1.0),
                    Some(p) => match (x, p) {
                        (Some(x), Some(p)) if p != 0.0 => Some(x / p),
                        _ => None,
                    },
                };
                prev = Some(x);
                r
            })
            .collect();
        Ok(Arc::new(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_start_at_one_and_refuse_division_by_zero() {
        let xs: ArrayRef = Arc::new(Float64Array::from(vec![100.0, 110.0, 0.0, 5.0]));
        let out = RatioEvaluator.evaluate_all(&[xs], 4).unwrap();
        let out: Vec<_> = out.as_primitive::<Float64Type>().iter().collect();
        assert_eq!(out, [Some(1.0), Some(1.1), Some(0.0), None]);
    }
}
