//! ClickHouse's `formatDateTime` patterns in the strftime dialect DataFusion's `to_char`
//! reads. The two share most letters but not all: ClickHouse's `%i` is the minute and `%M`
//! the month's name, `%s` is the second, `%W` the weekday's name, `%c` the month number.

/// `pattern` (ClickHouse's) as a `to_char` pattern, or what in it has no equivalent.
pub(super) fn to_strftime(pattern: &str) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else {
            return Err("the pattern ends with a lone '%'".into());
        };
        out.push_str(match spec {
            // The same letter in both.
            'a' | 'b' | 'C' | 'd' | 'D' | 'e' | 'F' | 'g' | 'G' | 'H' | 'I' | 'j' | 'k' | 'l'
            | 'm' | 'n' | 'p' | 'R' | 'S' | 't' | 'T' | 'u' | 'V' | 'w' | 'y' | 'Y' | 'z' | '%' => {
                out.push('%');
                out.push(spec);
                continue;
            }
            'c' => "%m",
            'f' => "%6f",
            'h' => "%I",
            'i' => "%M",
            'M' => "%B",
            'r' => "%I:%M %p",
            's' => "%S",
            'W' => "%A",
            other => {
                return Err(format!(
                    "%{other} is not a formatDateTime specifier Strata knows"
                ));
            }
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clickhouse_letters_become_strftime_ones() {
        assert_eq!(
            to_strftime("%Y-%m-%d %H:%i:%S").unwrap(),
            "%Y-%m-%d %H:%M:%S"
        );
        assert_eq!(to_strftime("%M %W, 100%%").unwrap(), "%B %A, 100%%");
        assert_eq!(to_strftime("%s.%f").unwrap(), "%S.%6f");
        assert!(to_strftime("%Q").is_err());
        assert!(to_strftime("50%").is_err());
    }
}
