//! `labels.csv`: one row per sample, `index,predicted,true,matched` —
//! the cluster, the true class, and the class the cluster is matched to by
//! the Hungarian matching of the accuracy (the last two empty when the true
//! classes are unknown) — written by the clustering and read back by
//! `udll eval --labels`.

use crate::error::{Result, UdllError};
use std::path::Path;

/// The CSV text of predicted labels, with the true and the matched ones
/// when the true ones are known, and a last `file` column naming each
/// sample's image file when they came from an image folder (quoted as
/// RFC 4180 says when a name holds a comma, a quote or a line break).
pub fn labels_csv(pred: &[usize], truth: Option<&[usize]>, files: Option<&[String]>) -> Result<String> {
    labels_csv_from(0, pred, truth, files)
}

/// [`labels_csv`] for rows whose indices start at `first` (a shard of a
/// larger input); the matched column is matched over these rows.
pub fn labels_csv_from(first: usize, pred: &[usize], truth: Option<&[usize]>, files: Option<&[String]>) -> Result<String> {
    if let Some(f) = files.filter(|f| f.len() != pred.len()) {
        return Err(UdllError::shape(format!("{} file names for {} labels", f.len(), pred.len())));
    }
    let mut s = String::from(if files.is_some() { "index,predicted,true,matched,file\n" } else { "index,predicted,true,matched\n" });
    let matched = truth.map(|t| crate::metrics::matched_labels(pred, t)).transpose()?;
    for (i, p) in pred.iter().enumerate() {
        let index = first + i;
        match (truth, &matched) {
            (Some(t), Some(m)) => s += &format!("{index},{p},{},{}", t[i], m[i].map_or(String::new(), |c| c.to_string())),
            _ => s += &format!("{index},{p},,"),
        }
        if let Some(f) = files {
            s.push(',');
            s += &csv_field(&f[i]);
        }
        s.push('\n');
    }
    Ok(s)
}

/// The rows of a `labels.csv` as written: index, predicted, true (None
/// when empty) and file (None without that column), in file order.
#[allow(clippy::type_complexity)]
pub fn parse_labels_rows(path: &Path, text: &str) -> Result<Vec<(usize, usize, Option<usize>, Option<String>)>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').map(str::trim).collect();
    let has_file = header.last() == Some(&"file");
    if header.get(..4) != Some(&["index", "predicted", "true", "matched"][..]) {
        return Err(UdllError::format(path, "the header is not index,predicted,true,matched[,file]"));
    }
    let mut rows = Vec::new();
    for (i, l) in lines.filter(|l| !l.is_empty()).enumerate() {
        let bad = |what: &str| UdllError::format(path, format!("row {}: {what}", i + 1));
        let mut cells = l.splitn(5, ',');
        let mut num = |what: &str| -> Result<Option<usize>> {
            match cells.next().ok_or_else(|| bad(what))? {
                "" => Ok(None),
                v => v.parse().map(Some).map_err(|_| bad(what)),
            }
        };
        let index = num("no index")?.ok_or_else(|| bad("no index"))?;
        let pred = num("no predicted label")?.ok_or_else(|| bad("no predicted label"))?;
        let truth = num("the true label")?;
        let _matched = num("the matched label")?;
        let file = if has_file { Some(unquote(cells.next().ok_or_else(|| bad("no file"))?).ok_or_else(|| bad("a badly quoted file name"))?) } else { None };
        rows.push((index, pred, truth, file));
    }
    Ok(rows)
}

/// A CSV field as [`csv_field`] wrote it.
fn unquote(v: &str) -> Option<String> {
    match v.strip_prefix('"') {
        Some(inner) => Some(inner.strip_suffix('"')?.replace("\"\"", "\"")),
        None => Some(v.to_string()),
    }
}

/// A CSV field, quoted when it must be.
fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v.to_string() }
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

/// The `predicted` and `true` columns of a `labels.csv` at `path` (the
/// true ones None when that column is empty in every row).
pub fn read_labels_csv(path: &Path) -> Result<(Vec<usize>, Option<Vec<usize>>)> {
    let text = std::fs::read_to_string(path).map_err(|e| UdllError::io(path, e))?;
    parse_labels_csv(path, &text)
}

/// [`read_labels_csv`] on the text of a `labels.csv` (`path` names it in
/// errors): the predicted and true columns of [`parse_labels_rows`].
pub fn parse_labels_csv(path: &Path, text: &str) -> Result<(Vec<usize>, Option<Vec<usize>>)> {
    let rows = parse_labels_rows(path, text)?;
    if rows.is_empty() {
        return Err(UdllError::format(path, "no rows"));
    }
    let pred = rows.iter().map(|r| r.1).collect();
    let truth = match rows.iter().filter(|r| r.2.is_some()).count() {
        0 => None,
        k if k == rows.len() => Some(rows.iter().filter_map(|r| r.2).collect()),
        _ => return Err(UdllError::format(path, "the `true` column is empty in some rows only")),
    };
    Ok((pred, truth))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_labels_read_back() {
        let dir = std::env::temp_dir().join(format!("udll-labels-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("labels.csv");
        std::fs::write(&p, labels_csv(&[2, 0, 1], Some(&[0, 1, 1]), None).unwrap()).unwrap();
        assert_eq!(read_true_labels(&p, 3).unwrap(), [0, 1, 1]);
        assert!(read_true_labels(&p, 4).is_err(), "row count is checked");
        assert_eq!(read_labels_csv(&p).unwrap(), (vec![2, 0, 1], Some(vec![0, 1, 1])));
        std::fs::write(&p, labels_csv(&[2, 0, 1], None, None).unwrap()).unwrap();
        assert!(read_true_labels(&p, 3).is_err(), "an empty true column is not a label");
        assert_eq!(read_labels_csv(&p).unwrap(), (vec![2, 0, 1], None));
        std::fs::write(&p, "index,predicted,true,matched\n0,1,0,0\n1,1,,\n").unwrap();
        assert!(read_labels_csv(&p).unwrap_err().to_string().contains("some rows only"));
        // A file column, quoted where a name needs it, reads back the same.
        let files = ["a/1.png".to_string(), "b,\"x\".png".to_string(), "c.png".to_string()];
        let text = labels_csv(&[2, 0, 1], Some(&[0, 1, 1]), Some(&files)).unwrap();
        assert!(text.starts_with("index,predicted,true,matched,file\n0,2,0,"), "{text}");
        assert!(text.contains(",\"b,\"\"x\"\".png\"\n"), "{text}");
        std::fs::write(&p, text).unwrap();
        assert_eq!(read_labels_csv(&p).unwrap(), (vec![2, 0, 1], Some(vec![0, 1, 1])));
        assert!(labels_csv(&[0], None, Some(&files)).is_err());
        let text = labels_csv_from(7, &[2, 0, 1], Some(&[0, 1, 1]), Some(&files)).unwrap();
        let rows = parse_labels_rows(&p, &text).unwrap();
        assert_eq!(rows[1], (8, 0, Some(1), Some("b,\"x\".png".to_string())));
        assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [7, 8, 9]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
