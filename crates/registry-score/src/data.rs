//! A labelled table: one target column (0 or 1) and numeric attribute columns, values held
//! column by column (what binning and boosting walk), missing values as `None`.

use std::path::Path;

use crate::ScoreError;

#[derive(Clone, Debug)]
pub struct Dataset {
    /// Attribute names, in file order.
    pub names: Vec<String>,
    /// `columns[j][i]`: attribute `j` of row `i`.
    pub columns: Vec<Vec<Option<f64>>>,
    /// 1 = bad (the event the score predicts), 0 = good.
    pub target: Vec<u8>,
}

/// Text that means "no value".
fn is_missing(text: &str) -> bool {
    matches!(text.trim(), "" | "NA" | "NaN" | "nan" | "null" | "NULL" | "?")
}

/// One cell's value: missing, or a finite number; otherwise what is wrong and where.
fn cell(text: &str, line: usize, column: &str) -> Result<Option<f64>, String> {
    if is_missing(text) {
        return Ok(None);
    }
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("line {line}, column {column:?}: {text:?} is not a number (missing values are empty or NA)"))?;
    if !value.is_finite() {
        return Err(format!("line {line}, column {column:?}: not a finite number"));
    }
    Ok(Some(value))
}

impl Dataset {
    pub fn rows(&self) -> usize {
        self.target.len()
    }

    /// Reads a CSV file with a header: `target` is the label column (0/1), `ignore` names
    /// columns to leave out (identifiers), every other column is a numeric attribute.
    pub fn read_csv(path: &Path, target: &str, ignore: &[String]) -> Result<Dataset, ScoreError> {
        let file = std::fs::File::open(path).map_err(|source| ScoreError::Io { context: format!("opening {}", path.display()), source })?;
        Dataset::from_reader(file, target, ignore).map_err(|e| match e {
            ScoreError::Data(message) => ScoreError::Data(format!("{}: {message}", path.display())),
            other @ ScoreError::Io { .. } => other,
        })
    }

    pub fn from_reader(input: impl std::io::Read, target: &str, ignore: &[String]) -> Result<Dataset, ScoreError> {
        let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(input);
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| ScoreError::Data(format!("the header row cannot be read: {e}")))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let target_at = headers
            .iter()
            .position(|h| h == target)
            .ok_or_else(|| ScoreError::Data(format!("there is no column {target:?} (columns: {})", headers.join(", "))))?;
        for name in ignore {
            if !headers.contains(name) {
                return Err(ScoreError::Data(format!("--ignore names {name:?}, which is not a column")));
            }
        }
        let kept: Vec<usize> = (0..headers.len()).filter(|&i| i != target_at && !ignore.contains(&headers[i])).collect();
        if kept.is_empty() {
            return Err(ScoreError::Data("no attribute columns are left".into()));
        }
        let mut data = Dataset {
            names: kept.iter().map(|&i| headers[i].clone()).collect(),
            columns: vec![Vec::new(); kept.len()],
            target: Vec::new(),
        };
        for (index, record) in reader.records().enumerate() {
            let line = index + 2;
            let record = record.map_err(|e| ScoreError::Data(format!("line {line}: {e}")))?;
            let label = record.get(target_at).unwrap_or("").trim();
            data.target.push(match label {
                "0" | "0.0" => 0,
                "1" | "1.0" => 1,
                _ => return Err(ScoreError::Data(format!("line {line}: the target {target:?} is {label:?}, not 0 or 1"))),
            });
            for (column, &at) in kept.iter().enumerate() {
                let value = cell(record.get(at).unwrap_or(""), line, &headers[at]).map_err(ScoreError::Data)?;
                data.columns[column].push(value);
            }
        }
        if data.target.is_empty() {
            return Err(ScoreError::Data("the file has no rows".into()));
        }
        let bad = data.target.iter().filter(|&&t| t == 1).count();
        if bad == 0 || bad == data.target.len() {
            return Err(ScoreError::Data(format!("the target {target:?} must have both 0s and 1s")));
        }
        Ok(data)
    }

    /// Reads only the `wanted` columns of a CSV file with a header (no label needed): what
    /// scoring a sample reads. Values as `read_csv` reads them.
    pub fn read_columns(path: &Path, wanted: &[String]) -> Result<Vec<Vec<Option<f64>>>, ScoreError> {
        let file = std::fs::File::open(path).map_err(|source| ScoreError::Io { context: format!("opening {}", path.display()), source })?;
        let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(file);
        let within = |message: String| ScoreError::Data(format!("{}: {message}", path.display()));
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| within(format!("the header row cannot be read: {e}")))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let at: Vec<usize> = wanted
            .iter()
            .map(|name| headers.iter().position(|h| h == name).ok_or_else(|| within(format!("there is no column {name:?}"))))
            .collect::<Result<_, _>>()?;
        let mut columns = vec![Vec::new(); wanted.len()];
        for (index, record) in reader.records().enumerate() {
            let line = index + 2;
            let record = record.map_err(|e| within(format!("line {line}: {e}")))?;
            for (column, &i) in columns.iter_mut().zip(&at) {
                column.push(cell(record.get(i).unwrap_or(""), line, &headers[i]).map_err(&within)?);
            }
        }
        Ok(columns)
    }

    /// The rows at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        Dataset {
            names: self.names.clone(),
            columns: self.columns.iter().map(|column| indices.iter().map(|&i| column[i]).collect()).collect(),
            target: indices.iter().map(|&i| self.target[i]).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_numbers_missing_values_and_refuses_bad_cells_by_line() {
        let csv = "Id,y,a,b\n1,0,1.5,NA\n2,1,,3\n3,0,2,4\n";
        let data = Dataset::from_reader(csv.as_bytes(), "y", &["Id".into()]).unwrap();
        assert_eq!(data.names, ["a", "b"]);
        assert_eq!(data.columns[0], [Some(1.5), None, Some(2.0)]);
        assert_eq!(data.columns[1], [None, Some(3.0), Some(4.0)]);
        assert_eq!(data.target, [0, 1, 0]);
        let bad = Dataset::from_reader("y,a\n0,x\n1,2\n".as_bytes(), "y", &[]).unwrap_err().to_string();
        assert!(bad.contains("line 2") && bad.contains("\"a\""), "{bad}");
        assert!(Dataset::from_reader("y,a\n2,1\n".as_bytes(), "y", &[]).unwrap_err().to_string().contains("not 0 or 1"));
        assert!(Dataset::from_reader("y,a\n0,1\n".as_bytes(), "z", &[]).unwrap_err().to_string().contains("no column"));
        assert!(Dataset::from_reader("y,a\n0,1\n0,2\n".as_bytes(), "y", &[]).unwrap_err().to_string().contains("both"));
    }
}
