//! Evaluation criteria (评标办法): set on the draft, checked by the rules, fixed at publication,
//! public with the tender; and the page that edits them.

use crate::client::{Client, expect_error};
use crate::support::{pdf, spawn_app};
use crate::tenders::{create_draft, draft_body};
use reqwest::Method;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

pub(crate) fn services_criteria() -> Value {
    json!({
        "category": "services",
        "price_weight": 1000,
        "sme_deduction_percent": 20,
        "technical_anonymous": true,
        "qualification": [{"key": "licence", "label": "营业执照"}],
        "compliance": [{"key": "sealed", "label": "按要求签署、盖章"}],
        "scoring": [
            {"key": "plan", "label": "服务方案", "max": 6000, "step": 50, "objective": false, "technical": true},
            {"key": "staff", "label": "项目团队", "max": 2000, "step": 100, "objective": false, "technical": false},
            {"key": "cases", "label": "同类业绩", "max": 1000, "step": 200, "objective": true}
        ]
    })
}

fn field_codes(v: &Value) -> Vec<String> {
    v["error"]["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| format!("{}:{}", f["field"].as_str().unwrap_or(""), f["code"].as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn criteria_are_set_on_the_draft_checked_and_fixed_at_publication() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let id = create_draft(&app, &agency, 30).await;
    let path = format!("/api/v1/tenders/{id}/criteria");

    // A new draft starts from the template of its method, which holds.
    let template = agency.get_json(&path).await;
    assert_eq!(template["category"], "goods");
    assert_eq!(template["price_weight"], 3000);
    let total: i64 =
        template["scoring"].as_array().expect("items").iter().map(|i| i["max"].as_i64().unwrap_or(0)).sum();
    assert_eq!(total + 3000, 10_000);

    // Services may weigh price 10 points.
    let r = agency.put(&path, &services_criteria()).await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    assert_eq!(agency.get_json(&path).await["scoring"][0]["key"], "plan");

    // Refusals, each with the rule it breaks; nothing is changed by a refused request.
    let mut goods = services_criteria();
    goods["category"] = json!("goods");
    let v = expect_error(agency.put(&path, &goods).await, 422, "validation_failed").await;
    assert_eq!(field_codes(&v), vec!["price_weight:below_minimum"]);
    let mut short = services_criteria();
    short["scoring"][1]["max"] = json!(1900);
    let v = expect_error(agency.put(&path, &short).await, 422, "validation_failed").await;
    assert_eq!(field_codes(&v), vec!["scoring:total_not_100"]);
    let mut off_step = services_criteria();
    off_step["scoring"][2]["step"] = json!(300);
    let v = expect_error(agency.put(&path, &off_step).await, 422, "validation_failed").await;
    assert_eq!(field_codes(&v), vec!["scoring:bad_step"]);
    let mut sme = services_criteria();
    sme["sme_deduction_percent"] = json!(25);
    let v = expect_error(agency.put(&path, &sme).await, 422, "validation_failed").await;
    assert_eq!(field_codes(&v), vec!["sme_deduction_percent:out_of_range"]);
    let mut twice = services_criteria();
    twice["compliance"][0]["key"] = json!("licence");
    let v = expect_error(agency.put(&path, &twice).await, 422, "validation_failed").await;
    assert_eq!(field_codes(&v), vec!["compliance:duplicate_key"]);
    let mut no_review = services_criteria();
    no_review["qualification"] = json!([]);
    let v = expect_error(agency.put(&path, &no_review).await, 422, "validation_failed").await;
    assert_eq!(field_codes(&v), vec!["qualification:required"]);
    let r = agency
        .req(Method::PUT, &path)
        .header("content-type", "application/json")
        .body("{\"category\":")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let mut unknown = services_criteria();
    unknown["category"] = json!("food");
    assert!([400, 422].contains(&agency.put(&path, &unknown).await.status().as_u16()));
    assert_eq!(agency.get_json(&path).await, {
        let mut stored = services_criteria();
        stored["sme_reserved"] = json!(false);
        stored["scoring"][2]["technical"] = json!(false);
        stored
    });

    // Only the draft's managers set criteria; others are refused as for the draft itself.
    let other = Client::login(&app, "agency_y").await;
    expect_error(other.put(&path, &services_criteria()).await, 404, "not_found").await;
    let supplier = Client::login(&app, "supplier_1").await;
    expect_error(supplier.put(&path, &services_criteria()).await, 403, "forbidden").await;
    let anon = Client::anonymous(&app).await;
    expect_error(anon.get(&path).await, 404, "not_found").await;

    // Switching the method to lowest price: these criteria do not fit, so the draft starts
    // again from that method's template (no scoring items, no price weight).
    let mut body = draft_body(&app, 30).await;
    body["evaluation_method"] = json!("lowest_price");
    let r = agency.put(&format!("/api/v1/tenders/{id}"), &body).await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    let lowest = agency.get_json(&path).await;
    assert_eq!(lowest["scoring"], json!([]));
    assert_eq!(lowest["price_weight"], 0);
    let v = expect_error(agency.put(&path, &services_criteria()).await, 422, "validation_failed").await;
    assert!(field_codes(&v).contains(&"scoring:not_for_lowest_price".to_string()), "{v}");

    // Published: criteria are public and fixed.
    let r = agency.upload(&format!("/api/v1/tenders/{id}/documents"), "招标文件.pdf", pdf("Tender", 3)).await;
    assert_eq!(r.status(), 201);
    let r = agency.post_empty(&format!("/api/v1/tenders/{id}/publish")).await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    assert_eq!(anon.get_json(&path).await["price_weight"], 0);
    expect_error(agency.put(&path, &lowest).await, 409, "wrong_state").await;

    // The audit trail has the criteria.
    let supervisor = Client::login(&app, "supervisor").await;
    let records = supervisor.get_json(&format!("/api/v1/audit/records?object={id}")).await;
    let actions: Vec<&str> = records.as_array().expect("list").iter().filter_map(|r| r["action"].as_str()).collect();
    assert!(actions.contains(&"tender.criteria"), "{actions:?}");
}

#[tokio::test]
async fn publication_refuses_criteria_that_the_rules_no_longer_allow() {
    // Criteria set under one setting are checked again at publication under the current one.
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let id = create_draft(&app, &agency, 30).await;
    let r = agency.upload(&format!("/api/v1/tenders/{id}/documents"), "招标文件.pdf", pdf("Tender", 3)).await;
    assert_eq!(r.status(), 201);
    let code = agency.get_json(&format!("/api/v1/tenders/{id}")).await["code"].as_str().expect("code").to_string();
    app.state
        .db
        .execute_unprepared(&format!(
            "UPDATE tenders SET criteria = '{}' WHERE code = '{code}'",
            serde_json::to_string(&{
                let mut c = services_criteria();
                c["category"] = json!("goods");
                c
            })
            .expect("json")
        ))
        .await
        .expect("update");
    let v =
        expect_error(agency.post_empty(&format!("/api/v1/tenders/{id}/publish")).await, 422, "criteria_invalid").await;
    assert_eq!(field_codes(&v), vec!["price_weight:below_minimum"]);
    app.state
        .db
        .execute_unprepared(&format!("UPDATE tenders SET criteria = NULL WHERE code = '{code}'"))
        .await
        .expect("update");
    expect_error(agency.post_empty(&format!("/api/v1/tenders/{id}/publish")).await, 422, "criteria_missing").await;
    let detail = agency.get_json(&format!("/api/v1/tenders/{id}")).await;
    assert_eq!(detail["state"], "draft");
}

#[tokio::test]
async fn the_criteria_page_edits_them_and_keeps_what_was_typed() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let id = create_draft(&app, &agency, 30).await;
    let page = agency.get(&format!("/tenders/{id}/criteria")).await.text().await.expect("page");
    assert!(page.contains("data-testid=\"criteria-form\""), "{page}");
    assert!(page.contains("技术方案的完整性与可行性"));

    let mut form: Vec<(&str, String)> = vec![
        ("_csrf", agency.csrf.clone()),
        ("category", "services".into()),
        ("price_weight", "10".into()),
        ("sme_deduction_percent", "10".into()),
        ("q_key_1", "licence".into()),
        ("q_label_1", "营业执照".into()),
        ("c_key_1", "sealed".into()),
        ("c_label_1", "盖章".into()),
        ("s_key_1", "plan".into()),
        ("s_label_1", "服务方案".into()),
        ("s_max_1", "80".into()),
        ("s_step_1", "0.5".into()),
        ("s_key_2", "cases".into()),
        ("s_label_2", "业绩".into()),
        ("s_max_2", "5".into()),
        ("s_step_2", "1".into()),
        ("s_objective_2", "on".into()),
        ("s_label_3", "".into()),
    ];
    // 10 + 80 + 5 is not 100: refused, the form shown again with what was typed.
    let r = agency.req(Method::POST, &format!("/tenders/{id}/criteria")).form(&form).send().await.expect("send");
    assert_eq!(r.status(), 422);
    let page = r.text().await.expect("page");
    assert!(page.contains("各评分项满分与价格分之和须为 100 分"), "{page}");
    assert!(page.contains("value=\"服务方案\""));
    assert!(page.contains("value=\"80\""));
    form[14].1 = "10".into();
    let r = agency.req(Method::POST, &format!("/tenders/{id}/criteria")).form(&form).send().await.expect("send");
    assert_eq!(r.status(), 303);
    let c = agency.get_json(&format!("/api/v1/tenders/{id}/criteria")).await;
    assert_eq!(c["category"], "services");
    assert_eq!(c["scoring"][0]["step"], 50);
    assert_eq!(c["scoring"][1]["objective"], true);

    // A supervisor sees the criteria without a form; a supplier does not see the draft.
    let supervisor = Client::login(&app, "supervisor").await;
    let page = supervisor.get(&format!("/tenders/{id}/criteria")).await.text().await.expect("page");
    assert!(page.contains("data-testid=\"criteria-view\"") && !page.contains("criteria-form"));
    assert!(page.contains("服务方案"));
    let supplier = Client::login(&app, "supplier_1").await;
    assert_eq!(supplier.get(&format!("/tenders/{id}/criteria")).await.status(), 404);
    let r = supplier.req(Method::POST, &format!("/tenders/{id}/criteria")).form(&form).send().await.expect("send");
    assert_eq!(r.status(), 403);
}
