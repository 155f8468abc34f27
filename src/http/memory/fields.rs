//! Typed reads of a JSON request object (the ZeptoDB edge's request bodies), each failure a 400
//! that names the field and what it must be. Requests are parsed by hand rather than with `serde` derive so that every message
//! says which field was wrong (and so NaN, infinities and fractional counts are refused).

use serde_json::{Map, Value};

use crate::http::error::ApiError as Error;

type Result<T> = std::result::Result<T, Error>;

/// A JSON object whose fields are read one by one.
#[derive(Debug)]
pub(crate) struct Fields {
    map: Map<String, Value>,
}

impl Fields {
    /// Parses `body` as a JSON object whose keys are all in `allowed` (groups of names, listed
    /// in order when a key is refused).
    pub(crate) fn parse(body: &[u8], allowed: &[&[&str]]) -> Result<Self> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::BadRequest(
                "The request body is empty: send a JSON object".into(),
            ));
        }
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| Error::BadRequest(format!("The request body is not valid JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(Error::BadRequest(
                "The request body must be a JSON object".into(),
            ));
        };
        let allowed = allowed.concat();
        if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(Error::BadRequest(format!(
                "Unknown field '{unknown}'; supported fields: {}",
                allowed.join(", ")
            )));
        }
        Ok(Self { map })
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// A string field; absent or null gives `None`.
    pub(crate) fn string(&self, name: &str) -> Result<Option<String>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(wrong(name, "a string", other)),
        }
    }

    /// A whole number field (`5` or `5.0`, not `5.5`).
    pub(crate) fn i64(&self, name: &str) -> Result<Option<i64>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => {
                if let Some(i) = n.as_i64() {
                    return Ok(Some(i));
                }
                match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(Some(f as i64)),
                    _ => Err(Error::BadRequest(format!(
                        "Field '{name}' must be a whole number within the 64-bit range, got {n}"
                    ))),
                }
            }
            Some(other) => Err(wrong(name, "a whole number", other)),
        }
    }

    /// A finite number field.
    pub(crate) fn f64(&self, name: &str) -> Result<Option<f64>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(f) if f.is_finite() => Ok(Some(f)),
                _ => Err(Error::BadRequest(format!(
                    "Field '{name}' must be a finite number, got {n}"
                ))),
            },
            Some(other) => Err(wrong(name, "a number", other)),
        }
    }

    /// A boolean field.
    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(wrong(name, "true or false", other)),
        }
    }

    /// An embedding: an array of numbers that are finite as 32-bit floats. Absent gives an empty
    /// vector (no embedding).
    pub(crate) fn embedding(&self, name: &str) -> Result<Vec<f32>> {
        let items = match self.get(name) {
            None => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(other) => return Err(wrong(name, "an array of numbers", other)),
        };
        items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let f = v.as_f64().ok_or_else(|| {
                    Error::BadRequest(format!(
                        "Field '{name}' must be an array of numbers; element {i} is {}",
                        kind(v)
                    ))
                })?;
                let single = f as f32;
                if single.is_finite() {
                    Ok(single)
                } else {
                    Err(Error::BadRequest(format!(
                        "Field '{name}' element {i} ({f}) is not a finite 32-bit float"
                    )))
                }
            })
            .collect()
    }
}

fn wrong(name: &str, want: &str, got: &Value) -> Error {
    Error::BadRequest(format!("Field '{name}' must be {want}, got {}", kind(got)))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(json: &str) -> Result<Fields> {
        Fields::parse(json.as_bytes(), &[&["a", "e", "n"]])
    }

    #[test]
    fn bad_bodies_are_refused_with_a_reason() {
        for (body, says) in [
            ("", "empty"),
            ("{", "not valid JSON"),
            ("[1]", "JSON object"),
            (r#"{"zz":1}"#, "Unknown field 'zz'"),
        ] {
            let err = fields(body).unwrap_err().to_string();
            assert!(err.contains(says), "{body}: {err}");
        }
    }

    #[test]
    fn types_are_checked() {
        let f = fields(r#"{"a":"x","e":[1,2.5],"n":3.0}"#).unwrap();
        assert_eq!(f.string("a").unwrap().as_deref(), Some("x"));
        assert_eq!(f.embedding("e").unwrap(), vec![1.0, 2.5]);
        assert_eq!(f.i64("n").unwrap(), Some(3));
        assert!(f.i64("a").unwrap_err().to_string().contains("whole number"));
        let f = fields(r#"{"e":"oops","n":1.5}"#).unwrap();
        assert!(f.embedding("e").unwrap_err().to_string().contains("array"));
        assert!(f.i64("n").is_err());
        let f = fields(r#"{"e":[1,"x"]}"#).unwrap();
        assert!(
            f.embedding("e")
                .unwrap_err()
                .to_string()
                .contains("element 1")
        );
        // 1e39 overflows f32.
        let f = fields(r#"{"e":[1e39]}"#).unwrap();
        assert!(f.embedding("e").unwrap_err().to_string().contains("finite"));
        assert_eq!(fields(r#"{"a":null}"#).unwrap().string("a").unwrap(), None);
    }
}
