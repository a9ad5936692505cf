//! CSV for machines: UTF-8 without a byte-order mark, a header line, `\n` line ends, a field
//! quoted (RFC 4180, `"` doubled) only when it holds a comma, a quote, a line break or
//! leading or trailing white space.

use std::borrow::Cow;

/// A CSV text under construction.
#[derive(Debug, Clone)]
pub(crate) struct Csv {
    text: String,
    width: usize,
}

impl Csv {
    /// A CSV with `header` as its first line.
    pub fn new(header: &[&str]) -> Csv {
        let mut csv = Csv {
            text: String::new(),
            width: header.len(),
        };
        csv.row(header.iter().copied());
        csv
    }

    /// Appends one record; it must have as many fields as the header.
    pub fn row<S: AsRef<str>>(&mut self, fields: impl IntoIterator<Item = S>) {
        let mut n = 0;
        for (i, field) in fields.into_iter().enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            self.text.push_str(&quote(field.as_ref()));
            n += 1;
        }
        debug_assert_eq!(
            n, self.width,
            "a CSV record of {n} fields under a header of {}",
            self.width
        );
        self.text.push('\n');
    }

    /// The text.
    pub fn finish(self) -> String {
        self.text
    }
}

/// A field as written: quoted when it needs to be.
pub(crate) fn quote(field: &str) -> Cow<'_, str> {
    let needs = field.contains([',', '"', '\n', '\r'])
        || field.starts_with(char::is_whitespace)
        || field.ends_with(char::is_whitespace);
    if needs {
        Cow::Owned(format!("\"{}\"", field.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        let mut csv = Csv::new(&["id", "name"]);
        csv.row(["H001", "示例医院"]);
        csv.row(["H002", "A, B \"C\""]);
        csv.row(["H003", " padded"]);
        csv.row(["H004", "two\nlines"]);
        assert_eq!(
            csv.finish(),
            "id,name\nH001,示例医院\nH002,\"A, B \"\"C\"\"\"\nH003,\" padded\"\nH004,\"two\nlines\"\n"
        );
    }
}
