//! `PERCENTILE(x, p)` and `MEDIAN(x)`, exact and always as doubles.
//!
//! Both are rewritten during planning into DataFusion's exact `percentile_cont` over `x` cast to
//! DOUBLE, so the median of integers 1 and 2 is 1.5 rather than a truncated 1. `p` may be a
//! fraction in [0, 1] or, as kdb+ and ZeptoDB users write it, a percentage in (1, 100].

use std::any::Any;

use arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, internal_err, plan_err};
use datafusion::error::Result;
use datafusion::functions_aggregate::percentile_cont::percentile_cont_udaf;
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::function::{AccumulatorArgs, AggregateFunctionSimplification};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Expr, Signature, Volatility, lit};

/// `percentile(x, p)`, or `median(x)` (the 0.5 percentile).
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct Percentile {
    name: &'static str,
    median: bool,
    signature: Signature,
}

impl Percentile {
    pub(crate) fn at_p() -> Self {
        Self::new("percentile", false)
    }

    pub(crate) fn median() -> Self {
        Self::new("median", true)
    }

    fn new(name: &'static str, median: bool) -> Self {
        Self {
            name,
            median,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// The fraction a percentile argument means.
fn fraction(p: f64) -> Option<f64> {
    match p {
        p if (0.0..=1.0).contains(&p) => Some(p),
        p if p > 1.0 && p <= 100.0 => Some(p / 100.0),
        _ => None,
    }
}

impl AggregateUDFImpl for Percentile {
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
        let numeric = |t: &DataType| t.is_numeric() || t.is_null();
        match (self.median, arg_types) {
            (true, [x]) if numeric(x) => Ok(vec![DataType::Float64]),
            (false, [x, p]) if numeric(x) && numeric(p) => {
                Ok(vec![DataType::Float64, DataType::Float64])
            }
            (true, _) => plan_err!("MEDIAN(x) takes one numeric argument"),
            (false, _) => plan_err!("PERCENTILE(x, p) takes a numeric column and a constant p"),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn accumulator(&self, _args: AccumulatorArgs<'_>) -> Result<Box<dyn Accumulator>> {
        // `simplify` replaces every call before execution; reaching here means it did not run.
        internal_err!(
            "{} is planned as percentile_cont and has no accumulator",
            self.name
        )
    }

    fn simplify(&self) -> Option<AggregateFunctionSimplification> {
        let median = self.median;
        Some(Box::new(move |call: AggregateFunction, _info| {
            let mut args = call.params.args;
            let p = if median {
                0.5
            } else {
                match args.pop() {
                    Some(Expr::Literal(ScalarValue::Float64(Some(p)), _)) => match fraction(p) {
                        Some(f) => f,
                        None => {
                            return plan_err!(
                                "PERCENTILE: p must be in [0, 1] or (1, 100], got {p}"
                            );
                        }
                    },
                    _ => return plan_err!("PERCENTILE: p must be a constant number"),
                }
            };
            args.push(lit(p));
            Ok(Expr::AggregateFunction(AggregateFunction::new_udf(
                percentile_cont_udaf(),
                args,
                call.params.distinct,
                call.params.filter,
                vec![],
                call.params.null_treatment,
            )))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::fraction;

    #[test]
    fn fractions_and_percentages() {
        assert_eq!(fraction(0.95), Some(0.95));
        assert_eq!(fraction(1.0), Some(1.0));
        assert_eq!(fraction(95.0), Some(0.95));
        assert_eq!(fraction(101.0), None);
        assert_eq!(fraction(-0.1), None);
    }
}
