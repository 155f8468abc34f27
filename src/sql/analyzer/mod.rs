//! Logical-plan rules that give Strata's SQL its time-series semantics.
//!
//! - [`timestamp_coercion`] runs *before* DataFusion's type coercion: it lets integer
//!   nanoseconds stand for timestamps (`WHERE timestamp > 1711231200000000000`), as kdb+ and
//!   ZeptoDB users write them.
//! - [`time_order`] runs *after* it: `first`/`last` and the kdb-style window functions follow the
//!   table's time column when the query gives no `ORDER BY` of its own.

pub mod time_order;
pub mod timestamp_coercion;

use std::sync::Arc;

use datafusion::optimizer::Analyzer;
use datafusion::optimizer::analyzer::AnalyzerRule;

/// DataFusion's analyzer rules with Strata's placed around type coercion.
pub fn rules() -> Vec<Arc<dyn AnalyzerRule + Send + Sync>> {
    let mut rules: Vec<Arc<dyn AnalyzerRule + Send + Sync>> =
        vec![Arc::new(timestamp_coercion::IntegerTimestampCoercion)];
    rules.extend(Analyzer::new().rules);
    rules.push(Arc::new(time_order::TimeOrdering));
    rules
}
