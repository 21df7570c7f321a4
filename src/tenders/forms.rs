//! Reading the tender form of the pages into a [`TenderInput`].
//!
//! The form has a variable number of lot rows (`lot_name_1`, `lot_budget_1`, `lot_ceiling_1`,
//! ...) and check boxes for the standard bid form items, so it is read from its raw pairs.

use super::{
    model::{BidFormField, EvaluationMethod, FieldKind, ProcurementMethod, TOTAL_PRICE},
    service::{LotInput, TenderInput},
};
use crate::{
    error::{AppError, FieldError},
    money::Money,
    web::parse_local_time,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Lot rows the page offers for a new tender.
pub const LOT_ROWS: usize = 5;

/// Most lot rows read from a form: one more than a tender may have.
const MAX_LOT_ROWS: usize = 51;

/// Reads the submitted pairs.
pub fn parse(pairs: Vec<(String, String)>) -> Result<TenderInput, AppError> {
    let mut f: HashMap<String, String> = HashMap::new();
    let mut checked = Vec::new();
    for (k, v) in pairs {
        if k == "bid_item" {
            checked.push(v);
        } else {
            f.insert(k, v);
        }
    }
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let mut errors = Vec::new();
    let procurement_method = ProcurementMethod::parse(&get("procurement_method")).unwrap_or_else(|| {
        errors.push(FieldError::new("procurement_method", "invalid"));
        ProcurementMethod::OpenTender
    });
    let evaluation_method = EvaluationMethod::parse(&get("evaluation_method")).unwrap_or_else(|| {
        errors.push(FieldError::new("evaluation_method", "invalid"));
        EvaluationMethod::ComprehensiveScoring
    });
    let bid_deadline = parse_local_time(&get("bid_deadline"));
    if bid_deadline.is_none() {
        errors.push(FieldError::new("bid_deadline", "invalid"));
    }
    let cutoff_text = get("question_cutoff");
    let question_cutoff = if cutoff_text.is_empty() {
        None
    } else {
        let t = parse_local_time(&cutoff_text);
        if t.is_none() {
            errors.push(FieldError::new("question_cutoff", "invalid"));
        }
        t
    };
    let min_valid_bids = match get("min_valid_bids").as_str() {
        "" => None,
        s => match s.parse::<i32>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.push(FieldError::new("min_valid_bids", "invalid"));
                None
            }
        },
    };
    let mut time = |name: &'static str| {
        let text = get(name);
        if text.is_empty() {
            return None;
        }
        let t = parse_local_time(&text);
        if t.is_none() {
            errors.push(FieldError::new(name, "invalid"));
        }
        t
    };
    let documents_from = time("documents_from");
    let documents_until = time("documents_until");
    let deposit = match get("deposit").as_str() {
        "" => None,
        s => match Money::parse_yuan(s) {
            Ok(m) => Some(m),
            Err(_) => {
                errors.push(FieldError::new("deposit", "invalid_amount"));
                None
            }
        },
    };
    let procuring_org = match get("procuring_org").as_str() {
        "" => None,
        s => match Uuid::parse_str(s) {
            Ok(u) => Some(u),
            Err(_) => {
                errors.push(FieldError::new("procuring_org", "invalid"));
                None
            }
        },
    };
    let mut lots = Vec::new();
    // The rows the page offers, or as many as were sent (an edited tender with more lots), up
    // to one more than a tender may have, so that too many lots are refused, not dropped.
    let rows = (1..=MAX_LOT_ROWS).take_while(|i| *i <= LOT_ROWS || f.contains_key(&format!("lot_name_{i}"))).count();
    for i in 1..=rows {
        let name = get(&format!("lot_name_{i}"));
        let budget = get(&format!("lot_budget_{i}"));
        let ceiling = get(&format!("lot_ceiling_{i}"));
        if name.is_empty() && budget.is_empty() && ceiling.is_empty() {
            continue;
        }
        let budget = match Money::parse_yuan(&budget) {
            Ok(m) => m,
            Err(e) => {
                errors.push(FieldError::new("budget", e.field_code()));
                Money::ZERO
            }
        };
        let ceiling = if ceiling.is_empty() {
            None
        } else {
            match Money::parse_yuan(&ceiling) {
                Ok(m) => Some(m),
                Err(e) => {
                    errors.push(FieldError::new("ceiling", e.field_code()));
                    None
                }
            }
        };
        lots.push(LotInput { name, budget, ceiling });
    }
    let mut bid_form = vec![BidFormField::total_price()];
    for item in BidFormField::standard() {
        if item.key != TOTAL_PRICE && checked.contains(&item.key) {
            bid_form.push(item);
        }
    }
    let custom = get("custom_item");
    if !custom.is_empty() {
        bid_form.push(BidFormField {
            key: "custom_1".into(),
            label_zh: custom.clone(),
            label_en: custom,
            kind: FieldKind::Text,
            required: false,
        });
    }
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    Ok(TenderInput {
        title: get("title"),
        description: get("description"),
        procuring_org,
        procurement_method,
        evaluation_method,
        bid_deadline: bid_deadline.unwrap_or_default(),
        question_cutoff,
        bid_form,
        min_valid_bids,
        lots,
        qualification: get("qualification"),
        contact_person: get("contact_person"),
        region: get("region"),
        contact_phone: get("contact_phone"),
        documents_from,
        documents_until,
        deposit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn reads_lots_items_and_times() {
        let input = parse(pairs(&[
            ("title", "办公设备采购"),
            ("procurement_method", "open_tender"),
            ("evaluation_method", "comprehensive_scoring"),
            ("bid_deadline", "2027-01-10T09:30"),
            ("lot_name_1", "台式计算机"),
            ("lot_budget_1", "1,200,000.50"),
            ("lot_ceiling_1", "1150000"),
            ("lot_name_2", "打印机"),
            ("lot_budget_2", "80000"),
            ("bid_item", "delivery_days"),
            ("qualification", "具有独立承担民事责任的能力"),
            ("contact_person", "王工"),
            ("contact_phone", "010-68001234"),
            ("documents_from", "2026-12-01T09:00"),
            ("documents_until", "2026-12-08T17:00"),
            ("deposit", "20,000"),
        ]))
        .unwrap();
        assert_eq!(input.qualification, "具有独立承担民事责任的能力");
        assert_eq!(input.contact_phone, "010-68001234");
        assert_eq!(input.documents_from.map(|t| t.to_rfc3339()).as_deref(), Some("2026-12-01T01:00:00+00:00"));
        assert_eq!(input.documents_until.map(|t| t.to_rfc3339()).as_deref(), Some("2026-12-08T09:00:00+00:00"));
        assert_eq!(input.deposit.map(|m| m.fen()), Some(2_000_000));
        assert_eq!(input.lots.len(), 2);
        assert_eq!(input.lots[0].budget.fen(), 120_000_050);
        assert_eq!(input.lots[0].ceiling.unwrap().fen(), 115_000_000);
        assert_eq!(
            input.bid_form.iter().map(|f| f.key.as_str()).collect::<Vec<_>>(),
            vec!["total_price", "delivery_days"]
        );
        assert_eq!(input.bid_deadline.to_rfc3339(), "2027-01-10T01:30:00+00:00");
    }

    #[test]
    fn reports_every_bad_field() {
        let err = parse(pairs(&[
            ("procurement_method", "bribery"),
            ("bid_deadline", "soon"),
            ("lot_name_1", "x"),
            ("lot_budget_1", "12.345"),
            ("documents_from", "next week"),
            ("deposit", "2万"),
        ]))
        .unwrap_err();
        let fields: Vec<_> = err.fields.iter().map(|f| f.field.to_string()).collect();
        assert!(fields.contains(&"documents_from".to_string()));
        assert!(fields.contains(&"deposit".to_string()));
        assert!(fields.contains(&"procurement_method".to_string()));
        assert!(fields.contains(&"bid_deadline".to_string()));
        assert!(fields.contains(&"budget".to_string()));
    }
}
