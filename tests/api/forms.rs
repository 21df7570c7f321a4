//! Page forms refused: the same form again, with what was typed (never a password), each field's
//! error next to the field, and the rule with its numbers; refusals of the role or organisation
//! still answer the error page, and valid posts still redirect.

use crate::client::{Client, expect_page_error};
use crate::support::{Options, TestApp, org_id, pdf, spawn_app, spawn_app_with};
use reqwest::Method;
use tenderhall::clock::Clock;

/// Posts `pairs` as a page form; answers the status and the page.
async fn post_form(c: &Client, path: &str, pairs: &[(&str, String)]) -> (u16, String) {
    let r = c.req(Method::POST, path).form(pairs).send().await.expect("send");
    let status = r.status().as_u16();
    (status, r.text().await.expect("page"))
}

/// The inline error of `field` on a page, if it has one.
fn field_error(page: &str, field: &str) -> Option<String> {
    let marker = format!("data-testid=\"error-{field}\">");
    let start = page.find(&marker)? + marker.len();
    Some(page[start..].split('<').next().unwrap_or("").to_string())
}

/// The summary above a refused form, as text.
fn summary(page: &str) -> String {
    let start = page.find("data-testid=\"form-summary\"").expect("a summary above the form");
    page[start..].split("</div>").next().unwrap_or("").to_string()
}

/// A datetime-local value `days` after the app's clock, in China time.
fn local_in(app: &TestApp, days: i64) -> String {
    tenderhall::web::local_input(&(app.clock.now() + chrono::TimeDelta::days(days)))
}

/// An app whose tenders need 17 days from publication to the deadline and 9 for amendments,
/// so that the numbers the pages state are seen to come from the settings.
async fn app_with_own_rules() -> TestApp {
    spawn_app_with(Options {
        settings: Some(Box::new(|s: &mut tenderhall::config::Settings| {
            s.tenders.min_bidding_days = 17;
            s.tenders.amendment_min_days = 9;
        })),
        ..Default::default()
    })
    .await
}

fn tender_form(unit: &str, deadline: &str, title: &str) -> Vec<(&'static str, String)> {
    vec![
        ("title", title.to_string()),
        ("description", "采购一批交互式智能平板。".into()),
        ("procuring_org", unit.to_string()),
        ("procurement_method", "open_tender".into()),
        ("evaluation_method", "lowest_price".into()),
        ("bid_deadline", deadline.to_string()),
        ("contact_person", "王工".into()),
        ("contact_phone", "0755-88886666".into()),
        ("lot_name_1", "第一包：智能平板".into()),
        ("lot_budget_1", "500000".into()),
        ("lot_name_2", "第二包：展台".into()),
        ("lot_budget_2", "12.345".into()),
        ("bid_item", "delivery_days".into()),
    ]
}

#[tokio::test]
async fn a_refused_tender_draft_is_the_form_again_with_the_input_and_the_rules() {
    let app = app_with_own_rules().await;
    let agency = Client::login(&app, "agency_x").await;
    let unit = org_id(&app, "甲采购单位").await.to_string();
    let past = local_in(&app, -1);
    let long_phone = "0755-88886666123456789012345678";
    let mut form = tender_form(&unit, &past, "智能平板采购项目");
    form.retain(|(k, _)| !k.starts_with("lot_") || k.ends_with("_1"));
    form.push(("deposit", "9999".into()));
    form.push(("contact_phone", long_phone.into()));
    form.retain(|(k, v)| *k != "contact_phone" || v == long_phone);
    let (status, page) = post_form(&agency, "/tenders", &form).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("data-testid=\"tender-form\""), "the form again, not an error page");
    assert!(!page.contains("class=\"card error-card\""));
    // Every typed value is kept.
    for kept in [
        "value=\"智能平板采购项目\"",
        "采购一批交互式智能平板。</textarea>",
        &format!("value=\"{past}\""),
        "value=\"王工\"",
        "value=\"第一包：智能平板\"",
        "value=\"9999\"",
        &format!("value=\"{long_phone}\""),
        &format!("<option value=\"{unit}\" selected>"),
        "<option value=\"lowest_price\" selected>",
        "value=\"delivery_days\" checked",
    ] {
        assert!(page.contains(kept), "{kept} kept in the form");
    }
    // Each error by its field, with the rule's numbers from the settings.
    let deadline = field_error(&page, "bid_deadline").expect("the deadline's error");
    assert!(deadline.contains("不能早于当前时间") && deadline.contains("17 日"), "{deadline}");
    assert_eq!(field_error(&page, "contact_phone").as_deref(), Some("不得超过 30 个字符"));
    assert!(page.contains("aria-invalid=\"true\" aria-describedby=\"err-bid_deadline\""));
    assert!(summary(&page).contains("data-code=\"validation_failed\""));
    assert!(page.contains("发布时须距发布之日至少 17 日"), "the hint states the rule");
    assert_eq!(agency.get_json("/api/v1/workspace/tenders").await, serde_json::json!([]), "nothing was saved");

    // A lot's amount that is no amount is shown by the lot rows, with the rows as typed.
    let (status, page) =
        post_form(&agency, "/tenders", &tender_form(&unit, &local_in(&app, 30), "智能平板采购项目")).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("value=\"12.345\"") && page.contains("value=\"第二包：展台\""));
    assert!(field_error(&page, "budget").is_some_and(|e| e.contains("金额格式不正确")), "lot rows show their error");

    // The deposit's bound is stated with its share of the budget.
    let mut form = tender_form(&unit, &local_in(&app, 30), "智能平板采购项目");
    form.retain(|(k, _)| !k.starts_with("lot_") || k.ends_with("_1"));
    form.push(("deposit", "400000".into()));
    let (status, page) = post_form(&agency, "/tenders", &form).await;
    assert_eq!(status, 422, "{page}");
    assert_eq!(field_error(&page, "deposit").as_deref(), Some("不得超过预算金额的 2%"));

    // Corrected, it is saved and the page moves on.
    form.retain(|(k, _)| *k != "deposit");
    let r = agency.req(Method::POST, "/tenders").form(&form).send().await.expect("send");
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"].to_str().unwrap_or("").starts_with("/tenders/"));

    // In English, the same rules in English.
    agency.get("/lang/en").await;
    let mut form = tender_form(&unit, &past, &"长".repeat(201));
    form.retain(|(k, _)| !k.starts_with("lot_") || k.ends_with("_1"));
    let (status, page) = post_form(&agency, "/tenders", &form).await;
    assert_eq!(status, 422);
    assert_eq!(field_error(&page, "title").as_deref(), Some("at most 200 characters"));
    assert!(field_error(&page, "bid_deadline").is_some_and(|e| e.contains("at least 17 days")), "{page}");
}

#[tokio::test]
async fn the_edit_form_keeps_the_input_and_refusals_of_role_and_organisation_are_error_pages() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let unit = org_id(&app, "甲采购单位").await.to_string();
    let id = crate::tenders::create_draft(&app, &agency, 30).await;
    let edit = format!("/tenders/{id}/edit");
    let (status, page) = post_form(&agency, &edit, &tender_form(&unit, "明天上午", "改过的名称")).await;
    assert_eq!(status, 422);
    assert!(page.contains(&format!("action=\"{edit}\"")) && page.contains("value=\"改过的名称\""));
    assert!(page.contains("value=\"明天上午\""));
    assert_eq!(field_error(&page, "bid_deadline").as_deref(), Some("格式不正确"));
    let d = agency.get_json(&format!("/api/v1/tenders/{id}")).await;
    assert_eq!(d["title"], "教学设备采购项目", "the refusal changed nothing");

    // Another agency's draft is not found, a supplier may not draft: the error pages, as before.
    let mut valid = tender_form(&unit, &local_in(&app, 30), "改过的名称");
    valid.retain(|(k, _)| !k.starts_with("lot_") || k.ends_with("_1"));
    let other = Client::login(&app, "agency_y").await;
    let r = other.req(Method::POST, &edit).form(&valid).send().await.expect("send");
    expect_page_error(r, 404, "not_found").await;
    let supplier = Client::login(&app, "supplier_1").await;
    let r = supplier.req(Method::POST, "/tenders").form(&valid).send().await.expect("send");
    expect_page_error(r, 403, "forbidden").await;
    // A body that is no form at all is the error page too.
    let r = agency.req(Method::POST, &edit).header("content-type", "text/plain").body("x").send().await.expect("send");
    assert_eq!(r.status(), 400);

    let r = agency.req(Method::POST, &edit).form(&valid).send().await.expect("send");
    assert_eq!(r.status(), 303);
    assert_eq!(agency.get_json(&format!("/api/v1/tenders/{id}")).await["title"], "改过的名称");
}

#[tokio::test]
async fn publishing_too_soon_cancelling_and_amending_state_their_rules_on_the_tender_page() {
    let app = app_with_own_rules().await;
    let agency = Client::login(&app, "agency_x").await;
    let soon = crate::tenders::create_draft(&app, &agency, 10).await;
    let r = agency.upload(&format!("/api/v1/tenders/{soon}/documents"), "招标文件.pdf", pdf("Tender", 2)).await;
    assert_eq!(r.status(), 201);
    let (status, page) = post_form(&agency, &format!("/tenders/{soon}/publish"), &[]).await;
    assert_eq!(status, 422);
    assert!(page.contains("data-testid=\"tender-title\""), "the tender page again");
    let said = summary(&page);
    assert!(said.contains("data-code=\"deadline_too_soon\"") && said.contains("不足 17 日"), "{said}");
    assert!(said.contains(&tenderhall::web::fmt_time(&(app.clock.now() + chrono::TimeDelta::days(10)))));
    // The JSON API answers as it did.
    let e = crate::client::expect_error(
        agency.post_empty(&format!("/api/v1/tenders/{soon}/publish")).await,
        422,
        "deadline_too_soon",
    )
    .await;
    assert!(e["error"]["fields"].is_null() && e["error"]["message"].as_str().is_some_and(|m| m.contains("17 days")));

    // Cancelling without a reason, then with one too long: the reason is kept, the limit said.
    let cancel = format!("/tenders/{soon}/cancel");
    let (status, page) = post_form(&agency, &cancel, &[("reason", "  ".into())]).await;
    assert_eq!(status, 422);
    assert_eq!(field_error(&page, "reason").as_deref(), Some("必填"));
    assert!(page.contains("<details class=\"danger-zone\" open>"), "the cancel form is open");
    let long = "预算调整".repeat(501);
    let (status, page) = post_form(&agency, &cancel, &[("reason", long.clone())]).await;
    assert_eq!(status, 422);
    assert!(page.contains(&format!("{long}</textarea>")));
    assert_eq!(field_error(&page, "reason").as_deref(), Some("不得超过 2000 个字符"));
    let (status, page) = post_form(&agency, &cancel, &[]).await;
    assert_eq!((status, field_error(&page, "reason").as_deref()), (422, Some("必填")), "a missing field is required");

    // On a published tender, a supplier's question that is too long is kept with the limit.
    let open = crate::tenders::published_tender(&app, &agency).await;
    let supplier = Client::login(&app, "supplier_1").await;
    assert_eq!(supplier.post_empty(&format!("/api/v1/tenders/{open}/obtain")).await.status(), 204);
    let question = "请问交货地点".repeat(700);
    let (status, page) =
        post_form(&supplier, &format!("/tenders/{open}/questions"), &[("body", question.clone())]).await;
    assert_eq!(status, 422);
    assert!(page.contains(&format!("{question}</textarea>")));
    assert_eq!(field_error(&page, "body").as_deref(), Some("不得超过 4000 个字符"));
    let (status, _) =
        post_form(&supplier, &format!("/tenders/{open}/questions"), &[("body", "交货地点在哪里？".into())]).await;
    assert_eq!(status, 303);

    // A substantive amendment too close to the deadline says how many days it needs.
    app.clock.advance(chrono::TimeDelta::days(25));
    let agency = Client::login(&app, "agency_x").await;
    let body = "第二包技术参数修改如下。";
    let amend = [("kind", "amendment".to_string()), ("body", body.to_string())];
    let (status, page) = post_form(&agency, &format!("/tenders/{open}/clarifications"), &amend).await;
    assert_eq!(status, 422, "{page}");
    let said = summary(&page);
    assert!(said.contains("data-code=\"amendment_too_late\"") && said.contains("不足 9 日"), "{said}");
    assert!(page.contains(&format!("{body}</textarea>")) && page.contains("<option value=\"amendment\" selected>"));
    assert!(page.contains("顺延至发布之日起至少 9 日"), "the hint states the rule");

    // A supplier may not amend: the error page.
    let supplier = Client::login(&app, "supplier_1").await;
    let r =
        supplier.req(Method::POST, &format!("/tenders/{open}/clarifications")).form(&amend).send().await.expect("send");
    expect_page_error(r, 403, "forbidden").await;
}

#[tokio::test]
async fn the_password_form_never_shows_a_password_back() {
    let app = spawn_app().await;
    let c = Client::login(&app, "supplier_1").await;
    let wrong = "NotMyPassword9";
    // A new password against the rules is refused first (it costs no attempt of the throttle).
    let (status, page) =
        post_form(&c, "/account/password", &[("current_password", wrong.into()), ("new_password", "Short1".into())])
            .await;
    assert_eq!(status, 422);
    assert!(!page.contains(wrong) && !page.contains("Short1"), "no password on the page");
    assert_eq!(field_error(&page, "new_password").as_deref(), Some("至少须 8 个字符"));
    let (status, page) = post_form(
        &c,
        "/account/password",
        &[("current_password", wrong.into()), ("new_password", "Longer2026pw".into())],
    )
    .await;
    assert_eq!(status, 422);
    assert!(!page.contains(wrong) && !page.contains("Longer2026pw"), "no password on the page");
    assert_eq!(field_error(&page, "current_password").as_deref(), Some("不正确"));
    let (status, page) = post_form(
        &c,
        "/account/password",
        &[("current_password", crate::support::PASSWORD.into()), ("new_password", "Short1".into())],
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(field_error(&page, "new_password").as_deref(), Some("至少须 8 个字符"));
    assert!(!page.contains(crate::support::PASSWORD) && !page.contains("Short1"));
    let r = c
        .req(Method::POST, "/account/password")
        .form(&[("current_password", crate::support::PASSWORD), ("new_password", "Longer2026pw")])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn e_mall_forms_keep_the_input_and_state_the_limits() {
    let app = spawn_app().await;
    let centre = Client::login(&app, "centre_staff").await;
    let a = crate::mall::agreement(&app, &centre, "供应商一有限公司", &["printers"]).await;
    let printer = crate::mall::item(&centre, &a, "黑白激光打印机", "M404dn", 259_900, 289_900).await;
    let buyer = Client::login(&app, "buyer_a").await;

    // A direct purchase above the limit: the item page again, the limit in yuan.
    let buy = |qty: &str, budget: &str| {
        vec![
            ("item", printer.clone()),
            ("quantity", qty.to_string()),
            ("unit_price", "2599.00".into()),
            ("budget", budget.to_string()),
            ("note", "送至三楼机房".into()),
        ]
    };
    let (status, page) = post_form(&buyer, "/mall/orders", &buy("30", "77970")).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("data-testid=\"buy-form\""));
    assert!(
        page.contains("value=\"30\"") && page.contains("value=\"77970\"") && page.contains("送至三楼机房</textarea>")
    );
    let said = summary(&page);
    assert!(said.contains("data-code=\"over_direct_purchase_limit\"") && said.contains("50,000.00 元"), "{said}");
    let (status, page) = post_form(&buyer, "/mall/orders", &buy("0", "很多")).await;
    assert_eq!(status, 422);
    assert_eq!(field_error(&page, "budget").as_deref(), Some("金额格式不正确（元，最多两位小数）"));
    assert!(page.contains("value=\"很多\""));
    // A supplier may not buy: the error page.
    let supplier = Client::login(&app, "supplier_1").await;
    let r = supplier.req(Method::POST, "/mall/orders").form(&buy("1", "3000")).send().await.expect("send");
    expect_page_error(r, 403, "buyers_only").await;
    let (status, _) = post_form(&buyer, "/mall/orders", &buy("1", "3000")).await;
    assert_eq!(status, 303);

    // A quotation open too long: the bounds of the setting.
    let (lo, hi) = (app.state.settings.mall.min_quotation_hours, app.state.settings.mall.max_quotation_hours);
    let quotation = |hours: i64| {
        vec![
            ("category", "printers".to_string()),
            ("title", "彩色打印机竞价".into()),
            ("requirement", "A3 彩色激光".into()),
            ("quantity", "3".into()),
            ("unit", "台".into()),
            ("budget", "30000".into()),
            ("hours", hours.to_string()),
        ]
    };
    let (status, page) = post_form(&buyer, "/mall/quotations", &quotation(hi + 1)).await;
    assert_eq!(status, 422);
    assert!(page.contains("value=\"彩色打印机竞价\"") && page.contains("A3 彩色激光</textarea>"));
    assert!(page.contains("<option value=\"printers\" selected>"));
    assert_eq!(field_error(&page, "hours"), Some(format!("须在 {lo} 至 {hi} 小时之间")));
    let (status, _) = post_form(&buyer, "/mall/quotations", &quotation(lo)).await;
    assert_eq!(status, 303);
}

#[tokio::test]
async fn a_rejection_without_reason_is_the_list_again_with_that_form_open() {
    let app = spawn_app().await;
    let anon = Client::anonymous(&app).await;
    let registration = serde_json::json!({"org_name": "新来的表单公司", "credit_code": "91110108MA01ABCD1X",
        "size_class": "small", "username": "form_newcomer", "display_name": "新人", "password": "Newcomer2026"});
    let r = anon.post("/api/v1/registrations", &registration).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let admin = Client::login(&app, "admin").await;
    let pending = admin.get_json("/api/v1/organisations?status=pending").await;
    let org = pending["items"][0]["id"].as_str().expect("a pending organisation").to_string();
    let (status, page) =
        post_form(&admin, &format!("/admin/organisations/{org}/reject"), &[("reason", " ".into())]).await;
    assert_eq!(status, 422);
    assert!(page.contains("新来的表单公司") && page.contains("<details class=\"danger-zone\" open>"));
    assert_eq!(field_error(&page, "reason").as_deref(), Some("必填"));
    assert_eq!(page.matches("data-testid=\"error-reason\"").count(), 1, "only that organisation's form");
}
