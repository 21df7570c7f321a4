//! Notices are stored as a kind and arguments and rendered when they are read, in the reader's
//! language: the inbox page follows the `lang` cookie, the API the `lang` parameter, the cookie
//! or `Accept-Language`. Notices stored as texts by an older version still read.

use crate::client::Client;
use crate::mall::{agreement, buy, item};
use crate::support::spawn_app;
use crate::tenders::published_tender;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Query};
use serde_json::{Value, json};
use tenderhall::{clock::Clock, entities::organisation};
use tenderhall_migrations::{Migrator, MigratorTrait};

/// The caller's notices of `kind`, newest first, as the API lists them with `query`.
async fn notices(c: &Client, query: &str, kind: &str) -> Vec<Value> {
    let list = c.get_json(&format!("/api/v1/notifications{query}")).await;
    list.as_array().expect("list").iter().filter(|n| n["kind"] == kind).cloned().collect()
}

/// The inbox page's HTML with `"` unescaped.
async fn inbox(c: &Client) -> String {
    let r = c.get("/notifications").await;
    assert_eq!(r.status(), 200);
    r.text().await.expect("text").replace("&#34;", "\"").replace("&quot;", "\"")
}

/// Switches the client's language as the page's switch does.
async fn switch(c: &Client, lang: &str) {
    let r = c.get(&format!("/lang/{lang}?back=/notifications")).await;
    assert!(r.status().is_redirection(), "{}", r.status());
}

#[tokio::test]
async fn a_notice_reads_in_the_language_of_its_reader() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let id = published_tender(&app, &agency).await;
    let supplier = Client::login(&app, "supplier_1").await;
    assert_eq!(supplier.post_empty(&format!("/api/v1/tenders/{id}/obtain")).await.status(), 204);
    let t = agency.get_json(&format!("/api/v1/tenders/{id}")).await;
    let title = t["title"].as_str().expect("title").to_string();
    let deadline: DateTime<Utc> = t["bid_deadline"].as_str().expect("deadline").parse().expect("time");
    let moved = deadline + TimeDelta::days(7);
    let r = agency
        .post(
            &format!("/api/v1/tenders/{id}/clarifications"),
            &json!({"kind": "amendment", "body": "增加第三包。", "new_deadline": moved}),
        )
        .await;
    assert_eq!(r.status(), 201);
    // The test clock starts on 2 November 2026, 10:00 China time; the deadline was 30 days on.
    let shown = tenderhall::web::fmt_time(&moved);
    assert_eq!(shown, "2026-12-09 10:00");
    let zh = format!("项目【{title}】发布了补遗（修改），投标截止时间顺延至 2026-12-09 10:00");
    let en = format!("New amendment on \"{title}\"; the bid deadline moves to 2026-12-09 10:00 (UTC+8)");

    // Chinese by default, with the stored kind and arguments for clients that render themselves.
    let n = &notices(&supplier, "", "clarification_issued").await[0];
    assert_eq!((&n["text"], &n["lang"]), (&json!(zh), &json!("zh-CN")));
    assert_eq!((&n["message_zh"], &n["message_en"]), (&json!(zh), &json!(en)));
    assert_eq!(
        n["args"],
        json!({
            "title": {"type": "text", "value": title},
            "what": {"type": "key", "value": "clarification.kind.amendment"},
            "change": {"type": "key", "value": "notice.deadline.moved"},
            "deadline": {"type": "time", "value": moved},
        })
    );
    assert!(inbox(&supplier).await.contains(&zh));

    // The language switch turns the same notice English on the page and in the API...
    switch(&supplier, "en").await;
    let page = inbox(&supplier).await;
    assert!(page.contains(&en) && !page.contains(&zh), "{page}");
    let n = &notices(&supplier, "", "clarification_issued").await[0];
    assert_eq!((&n["text"], &n["lang"]), (&json!(en), &json!("en")));
    // ...unless the API is asked for a language...
    assert_eq!(notices(&supplier, "?lang=zh", "clarification_issued").await[0]["text"], json!(zh));
    // ...and back.
    switch(&supplier, "zh").await;
    assert!(inbox(&supplier).await.contains(&zh));
    assert_eq!(notices(&supplier, "", "clarification_issued").await[0]["text"], json!(zh));
    assert_eq!(notices(&supplier, "?lang=en", "clarification_issued").await[0]["text"], json!(en));

    // Without a cookie the API follows Accept-Language.
    let other = Client::login(&app, "supplier_1").await;
    let r = other.req(reqwest::Method::GET, "/api/v1/notifications").header("accept-language", "en-GB,en;q=0.9").send();
    let list: Value = r.await.expect("send").json().await.expect("json");
    assert_eq!(list[0]["text"], json!(en), "{list}");

    // Money is shown in 元 with two decimals in both languages: 2 × 2,599.00.
    let centre = Client::login(&app, "centre_staff").await;
    let a = agreement(&app, &centre, "供应商一有限公司", &["printers"]).await;
    let printer = item(&centre, &a, "黑白激光打印机", "M404dn", 259_900, 289_900).await;
    let buyer = Client::login(&app, "buyer_a").await;
    let r = buy(&buyer, &printer, 2, None, 600_000).await;
    assert_eq!(r.status(), 201);
    let order: Value = r.json().await.expect("json");
    let code = order["code"].as_str().expect("code");
    let zh = notices(&supplier, "", "order_submitted").await;
    assert_eq!(zh[0]["text"], json!(format!("收到新订单：{code}（5,198.00 元）")));
    assert_eq!(zh[0]["args"]["amount"], json!({"type": "fen", "value": 519_800}));
    let en = notices(&supplier, "?lang=en", "order_submitted").await;
    assert_eq!(en[0]["text"], json!(format!("New order: {code} (5,198.00 yuan)")));
}

#[tokio::test]
async fn notices_stored_as_texts_by_an_older_version_read_in_each_language() {
    let app = spawn_app().await;
    let db = &app.state.db;
    let supplier_org = organisation::Entity::find()
        .filter(organisation::Column::Name.eq("供应商一有限公司"))
        .one(db)
        .await
        .expect("query")
        .expect("organisation");
    // Back to the schema before notices had arguments, a notice is stored as two texts (with
    // the characters that JSON must escape)...
    Migrator::down(db, Some(crate::support::migrations_from("m20261202_000001_notice_args")))
        .await
        .expect("migrate down");
    let zh = "项目【\"旧\"项目】发布了答疑\n第二行 \\ 完";
    let en = "\"Old\" tender has an answer\\ and a tab\t.";
    let insert = Query::insert()
        .into_table("notifications")
        .columns(["public_id", "org_id", "kind", "message_zh", "message_en", "link", "created_at"])
        .values_panic([
            uuid::Uuid::new_v4().into(),
            supplier_org.id.into(),
            "clarification_issued".into(),
            zh.into(),
            en.into(),
            "/tenders".into(),
            app.clock.now().into(),
        ])
        .to_owned();
    db.execute(&insert).await.expect("insert an old notice");
    // ...and after the upgrade it reads in each language as it was stored.
    Migrator::up(db, None).await.expect("migrate up");
    let supplier = Client::login(&app, "supplier_1").await;
    let n = &notices(&supplier, "", "legacy").await[0];
    assert_eq!((&n["text"], &n["message_zh"], &n["message_en"]), (&json!(zh), &json!(zh), &json!(en)));
    assert_eq!(n["args"], json!({"text": {"type": "both", "value": {"zh": zh, "en": en}}}));
    assert_eq!(n["link"], "/tenders");
    assert_eq!(notices(&supplier, "?lang=en", "legacy").await[0]["text"], json!(en));
    assert!(inbox(&supplier).await.contains("发布了答疑"));
    switch(&supplier, "en").await;
    assert!(inbox(&supplier).await.contains("\"Old\" tender has an answer"));
}
