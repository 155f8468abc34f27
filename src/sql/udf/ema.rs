//! `EMA(x, alpha | period) OVER (…)`: exponential moving average, as a double.
//!
//! A float literal is the smoothing factor α ∈ (0, 1]; an integer literal N is a period, with
//! α = 2 / (N + 1). `ema₀ = x₀`, `emaᵢ = α·xᵢ + (1 − α)·emaᵢ₋₁`. A NULL input repeats the previous
//! average (NULL before the first value). Without `ORDER BY` in `OVER`, rows are taken in the
//! table's time order (see the `time_order` analyzer rule).

use std::any::Any;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Float64Array};
use arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{PartitionEvaluator, Signature, Volatility, WindowUDFImpl};
use datafusion::physical_expr::expressions::Literal;

/// The `ema` window function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct Ema {
    signature: Signature,
}

impl Ema {
    pub(crate) fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl WindowUDFImpl for Ema {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn name(&self) -> &str {
        "ema"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            // The smoothing argument keeps its integer-ness: it decides alpha vs. period.
            [x, s] if (x.is_numeric() || x.is_null()) && s.is_integer() => {
                Ok(vec![DataType::Float64, DataType::Int64])
            }
            [x, s] if (x.is_numeric() || x.is_null()) && s.is_floating() => {
                Ok(vec![DataType::Float64, DataType::Float64])
            }
            _ => plan_err!(
                "EMA(x, alpha|period) needs a numeric column and a constant alpha in (0, 1] or integer period ≥ 1"
            ),
        }
    }

    fn partition_evaluator(
        &self,
        args: PartitionEvaluatorArgs<'_>,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        let smoothing = args
            .input_exprs()
            .get(1)
            .and_then(|e| e.as_any().downcast_ref::<Literal>())
            .map(|l| l.value().clone());
        let alpha = match smoothing {
            Some(ScalarValue::Int64(Some(n))) if n >= 1 => 2.0 / (n as f64 + 1.0),
            Some(ScalarValue::Float64(Some(a))) if a > 0.0 && a <= 1.0 => a,
            other => {
                return exec_err!(
                    "EMA smoothing must be a constant alpha in (0, 1] or an integer period ≥ 1, got {}",
                    other.map_or("a non-constant expression".to_string(), |v| v.to_string())
                );
            }
        };
        Ok(Box::new(EmaEvaluator { alpha }))
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
struct EmaEvaluator {
    alpha: f64,
}

impl PartitionEvaluator for EmaEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], _num_rows: usize) -> Result<ArrayRef> {
        let xs = values[0].as_primitive::<Float64Type>();
        let mut state: Option<f64> = None;
        let out: Float64Array = xs
            .iter()
            .map(|x| {
                if let Some(x) = x {
                    state = Some(match state {
                        None => x,
                        Some(prev) => self.alpha * x + (1.0 - self.alpha) * prev,
                    });
                }
                state
            })
            .collect();
        Ok(Arc::new(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ema_follows_the_recurrence() {
        let mut e = EmaEvaluator { alpha: 0.5 };
        let xs: ArrayRef = Arc::new(Float64Array::from(vec![
            None,
            Some(100.0),
            Some(110.0),
            None,
            Some(90.0),
        ]));
        let out = e.evaluate_all(&[xs], 5).unwrap();
        let out: Vec<_> = out.as_primitive::<Float64Type>().iter().collect();
        assert_eq!(
            out,
            [None, Some(100.0), Some(105.0), Some(105.0), Some(97.5)]
        );
    }
}
