//! Strata's SQL functions, registered on every query session.
//!
//! One file per function, as in DataFusion's own `functions` crates. Besides these, the session
//! gets a few aliases so ZeptoDB/kdb+ spellings resolve to DataFusion built-ins:
//! `first`/`last` → `first_value`/`last_value` (ordered by the table's time column, see
//! [`super::analyzer`]), and `stddev`/`variance` → the *population* statistics, as in kdb+ and the
//! ZeptoDB reference (`stddev_samp`/`var_samp` stay available).

mod clickhouse_number;
mod date_trunc;
mod delta;
mod ema;
mod epoch;
mod percentile;
mod ratio;
mod vwap;
mod wj;
mod xbar;

use datafusion::functions_aggregate::first_last::{first_value_udaf, last_value_udaf};
use datafusion::functions_aggregate::stddev::stddev_pop_udaf;
use datafusion::functions_aggregate::variance::var_pop_udaf;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF, WindowUDF};
use datafusion::prelude::SessionContext;

/// Adds every Strata function and alias to `ctx`.
pub fn register(ctx: &SessionContext) {
    ctx.register_udf(ScalarUDF::from(xbar::Xbar::new()));
    ctx.register_udf(ScalarUDF::from(epoch::Epoch::seconds()));
    ctx.register_udf(ScalarUDF::from(epoch::Epoch::millis()));
    ctx.register_udf(ScalarUDF::from(date_trunc::DateTrunc::new()));
    ctx.register_udf(ScalarUDF::from(clickhouse_number::ClickHouseNumber::new()));
    ctx.register_udf(ScalarUDF::from(clickhouse_number::CastLike::new()));
    for aggregate in wj::WindowAggregate::all() {
        ctx.register_udf(ScalarUDF::from(aggregate));
    }

    ctx.register_udaf(AggregateUDF::from(vwap::Vwap::new()));
    ctx.register_udaf(AggregateUDF::from(percentile::Percentile::at_p()));
    ctx.register_udaf(AggregateUDF::from(percentile::Percentile::median()));
    ctx.register_udaf(first_value_udaf().as_ref().clone().with_aliases(["first"]));
    ctx.register_udaf(last_value_udaf().as_ref().clone().with_aliases(["last"]));
    ctx.register_udaf(
        stddev_pop_udaf()
            .as_ref()
            .clone()
            .with_aliases(["stddev", "std"]),
    );
    ctx.register_udaf(var_pop_udaf().as_ref().clone().with_aliases(["variance"]));

    ctx.register_udwf(WindowUDF::from(ema::Ema::new()));
    ctx.register_udwf(WindowUDF::from(delta::Delta::new()));
    ctx.register_udwf(WindowUDF::from(ratio::Ratio::new()));
}

/// Names of the window functions whose default order is the table's time column.
pub const TIME_ORDERED_WINDOW_FUNCTIONS: [&str; 3] = ["ema", "delta", "ratio"];
