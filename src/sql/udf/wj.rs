//! `wj_avg`, `wj_sum`, `wj_min`, `wj_max`, `wj_count`: the aggregates of a `WINDOW JOIN`.
//!
//! A window join gives each left row the right columns as lists of the values inside its
//! window (`crate::sql::joins::window`); these reduce one such list per row, as kdb+'s `wj`
//! applies its aggregates to each window. NULL items are skipped; over an empty window
//! `wj_count` is 0 and the others NULL. Numbers and times only (min/max of a time is a time).

use std::any::Any;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// Which reduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Reduce {
    Avg,
    Sum,
    Min,
    Max,
    Count,
}

/// One `wj_*` function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct WindowAggregate {
    reduce: Reduce,
    name: &'static str,
    signature: Signature,
}

impl WindowAggregate {
    pub(crate) fn all() -> [Self; 5] {
        [
            (Reduce::Avg, "wj_avg"),
            (Reduce::Sum, "wj_sum"),
            (Reduce::Min, "wj_min"),
            (Reduce::Max, "wj_max"),
            (Reduce::Count, "wj_count"),
        ]
        .map(|(reduce, name)| Self {
            reduce,
            name,
            signature: Signature::any(1, Volatility::Immutable),
        })
    }
}

/// How a list's items are read: as integers (integers, times, dates) or as doubles.
fn integral(item: &DataType) -> bool {
    item.is_integer()
        || matches!(
            item,
            DataType::Timestamp(..)
                | DataType::Date32
                | DataType::Date64
                | DataType::Duration(_)
                | DataType::Time32(_)
                | DataType::Time64(_)
        )
}

impl ScalarUDFImpl for WindowAggregate {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let item = match arg_types {
            [DataType::List(item)] => item.data_type(),
            [other] => {
                return plan_err!(
                    "{} aggregates a column of a WINDOW JOIN's right table (a list of the \
                     values in each window), not {other}",
                    self.name
                );
            }
            _ => return plan_err!("{} takes one argument", self.name),
        };
        if self.reduce == Reduce::Count {
            return Ok(DataType::Int64);
        }
        if !(integral(item) || item.is_numeric()) {
            return plan_err!("{} takes numbers or times, not {item}", self.name);
        }
        Ok(match self.reduce {
            Reduce::Avg => DataType::Float64,
            Reduce::Sum if item.is_integer() => DataType::Int64,
            Reduce::Sum if integral(item) => {
                return plan_err!("{} adds numbers, not {item}", self.name);
            }
            Reduce::Sum => DataType::Float64,
            _ => item.clone(),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [arg] = args.args.as_slice() else {
            return exec_err!("{} takes one argument", self.name);
        };
        let array = arg.to_array(args.number_rows)?;
        let Some(lists) = array.as_list_opt::<i32>() else {
            return exec_err!("{}: not a list", self.name);
        };
        let offsets = lists.value_offsets();
        let windows = (0..lists.len()).map(|i| {
            let present = !lists.is_null(i);
            let range = offsets[i] as usize..offsets[i + 1] as usize;
            if present { range } else { 0..0 }
        });
        let values = lists.values();
        if self.reduce == Reduce::Count {
            let counts: Int64Array = windows
                .map(|w| Some((w.len() - values.slice(w.start, w.len()).null_count()) as i64))
                .collect();
            return Ok(ColumnarValue::Array(Arc::new(counts)));
        }
        let item = values.data_type().clone();
        let out: ArrayRef = if integral(&item) && self.reduce != Reduce::Avg {
            let ints = cast(values, &DataType::Int64)?;
            let ints = ints.as_primitive::<Int64Type>();
            let reduced: Int64Array = windows
                .map(|w| {
                    let items = w.filter(|j| ints.is_valid(*j)).map(|j| ints.value(j));
                    match self.reduce {
                        Reduce::Sum => items.reduce(i64::wrapping_add),
                        Reduce::Min => items.min(),
                        _ => items.max(),
                    }
                })
                .collect();
            let reduced: ArrayRef = Arc::new(reduced);
            if self.reduce == Reduce::Sum {
                reduced
            } else {
                cast(&reduced, &item)?
            }
        } else {
            let doubles = cast(values, &DataType::Float64)?;
            let doubles = doubles.as_primitive::<Float64Type>();
            let reduced: Float64Array = windows
                .map(|w| {
                    let mut items = w.filter(|j| doubles.is_valid(*j)).map(|j| doubles.value(j));
                    match self.reduce {
                        Reduce::Avg => {
                            let (n, sum) = items.fold((0usize, 0.0), |(n, s), v| (n + 1, s + v));
                            (n > 0).then(|| sum / n as f64)
                        }
                        Reduce::Sum => items.next().map(|first| items.fold(first, |a, b| a + b)),
                        Reduce::Min => items.reduce(f64::min),
                        _ => items.reduce(f64::max),
                    }
                })
                .collect();
            let reduced: ArrayRef = Arc::new(reduced);
            if matches!(self.reduce, Reduce::Min | Reduce::Max) {
                cast(&reduced, &item)?
            } else {
                reduced
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}
