//! Self-contained HTML pages: one file, inline CSS, charts as inline SVG, no script, no
//! external asset, no clock (the same figures give the same bytes). Every text that comes
//! from the data goes through [`esc`].

use std::fmt::Write as _;

/// Escapes a text for HTML content and attribute values: `&`, `<`, `>`, `"`, `'`.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "\
body{font-family:\"PingFang SC\",\"Noto Sans CJK SC\",\"Microsoft YaHei\",\"Source Han Sans SC\",sans-serif;\
margin:2em auto;max-width:1100px;padding:0 1em;color:#1f2933;line-height:1.45}\
h1{font-size:1.6em;margin-bottom:.1em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:2px solid #d9e2ec;padding-bottom:.2em}\
.en{display:block;font-size:.62em;font-weight:normal;color:#627d98;letter-spacing:.02em}\
h2 .en{display:inline;margin-left:.6em;font-size:.75em}\
.meta{color:#486581;margin-top:0}\
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}\
th,td{border:1px solid #d9e2ec;padding:.25em .6em;vertical-align:top}\
th{background:#f0f4f8;text-align:left;font-weight:600}th .en{font-size:.78em}\
td:first-child{white-space:nowrap}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
tr.total td{font-weight:600;background:#f7fafc}\
.note{color:#486581;font-size:.85em}.warn{color:#9b2c2c;font-weight:600}\
svg{display:block;margin:.6em 0;max-width:100%;height:auto}\
svg text{font-family:inherit}\
dl.defs dt{font-weight:600;margin-top:.5em}dl.defs dd{margin-left:1.5em}\
footer{margin-top:3em;color:#829ab1;font-size:.8em}\
a{color:#2f6fad}\
@page{size:A4;margin:16mm 12mm 16mm 12mm}\
@media print{body{max-width:none;margin:0;padding:0;font-size:10pt;color:#000}\
a{color:inherit;text-decoration:none}\
section{break-before:page;page-break-before:always}header+section{break-before:auto;page-break-before:auto}\
h1,h2{break-after:avoid;page-break-after:avoid}\
table{width:100%;font-size:8pt;page-break-inside:auto}th,td{padding:.15em .3em}\
td:first-child{white-space:normal}td.n{white-space:nowrap}\
tr,svg,.note,dl.defs dt,dl.defs dd{break-inside:avoid;page-break-inside:avoid}\
thead{display:table-header-group}tfoot{display:table-footer-group}\
svg{max-width:100%;height:auto}footer{margin-top:1em}}";

/// A page under construction: its HTML, and the same content as [`Block`]s for the PDF.
#[derive(Debug)]
pub(crate) struct Page {
    out: String,
    open_sections: usize,
    blocks: Vec<Block>,
}

/// What a page shows, for a layout other than HTML (the PDF): headings, text, tables and
/// charts (an SVG given with [`Page::raw`] has no block).
#[derive(Debug, Clone)]
pub(crate) enum Block {
    /// The page's heading: Chinese, English, the meta line.
    Title(String, String, String),
    /// A section's heading: Chinese, English.
    Section(String, String),
    /// A paragraph.
    Para(String),
    /// Small print.
    Note(String),
    /// A warning.
    Warn(String),
    /// A table: columns (Chinese, English, numeric), rows, the total row.
    Table(Vec<Col>, Vec<Vec<String>>, Option<Vec<String>>),
    /// A chart.
    Chart(Chart),
    /// Definitions: term, English, text.
    Definitions(Vec<(String, String, String)>),
}

/// A chart as data.
#[derive(Debug, Clone)]
pub(crate) struct Chart {
    /// Bars (horizontal, one band per label) or lines (over evenly spaced labels).
    pub lines: bool,
    /// Its title.
    pub title: String,
    /// The labels.
    pub labels: Vec<String>,
    /// The series: name, colour (`#rrggbb`), values.
    pub series: Vec<(String, &'static str, Vec<rust_decimal::Decimal>)>,
    /// How a value is written.
    pub value: fn(rust_decimal::Decimal) -> String,
}

fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Text(t) => t.clone(),
        Cell::Link { text, .. } => text.clone(),
    }
}

impl Page {
    /// A page: `<title>`, the heading in Chinese with its English subtitle, a line of meta.
    pub fn new(zh: &str, en: &str, meta: &str) -> Page {
        let mut out = String::with_capacity(16 * 1024);
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{} · {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header>\n\
             <h1>{}<span class=\"en\">{}</span></h1>\n<p class=\"meta\">{}</p>\n</header>\n",
            esc(zh),
            esc(meta),
            esc(zh),
            esc(en),
            esc(meta)
        );
        Page {
            out,
            open_sections: 0,
            blocks: vec![Block::Title(zh.into(), en.into(), meta.into())],
        }
    }

    /// Horizontal grouped bars ([`crate::svg::bars`]), in the HTML and as a block.
    pub fn bars(
        &mut self,
        title: &str,
        labels: &[String],
        series: &[crate::svg::Series],
        axis: fn(rust_decimal::Decimal) -> String,
        value: fn(rust_decimal::Decimal) -> String,
    ) {
        self.raw(&crate::svg::bars(title, labels, series, axis, value));
        self.chart(false, title, labels, series, value);
    }

    /// Lines over evenly spaced labels ([`crate::svg::lines`]), in the HTML and as a block.
    pub fn lines(
        &mut self,
        title: &str,
        labels: &[String],
        series: &[crate::svg::Series],
        axis: fn(rust_decimal::Decimal) -> String,
        value: fn(rust_decimal::Decimal) -> String,
    ) {
        self.raw(&crate::svg::lines(title, labels, series, axis, value));
        self.chart(true, title, labels, series, value);
    }

    fn chart(
        &mut self,
        lines: bool,
        title: &str,
        labels: &[String],
        series: &[crate::svg::Series],
        value: fn(rust_decimal::Decimal) -> String,
    ) {
        self.blocks.push(Block::Chart(Chart {
            lines,
            title: title.into(),
            labels: labels.to_vec(),
            series: series
                .iter()
                .map(|s| (s.name.to_string(), s.color, s.values.clone()))
                .collect(),
            value,
        }));
    }

    /// The content as blocks (for the PDF).
    pub fn into_blocks(self) -> Vec<Block> {
        self.blocks
    }

    /// Opens a section with a Chinese heading and its English subtitle.
    pub fn section(&mut self, zh: &str, en: &str) {
        let _ = writeln!(
            self.out,
            "<section>\n<h2>{}<span class=\"en\">{}</span></h2>",
            esc(zh),
            esc(en)
        );
        self.open_sections += 1;
        self.blocks.push(Block::Section(zh.into(), en.into()));
    }

    /// Closes the innermost section.
    pub fn end_section(&mut self) {
        debug_assert!(self.open_sections > 0);
        self.open_sections = self.open_sections.saturating_sub(1);
        self.out.push_str("</section>\n");
    }

    /// A paragraph of text.
    pub fn para(&mut self, text: &str) {
        let _ = writeln!(self.out, "<p>{}</p>", esc(text));
        self.blocks.push(Block::Para(text.into()));
    }

    /// A paragraph of small print.
    pub fn note(&mut self, text: &str) {
        let _ = writeln!(self.out, "<p class=\"note\">{}</p>", esc(text));
        self.blocks.push(Block::Note(text.into()));
    }

    /// A warning (a figure that does not agree with another).
    pub fn warn(&mut self, text: &str) {
        let _ = writeln!(self.out, "<p class=\"warn\">{}</p>", esc(text));
        self.blocks.push(Block::Warn(text.into()));
    }

    /// Markup made by this crate (an SVG chart).
    pub fn raw(&mut self, markup: &str) {
        self.out.push_str(markup);
        if !markup.ends_with('\n') {
            self.out.push('\n');
        }
    }

    /// A table.
    pub fn table(&mut self, table: &Table) {
        let texts = |cells: &[Cell]| cells.iter().map(cell_text).collect::<Vec<_>>();
        self.blocks.push(Block::Table(
            table.columns.clone(),
            table.rows.iter().map(|r| texts(r)).collect(),
            table.total.as_ref().map(|r| texts(r)),
        ));
        self.out.push_str("<table>\n<thead><tr>");
        for col in &table.columns {
            let _ = write!(
                self.out,
                "<th>{}<span class=\"en\">{}</span></th>",
                esc(col.zh),
                esc(col.en)
            );
        }
        self.out.push_str("</tr></thead>\n<tbody>\n");
        for row in &table.rows {
            self.row(&table.columns, row, false);
        }
        self.out.push_str("</tbody>\n");
        if let Some(total) = &table.total {
            self.out.push_str("<tfoot>\n");
            self.row(&table.columns, total, true);
            self.out.push_str("</tfoot>\n");
        }
        self.out.push_str("</table>\n");
    }

    fn row(&mut self, columns: &[Col], cells: &[Cell], total: bool) {
        self.out.push_str(if total {
            "<tr class=\"total\">"
        } else {
            "<tr>"
        });
        for (i, cell) in cells.iter().enumerate() {
            let numeric = columns.get(i).is_some_and(|c| c.numeric);
            self.out
                .push_str(if numeric { "<td class=\"n\">" } else { "<td>" });
            match cell {
                Cell::Text(text) => self.out.push_str(&esc(text)),
                Cell::Link { href, text } => {
                    let _ = write!(self.out, "<a href=\"{}\">{}</a>", esc(href), esc(text));
                }
            }
            self.out.push_str("</td>");
        }
        self.out.push_str("</tr>\n");
    }

    /// A list of definitions: term (Chinese and English) and its text.
    pub fn definitions(&mut self, items: &[(&str, &str, &str)]) {
        self.blocks.push(Block::Definitions(
            items
                .iter()
                .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
                .collect(),
        ));
        self.out.push_str("<dl class=\"defs\">\n");
        for (zh, en, text) in items {
            let _ = writeln!(
                self.out,
                "<dt>{} <span class=\"en\" style=\"display:inline\">{}</span></dt><dd>{}</dd>",
                esc(zh),
                esc(en),
                esc(text)
            );
        }
        self.out.push_str("</dl>\n");
    }

    /// The page: closes what is open and adds the footer.
    pub fn finish(mut self) -> String {
        while self.open_sections > 0 {
            self.end_section();
        }
        self.out.push_str(
            "<footer>drgdip — 由结算数据生成，口径见“口径说明” · generated from the settled data; \
             see the definitions above.</footer>\n</body>\n</html>\n",
        );
        self.out
    }
}

/// A column: Chinese heading, English subtitle, whether its cells are numbers (right-aligned).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Col {
    pub zh: &'static str,
    pub en: &'static str,
    pub numeric: bool,
}

/// A text column.
pub(crate) const fn text(zh: &'static str, en: &'static str) -> Col {
    Col {
        zh,
        en,
        numeric: false,
    }
}

/// A numeric column.
pub(crate) const fn num(zh: &'static str, en: &'static str) -> Col {
    Col {
        zh,
        en,
        numeric: true,
    }
}

/// A table cell.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    /// Plain text (escaped when written).
    Text(String),
    /// A link to another page of the report.
    Link { href: String, text: String },
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::Text(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::Text(text.to_string())
    }
}

/// A table: columns, rows and an optional total row.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub columns: Vec<Col>,
    pub rows: Vec<Vec<Cell>>,
    pub total: Option<Vec<Cell>>,
}

impl Table {
    /// An empty table of `columns`.
    pub fn new(columns: &[Col]) -> Table {
        Table {
            columns: columns.to_vec(),
            rows: Vec::new(),
            total: None,
        }
    }

    /// Appends a row.
    pub fn row(&mut self, cells: Vec<Cell>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        self.rows.push(cells);
    }
}

/// Cells from texts.
macro_rules! cells {
    ($($cell:expr),* $(,)?) => {
        vec![$($crate::html::Cell::from($cell)),*]
    };
}
pub(crate) use cells;

#[cfg(test)]
pub(crate) mod check {
    //! A small checker for the markup this crate writes: every element it opens is closed,
    //! in order; void elements (`meta`, `br`) and self-closed ones (`<rect/>`) stand alone.

    /// The first problem with the nesting of `html`, if any.
    pub fn balance(html: &str) -> Result<(), String> {
        const VOID: [&str; 6] = ["meta", "br", "hr", "img", "input", "link"];
        let mut stack: Vec<String> = Vec::new();
        let mut rest = html;
        while let Some(start) = rest.find('<') {
            rest = &rest[start + 1..];
            let end = rest
                .find('>')
                .ok_or_else(|| "a '<' without '>'".to_string())?;
            let tag = &rest[..end];
            rest = &rest[end + 1..];
            if tag.starts_with('!') {
                continue;
            }
            if let Some(name) = tag.strip_prefix('/') {
                let name = name.trim();
                match stack.pop() {
                    Some(open) if open == name => {}
                    other => return Err(format!("</{name}> closes {other:?}")),
                }
                continue;
            }
            let name: String = tag
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            if name.is_empty() {
                return Err(format!("a bad tag <{tag}>"));
            }
            if tag.ends_with('/') || VOID.contains(&name.as_str()) {
                continue;
            }
            stack.push(name);
        }
        if stack.is_empty() {
            Ok(())
        } else {
            Err(format!("not closed: {stack:?}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_the_data_is_escaped() {
        assert_eq!(
            esc("A&B <script>\"x\" 'y'"),
            "A&amp;B &lt;script&gt;&quot;x&quot; &#39;y&#39;"
        );
    }

    #[test]
    fn a_page_is_balanced_and_closes_its_sections() {
        let mut page = Page::new("月告知", "Monthly <feedback>", "H001 & co");
        page.section("概况", "Summary");
        let mut table = Table::new(&[text("名称", "name"), num("数", "n")]);
        table.row(cells!["<b>", "1"]);
        table.row(vec![
            Cell::Link {
                href: "a&b.html".into(),
                text: "x".into(),
            },
            "2".into(),
        ]);
        table.total = Some(cells!["合计", "3"]);
        page.table(&table);
        page.definitions(&[("入组率", "grouping rate", "grouped / all")]);
        let html = page.finish();
        check::balance(&html).unwrap();
        assert!(html.contains("<td>&lt;b&gt;</td><td class=\"n\">1</td>"));
        assert!(html.contains("<a href=\"a&amp;b.html\">x</a>"));
        assert!(html.contains("Monthly &lt;feedback&gt;"));
        assert!(html.contains("<tr class=\"total\"><td>合计</td>"));
        assert!(!html.contains("<script"));
        // printed: A4, a page per section, rows and charts never split, headers repeated
        for rule in [
            "@page{size:A4;",
            "@media print{",
            "section{break-before:page;",
            "tr,svg,.note,dl.defs dt,dl.defs dd{break-inside:avoid;",
            "thead{display:table-header-group}",
        ] {
            assert!(html.contains(rule), "{rule}");
        }
        assert_eq!(
            check::balance("<p><b></p></b>").unwrap_err(),
            "</p> closes Some(\"b\")"
        );
        assert!(check::balance("<p>").is_err());
    }
}
