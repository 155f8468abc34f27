//! `DATE_TRUNC(unit, ts)`: round a timestamp down to the start of its unit, in UTC.
//!
//! Replaces DataFusion's function of the same name to accept the short units time-series users
//! write (`ns`, `us`, `ms`, `s`, `min`, `h`, `d`, `w`) besides the long ones (`second`, `minute`,
//! …, `month`, `quarter`, `year`). Weeks start on Monday. The result keeps the input's type:
//! timestamps stay timestamps, integer nanoseconds stay integers.

use std::any::Any;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::{DataType, Int64Type, TimeUnit, TimestampNanosecondType};
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

const NS_PER_DAY: i64 = 86_400_000_000_000;

/// A truncation unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// A fixed number of nanoseconds.
    Fixed(i64),
    Week,
    Month,
    Quarter,
    Year,
}

impl Unit {
    fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        let unit = match s.trim_end_matches('s') {
            "n" | "nanosecond" => Unit::Fixed(1),
            "u" | "microsecond" => Unit::Fixed(1_000),
            "m" if s == "ms" => Unit::Fixed(1_000_000),
            "millisecond" => Unit::Fixed(1_000_000),
            "" | "sec" | "second" => Unit::Fixed(1_000_000_000),
            "min" | "minute" => Unit::Fixed(60_000_000_000),
            "h" | "hour" => Unit::Fixed(3_600_000_000_000),
            "d" | "day" => Unit::Fixed(NS_PER_DAY),
            "w" | "week" => Unit::Week,
            "month" => Unit::Month,
            "quarter" => Unit::Quarter,
            "year" => Unit::Year,
            _ => return None,
        };
        Some(unit)
    }

    fn truncate(self, ns: i64) -> i64 {
        match self {
            Unit::Fixed(w) => ns - ns.rem_euclid(w),
            Unit::Week => {
                let days = ns.div_euclid(NS_PER_DAY);
                // 1970-01-01 was a Thursday: Monday-based weekday = (days + 3) mod 7.
                (days - (days + 3).rem_euclid(7)) * NS_PER_DAY
            }
            Unit::Month | Unit::Quarter | Unit::Year => {
                let (y, m, _) = civil_from_days(ns.div_euclid(NS_PER_DAY));
                let m = match self {
                    Unit::Month => m,
                    Unit::Quarter => (m - 1) / 3 * 3 + 1,
                    _ => 1,
                };
                days_from_civil(y, m, 1) * NS_PER_DAY
            }
        }
    }
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// (year, month, day) → days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The `date_trunc` scalar function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct DateTrunc {
    signature: Signature,
}

impl DateTrunc {
    pub(crate) fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for DateTrunc {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn name(&self) -> &str {
        "date_trunc"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [u, DataType::Timestamp(_, tz)] if u.is_string() => Ok(vec![
                DataType::Utf8,
                DataType::Timestamp(TimeUnit::Nanosecond, tz.clone()),
            ]),
            [u, t] if u.is_string() && (t.is_integer() || t.is_null()) => {
                Ok(vec![DataType::Utf8, DataType::Int64])
            }
            _ => plan_err!("DATE_TRUNC('unit', ts) takes a unit string and a timestamp"),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[1].clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let ColumnarValue::Scalar(ScalarValue::Utf8(Some(unit_name))) = &args.args[0] else {
            return exec_err!("DATE_TRUNC: the unit must be a constant string such as 'min'");
        };
        let Some(unit) = Unit::parse(unit_name) else {
            return exec_err!(
                "DATE_TRUNC: unknown unit '{unit_name}' (use ns, us, ms, s, min, hour, day, week, month, quarter or year)"
            );
        };
        let x = args.args[1].to_array(args.number_rows)?;
        let out: ArrayRef = match x.data_type() {
            DataType::Timestamp(_, tz) => Arc::new(
                x.as_primitive::<TimestampNanosecondType>()
                    .unary::<_, TimestampNanosecondType>(|v| unit.truncate(v))
                    .with_timezone_opt(tz.clone()),
            ),
            DataType::Int64 => Arc::new(
                x.as_primitive::<Int64Type>()
                    .unary::<_, Int64Type>(|v| unit.truncate(v)),
            ),
            other => return exec_err!("DATE_TRUNC: unexpected argument type {other}"),
        };
        Ok(ColumnarValue::Array(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2024-03-23T22:41:05.123456789Z, a Saturday.
    const T: i64 = 1_711_233_665_123_456_789;

    #[test]
    fn short_and_long_units() {
        assert_eq!(
            Unit::parse("ms").unwrap().truncate(T),
            1_711_233_665_123_000_000
        );
        assert_eq!(
            Unit::parse("s").unwrap().truncate(T),
            1_711_233_665_000_000_000
        );
        assert_eq!(
            Unit::parse("minute").unwrap().truncate(T),
            1_711_233_660_000_000_000
        );
        assert_eq!(
            Unit::parse("min").unwrap().truncate(T),
            1_711_233_660_000_000_000
        );
        assert_eq!(
            Unit::parse("hour").unwrap().truncate(T),
            1_711_231_200_000_000_000
        );
        assert_eq!(
            Unit::parse("day").unwrap().truncate(T),
            1_711_152_000_000_000_000
        );
        assert_eq!(
            Unit::parse("us").unwrap().truncate(T),
            1_711_233_665_123_456_000
        );
        assert_eq!(Unit::parse("ns").unwrap().truncate(T), T);
        assert!(Unit::parse("fortnight").is_none());
    }

    #[test]
    fn calendar_units() {
        // Monday 2024-03-18.
        assert_eq!(
            Unit::Week.truncate(T),
            days_from_civil(2024, 3, 18) * NS_PER_DAY
        );
        assert_eq!(
            Unit::Month.truncate(T),
            days_from_civil(2024, 3, 1) * NS_PER_DAY
        );
        assert_eq!(
            Unit::Quarter.truncate(T),
            days_from_civil(2024, 1, 1) * NS_PER_DAY
        );
        assert_eq!(Unit::Year.truncate(T), 1_704_067_200_000_000_000);
        assert_eq!(Unit::Fixed(NS_PER_DAY).truncate(-1), -NS_PER_DAY);
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000, -1, 0, 1, 19_800, 60_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }
}
