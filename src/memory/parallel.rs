//! Splitting work on a list of table rows over every core.

/// `part` applied to `rows` in one contiguous piece per core (on the calling thread alone when
/// there is one core or fewer than `min_rows` rows), the pieces' results concatenated in row
/// order. A panic in a piece is resumed on the caller.
pub fn map_rows<T: Send>(
    rows: &[u32],
    min_rows: usize,
    part: impl Fn(&[u32]) -> Vec<T> + Sync,
) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    if threads < 2 || rows.len() < min_rows.max(2) {
        return part(rows);
    }
    let per = rows.len().div_ceil(threads);
    let part = &part;
    std::thread::scope(|s| {
        let mut pieces = rows.chunks(per);
        let first = pieces.next().unwrap_or_default();
        let others: Vec<_> = pieces.map(|p| s.spawn(move || part(p))).collect();
        let mut out = part(first);
        for o in others {
            match o.join() {
                Ok(v) => out.extend(v),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_come_back_in_row_order() {
        let rows: Vec<u32> = (0..10_001).collect();
        let doubled = map_rows(&rows, 10, |p| p.iter().map(|r| r * 2).collect());
        assert_eq!(doubled, rows.iter().map(|r| r * 2).collect::<Vec<_>>());
        assert!(map_rows(&[], 0, |p: &[u32]| p.to_vec()).is_empty());
    }
}
