//! Dates, months, review periods and working days (工作日) — the small calendar settlement needs.
//!
//! A proleptic Gregorian [`Date`] without time or zone, a [`YearMonth`], the review
//! [`Period`]s of the special-case review (month, quarter, half-year, year), the [`HalfYear`]
//! of the special-case notice, and a [`WorkCalendar`]: Monday to Friday are working days,
//! a caller-supplied list of holidays removes days and a list of make-up working days (调休)
//! adds weekend days back. Nothing here reads a clock: every date comes from the caller.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use drgdip_pay::params::ReviewPeriod;
use thiserror::Error;

/// A date, month or period written in an unexpected form.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("expected {expected}, found \"{found}\"")]
pub struct ParseError {
    /// The form expected (`a date YYYY-MM-DD`).
    pub expected: &'static str,
    /// The text found.
    pub found: String,
}

fn parse_error(expected: &'static str, found: &str) -> ParseError {
    ParseError {
        expected,
        found: found.to_string(),
    }
}

/// Implements `Serialize`/`Deserialize` through `Display`/`FromStr`, so that dates and
/// periods travel as the text a person writes (`"2025-06"`, `"2025Q2"`).
macro_rules! serde_as_text {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Parses exactly `digits` ASCII digits.
fn digits(text: &str, count: usize) -> Option<u32> {
    (text.len() == count && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// Days in `month` of `year`.
fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Weekday {
    /// 星期一.
    Monday,
    /// 星期二.
    Tuesday,
    /// 星期三.
    Wednesday,
    /// 星期四.
    Thursday,
    /// 星期五.
    Friday,
    /// 星期六.
    Saturday,
    /// 星期日.
    Sunday,
}

impl Weekday {
    /// Saturday or Sunday.
    pub fn is_weekend(self) -> bool {
        matches!(self, Weekday::Saturday | Weekday::Sunday)
    }
}

/// A calendar date (proleptic Gregorian), years 1000–9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

impl Date {
    /// The date, if it exists.
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        ((1000..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month))
        .then_some(Date { year, month, day })
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1..=12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month.
    pub fn day(self) -> u8 {
        self.day
    }

    /// The month this date is in.
    pub fn year_month(self) -> YearMonth {
        YearMonth {
            year: self.year,
            month: self.month,
        }
    }

    /// Days since 1970-01-01 (H. Hinnant's `days_from_civil`).
    fn days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// Calendar days from `earlier` to this date (negative when `earlier` is later).
    pub fn days_since(self, earlier: Date) -> i64 {
        self.days() - earlier.days()
    }

    /// The day of the week.
    pub fn weekday(self) -> Weekday {
        // 1970-01-01 was a Thursday.
        const FROM_THURSDAY: [Weekday; 7] = [
            Weekday::Thursday,
            Weekday::Friday,
            Weekday::Saturday,
            Weekday::Sunday,
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
        ];
        FROM_THURSDAY[self.days().rem_euclid(7) as usize]
    }

    /// The next day (saturates at 9999-12-31).
    pub fn succ(self) -> Date {
        if self.day < days_in_month(self.year, self.month) {
            Date {
                day: self.day + 1,
                ..self
            }
        } else if self.month < 12 {
            Date {
                month: self.month + 1,
                day: 1,
                ..self
            }
        } else if self.year < 9999 {
            Date {
                year: self.year + 1,
                month: 1,
                day: 1,
            }
        } else {
            self
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Date {
    type Err = ParseError;

    /// `2025-03-10`.
    fn from_str(text: &str) -> Result<Date, ParseError> {
        const EXPECTED: &str = "a date YYYY-MM-DD";
        let mut parts = text.split('-');
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(parse_error(EXPECTED, text));
        };
        match (digits(y, 4), digits(m, 2), digits(d, 2)) {
            (Some(y), Some(m), Some(d)) => Date::new(y as i32, m as u8, d as u8),
            _ => None,
        }
        .ok_or_else(|| parse_error(EXPECTED, text))
    }
}

serde_as_text!(Date);

/// A calendar month, written `YYYY-MM` (the discharge month of a case, a settlement month).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    year: i32,
    month: u8,
}

impl YearMonth {
    /// The month, if `month` is 1..=12 and the year 1000..=9999.
    pub fn new(year: i32, month: u8) -> Option<YearMonth> {
        ((1000..=9999).contains(&year) && (1..=12).contains(&month))
            .then_some(YearMonth { year, month })
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1..=12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The first day of the month.
    pub fn first_day(self) -> Date {
        Date {
            year: self.year,
            month: self.month,
            day: 1,
        }
    }

    /// The last day of the month.
    pub fn last_day(self) -> Date {
        Date {
            year: self.year,
            month: self.month,
            day: days_in_month(self.year, self.month),
        }
    }

    /// The quarter, 1..=4.
    pub fn quarter(self) -> u8 {
        (self.month - 1) / 3 + 1
    }

    /// The half-year this month is in.
    pub fn half_year(self) -> HalfYear {
        HalfYear {
            year: self.year,
            half: if self.month <= 6 { 1 } else { 2 },
        }
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for YearMonth {
    type Err = ParseError;

    /// `2025-06`.
    fn from_str(text: &str) -> Result<YearMonth, ParseError> {
        const EXPECTED: &str = "a month YYYY-MM";
        let (y, m) = text
            .split_once('-')
            .ok_or_else(|| parse_error(EXPECTED, text))?;
        match (digits(y, 4), digits(m, 2)) {
            (Some(y), Some(m)) => YearMonth::new(y as i32, m as u8),
            _ => None,
        }
        .ok_or_else(|| parse_error(EXPECTED, text))
    }
}

serde_as_text!(YearMonth);

/// A half-year, written `2025H1` (January–June) or `2025H2` (July–December).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HalfYear {
    year: i32,
    half: u8,
}

impl HalfYear {
    /// The half-year, if `half` is 1 or 2 and the year 1000..=9999.
    pub const fn new(year: i32, half: u8) -> Option<HalfYear> {
        if year >= 1000 && year <= 9999 && (half == 1 || half == 2) {
            Some(HalfYear { year, half })
        } else {
            None
        }
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// 1 (January–June) or 2 (July–December).
    pub fn half(self) -> u8 {
        self.half
    }

    /// The first month of the half-year.
    pub fn first_month(self) -> YearMonth {
        YearMonth {
            year: self.year,
            month: if self.half == 1 { 1 } else { 7 },
        }
    }

    /// The last month of the half-year.
    pub fn last_month(self) -> YearMonth {
        YearMonth {
            year: self.year,
            month: if self.half == 1 { 6 } else { 12 },
        }
    }

    /// Whether `month` lies in this half-year.
    pub fn contains(self, month: YearMonth) -> bool {
        month.half_year() == self
    }

    /// The month the half-year's notice is due: the month after it ends
    /// (2025H1 → 2025-07, 2025H2 → 2026-01).
    pub fn notice_month(self) -> YearMonth {
        if self.half == 1 {
            YearMonth {
                year: self.year,
                month: 7,
            }
        } else {
            YearMonth {
                year: self.year + 1,
                month: 1,
            }
        }
    }
}

impl fmt::Display for HalfYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}H{}", self.year, self.half)
    }
}

impl FromStr for HalfYear {
    type Err = ParseError;

    /// `2025H1`.
    fn from_str(text: &str) -> Result<HalfYear, ParseError> {
        const EXPECTED: &str = "a half-year such as 2025H1";
        text.split_once('H')
            .and_then(|(y, h)| HalfYear::new(digits(y, 4)? as i32, digits(h, 1)? as u8))
            .ok_or_else(|| parse_error(EXPECTED, text))
    }
}

serde_as_text!(HalfYear);

/// A review period of the special-case review (特例单议): a month `2025-06`, a quarter
/// `2025Q2`, a half-year `2025H1` or a year `2025`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    /// One month.
    Month(YearMonth),
    /// One quarter of a year (`quarter` 1..=4).
    Quarter {
        /// The year.
        year: i32,
        /// 1..=4.
        quarter: u8,
    },
    /// One half-year.
    HalfYear(HalfYear),
    /// One year.
    Year(i32),
}

impl Period {
    /// The kind of period, as the parameter file names it (`special_case.review_period`).
    pub fn kind(self) -> ReviewPeriod {
        match self {
            Period::Month(_) => ReviewPeriod::Month,
            Period::Quarter { .. } => ReviewPeriod::Quarter,
            Period::HalfYear(_) => ReviewPeriod::HalfYear,
            Period::Year(_) => ReviewPeriod::Year,
        }
    }

    /// The period of `kind` that contains `month`.
    pub fn containing(kind: ReviewPeriod, month: YearMonth) -> Period {
        match kind {
            ReviewPeriod::Month => Period::Month(month),
            ReviewPeriod::Quarter => Period::Quarter {
                year: month.year,
                quarter: month.quarter(),
            },
            ReviewPeriod::HalfYear => Period::HalfYear(month.half_year()),
            ReviewPeriod::Year => Period::Year(month.year),
        }
    }

    /// The first month of the period.
    pub fn first_month(self) -> YearMonth {
        match self {
            Period::Month(m) => m,
            Period::Quarter { year, quarter } => YearMonth {
                year,
                month: (quarter - 1) * 3 + 1,
            },
            Period::HalfYear(h) => h.first_month(),
            Period::Year(year) => YearMonth { year, month: 1 },
        }
    }

    /// The last month of the period.
    pub fn last_month(self) -> YearMonth {
        match self {
            Period::Month(m) => m,
            Period::Quarter { year, quarter } => YearMonth {
                year,
                month: quarter * 3,
            },
            Period::HalfYear(h) => h.last_month(),
            Period::Year(year) => YearMonth { year, month: 12 },
        }
    }

    /// Whether `month` lies in the period.
    pub fn contains(self, month: YearMonth) -> bool {
        self.first_month() <= month && month <= self.last_month()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Month(m) => m.fmt(f),
            Period::Quarter { year, quarter } => write!(f, "{year:04}Q{quarter}"),
            Period::HalfYear(h) => h.fmt(f),
            Period::Year(year) => write!(f, "{year:04}"),
        }
    }
}

impl FromStr for Period {
    type Err = ParseError;

    /// `2025-06`, `2025Q2`, `2025H1` or `2025`.
    fn from_str(text: &str) -> Result<Period, ParseError> {
        const EXPECTED: &str = "a review period such as 2025-06, 2025Q2, 2025H1 or 2025";
        let error = || parse_error(EXPECTED, text);
        if text.contains('-') {
            return text.parse().map(Period::Month).map_err(|_| error());
        }
        if text.contains('H') {
            return text.parse().map(Period::HalfYear).map_err(|_| error());
        }
        if let Some((y, q)) = text.split_once('Q') {
            return match (digits(y, 4), digits(q, 1)) {
                (Some(year), Some(quarter @ 1..=4)) if year >= 1000 => Ok(Period::Quarter {
                    year: year as i32,
                    quarter: quarter as u8,
                }),
                _ => Err(error()),
            };
        }
        match digits(text, 4) {
            Some(year) if year >= 1000 => Ok(Period::Year(year as i32)),
            _ => Err(error()),
        }
    }
}

serde_as_text!(Period);

/// The calendar of working days (工作日): Monday to Friday, minus `holidays`, plus
/// `make_up_days` (weekend days worked in exchange for a holiday, 调休上班).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WorkCalendar {
    /// Days that are not worked although they fall Monday–Friday (法定节假日).
    pub holidays: BTreeSet<Date>,
    /// Days that are worked although they fall on a weekend (调休上班日).
    pub make_up_days: BTreeSet<Date>,
}

impl WorkCalendar {
    /// Monday to Friday, every week.
    pub fn weekdays_only() -> WorkCalendar {
        WorkCalendar::default()
    }

    /// Monday to Friday without `holidays`.
    pub fn with_holidays(holidays: impl IntoIterator<Item = Date>) -> WorkCalendar {
        WorkCalendar {
            holidays: holidays.into_iter().collect(),
            make_up_days: BTreeSet::new(),
        }
    }

    /// Whether `date` is a working day: a make-up day, or a weekday that is not a holiday.
    /// A date in both lists is a working day.
    pub fn is_working_day(&self, date: Date) -> bool {
        self.make_up_days.contains(&date)
            || (!date.weekday().is_weekend() && !self.holidays.contains(&date))
    }

    /// The `n`th working day counted from the day after `start` (`n` = 0 gives `start`).
    ///
    /// Day 1 is the first working day after `start`: from a declaration deadline of
    /// 2025-03-10 (a Monday), working day 1 is 2025-03-11 and working day 30 is 2025-04-21.
    pub fn nth_working_day_after(&self, start: Date, n: u32) -> Date {
        let mut date = start;
        let mut counted = 0;
        while counted < n {
            let next = date.succ();
            if next == date {
                break; // the end of the calendar
            }
            date = next;
            if self.is_working_day(date) {
                counted += 1;
            }
        }
        date
    }
}

/// Why a holidays file cannot be read: its line and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CalendarError {
    /// The line (1-based).
    pub line: usize,
    /// What was wrong.
    pub message: String,
}

impl WorkCalendar {
    /// Reads a holidays file: one `YYYY-MM-DD` a line (a day off, `holiday` may follow),
    /// `YYYY-MM-DD work` for a weekend day worked (调休); `#` starts a comment; an optional
    /// first line `date,…` is a header. Fields may be separated by commas or spaces.
    pub fn from_text(text: &str) -> Result<WorkCalendar, CalendarError> {
        let mut calendar = WorkCalendar::weekdays_only();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let mut parts = line
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|p| !p.is_empty());
            let first = parts.next().unwrap_or("");
            let Ok(date) = first.parse::<Date>() else {
                if i == 0 && first.eq_ignore_ascii_case("date") {
                    continue; // a header
                }
                return Err(CalendarError {
                    line: i + 1,
                    message: format!("{first:?} is not a date YYYY-MM-DD"),
                });
            };
            match parts.next().map(str::to_ascii_lowercase).as_deref() {
                None | Some("holiday") => {
                    calendar.holidays.insert(date);
                }
                Some("work" | "workday" | "make-up" | "makeup") => {
                    calendar.make_up_days.insert(date);
                }
                Some(other) => {
                    return Err(CalendarError {
                        line: i + 1,
                        message: format!(
                            "{other:?}: expected nothing (a holiday), `holiday` or `work` (a make-up working day)"
                        ),
                    })
                }
            }
        }
        Ok(calendar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn a_holidays_file_reads_days_off_make_up_days_comments_and_a_header() {
        let text =
            "date,kind\n# 2026\n2026-02-16\n2026-02-17 holiday\n2026-02-14 work # Saturday\n\n";
        let c = WorkCalendar::from_text(text).unwrap();
        assert!(c.holidays.contains(&d("2026-02-16")) && c.holidays.contains(&d("2026-02-17")));
        assert!(c.make_up_days.contains(&d("2026-02-14")));
        assert!(c.is_working_day(d("2026-02-14")) && !c.is_working_day(d("2026-02-16")));
        let e = WorkCalendar::from_text("2026-02-16\n2026-02-30\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(
            e.to_string().contains("\"2026-02-30\" is not a date"),
            "{e}"
        );
        let e = WorkCalendar::from_text("2026-02-16 off\n").unwrap_err();
        assert!(e.to_string().starts_with("line 1: \"off\""), "{e}");
    }

    #[test]
    fn dates_parse_print_and_know_their_weekday() {
        assert_eq!(d("2025-03-10").weekday(), Weekday::Monday);
        assert_eq!(d("1970-01-01").weekday(), Weekday::Thursday);
        assert_eq!(d("2024-02-29").weekday(), Weekday::Thursday);
        assert_eq!(d("2025-12-31").succ(), d("2026-01-01"));
        assert_eq!(d("2024-02-28").succ(), d("2024-02-29"));
        assert_eq!(d("2025-02-28").succ(), d("2025-03-01"));
        assert_eq!(d("2025-06-05").to_string(), "2025-06-05");
        assert!("2025-02-29".parse::<Date>().is_err());
        assert!("2025-6-05".parse::<Date>().is_err());
        assert_eq!(
            "2025/06/05".parse::<Date>().unwrap_err().to_string(),
            "expected a date YYYY-MM-DD, found \"2025/06/05\""
        );
    }

    #[test]
    fn months_half_years_and_periods_parse_and_contain_their_months() {
        let june: YearMonth = "2025-06".parse().unwrap();
        assert_eq!(june.last_day(), d("2025-06-30"));
        assert_eq!(june.quarter(), 2);
        assert_eq!(june.half_year().to_string(), "2025H1");
        assert!("2025-13".parse::<YearMonth>().is_err());

        let q2: Period = "2025Q2".parse().unwrap();
        assert_eq!(q2.kind(), ReviewPeriod::Quarter);
        assert!(q2.contains(june) && !q2.contains("2025-07".parse().unwrap()));
        assert_eq!(Period::containing(ReviewPeriod::Quarter, june), q2);
        assert_eq!(q2.to_string(), "2025Q2");
        for text in ["2025-06", "2025Q4", "2025H2", "2025"] {
            assert_eq!(text.parse::<Period>().unwrap().to_string(), text);
        }
        for text in ["2025Q5", "2025H3", "25", "2025Q", ""] {
            assert!(text.parse::<Period>().is_err(), "{text}");
        }

        let h2: HalfYear = "2025H2".parse().unwrap();
        assert_eq!(h2.notice_month().to_string(), "2026-01");
        assert_eq!(
            "2025H1"
                .parse::<HalfYear>()
                .unwrap()
                .notice_month()
                .to_string(),
            "2025-07"
        );
    }

    #[test]
    fn thirty_working_days_from_a_deadline_skip_weekends_and_holidays() {
        // dip-and-payment.md §18: deadline 2025-03-10 → day 1 = 2025-03-11, day 30 = 2025-04-21;
        // with the Qingming holiday 2025-04-04, day 30 = 2025-04-22.
        let deadline = d("2025-03-10");
        assert_eq!(
            WorkCalendar::weekdays_only().nth_working_day_after(deadline, 1),
            d("2025-03-11")
        );
        assert_eq!(
            WorkCalendar::weekdays_only().nth_working_day_after(deadline, 30),
            d("2025-04-21")
        );
        let qingming = WorkCalendar::with_holidays([d("2025-04-04")]);
        assert_eq!(
            qingming.nth_working_day_after(deadline, 30),
            d("2025-04-22")
        );
        assert_eq!(qingming.nth_working_day_after(deadline, 0), deadline);
    }

    #[test]
    fn a_make_up_day_on_a_weekend_counts_as_a_working_day() {
        // Friday 2025-04-25 → the next working day is Monday 2025-04-28, unless Sunday
        // 2025-04-27 is worked (调休).
        let friday = d("2025-04-25");
        assert_eq!(
            WorkCalendar::weekdays_only().nth_working_day_after(friday, 1),
            d("2025-04-28")
        );
        let calendar = WorkCalendar {
            make_up_days: [d("2025-04-27")].into(),
            ..WorkCalendar::default()
        };
        assert_eq!(calendar.nth_working_day_after(friday, 1), d("2025-04-27"));
    }
}
