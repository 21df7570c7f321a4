//! What the pages say around an action: the question asked before an irreversible step
//! (`data-confirm`, answered in the browser: tests/browser.rs), the message shown once after a
//! step succeeded (a short-lived cookie naming a catalogue text, never a text), and destructive
//! steps set apart below the others.

use crate::client::Client;
use crate::support::{TestApp, pdf, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// The `th_flash` cookie a response sets, if any.
fn flash_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("th_flash="))
        .map(str::to_string)
}

async fn page(c: &Client, path: &str) -> String {
    let r = c.get(path).await;
    assert_eq!(r.status(), 200, "GET {path}");
    r.text().await.expect("page")
}

/// The text of the flash on a page, if it shows one.
fn flash_of(html: &str) -> Option<&str> {
    let at = html.find("data-testid=\"flash\">")?;
    let rest = &html[at + "data-testid=\"flash\">".len()..];
    rest.split("</p>").next()
}

/// A draft with a document, as agency X; returns its id.
async fn ready_draft(app: &TestApp, agency: &Client) -> String {
    let id = crate::tenders::create_draft(app, agency, 30).await;
    assert_eq!(agency.upload(&format!("/api/v1/tenders/{id}/documents"), "a.pdf", pdf("A", 1)).await.status(), 201);
    id
}

#[tokio::test]
async fn a_step_taken_on_a_page_is_followed_by_its_message_once() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let id = ready_draft(&app, &agency).await;
    // The publish button asks first.
    let draft = page(&agency, &format!("/tenders/{id}")).await;
    assert!(draft.contains(&format!(
        "action=\"/tenders/{id}/publish\" class=\"inline\" data-confirm=\"发布后招标公告即对外公开"
    )));
    assert_eq!(flash_of(&draft), None, "no message before anything was done");

    let r = agency.req(Method::POST, &format!("/tenders/{id}/publish")).form(&[("x", "")]).send().await.expect("send");
    assert_eq!(r.status(), 303);
    let cookie = flash_cookie(&r).expect("a flash cookie");
    assert!(
        cookie.starts_with("th_flash=tender_published;")
            && cookie.contains("Max-Age=60")
            && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let shown = page(&agency, &format!("/tenders/{id}")).await;
    assert_eq!(flash_of(&shown), Some("招标公告已发布，供应商现在可以获取招标文件。"));
    assert!(shown.contains("role=\"status\""));
    let again = page(&agency, &format!("/tenders/{id}")).await;
    assert_eq!(flash_of(&again), None, "shown once");

    // A refused step sets no message: the error page says what went wrong instead.
    let r = agency.req(Method::POST, &format!("/tenders/{id}/publish")).form(&[("x", "")]).send().await.expect("send");
    assert_eq!(r.status(), 409);
    assert_eq!(flash_cookie(&r), None);
    assert_eq!(flash_of(&page(&agency, &format!("/tenders/{id}")).await), None);

    // In English, the English text; an API call sets no message.
    assert_eq!(agency.get("/lang/en?back=/").await.status(), 303);
    let r = agency
        .req(Method::POST, &format!("/tenders/{id}/cancel"))
        .form(&[("reason", "需求变更")])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 303);
    assert_eq!(
        flash_of(&page(&agency, &format!("/tenders/{id}")).await),
        Some("The tender was cancelled; those who obtained the documents are notified.")
    );
    let other = ready_draft(&app, &agency).await;
    let r = agency.post_empty(&format!("/api/v1/tenders/{other}/publish")).await;
    assert_eq!((r.status().as_u16(), flash_cookie(&r)), (204, None));
}

#[tokio::test]
async fn the_message_cookie_only_names_a_text() {
    let app = spawn_app().await;
    let plain = reqwest::Client::new();
    let html = |cookie: &'static str| {
        let plain = plain.clone();
        let url = format!("{}/tenders", app.base);
        async move { plain.get(url).header("cookie", cookie).send().await.expect("send").text().await.expect("page") }
    };
    let shown = html("th_flash=tender_published").await;
    assert_eq!(flash_of(&shown), Some("招标公告已发布，供应商现在可以获取招标文件。"));
    for forged in ["th_flash=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "th_flash=hello", "th_flash=notice.tender_cancelled"]
    {
        let page = html(forged).await;
        assert_eq!(flash_of(&page), None, "{forged}");
        assert!(!page.contains("alert(1)") && !page.contains("hello"), "{forged} is not echoed");
    }
}

#[tokio::test]
async fn irreversible_steps_ask_first_and_destructive_ones_are_set_apart_below() {
    let app = spawn_app().await;
    // A published tender: cancelling asks (and sits in the danger zone below publishing's place).
    let agency = Client::login(&app, "agency_x").await;
    let id = crate::tenders::published_tender(&app, &agency).await;
    let html = page(&agency, &format!("/tenders/{id}")).await;
    assert!(html.contains("data-confirm=\"终止后项目不能恢复"), "cancelling asks");
    assert!(html.contains("<details class=\"danger-zone\">"));

    // A registration: approving and rejecting ask.
    let anon = Client::anonymous(&app).await;
    let r = anon
        .post(
            "/api/v1/registrations",
            &json!({"org_name": "确认测试公司", "credit_code": "91110000MA01CONF01", "size_class": "small",
                "username": "confirm_me", "display_name": "x", "password": "abc12345"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let admin = Client::login(&app, "admin").await;
    let html = page(&admin, "/admin/organisations?status=pending").await;
    assert!(html.contains("data-confirm=\"通过后该单位即可登录平台"), "approving asks");
    assert!(html.contains("data-confirm=\"驳回后不能撤销"), "rejecting asks");
    let r = admin
        .req(
            Method::POST,
            &format!("/admin/organisations/{}/reject", {
                let list = admin.get_json("/api/v1/organisations?status=pending").await;
                list["items"][0]["id"].as_str().expect("id").to_string()
            }),
        )
        .form(&[("reason", "材料不全")])
        .send()
        .await
        .expect("send");
    assert_eq!(flash_cookie(&r).as_deref().map(|c| c.starts_with("th_flash=registration_rejected;")), Some(true));
    assert_eq!(flash_of(&page(&admin, "/admin/organisations").await), Some("注册已驳回，已将原因通知申请单位。"));

    // An order the supplier has confirmed: delivering comes first, cancelling below, apart, asking.
    let centre = Client::login(&app, "centre_staff").await;
    let a = crate::mall::agreement(&app, &centre, "供应商一有限公司", &["printers"]).await;
    let printer = crate::mall::item(&centre, &a, "黑白激光打印机", "M404dn", 259_900, 289_900).await;
    let buyer = Client::login(&app, "buyer_a").await;
    let r = crate::mall::buy(&buyer, &printer, 1, None, 300_000).await;
    assert_eq!(r.status(), 201);
    let order = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    let supplier = Client::login(&app, "supplier_1").await;
    let submitted = page(&supplier, &format!("/mall/orders/{order}")).await;
    let (confirm, reject) =
        (submitted.find("data-testid=\"step-confirm\""), submitted.find("data-testid=\"step-reject\""));
    assert!(confirm.is_some() && reject.is_some() && confirm < reject, "confirming before rejecting");
    let r = supplier
        .req(Method::POST, &format!("/mall/orders/{order}/steps"))
        .form(&[("action", "confirm"), ("note", "")])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 303);
    let html = page(&supplier, &format!("/mall/orders/{order}")).await;
    assert_eq!(flash_of(&html), Some("订单已确认。"));
    let deliver = html.find("data-testid=\"step-deliver\"").expect("deliver");
    let apart = html.find("data-testid=\"danger-actions\"").expect("a danger box");
    let cancel = html.find("data-testid=\"step-cancel\"").expect("cancel");
    assert!(deliver < apart && apart < cancel, "取消订单 below 发货, set apart");
    let cancel_form = &html[cancel..html[cancel..].find("</form>").map(|e| cancel + e).expect("form end")];
    assert!(cancel_form.contains("data-confirm=\"取消后订单不能恢复") && cancel_form.contains("class=\"btn danger\""));
    let deliver_form = &html[deliver..apart];
    assert!(!deliver_form.contains("data-confirm") && deliver_form.contains("class=\"btn primary\""));
    // The buyer's side: cancelling is apart and asks too.
    let html = page(&buyer, &format!("/mall/orders/{order}")).await;
    assert!(html.find("data-testid=\"danger-actions\"") < html.find("data-testid=\"step-cancel\""));
    let r = buyer
        .req(Method::POST, &format!("/mall/orders/{order}/steps"))
        .form(&[("action", "cancel"), ("note", "预算调整")])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 303);
    assert_eq!(flash_of(&page(&buyer, &format!("/mall/orders/{order}")).await), Some("订单已取消，已通知对方。"));
}
