//! The bid form's rules (开标一览表): what a bid's form must hold to be read out at the opening.
//!
//! A bid's form is sealed by the bidder (in the browser or with `tenderhall bidder`) and can be
//! read only at the opening, so whatever a client checked before sealing, [`check`] is the
//! authority: the opening calls it on every decrypted form and records a bid whose form fails
//! it as invalid, with the first problem's code as the reason. `frontend/static/bidform.js`
//! applies the same rules in the bid panel before sealing; both are held to the cases of
//! `tests/vectors/bid-form-cases.json` (the unit test below and a browser test), and
//! docs/envelope.md lists the rules and codes.

use super::model::{BidFormField, FieldKind};
use crate::money::{Money, MoneyError};
use serde_json::Value;
use std::collections::BTreeMap;

/// The largest number of days a days item takes (100 years).
pub const MAX_DAYS: u64 = 36_500;

/// The longest text item, in characters.
pub const MAX_TEXT: usize = 500;

/// What is wrong with one item of a bid form; [`Problem::code`] is its stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// A required item is absent or blank.
    MissingItem,
    /// A key that is not an item of the tender's bid form.
    UnknownItem,
    /// The value is not text (a JSON number, list, `null`...): every value is the text entered.
    NotText,
    /// A money item that is not a decimal number of 元.
    MoneyMalformed,
    /// A money item with more than two decimals (less than one fen).
    MoneyTooPrecise,
    /// A negative money item.
    MoneyNegative,
    /// A required money item (a price) of zero.
    MoneyZero,
    /// A money item above [`Money::MAX`].
    MoneyTooLarge,
    /// A days item that is not a whole number of days.
    DaysMalformed,
    /// A days item above [`MAX_DAYS`].
    DaysTooLarge,
    /// A text item longer than [`MAX_TEXT`] characters.
    TextTooLong,
}

impl Problem {
    /// Every problem, in the order of the documentation.
    pub const ALL: [Problem; 11] = [
        Problem::MissingItem,
        Problem::UnknownItem,
        Problem::NotText,
        Problem::MoneyMalformed,
        Problem::MoneyTooPrecise,
        Problem::MoneyNegative,
        Problem::MoneyZero,
        Problem::MoneyTooLarge,
        Problem::DaysMalformed,
        Problem::DaysTooLarge,
        Problem::TextTooLong,
    ];

    /// The stable code (the reason of an invalid bid at the opening, and the catalogues'
    /// `bid_form.<code>`).
    pub fn code(self) -> &'static str {
        match self {
            Problem::MissingItem => "missing_item",
            Problem::UnknownItem => "unknown_item",
            Problem::NotText => "not_text",
            Problem::MoneyMalformed => "money_malformed",
            Problem::MoneyTooPrecise => "money_too_precise",
            Problem::MoneyNegative => "money_negative",
            Problem::MoneyZero => "money_zero",
            Problem::MoneyTooLarge => "money_too_large",
            Problem::DaysMalformed => "days_malformed",
            Problem::DaysTooLarge => "days_too_large",
            Problem::TextTooLong => "text_too_long",
        }
    }

    /// The problem of a code.
    pub fn parse(code: &str) -> Option<Problem> {
        Problem::ALL.into_iter().find(|p| p.code() == code)
    }
}

/// A problem and the item (key) it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormProblem {
    /// The item's key, as the form names it.
    pub item: String,
    /// What is wrong.
    pub problem: Problem,
}

/// Checks a bid form as sealed (values by item key, any JSON) against the tender's items.
///
/// The items are checked in the form's order, then any key that is not an item, in key order.
/// Values are trimmed (Unicode white space, as [`str::trim`]); a blank value counts as absent.
/// Returns the form as read out (trimmed text, blank optional items left out), or every problem.
pub fn check(
    items: &[BidFormField],
    form: &BTreeMap<String, Value>,
) -> Result<BTreeMap<String, String>, Vec<FormProblem>> {
    let mut problems = Vec::new();
    let mut read = BTreeMap::new();
    for item in items {
        let value = match form.get(&item.key) {
            None => None,
            Some(Value::String(s)) => Some(s.trim()).filter(|s| !s.is_empty()),
            Some(_) => {
                problems.push(FormProblem { item: item.key.clone(), problem: Problem::NotText });
                continue;
            }
        };
        let Some(value) = value else {
            if item.required {
                problems.push(FormProblem { item: item.key.clone(), problem: Problem::MissingItem });
            }
            continue;
        };
        match check_value(item, value) {
            Ok(()) => {
                read.insert(item.key.clone(), value.to_string());
            }
            Err(problem) => problems.push(FormProblem { item: item.key.clone(), problem }),
        }
    }
    for key in form.keys().filter(|k| !items.iter().any(|i| &i.key == *k)) {
        problems.push(FormProblem { item: key.clone(), problem: Problem::UnknownItem });
    }
    if problems.is_empty() { Ok(read) } else { Err(problems) }
}

/// Checks one filled-in (trimmed, not blank) value against its item's kind.
pub fn check_value(item: &BidFormField, value: &str) -> Result<(), Problem> {
    match item.kind {
        FieldKind::Money => match Money::parse_yuan(value) {
            Ok(m) if m == Money::ZERO && item.required => Err(Problem::MoneyZero),
            Ok(_) => Ok(()),
            Err(MoneyError::Malformed) => Err(Problem::MoneyMalformed),
            Err(MoneyError::TooPrecise) => Err(Problem::MoneyTooPrecise),
            Err(MoneyError::Negative) => Err(Problem::MoneyNegative),
            Err(MoneyError::Overflow) => Err(Problem::MoneyTooLarge),
        },
        FieldKind::Days => {
            if !value.bytes().all(|b| b.is_ascii_digit()) {
                Err(Problem::DaysMalformed)
            } else if value.parse::<u64>().map_or(true, |d| d > MAX_DAYS) {
                Err(Problem::DaysTooLarge)
            } else {
                Ok(())
            }
        }
        FieldKind::Text => {
            if value.chars().count() > MAX_TEXT {
                Err(Problem::TextTooLong)
            } else {
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn items() -> Vec<BidFormField> {
        let mut items = BidFormField::standard();
        items.push(BidFormField {
            key: "discount".into(),
            label_zh: "优惠金额（元）".into(),
            label_en: "Discount (yuan)".into(),
            kind: FieldKind::Money,
            required: false,
        });
        items
    }

    fn form(v: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(v).expect("form")
    }

    fn problems(v: Value) -> Vec<(String, &'static str)> {
        check(&items(), &form(v)).expect_err("refused").into_iter().map(|p| (p.item, p.problem.code())).collect()
    }

    #[test]
    fn a_valid_form_is_read_out_trimmed_without_blank_optional_items() {
        let read = check(
            &items(),
            &form(json!({
                "total_price": " 1,268,000.50 ", "delivery_days": "30", "warranty_days": "",
                "quality_commitment": "　合格　", "discount": "0"
            })),
        )
        .expect("valid");
        assert_eq!(
            read,
            BTreeMap::from([
                ("total_price".to_string(), "1,268,000.50".to_string()),
                ("delivery_days".to_string(), "30".to_string()),
                ("quality_commitment".to_string(), "合格".to_string()),
                ("discount".to_string(), "0".to_string()),
            ])
        );
    }

    #[test]
    fn each_rule_is_refused_with_its_code_and_item() {
        let base = |k: &str, v: Value| {
            let mut f = json!({"total_price": "100.00", "delivery_days": "30"});
            f[k] = v;
            f
        };
        assert_eq!(problems(json!({"delivery_days": "30"})), [("total_price".into(), "missing_item")]);
        assert_eq!(problems(base("total_price", json!("  "))), [("total_price".into(), "missing_item")]);
        assert_eq!(problems(base("bribe", json!("1"))), [("bribe".into(), "unknown_item")]);
        assert_eq!(problems(base("total_price", json!(100))), [("total_price".into(), "not_text")]);
        assert_eq!(problems(base("warranty_days", json!(null))), [("warranty_days".into(), "not_text")]);
        assert_eq!(problems(base("total_price", json!("1.2.3"))), [("total_price".into(), "money_malformed")]);
        assert_eq!(problems(base("total_price", json!("100元"))), [("total_price".into(), "money_malformed")]);
        assert_eq!(problems(base("total_price", json!("100.001"))), [("total_price".into(), "money_too_precise")]);
        assert_eq!(problems(base("total_price", json!("-100"))), [("total_price".into(), "money_negative")]);
        assert_eq!(problems(base("discount", json!("-1"))), [("discount".into(), "money_negative")]);
        assert_eq!(problems(base("total_price", json!("0.00"))), [("total_price".into(), "money_zero")]);
        assert_eq!(
            problems(base("total_price", json!("10000000000000.01"))),
            [("total_price".into(), "money_too_large")]
        );
        assert!(check(&items(), &form(base("total_price", json!("10000000000000.00")))).is_ok(), "Money::MAX itself");
        assert_eq!(problems(base("delivery_days", json!("thirty"))), [("delivery_days".into(), "days_malformed")]);
        assert_eq!(problems(base("delivery_days", json!("-3"))), [("delivery_days".into(), "days_malformed")]);
        assert_eq!(problems(base("delivery_days", json!("36501"))), [("delivery_days".into(), "days_too_large")]);
        assert_eq!(
            problems(base("quality_commitment", json!("好".repeat(MAX_TEXT + 1)))),
            [("quality_commitment".into(), "text_too_long")]
        );
        // Every problem at once: the items in the form's order, then unknown keys.
        assert_eq!(
            problems(json!({"zz": "1", "delivery_days": 7, "aa": "", "total_price": "-1"})),
            [
                ("total_price".into(), "money_negative"),
                ("delivery_days".into(), "not_text"),
                ("aa".into(), "unknown_item"),
                ("zz".into(), "unknown_item"),
            ]
        );
    }

    #[test]
    fn every_code_parses_back_and_is_in_the_catalogues() {
        let texts = crate::web::i18n::I18n::load().expect("catalogues");
        for p in Problem::ALL {
            assert_eq!(Problem::parse(p.code()), Some(p));
            assert!(texts.has(&format!("bid_form.{}", p.code())), "bid_form.{} in both catalogues", p.code());
        }
        assert_eq!(Problem::parse("nonsense"), None);
    }

    /// The cases the bid panel's checker (`frontend/static/bidform.js`) is held to as well.
    #[test]
    fn the_shared_cases_give_what_they_say() {
        let text =
            include_str!("../../tests/vectors/bid-form-cases.json").replace("@LONGEST_TEXT@", &"好".repeat(MAX_TEXT));
        let cases: Value = serde_json::from_str(&text).expect("cases");
        let items: Vec<BidFormField> = serde_json::from_value(cases["items"].clone()).expect("items");
        let list = cases["cases"].as_array().expect("cases");
        let mut seen = std::collections::BTreeSet::new();
        for case in list {
            let name = case["name"].as_str().expect("name");
            let got = check(&items, &form(case["form"].clone()));
            match (&got, case.get("read")) {
                (Ok(read), Some(want)) => assert_eq!(&json!(read), want, "{name}"),
                (Err(problems), None) => {
                    let got: Vec<Value> = problems.iter().map(|p| json!([p.item, p.problem.code()])).collect();
                    assert_eq!(json!(got), case["problems"], "{name}");
                    seen.extend(problems.iter().map(|p| p.problem.code()));
                }
                _ => panic!("{name}: {got:?}"),
            }
        }
        for p in Problem::ALL {
            assert!(seen.contains(p.code()), "a shared case refuses with {}", p.code());
        }
    }
}
