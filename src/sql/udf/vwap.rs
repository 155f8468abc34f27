//! `vwap(price, volume)`: volume-weighted average price, Σ(price·volume) / Σvolume, as a double.
//!
//! Rows where either input is NULL are skipped; a group whose volumes sum to 0 yields NULL. A
//! grouped accumulator keeps `GROUP BY symbol` vectorised: two `f64` slots per group.

use std::any::Any;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array};
use arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility,
};

/// The `vwap` aggregate.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct Vwap {
    signature: Signature,
}

impl Vwap {
    pub(crate) fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for Vwap {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn name(&self) -> &str {
        "vwap"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [p, v] if [p, v].iter().all(|t| t.is_numeric() || t.is_null()) => {
                Ok(vec![DataType::Float64, DataType::Float64])
            }
            [p, v] => plan_err!("vwap(price, volume) needs numbers, got vwap({p}, {v})"),
            _ => plan_err!(
                "vwap(price, volume) takes 2 arguments, got {}",
                arg_types.len()
            ),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn state_fields(&self, args: StateFieldsArgs<'_>) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new(
                format_state_name(args.name, "pv"),
                DataType::Float64,
                false,
            )),
            Arc::new(Field::new(
                format_state_name(args.name, "v"),
                DataType::Float64,
                false,
            )),
        ])
    }

    fn accumulator(&self, _args: AccumulatorArgs<'_>) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(VwapAccumulator::default()))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs<'_>) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs<'_>,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(VwapGroups::default()))
    }
}

fn finish(pv: f64, v: f64) -> Option<f64> {
    (v != 0.0).then(|| pv / v)
}

/// Calls `f(row, a, b)` for every row where both inputs are non-null and the filter passes.
fn for_each_pair(
    a: &ArrayRef,
    b: &ArrayRef,
    filter: Option<&BooleanArray>,
    mut f: impl FnMut(usize, f64, f64),
) {
    let (a, b) = (
        a.as_primitive::<Float64Type>(),
        b.as_primitive::<Float64Type>(),
    );
    let no_nulls = a.null_count() == 0 && b.null_count() == 0 && filter.is_none();
    if no_nulls {
        for (row, (x, y)) in a.values().iter().zip(b.values()).enumerate() {
            f(row, *x, *y);
        }
        return;
    }
    for row in 0..a.len() {
        let passes = filter.is_none_or(|m| m.is_valid(row) && m.value(row));
        if passes && a.is_valid(row) && b.is_valid(row) {
            f(row, a.value(row), b.value(row));
        }
    }
}

#[derive(Debug, Default)]
struct VwapAccumulator {
    pv: f64,
    v: f64,
}

impl Accumulator for VwapAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for_each_pair(&values[0], &values[1], None, |_, p, v| {
            self.pv += p * v;
            self.v += v;
        });
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for_each_pair(&states[0], &states[1], None, |_, pv, v| {
            self.pv += pv;
            self.v += v;
        });
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            ScalarValue::Float64(Some(self.pv)),
            ScalarValue::Float64(Some(self.v)),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(finish(self.pv, self.v)))
    }

    fn size(&self) -> usize {
        size_of_val(self)
    }
}

#[derive(Debug, Default)]
struct VwapGroups {
    pv: Vec<f64>,
    v: Vec<f64>,
}

impl VwapGroups {
    fn add(
        &mut self,
        values: &[ArrayRef],
        groups: &[usize],
        filter: Option<&BooleanArray>,
        total: usize,
        weigh: bool,
    ) {
        self.pv.resize(total, 0.0);
        self.v.resize(total, 0.0);
        for_each_pair(&values[0], &values[1], filter, |row, a, b| {
            let g = groups[row];
            // Raw rows contribute price·volume; merged states already hold the product.
            self.pv[g] += if weigh { a * b } else { a };
            self.v[g] += b;
        });
    }
}

impl GroupsAccumulator for VwapGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.add(values, group_indices, opt_filter, total_num_groups, true);
        Ok(())
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.add(values, group_indices, opt_filter, total_num_groups, false);
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let pv = emit_to.take_needed(&mut self.pv);
        let v = emit_to.take_needed(&mut self.v);
        let out: Float64Array = pv.iter().zip(&v).map(|(pv, v)| finish(*pv, *v)).collect();
        Ok(Arc::new(out))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let pv = emit_to.take_needed(&mut self.pv);
        let v = emit_to.take_needed(&mut self.v);
        Ok(vec![
            Arc::new(Float64Array::from(pv)),
            Arc::new(Float64Array::from(v)),
        ])
    }

    fn size(&self) -> usize {
        (self.pv.capacity() + self.v.capacity()) * size_of::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arr(v: Vec<Option<f64>>) -> ArrayRef {
        Arc::new(Float64Array::from(v))
    }

    #[test]
    fn weighted_average_skips_nulls() {
        let mut acc = VwapAccumulator::default();
        acc.update_batch(&[
            arr(vec![Some(200.0), Some(210.0), None]),
            arr(vec![Some(5.0), Some(15.0), Some(100.0)]),
        ])
        .unwrap();
        assert_eq!(acc.evaluate().unwrap(), ScalarValue::Float64(Some(207.5)));
    }

    #[test]
    fn groups_merge_and_zero_volume_is_null() {
        let mut g = VwapGroups::default();
        g.update_batch(
            &[
                arr(vec![Some(1.0), Some(3.0), Some(9.0)]),
                arr(vec![Some(1.0), Some(1.0), Some(0.0)]),
            ],
            &[0, 0, 1],
            None,
            2,
        )
        .unwrap();
        let state = g.state(EmitTo::All).unwrap();
        let mut merged = VwapGroups::default();
        merged.merge_batch(&state, &[0, 1], None, 2).unwrap();
        let out = merged.evaluate(EmitTo::All).unwrap();
        let out = out.as_primitive::<Float64Type>();
        assert_eq!(out.value(0), 2.0);
        assert!(out.is_null(1));
    }
}
