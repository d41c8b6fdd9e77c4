//! `labels.csv`: one row per sample, `index,predicted,true` (the true
//! column empty when unknown), written by the clustering and read back by
//! `udll eval --labels`.

use crate::error::{Result, UdllError};
use std::path::Path;

/// The CSV text of predicted labels, with the true ones when known.
pub fn labels_csv(pred: &[usize], truth: Option<&[usize]>) -> String {
    let mut s = String::from("index,predicted,true\n");
    for (i, p) in pred.iter().enumerate() {
        match truth {
            Some(t) => s += &format!("{i},{p},{}\n", t[i]),
            None => s += &format!("{i},{p},\n"),
        }
    }
    s
}

/// The `true` column of a labels CSV at `path`, which must hold `n` rows.
pub fn read_true_labels(path: &Path, n: usize) -> Result<Vec<usize>> {
    let text = std::fs::read_to_string(path).map_err(|e| UdllError::io(path, e))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let col = header.iter().position(|h| h.trim() == "true").ok_or_else(|| UdllError::format(path, "no `true` column in the header"))?;
    let labels = lines
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            l.split(',')
                .nth(col)
                .and_then(|v| v.trim().parse::<usize>().ok())
                .ok_or_else(|| UdllError::format(path, format!("row {}: no integer label in the `true` column", i + 1)))
        })
        .collect::<Result<Vec<_>>>()?;
    if labels.len() != n {
        return Err(UdllError::shape(format!("{}: {} labels for {n} samples", path.display(), labels.len())));
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_labels_read_back() {
        let dir = std::env::temp_dir().join(format!("udll-labels-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("labels.csv");
        std::fs::write(&p, labels_csv(&[2, 0, 1], Some(&[0, 1, 1]))).unwrap();
        assert_eq!(read_true_labels(&p, 3).unwrap(), [0, 1, 1]);
        assert!(read_true_labels(&p, 4).is_err(), "row count is checked");
        std::fs::write(&p, labels_csv(&[2, 0, 1], None)).unwrap();
        assert!(read_true_labels(&p, 3).is_err(), "an empty true column is not a label");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
