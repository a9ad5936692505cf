//! Repair of uploaded codes: what a hospital's export does to a code that the catalog would
//! still recognise. Each repair is reported, so that the trace can say what was changed.

use std::borrow::Cow;

/// One kind of silent repair made to an uploaded value (recorded in the trace).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Repair {
    /// Leading or trailing white space removed.
    Trimmed,
    /// Full-width characters (全角) converted to their ASCII form.
    FullWidth,
    /// Letter case normalised (capital letters, lower-case `x`).
    LetterCase,
    /// A list separator other than `|` (`;` `；` `，` ` | `) replaced.
    Separator,
    /// A retired or alternative code mapped to the current catalog code.
    Mapped,
}

impl Repair {
    /// Short English name used in the trace and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Repair::Trimmed => "spaces",
            Repair::FullWidth => "full-width",
            Repair::LetterCase => "letter case",
            Repair::Separator => "separator",
            Repair::Mapped => "mapped code",
        }
    }
}

/// Full-width ASCII variants (U+FF01..U+FF5E) and the ideographic space to ASCII.
fn to_half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        '。' => '.',
        _ => c,
    }
}

/// Splits a list field (diagnoses or procedures) into its raw items.
///
/// The canonical separator is `|`; uploads also use `;`, `；`, `，`, `、`, `｜` (full width) and,
/// inside a quoted field, `,` (no code contains any of them). Empty
/// items (e.g. a trailing separator) are kept as empty strings so that the caller can report
/// them; an entirely empty field gives an empty list. The second value says whether a
/// non-canonical separator was seen.
pub fn split_list(field: &str) -> (Vec<&str>, bool) {
    let mut items = Vec::new();
    let other_sep = for_each_item(field, |_, item| items.push(item));
    (items, other_sep)
}

/// [`split_list`] without collecting: calls `f(position, item)` for every item, in order;
/// returns whether a non-canonical separator was seen (no allocation).
pub fn for_each_item<'a>(field: &'a str, mut f: impl FnMut(usize, &'a str)) -> bool {
    if field.trim().is_empty() {
        return false;
    }
    let mut other_sep = false;
    let items = field.split(|c: char| {
        let other = matches!(c, ';' | '；' | '，' | '、' | '｜' | ',');
        other_sep |= other;
        other || c == '|'
    });
    for (i, item) in items.enumerate() {
        f(i, item);
    }
    other_sep
}

/// Repairs one code: trims it, converts full-width characters, upper-cases every letter but
/// the placeholder `x` (an `X` that does not start a code part is `x`).
///
/// Returns the repaired code and the repairs made (none: the code was already clean, and no
/// allocation is made).
pub fn repair_code(raw: &str) -> (Cow<'_, str>, RepairSet) {
    let mut set = RepairSet::default();
    let trimmed = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}');
    if trimmed.len() != raw.len() {
        set.insert(Repair::Trimmed);
    }
    // clean: digits, `.`, `*`, `+`, capital letters, and `x` only where it is a placeholder
    // (never at the start of a code part, where a letter is the ICD chapter)
    let bytes = trimmed.as_bytes();
    let clean = bytes.iter().enumerate().all(|(i, &b)| {
        let part_start = i == 0 || bytes[i - 1] == b'+';
        b.is_ascii_digit()
            || matches!(b, b'.' | b'+' | b'*')
            || (b == b'x' && !part_start)
            || (b.is_ascii_uppercase() && (b != b'X' || part_start))
    });
    if clean {
        return (Cow::Borrowed(trimmed), set);
    }
    let mut out = String::with_capacity(trimmed.len());
    let mut part_start = true;
    for c in trimmed.chars() {
        let h = to_half_width(c);
        if h != c {
            set.insert(Repair::FullWidth);
        }
        if h.is_whitespace() {
            // spaces inside a code (e.g. from a full-width space) carry no meaning
            set.insert(Repair::Trimmed);
            continue;
        }
        let fixed = if h.is_ascii_alphabetic() {
            if part_start {
                h.to_ascii_uppercase()
            } else if h == 'x' || h == 'X' {
                'x'
            } else {
                h.to_ascii_uppercase()
            }
        } else {
            h
        };
        if fixed != h {
            set.insert(Repair::LetterCase);
        }
        part_start = fixed == '+';
        out.push(fixed);
    }
    (Cow::Owned(out), set)
}

/// Repairs a whole list field: splits it and repairs each item. Returns the repaired items and
/// the union of the repairs made.
pub fn repair_list(field: &str) -> (Vec<Cow<'_, str>>, RepairSet) {
    let (items, other_sep) = split_list(field);
    let mut set = RepairSet::default();
    if other_sep {
        set.insert(Repair::Separator);
    }
    let out = items
        .into_iter()
        .map(|raw| {
            let (code, s) = repair_code(raw);
            set.extend(s);
            code
        })
        .collect();
    (out, set)
}

/// A small set of [`Repair`]s (a bit set; no allocation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RepairSet(u8);

impl RepairSet {
    const ALL: [Repair; 5] = [
        Repair::Trimmed,
        Repair::FullWidth,
        Repair::LetterCase,
        Repair::Separator,
        Repair::Mapped,
    ];
    fn bit(r: Repair) -> u8 {
        1 << (r as u8)
    }
    /// Adds a repair.
    pub fn insert(&mut self, r: Repair) {
        self.0 |= Self::bit(r);
    }
    /// Adds every repair of another set.
    pub fn extend(&mut self, other: RepairSet) {
        self.0 |= other.0;
    }
    /// Whether the set holds `r`.
    pub fn contains(self, r: Repair) -> bool {
        self.0 & Self::bit(r) != 0
    }
    /// Whether no repair was made.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The repairs, in a fixed order.
    pub fn iter(self) -> impl Iterator<Item = Repair> {
        Self::ALL.into_iter().filter(move |r| self.contains(*r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_code_is_borrowed_and_unchanged() {
        let (c, s) = repair_code("C91.000x012");
        assert!(matches!(c, Cow::Borrowed(_)));
        assert_eq!(c, "C91.000x012");
        assert!(s.is_empty());
    }

    #[test]
    fn full_width_codes_become_ascii() {
        let (c, s) = repair_code("Ｃ１８．９");
        assert_eq!(c, "C18.9");
        assert!(s.contains(Repair::FullWidth));
        let (c, _) = repair_code("Ｉ４５．５００ｘ００４");
        assert_eq!(c, "I45.500x004");
    }

    #[test]
    fn lower_case_is_upper_cased_but_x_stays_lower() {
        let (c, s) = repair_code("k11.805");
        assert_eq!(c, "K11.805");
        assert!(s.contains(Repair::LetterCase));
        assert_eq!(repair_code("r11.X01").0, "R11.x01");
        assert_eq!(repair_code("a02.201+j17.0*").0, "A02.201+J17.0*");
        assert_eq!(repair_code("x47.900X911").0, "X47.900x911");
        assert_eq!(repair_code("17.922a0").0, "17.922A0");
        assert_eq!(repair_code("x03.x00").0, "X03.x00");
        assert_eq!(repair_code("X03.X00").0, "X03.x00");
    }

    #[test]
    fn spaces_are_trimmed() {
        let (c, s) = repair_code("  D48.517 ");
        assert_eq!(c, "D48.517");
        assert!(s.contains(Repair::Trimmed));
    }

    #[test]
    fn lists_split_on_every_separator() {
        let (items, s) = repair_list(" D48.517 | H33.300x006；N85.700，S41.000x002;H26.100 ");
        assert_eq!(
            items,
            [
                "D48.517",
                "H33.300x006",
                "N85.700",
                "S41.000x002",
                "H26.100"
            ]
        );
        assert!(s.contains(Repair::Separator));
        assert!(s.contains(Repair::Trimmed));
        assert!(repair_list("").0.is_empty());
        assert!(repair_list("   ").0.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn repair_never_panics_and_is_idempotent(s in "\\PC{0,40}") {
            let (once, _) = repair_code(&s);
            let (twice, again) = repair_code(&once);
            proptest::prop_assert_eq!(&once, &twice);
            proptest::prop_assert!(!again.contains(Repair::FullWidth));
        }
    }
}
