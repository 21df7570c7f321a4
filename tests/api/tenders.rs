//! Tenders: drafting, publishing, documents, obtaining, questions, clarifications, cancelling,
//! and who may do what.

use crate::client::{Client, expect_error};
use crate::support::{TestApp, org_id, pdf, spawn_app};
use chrono::TimeDelta;
use serde_json::{Value, json};

/// A valid draft body for procuring unit 甲, with its deadline `days` after the test clock.
pub async fn draft_body(app: &TestApp, days: i64) -> Value {
    json!({
        "title": "教学设备采购项目",
        "description": "采购交互式智能平板。",
        "procuring_org": org_id(app, "甲采购单位").await,
        "procurement_method": "open_tender",
        "evaluation_method": "comprehensive_scoring",
        "bid_deadline": app.clock_now() + TimeDelta::days(days),
        "qualification": "具有独立承担民事责任的能力；近三年内在经营活动中没有重大违法记录。",
        "contact_person": "王工",
        "contact_phone": "010-68001234",
        "documents_from": app.clock_now(),
        "documents_until": app.clock_now() + TimeDelta::days(days),
        "deposit": 5_000_000,
        "lots": [
            {"name": "第一包：智能平板", "budget": 386_000_000, "ceiling": 380_000_000},
            {"name": "第二包：展台", "budget": 42_000_000}
        ],
        "bid_form": [{"key": "delivery_days", "label_zh": "交货期（天）", "label_en": "Delivery (days)", "kind": "days", "required": true}]
    })
}

trait Now {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc>;
}

impl Now for TestApp {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use tenderhall::clock::Clock;
        self.clock.now()
    }
}

/// An agency X draft with a document, published; returns its id.
pub async fn published_tender(app: &TestApp, agency: &Client) -> String {
    let id = create_draft(app, agency, 30).await;
    let r = agency.upload(&format!("/api/v1/tenders/{id}/documents"), "招标文件.pdf", pdf("Tender", 3)).await;
    assert_eq!(r.status(), 201);
    let r = agency.post_empty(&format!("/api/v1/tenders/{id}/publish")).await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    id
}

pub async fn create_draft(app: &TestApp, agency: &Client, days: i64) -> String {
    let r = agency.post("/api/v1/tenders", &draft_body(app, days).await).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let v: Value = r.json().await.expect("json");
    v["id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn agency_drafts_publishes_and_supplier_obtains_asks_and_sees_the_answer() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let id = create_draft(&app, &agency, 30).await;

    // The draft is invisible to the public, suppliers and other agencies; visible to supervisors.
    let anon = Client::anonymous(&app).await;
    expect_error(anon.get(&format!("/api/v1/tenders/{id}")).await, 404, "not_found").await;
    let supplier = Client::login(&app, "supplier_1").await;
    expect_error(supplier.get(&format!("/api/v1/tenders/{id}")).await, 404, "not_found").await;
    let other = Client::login(&app, "agency_y").await;
    expect_error(other.get(&format!("/api/v1/tenders/{id}")).await, 404, "not_found").await;
    let supervisor = Client::login(&app, "supervisor").await;
    assert_eq!(supervisor.get_json(&format!("/api/v1/tenders/{id}")).await["state"], "draft");
    assert_eq!(anon.get_json("/api/v1/tenders").await["total"], 0);

    // The procuring unit it is for manages it too.
    let buyer = Client::login(&app, "buyer_a").await;
    let d = buyer.get_json(&format!("/api/v1/tenders/{id}")).await;
    assert_eq!(d["permissions"]["manage"], true);
    assert_eq!(d["total_budget"], 428_000_000);
    assert_eq!(d["bid_form"][0]["key"], "total_price", "total price is always first");

    let doc = agency.upload(&format!("/api/v1/tenders/{id}/documents"), "招标文件.pdf", pdf("Tender", 3)).await;
    assert_eq!(doc.status(), 201);
    let doc_id = doc.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    assert_eq!(agency.post_empty(&format!("/api/v1/tenders/{id}/publish")).await.status(), 204);

    // Public search finds it by words of its title, method and state.
    let found = anon.get_json("/api/v1/tenders?q=教学设备&method=open_tender&state=published").await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["id"], id.as_str());
    assert_eq!(anon.get_json("/api/v1/tenders?q=不存在的词").await["total"], 0);

    // Documents only after obtaining them.
    expect_error(supplier.get(&format!("/api/v1/tenders/{id}/documents/{doc_id}")).await, 403, "obtain_first").await;
    expect_error(
        supplier.post(&format!("/api/v1/tenders/{id}/questions"), &json!({"body": "?"})).await,
        403,
        "obtain_first",
    )
    .await;
    assert_eq!(supplier.post_empty(&format!("/api/v1/tenders/{id}/obtain")).await.status(), 204);
    assert_eq!(
        supplier.post_empty(&format!("/api/v1/tenders/{id}/obtain")).await.status(),
        204,
        "obtaining twice is harmless"
    );
    let file = supplier.get(&format!("/api/v1/tenders/{id}/documents/{doc_id}")).await;
    assert_eq!(file.status(), 200);
    assert_eq!(file.bytes().await.expect("bytes").to_vec(), pdf("Tender", 3));

    let q = supplier.post(&format!("/api/v1/tenders/{id}/questions"), &json!({"body": "是否接受86英寸产品？"})).await;
    assert_eq!(q.status(), 201);
    let qid = q.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();

    // The agency sees the question but not who asked; the supervisor sees who asked.
    let seen = agency.get_json(&format!("/api/v1/tenders/{id}")).await;
    assert_eq!(seen["questions"][0]["body"], "是否接受86英寸产品？");
    assert_eq!(seen["questions"][0]["asked_by"], Value::Null);
    assert_eq!(seen["obtained_count"], 1);
    let sup = supervisor.get_json(&format!("/api/v1/tenders/{id}")).await;
    assert_eq!(sup["questions"][0]["asked_by"], "供应商一有限公司");
    // Another supplier sees neither the question nor the count.
    let s2 = Client::login(&app, "supplier_2").await;
    let other_view = s2.get_json(&format!("/api/v1/tenders/{id}")).await;
    assert_eq!(other_view["questions"].as_array().map(Vec::len), Some(0));
    assert_eq!(other_view["obtained_count"], Value::Null);

    let a = agency
        .post(
            &format!("/api/v1/tenders/{id}/clarifications"),
            &json!({"kind": "answer", "body": "接受。", "question": qid}),
        )
        .await;
    assert_eq!(a.status(), 201);
    let view = supplier.get_json(&format!("/api/v1/tenders/{id}")).await;
    assert_eq!(view["clarifications"][0]["body"], "接受。");
    assert_eq!(view["clarifications"][0]["question"], "是否接受86英寸产品？");
    assert_eq!(view["questions"][0]["answered"], true);
    let inbox = supplier.get_json("/api/v1/notifications").await;
    assert!(inbox.as_array().expect("list").iter().any(|n| n["kind"] == "clarification_issued"), "{inbox}");
    // A supplier that did not obtain the documents is not notified and does not see it.
    assert!(s2.get_json("/api/v1/notifications").await.as_array().expect("list").is_empty());
    assert_eq!(other_view["clarifications"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn wrong_roles_and_other_organisations_are_refused() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let supplier = Client::login(&app, "supplier_1").await;
    let body = draft_body(&app, 30).await;
    expect_error(supplier.post("/api/v1/tenders", &body).await, 403, "forbidden").await;
    let expert = Client::login(&app, "expert").await;
    expect_error(expert.post("/api/v1/tenders", &body).await, 403, "forbidden").await;
    let anon = Client::anonymous(&app).await;
    expect_error(anon.post("/api/v1/tenders", &body).await, 401, "login_required").await;

    let id = published_tender(&app, &agency).await;
    // Another agency and another procuring unit may see it but not run it.
    let other = Client::login(&app, "agency_y").await;
    expect_error(other.post(&format!("/api/v1/tenders/{id}/cancel"), &json!({"reason": "x"})).await, 403, "forbidden")
        .await;
    let buyer_b = Client::login(&app, "buyer_b").await;
    expect_error(
        buyer_b
            .post(&format!("/api/v1/tenders/{id}/clarifications"), &json!({"kind": "clarification", "body": "x"}))
            .await,
        403,
        "forbidden",
    )
    .await;
    // The supervisor reads everything but changes nothing.
    let supervisor = Client::login(&app, "supervisor").await;
    expect_error(
        supervisor.post(&format!("/api/v1/tenders/{id}/cancel"), &json!({"reason": "x"})).await,
        403,
        "forbidden",
    )
    .await;
    // Agencies do not obtain documents or ask.
    expect_error(agency.post_empty(&format!("/api/v1/tenders/{id}/obtain")).await, 403, "forbidden").await;
    // An agency must name an active procuring unit, not another kind of organisation.
    let mut bad = body.clone();
    bad["procuring_org"] = json!(crate::support::org_id(&app, "供应商一有限公司").await);
    let e = expect_error(agency.post("/api/v1/tenders", &bad).await, 422, "validation_failed").await;
    assert_eq!(e["error"]["fields"][0]["field"], "procuring_org");
    // A published tender can no longer be edited or given documents.
    expect_error(agency.put(&format!("/api/v1/tenders/{id}"), &body).await, 409, "wrong_state").await;
    expect_error(
        agency.upload(&format!("/api/v1/tenders/{id}/documents"), "b.pdf", pdf("B", 1)).await,
        409,
        "wrong_state",
    )
    .await;
}

#[tokio::test]
async fn drafts_are_validated_field_by_field() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let mut body = draft_body(&app, 30).await;
    body["title"] = json!("  ");
    body["lots"][0]["ceiling"] = json!(999_000_000);
    body["lots"][1]["budget"] = json!(0);
    body["bid_deadline"] = json!(crate::support::t0() - TimeDelta::days(1));
    let e = expect_error(agency.post("/api/v1/tenders", &body).await, 422, "validation_failed").await;
    let fields: Vec<String> = e["error"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| format!("{}:{}", f["field"].as_str().unwrap_or(""), f["code"].as_str().unwrap_or("")))
        .collect();
    for want in ["title:required", "ceiling:above_budget", "budget:not_positive", "bid_deadline:in_past"] {
        assert!(fields.contains(&want.to_string()), "{want} in {fields:?}");
    }
    // Malformed JSON and wrong types get stable codes too.
    let r = agency
        .req(reqwest::Method::POST, "/api/v1/tenders")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    expect_error(r, 400, "json_malformed").await;
    let mut wrong = draft_body(&app, 30).await;
    wrong["lots"][0]["budget"] = json!("12.5");
    expect_error(agency.post("/api/v1/tenders", &wrong).await, 422, "json_invalid").await;
    // Nothing was stored by any of these.
    assert!(agency.get_json("/api/v1/workspace/tenders").await.as_array().expect("list").is_empty());
    // Editing a draft replaces its lots.
    let id = create_draft(&app, &agency, 30).await;
    let mut edit = draft_body(&app, 35).await;
    edit["lots"] = json!([{"name": "唯一标段", "budget": 100_000}]);
    edit["deposit"] = Value::Null;
    assert_eq!(agency.put(&format!("/api/v1/tenders/{id}"), &edit).await.status(), 204);
    let d = agency.get_json(&format!("/api/v1/tenders/{id}")).await;
    assert_eq!(d["lots"].as_array().map(Vec::len), Some(1));
    assert_eq!(d["total_budget"], 100_000);
}

#[tokio::test]
async fn publishing_needs_documents_and_enough_time() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let soon = create_draft(&app, &agency, 19).await;
    expect_error(agency.post_empty(&format!("/api/v1/tenders/{soon}/publish")).await, 422, "no_documents").await;
    assert_eq!(agency.upload(&format!("/api/v1/tenders/{soon}/documents"), "a.pdf", pdf("A", 1)).await.status(), 201);
    expect_error(agency.post_empty(&format!("/api/v1/tenders/{soon}/publish")).await, 422, "deadline_too_soon").await;
    let d = agency.get_json(&format!("/api/v1/tenders/{soon}")).await;
    assert_eq!(d["state"], "draft", "still a draft after refusals");
    let id = published_tender(&app, &agency).await;
    expect_error(agency.post_empty(&format!("/api/v1/tenders/{id}/publish")).await, 409, "wrong_state").await;
}

#[tokio::test]
async fn bad_pdfs_are_refused_and_nothing_is_stored() {
    let app = spawn_app_small_pdfs().await;
    let agency = Client::login(&app, "agency_x").await;
    let id = create_draft(&app, &agency, 30).await;
    let path = format!("/api/v1/tenders/{id}/documents");
    expect_error(agency.upload(&path, "x.pdf", b"MZ\x90\x00 not a pdf".to_vec()).await, 422, "pdf_invalid").await;
    // Cut off in the middle, or just before its end (which a lenient parser would repair).
    let whole = pdf("T", 2);
    for cut in [whole.len() / 2, whole.len() - 30, whole.len() - 3] {
        expect_error(agency.upload(&path, "t.pdf", whole[..cut].to_vec()).await, 422, "pdf_truncated").await;
    }
    // Active content: a script run when the document opens.
    let body =
        expect_error(agency.upload(&path, "js.pdf", pdf_opening_a_script()).await, 422, "pdf_active_content").await;
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("/OpenAction") && message.contains("/JavaScript"), "{message}");
    expect_error(agency.upload(&path, "many.pdf", pdf("Many", 6)).await, 422, "pdf_too_many_pages").await;
    let mut huge = b"%PDF-1.4\n".to_vec();
    huge.resize(300_000, b' ');
    expect_error(agency.upload(&path, "huge.pdf", huge).await, 413, "pdf_too_large").await;
    let r = agency
        .req(reqwest::Method::POST, &path)
        .multipart(reqwest::multipart::Form::new().text("other", "x"))
        .send()
        .await
        .expect("send");
    expect_error(r, 422, "validation_failed").await;
    let d = agency.get_json(&format!("/api/v1/tenders/{id}")).await;
    assert_eq!(d["documents"].as_array().map(Vec::len), Some(0));
    assert_eq!(stored_files(&app.state.settings.storage.blob_dir), 0, "no refused file is kept");
    // The same through the page's form: the coded error page, nothing kept.
    let form = reqwest::multipart::Form::new().text("_csrf", agency.csrf.clone()).part(
        "file",
        reqwest::multipart::Part::bytes(pdf_opening_a_script())
            .file_name("js.pdf")
            .mime_str("application/pdf")
            .expect("mime"),
    );
    let r = agency
        .req(reqwest::Method::POST, &format!("/tenders/{id}/documents"))
        .multipart(form)
        .send()
        .await
        .expect("send");
    crate::client::expect_page_error(r, 422, "pdf_active_content").await;
    assert_eq!(stored_files(&app.state.settings.storage.blob_dir), 0, "no refused file is kept");
    // A good one goes through, with its digest and page count, and a path in its name is dropped.
    let r = agency.upload(&path, "../../etc/招标文件.pdf", pdf("Good", 2)).await;
    assert_eq!(r.status(), 201);
    let d = agency.get_json(&format!("/api/v1/tenders/{id}")).await;
    assert_eq!(d["documents"][0]["file_name"], "招标文件.pdf");
    assert_eq!(d["documents"][0]["pages"], 2);
    assert_eq!(d["documents"][0]["sha256"].as_str().map(str::len), Some(64));
}

/// A valid PDF whose catalog runs a script when it is opened.
fn pdf_opening_a_script() -> Vec<u8> {
    use lopdf::{Document, Object, dictionary};
    let mut doc = Document::load_mem(&pdf("Script", 1)).expect("sample");
    let script = doc.add_object(dictionary! {
        "S" => "JavaScript",
        "JS" => Object::string_literal("app.alert('hello')"),
    });
    let root = doc.trailer.get(b"Root").and_then(Object::as_reference).expect("root");
    doc.get_dictionary_mut(root).expect("catalog").set("OpenAction", script);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save");
    out
}

/// Files under the blob store, at any depth.
fn stored_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.filter_map(Result::ok).map(|e| if e.path().is_dir() { stored_files(&e.path()) } else { 1 }).sum()
}

async fn spawn_app_small_pdfs() -> TestApp {
    crate::support::spawn_app_with(crate::support::Options {
        settings: Some(Box::new(|s| {
            s.pdf.max_bytes = 200_000;
            s.pdf.max_pages = 5;
        })),
        ..Default::default()
    })
    .await
}

#[tokio::test]
async fn substantive_amendments_too_close_to_the_deadline_must_move_it() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let id = published_tender(&app, &agency).await;
    let supplier = Client::login(&app, "supplier_1").await;
    assert_eq!(supplier.post_empty(&format!("/api/v1/tenders/{id}/obtain")).await.status(), 204);
    let deadline = {
        let d = agency.get_json(&format!("/api/v1/tenders/{id}")).await;
        d["bid_deadline"].as_str().expect("deadline").parse::<chrono::DateTime<chrono::Utc>>().expect("time")
    };
    // Twenty days out, an amendment is fine without moving anything.
    let ok = agency
        .post(&format!("/api/v1/tenders/{id}/clarifications"), &json!({"kind": "amendment", "body": "更正技术参数。"}))
        .await;
    assert_eq!(ok.status(), 201);
    // Ten days before the deadline it is refused...
    app.clock.set(deadline - TimeDelta::days(10));
    let agency = Client::login(&app, "agency_x").await;
    let supplier = Client::login(&app, "supplier_1").await;
    let path = format!("/api/v1/tenders/{id}/clarifications");
    expect_error(
        agency.post(&path, &json!({"kind": "amendment", "body": "增加第三包。"})).await,
        422,
        "amendment_too_late",
    )
    .await;
    expect_error(
        agency.post(&path, &json!({"kind": "clarification", "substantive": true, "body": "x"})).await,
        422,
        "amendment_too_late",
    )
    .await;
    // ...also when the new deadline is still too close...
    let too_close = deadline + TimeDelta::days(2);
    expect_error(
        agency.post(&path, &json!({"kind": "amendment", "body": "x", "new_deadline": too_close})).await,
        422,
        "amendment_too_late",
    )
    .await;
    let earlier = deadline - TimeDelta::days(1);
    expect_error(
        agency.post(&path, &json!({"kind": "amendment", "body": "x", "new_deadline": earlier})).await,
        422,
        "validation_failed",
    )
    .await;
    // ...and nothing moved.
    let d = agency.get_json(&format!("/api/v1/tenders/{id}")).await;
    assert_eq!(
        d["bid_deadline"].as_str().map(|s| s.parse::<chrono::DateTime<chrono::Utc>>().ok()),
        Some(Some(deadline))
    );
    assert_eq!(d["clarifications"].as_array().map(Vec::len), Some(1));
    // A plain clarification is fine; a substantive one with a far enough deadline moves it.
    assert_eq!(agency.post(&path, &json!({"kind": "clarification", "body": "联系人电话更正。"})).await.status(), 201);
    let new_deadline = deadline + TimeDelta::days(6);
    assert_eq!(
        agency
            .post(&path, &json!({"kind": "amendment", "body": "增加第三包。", "new_deadline": new_deadline}))
            .await
            .status(),
        201
    );
    let d = supplier.get_json(&format!("/api/v1/tenders/{id}")).await;
    assert_eq!(
        d["bid_deadline"].as_str().and_then(|s| s.parse::<chrono::DateTime<chrono::Utc>>().ok()),
        Some(new_deadline)
    );
    assert_eq!(
        d["clarifications"][2]["new_deadline"].as_str().and_then(|s| s.parse::<chrono::DateTime<chrono::Utc>>().ok()),
        Some(new_deadline)
    );
    let notes = supplier.get_json("/api/v1/notifications").await;
    assert_eq!(notes.as_array().map(|a| a.iter().filter(|n| n["kind"] == "clarification_issued").count()), Some(3));
}

#[tokio::test]
async fn questions_close_at_the_cutoff_and_nothing_is_obtained_after_the_deadline() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let id = published_tender(&app, &agency).await;
    let supplier = Client::login(&app, "supplier_1").await;
    assert_eq!(supplier.post_empty(&format!("/api/v1/tenders/{id}/obtain")).await.status(), 204);
    let d = supplier.get_json(&format!("/api/v1/tenders/{id}")).await;
    let cutoff: chrono::DateTime<chrono::Utc> = d["question_cutoff"].as_str().expect("cutoff").parse().expect("time");
    let deadline: chrono::DateTime<chrono::Utc> = d["bid_deadline"].as_str().expect("deadline").parse().expect("time");
    expect_error(
        supplier.post(&format!("/api/v1/tenders/{id}/questions"), &json!({"body": ""})).await,
        422,
        "validation_failed",
    )
    .await;
    app.clock.set(cutoff - TimeDelta::seconds(1));
    let supplier = Client::login(&app, "supplier_1").await;
    assert_eq!(
        supplier.post(&format!("/api/v1/tenders/{id}/questions"), &json!({"body": "最后一个问题"})).await.status(),
        201
    );
    app.clock.set(cutoff);
    expect_error(
        supplier.post(&format!("/api/v1/tenders/{id}/questions"), &json!({"body": "太晚了"})).await,
        422,
        "questions_closed",
    )
    .await;
    app.clock.set(deadline);
    let late = Client::login(&app, "supplier_2").await;
    let agency = Client::login(&app, "agency_x").await;
    expect_error(late.post_empty(&format!("/api/v1/tenders/{id}/obtain")).await, 422, "deadline_passed").await;
    expect_error(
        agency
            .post(&format!("/api/v1/tenders/{id}/clarifications"), &json!({"kind": "clarification", "body": "x"}))
            .await,
        422,
        "deadline_passed",
    )
    .await;
    assert_eq!(agency.get_json(&format!("/api/v1/tenders/{id}")).await["questions"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn cancelling_needs_a_reason_and_tells_those_who_obtained_the_documents() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let id = published_tender(&app, &agency).await;
    let supplier = Client::login(&app, "supplier_1").await;
    assert_eq!(supplier.post_empty(&format!("/api/v1/tenders/{id}/obtain")).await.status(), 204);
    expect_error(
        agency.post(&format!("/api/v1/tenders/{id}/cancel"), &json!({"reason": "  "})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        agency.post(&format!("/api/v1/tenders/{id}/cancel"), &json!({"reason": "需求变更"})).await.status(),
        204
    );
    let d = Client::anonymous(&app).await.get_json(&format!("/api/v1/tenders/{id}")).await;
    assert_eq!(d["state"], "cancelled");
    assert_eq!(d["cancel_reason"], "需求变更");
    expect_error(
        agency.post(&format!("/api/v1/tenders/{id}/cancel"), &json!({"reason": "again"})).await,
        409,
        "wrong_state",
    )
    .await;
    expect_error(supplier.post_empty(&format!("/api/v1/tenders/{id}/obtain")).await, 409, "wrong_state").await;
    let notes = supplier.get_json("/api/v1/notifications").await;
    assert!(
        notes.as_array().expect("list").iter().any(
            |n| n["kind"] == "tender_cancelled" && n["message_zh"].as_str().is_some_and(|m| m.contains("需求变更"))
        )
    );
    // Search by state.
    let anon = Client::anonymous(&app).await;
    assert_eq!(anon.get_json("/api/v1/tenders?state=cancelled").await["total"], 1);
    assert_eq!(anon.get_json("/api/v1/tenders?state=published").await["total"], 0);
    expect_error(anon.get("/api/v1/tenders?state=draft").await, 422, "validation_failed").await;
    expect_error(anon.get("/api/v1/tenders?deadline_from=tomorrow").await, 422, "validation_failed").await;
}

#[tokio::test]
async fn search_filters_by_deadline_and_pages() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    for days in [25, 40] {
        let id = create_draft(&app, &agency, days).await;
        assert_eq!(agency.upload(&format!("/api/v1/tenders/{id}/documents"), "a.pdf", pdf("A", 1)).await.status(), 201);
        assert_eq!(agency.post_empty(&format!("/api/v1/tenders/{id}/publish")).await.status(), 204);
    }
    let anon = Client::anonymous(&app).await;
    let day30 = (crate::support::t0() + TimeDelta::days(30))
        .with_timezone(&tenderhall::web::cst())
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(anon.get_json(&format!("/api/v1/tenders?deadline_to={day30}")).await["total"], 1);
    assert_eq!(anon.get_json(&format!("/api/v1/tenders?deadline_from={day30}")).await["total"], 1);
    let all = anon.get_json("/api/v1/tenders?page=1").await;
    assert_eq!(all["total"], 2);
    assert_eq!(all["pages"], 1);
    assert_eq!(anon.get_json("/api/v1/tenders?page=2").await["items"].as_array().map(Vec::len), Some(0));
}

/// The `field:code` pairs of a validation error.
async fn field_codes(r: reqwest::Response, status: u16, code: &str) -> Vec<String> {
    let e = expect_error(r, status, code).await;
    e["error"]["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|f| format!("{}:{}", f["field"].as_str().unwrap_or(""), f["code"].as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn an_agency_chooses_the_procuring_unit_and_may_change_it_while_drafting() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let (unit_a, unit_b) =
        (crate::support::org_id(&app, "甲采购单位").await, crate::support::org_id(&app, "乙采购单位").await);
    // Nothing is picked for the agency: it must name the unit.
    let mut body = draft_body(&app, 30).await;
    body["procuring_org"] = Value::Null;
    assert_eq!(
        field_codes(agency.post("/api/v1/tenders", &body).await, 422, "validation_failed").await,
        ["procuring_org:required"]
    );
    let form = agency.get("/tenders/new").await.text().await.expect("page");
    assert!(form.contains("<option value=\"\">请选择采购人</option>"), "a choice to make, not a default");
    assert!(
        !form.contains(" selected>甲采购单位") && !form.contains(" selected>乙采购单位"),
        "no unit is chosen for the agency"
    );
    let pairs = |unit: &str| {
        vec![
            ("title", "表单项目".to_string()),
            ("procuring_org", unit.to_string()),
            ("procurement_method", "open_tender".into()),
            ("evaluation_method", "lowest_price".into()),
            ("bid_deadline", "2026-12-20T09:30".into()),
            ("lot_name_1", "台式计算机".into()),
            ("lot_budget_1", "500000".into()),
            ("contact_phone", "0755-88886666".into()),
        ]
    };
    let r = agency.req(reqwest::Method::POST, "/tenders").form(&pairs("")).send().await.expect("send");
    crate::client::expect_page_error(r, 422, "validation_failed").await;
    let r = agency.req(reqwest::Method::POST, "/tenders").form(&pairs(&unit_a.to_string())).send().await.expect("send");
    assert_eq!(r.status(), 303);
    let id = create_draft(&app, &agency, 30).await;
    let d = agency.get_json(&format!("/api/v1/tenders/{id}")).await;
    assert_eq!(
        (d["procuring_org"].as_str(), d["procuring_org_id"].as_str()),
        (Some("甲采购单位"), Some(unit_a.to_string().as_str()))
    );

    // While it is a draft the agency hands it to another unit: that unit runs it, the first no longer sees it.
    let edit = agency.get(&format!("/tenders/{id}/edit")).await.text().await.expect("page");
    assert!(edit.contains(&format!("<option value=\"{unit_a}\" selected>")), "the edit form shows the unit chosen");
    let mut moved = draft_body(&app, 30).await;
    moved["procuring_org"] = json!(unit_b);
    assert_eq!(agency.put(&format!("/api/v1/tenders/{id}"), &moved).await.status(), 204);
    let d = agency.get_json(&format!("/api/v1/tenders/{id}")).await;
    assert_eq!(d["procuring_org"], "乙采购单位");
    assert_eq!(
        Client::login(&app, "buyer_b").await.get_json(&format!("/api/v1/tenders/{id}")).await["permissions"]["manage"],
        true
    );
    expect_error(Client::login(&app, "buyer_a").await.get(&format!("/api/v1/tenders/{id}")).await, 404, "not_found")
        .await;
    // It is named every time, and must be an active procuring unit.
    moved["procuring_org"] = Value::Null;
    assert_eq!(
        field_codes(agency.put(&format!("/api/v1/tenders/{id}"), &moved).await, 422, "validation_failed").await,
        ["procuring_org:required"]
    );
    moved["procuring_org"] = json!(crate::support::org_id(&app, "Y招标代理").await);
    assert_eq!(
        field_codes(agency.put(&format!("/api/v1/tenders/{id}"), &moved).await, 422, "validation_failed").await,
        ["procuring_org:not_a_procuring_unit"]
    );
    let r = agency
        .req(reqwest::Method::POST, &format!("/tenders/{id}/edit"))
        .form(&pairs("not-a-uuid"))
        .send()
        .await
        .expect("send");
    crate::client::expect_page_error(r, 422, "validation_failed").await;
    assert_eq!(
        agency.get_json(&format!("/api/v1/tenders/{id}")).await["procuring_org"],
        "乙采购单位",
        "refusals change nothing"
    );

    // A procuring unit's own staff tender for their unit, whatever they send, and see no choice.
    let buyer = Client::login(&app, "buyer_a").await;
    let r = buyer.post("/api/v1/tenders", &moved).await;
    assert_eq!(r.status(), 201);
    let own = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    assert_eq!(buyer.get_json(&format!("/api/v1/tenders/{own}")).await["procuring_org"], "甲采购单位");
    assert!(
        !buyer
            .get(&format!("/tenders/{own}/edit"))
            .await
            .text()
            .await
            .expect("page")
            .contains("name=\"procuring_org\"")
    );

    // Once published, the unit is settled like every other field.
    let doc = agency.upload(&format!("/api/v1/tenders/{id}/documents"), "a.pdf", pdf("A", 1)).await;
    assert_eq!(doc.status(), 201);
    assert_eq!(agency.post_empty(&format!("/api/v1/tenders/{id}/publish")).await.status(), 204);
    moved["procuring_org"] = json!(unit_a);
    expect_error(agency.put(&format!("/api/v1/tenders/{id}"), &moved).await, 409, "wrong_state").await;
}

#[tokio::test]
async fn the_notice_fields_are_checked_required_to_publish_and_shown() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let now = crate::support::t0();
    let post = |b: Value| {
        let agency = &agency;
        async move { agency.post("/api/v1/tenders", &b).await }
    };
    // Phone numbers of mainland China only.
    for bad in ["12345", "010-1234", "ring me"] {
        let mut b = draft_body(&app, 30).await;
        b["contact_phone"] = json!(bad);
        assert_eq!(field_codes(post(b).await, 422, "validation_failed").await, ["contact_phone:invalid"], "{bad}");
    }
    for good in ["13912345678", "0755 8888 6666", "010-62345678转8012"] {
        let mut b = draft_body(&app, 30).await;
        b["contact_phone"] = json!(good);
        assert_eq!(post(b).await.status(), 201, "{good}");
    }
    // The period for obtaining the documents lies within the bidding period.
    let mut b = draft_body(&app, 30).await;
    b["documents_until"] = json!(now + TimeDelta::days(31));
    assert_eq!(field_codes(post(b).await, 422, "validation_failed").await, ["documents_until:after_deadline"]);
    let mut b = draft_body(&app, 30).await;
    b["documents_until"] = json!(now - TimeDelta::hours(1));
    assert_eq!(field_codes(post(b).await, 422, "validation_failed").await, ["documents_until:before_start"]);
    let mut b = draft_body(&app, 30).await;
    b["documents_until"] = Value::Null;
    assert_eq!(field_codes(post(b).await, 422, "validation_failed").await, ["documents_until:required"]);
    let mut b = draft_body(&app, 30).await;
    b["documents_from"] = json!("0100-01-01T00:00:00Z");
    assert_eq!(field_codes(post(b).await, 422, "validation_failed").await, ["documents_from:out_of_range"]);
    // The deposit: integer fen, at most 2 % of the budget (4,280,000.00 元 here: 85,600.00 元).
    let mut b = draft_body(&app, 30).await;
    b["deposit"] = json!(8_560_001);
    assert_eq!(field_codes(post(b).await, 422, "validation_failed").await, ["deposit:above_limit"]);
    let mut b = draft_body(&app, 30).await;
    b["deposit"] = json!(0);
    assert_eq!(field_codes(post(b).await, 422, "validation_failed").await, ["deposit:not_positive"]);
    let mut b = draft_body(&app, 30).await;
    b["deposit"] = json!(i64::MAX);
    assert_eq!(field_codes(post(b).await, 422, "validation_failed").await, ["deposit:too_large"]);
    let mut b = draft_body(&app, 30).await;
    b["deposit"] = json!(85_600.5);
    expect_error(post(b).await, 422, "json_invalid").await;
    let mut b = draft_body(&app, 30).await;
    b["deposit"] = json!(8_560_000);
    let r = post(b).await;
    assert_eq!(r.status(), 201, "exactly 2 % is allowed");
    let id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();

    // Shown in the API and on the public page once published.
    assert_eq!(agency.upload(&format!("/api/v1/tenders/{id}/documents"), "a.pdf", pdf("A", 1)).await.status(), 201);
    assert_eq!(agency.post_empty(&format!("/api/v1/tenders/{id}/publish")).await.status(), 204);
    let anon = Client::anonymous(&app).await;
    let d = anon.get_json(&format!("/api/v1/tenders/{id}")).await;
    assert_eq!(d["deposit"], 8_560_000);
    assert_eq!(d["contact_person"], "王工");
    assert_eq!(d["contact_phone"], "010-68001234");
    assert!(d["qualification"].as_str().is_some_and(|q| q.contains("独立承担民事责任")));
    assert_eq!(d["documents_from"].as_str().map(|s| s.parse::<chrono::DateTime<chrono::Utc>>().ok()), Some(Some(now)));
    let page = anon.get(&format!("/tenders/{id}")).await.text().await.expect("page");
    for want in
        ["资格要求", "独立承担民事责任", "¥85,600.00", "王工 010-68001234", "2026-11-02 10:00 — 2026-12-02 10:00"]
    {
        assert!(page.contains(want), "{want} on the page");
    }

    // A draft may leave the notice fields out; publishing may not.
    let mut b = draft_body(&app, 30).await;
    for f in ["qualification", "contact_person", "contact_phone", "documents_from", "documents_until", "deposit"] {
        b.as_object_mut().expect("object").remove(f);
    }
    let r = post(b).await;
    assert_eq!(r.status(), 201);
    let bare = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    assert_eq!(agency.upload(&format!("/api/v1/tenders/{bare}/documents"), "a.pdf", pdf("A", 1)).await.status(), 201);
    assert_eq!(
        field_codes(agency.post_empty(&format!("/api/v1/tenders/{bare}/publish")).await, 422, "notice_incomplete")
            .await,
        [
            "qualification:required",
            "contact_person:required",
            "contact_phone:required",
            "documents_from:required",
            "documents_until:required"
        ]
    );
    let d = agency.get_json(&format!("/api/v1/tenders/{bare}")).await;
    assert_eq!((d["state"].as_str(), d["deposit"].is_null()), (Some("draft"), true));
    assert!(agency.get(&format!("/tenders/{bare}")).await.text().await.expect("page").contains("不收取"), "no deposit");
}

#[tokio::test]
async fn documents_are_obtained_only_within_their_period() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let now = crate::support::t0();
    let mut b = draft_body(&app, 30).await;
    b["documents_from"] = json!(now + TimeDelta::days(1));
    b["documents_until"] = json!(now + TimeDelta::days(8));
    let r = agency.post("/api/v1/tenders", &b).await;
    let id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    assert_eq!(agency.upload(&format!("/api/v1/tenders/{id}/documents"), "a.pdf", pdf("A", 1)).await.status(), 201);
    assert_eq!(agency.post_empty(&format!("/api/v1/tenders/{id}/publish")).await.status(), 204);
    let s1 = Client::login(&app, "supplier_1").await;
    let path = format!("/api/v1/tenders/{id}/obtain");
    async fn obtain(c: &Client, path: &str) -> reqwest::Response {
        c.post_empty(path).await
    }
    expect_error(obtain(&s1, &path).await, 422, "obtain_not_started").await;
    assert_eq!(s1.get_json(&format!("/api/v1/tenders/{id}")).await["permissions"]["obtain"], false);
    assert!(
        s1.get(&format!("/tenders/{id}")).await.text().await.expect("page").contains("data-testid=\"obtain-note\"")
    );
    app.clock.set(now + TimeDelta::days(1));
    // (Sessions last hours: log in again after moving the clock by days.)
    let s1 = Client::login(&app, "supplier_1").await;
    assert_eq!(s1.get_json(&format!("/api/v1/tenders/{id}")).await["permissions"]["obtain"], true);
    assert_eq!(obtain(&s1, &path).await.status(), 204, "from the start of the period");
    app.clock.set(now + TimeDelta::days(8));
    let (s1, s2) = (Client::login(&app, "supplier_1").await, Client::login(&app, "supplier_2").await);
    expect_error(obtain(&s2, &path).await, 422, "obtain_period_over").await;
    assert_eq!(obtain(&s1, &path).await.status(), 204, "obtaining again is still harmless");
    assert!(s2.get(&format!("/tenders/{id}")).await.text().await.expect("page").contains("获取招标文件的时间已经结束"));
    // Bidding goes on for those who obtained them.
    assert_eq!(s1.get_json(&format!("/api/v1/tenders/{id}")).await["permissions"]["bid"], true);

    // A draft whose period ends before it is published cannot be published.
    app.clock.set(now);
    let mut b = draft_body(&app, 30).await;
    b["documents_until"] = json!(now + TimeDelta::days(2));
    let r = agency.post("/api/v1/tenders", &b).await;
    let late = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    assert_eq!(agency.upload(&format!("/api/v1/tenders/{late}/documents"), "a.pdf", pdf("A", 1)).await.status(), 201);
    app.clock.set(now + TimeDelta::days(3));
    let agency = Client::login(&app, "agency_x").await;
    expect_error(agency.post_empty(&format!("/api/v1/tenders/{late}/publish")).await, 422, "obtain_period_over").await;
}

#[tokio::test]
async fn the_deposit_cap_is_a_setting() {
    let app = crate::support::spawn_app_with(crate::support::Options {
        settings: Some(Box::new(|s| s.tenders.deposit_max_percent = 1)),
        ..Default::default()
    })
    .await;
    let agency = Client::login(&app, "agency_x").await;
    let mut b = draft_body(&app, 30).await;
    b["deposit"] = json!(4_280_001);
    assert_eq!(
        field_codes(agency.post("/api/v1/tenders", &b).await, 422, "validation_failed").await,
        ["deposit:above_limit"]
    );
    b["deposit"] = json!(4_280_000);
    assert_eq!(agency.post("/api/v1/tenders", &b).await.status(), 201);
    assert!(agency.get("/tenders/new").await.text().await.expect("page").contains("1%"), "the form says the cap");
}
