//! A page's blocks ([`Block`]) laid out on A4 and written as a PDF with `krilla`: the text in
//! one font given by the caller (a CJK TrueType/OpenType font or collection), embedded as a
//! subset of the glyphs drawn, so that the Chinese text renders on a machine with no font
//! installed and can be searched and copied. Tables break across pages with their header
//! repeated, a row never splits; a chart and a heading with the start of what follows never
//! split; each section starts a page, as the print stylesheet has it.
//!
//! Text widths are estimated (a CJK character one em, any other 0.56 em), which is enough for
//! column widths and line breaks. Chart geometry uses `f32`; the figures written are the
//! decimals' own texts.

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::Document;
use rust_decimal::prelude::ToPrimitive;
use thiserror::Error;

use crate::html::{Block, Chart, Col};

/// Why no PDF was written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PdfError {
    /// The font bytes are not a font krilla can use.
    #[error("not a usable TrueType/OpenType font (face {index} of {bytes} bytes)")]
    Font {
        /// The face asked for.
        index: u32,
        /// The size of the data.
        bytes: usize,
    },
    /// The PDF could not be written (a font that cannot be embedded, …).
    #[error("the PDF could not be written: {0}")]
    Write(String),
}

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const LEFT: f32 = 42.0;
const RIGHT: f32 = PAGE_W - 42.0;
const TOP: f32 = 48.0;
const BOTTOM: f32 = PAGE_H - 48.0;
const WIDTH: f32 = RIGHT - LEFT;

const BODY: f32 = 9.0;
const SMALL: f32 = 7.0;
const TABLE: f32 = 7.2;
const MIN_TABLE: f32 = 5.2;
const PAD: f32 = 2.5;

/// The estimated width of `text` at `size`.
fn width(text: &str, size: f32) -> f32 {
    text.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 1.0 } else { 0.56 })
        .sum::<f32>()
        * size
}

/// `text` broken into lines no wider than `max` at `size` (at a space when there is one in
/// the line, else at any character).
fn wrap(text: &str, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for c in text.chars() {
        let mut candidate = line.clone();
        candidate.push(c);
        if width(&candidate, size) > max && !line.is_empty() {
            match line.rfind(' ').filter(|&i| i > 0 && !c.is_whitespace()) {
                Some(i) => {
                    let rest = line[i + 1..].to_string();
                    line.truncate(i);
                    lines.push(std::mem::take(&mut line));
                    line = rest;
                }
                None => lines.push(std::mem::take(&mut line)),
            }
            if !(line.is_empty() && c == ' ') {
                line.push(c);
            }
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn color(hex: &str) -> rgb::Color {
    let h = hex.trim_start_matches('#');
    let part = |i: usize| u8::from_str_radix(h.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0);
    rgb::Color::new(part(0), part(2), part(4))
}

fn fill(c: rgb::Color) -> Fill {
    Fill {
        paint: c.into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

const INK: (u8, u8, u8) = (0x1f, 0x29, 0x33);
const GREY: (u8, u8, u8) = (0x48, 0x65, 0x81);
const RULE: (u8, u8, u8) = (0xc8, 0xd2, 0xdc);
const HEAD: (u8, u8, u8) = (0xf0, 0xf4, 0xf8);

fn rgb3(c: (u8, u8, u8)) -> rgb::Color {
    rgb::Color::new(c.0, c.1, c.2)
}

/// One drawing operation of a laid-out page.
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        text: String,
        color: rgb::Color,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: rgb::Color,
    },
    Line {
        points: Vec<(f32, f32)>,
        width: f32,
        color: rgb::Color,
    },
}

/// The pages under construction.
struct Layout {
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl Layout {
    fn new() -> Layout {
        Layout {
            pages: vec![Vec::new()],
            y: TOP,
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        if self.y > TOP || self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        self.y = TOP;
    }

    /// Starts a page unless `h` fits below the cursor.
    fn need(&mut self, h: f32) {
        if self.y + h > BOTTOM && self.y > TOP {
            self.new_page();
        }
    }

    fn text(&mut self, x: f32, y: f32, size: f32, text: &str, c: rgb::Color) {
        if !text.is_empty() {
            self.ops().push(Op::Text {
                x,
                y,
                size,
                text: text.to_string(),
                color: c,
            });
        }
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, c: rgb::Color) {
        if w > 0.0 && h > 0.0 {
            self.ops().push(Op::Rect {
                x,
                y,
                w,
                h,
                color: c,
            });
        }
    }

    fn line(&mut self, points: Vec<(f32, f32)>, width: f32, c: rgb::Color) {
        self.ops().push(Op::Line {
            points,
            width,
            color: c,
        });
    }

    /// A paragraph, wrapped.
    fn para(&mut self, text: &str, size: f32, c: rgb::Color) {
        let lead = size * 1.45;
        for line in wrap(text, size, WIDTH) {
            self.need(lead);
            self.y += lead;
            let y = self.y - size * 0.35;
            self.text(LEFT, y, size, &line, c);
        }
        self.y += size * 0.5;
    }

    fn table(&mut self, cols: &[Col], rows: &[Vec<String>], total: Option<&Vec<String>>) {
        let n = cols.len().max(1);
        let all: Vec<&Vec<String>> = rows.iter().chain(total).collect();
        // natural widths at the table's size; smaller type, then wrapping, when too wide
        let natural = |size: f32| -> Vec<f32> {
            (0..n)
                .map(|i| {
                    let head = cols
                        .get(i)
                        .map_or(0.0, |c| width(c.zh, size).max(width(c.en, size * 0.85)));
                    all.iter()
                        .map(|r| width(r.get(i).map_or("", String::as_str), size))
                        .fold(head, f32::max)
                        + 2.0 * PAD
                })
                .collect()
        };
        let mut size = TABLE;
        let mut widths = natural(size);
        while widths.iter().sum::<f32>() > WIDTH && size > MIN_TABLE {
            size -= 0.4;
            widths = natural(size);
        }
        let sum: f32 = widths.iter().sum();
        if sum > WIDTH {
            // the widest text columns give way (their cells wrap)
            let mut excess = sum - WIDTH;
            let mut order: Vec<usize> = (0..n)
                .filter(|&i| !cols.get(i).is_some_and(|c| c.numeric))
                .collect();
            order.sort_by(|a, b| widths[*b].total_cmp(&widths[*a]));
            for i in order {
                let floor = (size * 4.0 + 2.0 * PAD).min(widths[i]);
                let cut = (widths[i] - floor).min(excess);
                widths[i] -= cut;
                excess -= cut;
                if excess <= 0.0 {
                    break;
                }
            }
            if excess > 0.0 {
                let scale = WIDTH / widths.iter().sum::<f32>();
                widths.iter_mut().for_each(|w| *w *= scale);
            }
        }
        let lead = size * 1.35;
        let cells = |row: &[String]| -> Vec<Vec<String>> {
            (0..n)
                .map(|i| {
                    wrap(
                        row.get(i).map_or("", String::as_str),
                        size,
                        widths[i] - 2.0 * PAD,
                    )
                })
                .collect()
        };
        let head: Vec<Vec<String>> = (0..n)
            .map(|i| {
                let c = cols.get(i);
                let mut lines = wrap(c.map_or("", |c| c.zh), size, widths[i] - 2.0 * PAD);
                lines.extend(wrap(
                    c.map_or("", |c| c.en),
                    size * 0.85,
                    widths[i] - 2.0 * PAD,
                ));
                lines
            })
            .collect();
        let head_h = head.iter().map(Vec::len).max().unwrap_or(1) as f32 * lead + 2.0 * PAD;
        let draw_head = |l: &mut Layout| {
            let y0 = l.y;
            l.rect(LEFT, y0, widths.iter().sum(), head_h, rgb3(HEAD));
            let mut x = LEFT;
            for (i, lines) in head.iter().enumerate() {
                for (k, line) in lines.iter().enumerate() {
                    let zh_lines = lines.len().saturating_sub(
                        wrap(
                            cols.get(i).map_or("", |c| c.en),
                            size * 0.85,
                            widths[i] - 2.0 * PAD,
                        )
                        .len(),
                    );
                    let (s, c) = if k < zh_lines {
                        (size, rgb3(INK))
                    } else {
                        (size * 0.85, rgb3(GREY))
                    };
                    l.text(
                        x + PAD,
                        y0 + PAD + (k as f32 + 1.0) * lead - lead * 0.3,
                        s,
                        line,
                        c,
                    );
                }
                x += widths[i];
            }
            l.y += head_h;
            l.line(
                vec![(LEFT, l.y), (LEFT + widths.iter().sum::<f32>(), l.y)],
                0.6,
                rgb3(RULE),
            );
        };
        self.need(head_h + lead * 2.0 + 2.0 * PAD);
        draw_head(self);
        for (r, row) in all.iter().enumerate() {
            let lines = cells(row);
            let h = lines.iter().map(Vec::len).max().unwrap_or(1) as f32 * lead + 2.0 * PAD;
            if self.y + h > BOTTOM {
                self.new_page();
                draw_head(self);
            }
            let is_total = total.is_some() && r == all.len() - 1;
            if is_total {
                self.rect(
                    LEFT,
                    self.y,
                    widths.iter().sum(),
                    h,
                    rgb3((0xf7, 0xfa, 0xfc)),
                );
            }
            let mut x = LEFT;
            for (i, cell) in lines.iter().enumerate() {
                let numeric = cols.get(i).is_some_and(|c| c.numeric);
                for (k, line) in cell.iter().enumerate() {
                    let tx = if numeric {
                        x + widths[i] - PAD - width(line, size)
                    } else {
                        x + PAD
                    };
                    let y = self.y + PAD + (k as f32 + 1.0) * lead - lead * 0.3;
                    self.text(tx, y, size, line, rgb3(INK));
                }
                x += widths[i];
            }
            self.y += h;
            self.line(
                vec![(LEFT, self.y), (LEFT + widths.iter().sum::<f32>(), self.y)],
                0.3,
                rgb3(RULE),
            );
        }
        self.y += BODY;
    }

    fn chart(&mut self, chart: &Chart) {
        let title_h = BODY * 1.8;
        let legend_h = SMALL * 2.0;
        let max = chart
            .series
            .iter()
            .flat_map(|s| s.2.iter())
            .filter_map(|v| v.to_f32())
            .fold(0.0_f32, f32::max);
        let max = if max > 0.0 { max } else { 1.0 };
        if chart.lines {
            let plot_h = 150.0;
            let h = title_h + legend_h + plot_h + SMALL * 3.0;
            self.need(h);
            self.chart_head(chart);
            let left = LEFT + 40.0;
            let plot_w = WIDTH - 50.0;
            let top = self.y;
            let bottom = top + plot_h;
            let n = chart.labels.len().max(1) as f32;
            let x_of = |i: usize| left + plot_w * (2.0 * i as f32 + 1.0) / (2.0 * n);
            let y_of = |v: f32| bottom - plot_h * v.max(0.0) / max;
            self.line(
                vec![(left, bottom), (left + plot_w, bottom)],
                0.6,
                rgb3(RULE),
            );
            self.line(vec![(left, top), (left, bottom)], 0.6, rgb3(RULE));
            for (i, label) in chart.labels.iter().enumerate() {
                let x = x_of(i) - width(label, SMALL) / 2.0;
                self.text(x, bottom + SMALL * 1.5, SMALL, label, rgb3(GREY));
            }
            for (_, c, values) in &chart.series {
                let points: Vec<(f32, f32)> = values
                    .iter()
                    .take(chart.labels.len())
                    .enumerate()
                    .map(|(i, v)| (x_of(i), y_of(v.to_f32().unwrap_or(0.0))))
                    .collect();
                for &(x, y) in &points {
                    self.rect(x - 1.8, y - 1.8, 3.6, 3.6, color(c));
                }
                if points.len() > 1 {
                    self.line(points, 1.4, color(c));
                }
            }
            let top_label =
                (chart.value)(rust_decimal::Decimal::from_f32_retain(max).unwrap_or_default());
            self.text(LEFT, top + SMALL, SMALL * 0.9, &top_label, rgb3(GREY));
            self.y = bottom + SMALL * 3.0;
        } else {
            let bar = 6.5;
            let band = chart.series.len().max(1) as f32 * (bar + 1.5) + 4.0;
            let label_w = 130.0;
            let value_w = 70.0;
            let plot_w = WIDTH - label_w - value_w;
            let h = title_h + legend_h + band * chart.labels.len().max(1) as f32 + BODY;
            self.need(h.min(BOTTOM - TOP));
            self.chart_head(chart);
            for (i, label) in chart.labels.iter().enumerate() {
                if self.y + band > BOTTOM {
                    self.new_page();
                }
                let y0 = self.y;
                let shown = wrap(label, SMALL, label_w - 6.0)
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                self.text(
                    LEFT + label_w - 6.0 - width(&shown, SMALL),
                    y0 + band / 2.0 + SMALL * 0.35,
                    SMALL,
                    &shown,
                    rgb3(INK),
                );
                for (j, (_, c, values)) in chart.series.iter().enumerate() {
                    let v = values.get(i).copied().unwrap_or_default();
                    let w = plot_w * v.to_f32().unwrap_or(0.0).max(0.0) / max;
                    let y = y0 + 2.0 + j as f32 * (bar + 1.5);
                    self.rect(LEFT + label_w, y, w, bar, color(c));
                    self.text(
                        LEFT + label_w + w + 3.0,
                        y + bar - 1.0,
                        SMALL * 0.85,
                        &(chart.value)(v),
                        rgb3(GREY),
                    );
                }
                self.y += band;
            }
            self.y += BODY;
        }
    }

    fn chart_head(&mut self, chart: &Chart) {
        self.y += BODY * 1.4;
        let title = wrap(&chart.title, BODY, WIDTH)
            .into_iter()
            .next()
            .unwrap_or_default();
        self.text(LEFT, self.y, BODY, &title, rgb3(INK));
        self.y += SMALL * 0.6;
        let mut x = LEFT;
        let y = self.y + SMALL;
        for (name, c, _) in &chart.series {
            self.rect(x, y - SMALL * 0.8, SMALL, SMALL, color(c));
            self.text(x + SMALL + 3.0, y, SMALL, name, rgb3(INK));
            x += SMALL + 3.0 + width(name, SMALL) + 12.0;
        }
        self.y += SMALL * 2.0;
    }
}

/// Lays out `blocks` and writes the PDF, `title` in its metadata.
pub(crate) fn render(
    blocks: &[Block],
    title: &str,
    font: Vec<u8>,
    index: u32,
) -> Result<Vec<u8>, PdfError> {
    let bytes = font.len();
    let font = Font::new(font.into(), index).ok_or(PdfError::Font { index, bytes })?;
    let mut l = Layout::new();
    let mut first_section = true;
    for b in blocks {
        match b {
            Block::Title(zh, en, meta) => {
                l.para(zh, 16.0, rgb3(INK));
                l.para(en, 9.0, rgb3(GREY));
                l.para(meta, 8.0, rgb3(GREY));
            }
            Block::Section(zh, en) => {
                if !first_section {
                    l.new_page();
                }
                first_section = false;
                l.need(80.0);
                l.y += 6.0;
                l.para(&format!("{zh}  {en}"), 12.0, rgb3(INK));
                let y = l.y - 3.0;
                l.line(vec![(LEFT, y), (RIGHT, y)], 1.0, rgb3(RULE));
            }
            Block::Para(t) => l.para(t, BODY, rgb3(INK)),
            Block::Note(t) => l.para(t, SMALL, rgb3(GREY)),
            Block::Warn(t) => l.para(t, BODY, rgb3((0x9b, 0x2c, 0x2c))),
            Block::Table(cols, rows, total) => l.table(cols, rows, total.as_ref()),
            Block::Chart(c) => l.chart(c),
            Block::Definitions(items) => {
                for (term, en, text) in items {
                    l.para(&format!("{term} {en}"), BODY, rgb3(INK));
                    l.para(text, SMALL, rgb3(GREY));
                }
            }
        }
    }
    let pages = l.pages.len();
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(title.to_string())
            .language("zh-CN".into()),
    );
    for (k, ops) in l.pages.iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
            .ok_or_else(|| PdfError::Write("page size".into()))?;
        let mut page = doc.start_page_with(settings);
        let mut s = page.surface();
        for op in ops {
            draw(&mut s, &font, op);
        }
        let folio = format!("{} / {pages}", k + 1);
        draw(
            &mut s,
            &font,
            &Op::Text {
                x: RIGHT - width(&folio, SMALL),
                y: PAGE_H - 24.0,
                size: SMALL,
                text: folio,
                color: rgb3(GREY),
            },
        );
        s.finish();
        page.finish();
    }
    doc.finish().map_err(|e| PdfError::Write(format!("{e:?}")))
}

fn draw(s: &mut Surface<'_>, font: &Font, op: &Op) {
    match op {
        Op::Text {
            x,
            y,
            size,
            text,
            color,
        } => {
            s.set_fill(Some(fill(*color)));
            s.draw_text(
                Point::from_xy(*x, *y),
                font.clone(),
                *size,
                text,
                false,
                TextDirection::Auto,
            );
        }
        Op::Rect { x, y, w, h, color } => {
            let mut pb = PathBuilder::new();
            if let Some(r) = Rect::from_xywh(*x, *y, *w, *h) {
                pb.push_rect(r);
            }
            if let Some(path) = pb.finish() {
                s.set_fill(Some(fill(*color)));
                s.set_stroke(None);
                s.draw_path(&path);
            }
        }
        Op::Line {
            points,
            width,
            color,
        } => {
            let mut pb = PathBuilder::new();
            for (i, (x, y)) in points.iter().enumerate() {
                if i == 0 {
                    pb.move_to(*x, *y);
                } else {
                    pb.line_to(*x, *y);
                }
            }
            if let Some(path) = pb.finish() {
                s.set_fill(None);
                s.set_stroke(Some(Stroke {
                    paint: (*color).into(),
                    width: *width,
                    ..Stroke::default()
                }));
                s.draw_path(&path);
                s.set_stroke(None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_wraps_at_spaces_or_anywhere() {
        assert_eq!(wrap("aaa bbb", 10.0, 25.0), vec!["aaa", "bbb"]);
        assert_eq!(
            wrap("基金收支基金收支", 10.0, 40.0),
            vec!["基金收支", "基金收支"]
        );
        assert_eq!(wrap("", 10.0, 40.0), vec![""]);
        assert!(width("基金", 10.0) > width("ab", 10.0));
    }

    #[test]
    fn a_bad_font_is_refused() {
        let e = render(&[], "t", vec![0, 1, 2], 0).unwrap_err();
        assert_eq!(e, PdfError::Font { index: 0, bytes: 3 });
    }

    #[test]
    fn colours_are_read_from_hex() {
        assert_eq!(color("#2f6fad"), rgb::Color::new(0x2f, 0x6f, 0xad));
    }
}
