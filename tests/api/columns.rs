//! Typed columns: a stored value that is no value of its enum is never read as some default. The
//! request answers the coded 500 with a reference, and the log names the table, the row and the
//! value.

use crate::client::{Client, expect_error};
use crate::support::{ServerProcess, TestApp, free_port, spawn_app};
use crate::tenders::published_tender;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use tenderhall::entities::{notification, organisation, tender, user};

/// The internal row id of the tender with public id `id`.
async fn tender_row(app: &TestApp, id: &str) -> tenderhall::ids::TenderId {
    let id: uuid::Uuid = id.parse().expect("uuid");
    tender::Entity::find()
        .filter(tender::Column::PublicId.eq(id))
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("tender")
        .id
}

/// The reference id in a 500's message, `internal error (reference <uuid>)`.
fn reference(body: &Value) -> uuid::Uuid {
    let message = body["error"]["message"].as_str().expect("message");
    let r = message.strip_prefix("internal error (reference ").and_then(|m| m.strip_suffix(')'));
    r.and_then(|r| r.parse().ok()).unwrap_or_else(|| panic!("no reference in {message:?}"))
}

#[tokio::test]
async fn an_unknown_tender_state_is_a_coded_500_with_a_reference() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let id = published_tender(&app, &agency).await;
    let row = tender_row(&app, &id).await;
    let anon = Client::anonymous(&app).await;
    assert_eq!(anon.get_json(&format!("/api/v1/tenders/{id}")).await["state"], "published");

    app.state
        .db
        .execute_unprepared(&format!("UPDATE tenders SET state = 'opned' WHERE id = {row}"))
        .await
        .expect("update");

    // Not shown as a draft (hidden) or anything else: the reader, the manager and the listing
    // get the internal error with a reference, and the stored value does not leak.
    for (who, path) in [
        (&anon, format!("/api/v1/tenders/{id}")),
        (&agency, format!("/api/v1/tenders/{id}")),
        (&anon, "/api/v1/tenders".into()),
    ] {
        let body = expect_error(who.get(&path).await, 500, "internal").await;
        reference(&body);
        assert!(!body.to_string().contains("opned"), "{body}");
    }
    // The page too.
    assert_eq!(anon.get(&format!("/tenders/{id}")).await.status(), 500);

    // The error names the table, the row and the value.
    let err = tender::Entity::find_by_id(row).one(&app.state.db).await.expect_err("unknown state");
    assert_eq!(err.to_string(), format!(r#"Type Error: tenders.state of row {row}: unknown value "opned""#));

    // Put right, the tender reads again as it was.
    app.state
        .db
        .execute_unprepared(&format!("UPDATE tenders SET state = 'published' WHERE id = {row}"))
        .await
        .expect("update");
    assert_eq!(anon.get_json(&format!("/api/v1/tenders/{id}")).await["state"], "published");
}

#[tokio::test]
async fn an_unknown_user_status_names_the_users_table() {
    let app = spawn_app().await;
    let supplier = Client::login(&app, "supplier_1").await;
    assert!(supplier.get("/api/v1/me").await.status().is_success());
    let u = user::Entity::find()
        .filter(user::Column::Username.eq("supplier_1"))
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("user");
    app.state
        .db
        .execute_unprepared(&format!("UPDATE users SET status = 'gone' WHERE id = {}", u.id))
        .await
        .expect("update");
    // The session's user does not read: an internal error, not a logged-out or active user.
    let body = expect_error(supplier.get("/api/v1/me").await, 500, "internal").await;
    reference(&body);
    // The status enum is stored in organisations and users; the row says which.
    let err = user::Entity::find_by_id(u.id).one(&app.state.db).await.expect_err("unknown status");
    assert_eq!(err.to_string(), format!(r#"Type Error: users.status of row {}: unknown value "gone""#, u.id));
}

#[tokio::test]
async fn an_unknown_stored_notice_kind_or_unreadable_arguments_are_a_coded_500() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let id = published_tender(&app, &agency).await;
    let supplier = Client::login(&app, "supplier_1").await;
    assert_eq!(supplier.post_empty(&format!("/api/v1/tenders/{id}/obtain")).await.status(), 204);
    let r = agency.post(&format!("/api/v1/tenders/{id}/cancel"), &serde_json::json!({"reason": "需求变更"})).await;
    assert_eq!(r.status(), 204);
    let org = organisation::Entity::find()
        .filter(organisation::Column::Name.eq("供应商一有限公司"))
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("organisation");
    let stored = notification::Entity::find()
        .filter(notification::Column::OrgId.eq(org.id))
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("notice");
    let row = stored.id;
    assert_eq!(supplier.get_json("/api/v1/notifications").await[0]["kind"], "tender_cancelled");
    let set = |sql: String| {
        let db = app.state.db.clone();
        async move { db.execute_unprepared(&sql).await.expect("update") }
    };

    set(format!("UPDATE notifications SET kind = 'tender_canceled' WHERE id = {row}")).await;
    // The inbox is not shown without the notice or with some other text: the API and the page
    // answer the internal error with a reference, and the stored value does not leak.
    let body = expect_error(supplier.get("/api/v1/notifications").await, 500, "internal").await;
    reference(&body);
    assert!(!body.to_string().contains("tender_canceled"), "{body}");
    assert_eq!(supplier.get("/notifications").await.status(), 500);
    // Other pages, which only count the unread notices, still work.
    assert_eq!(supplier.get("/workspace").await.status(), 200);
    let err = notification::Entity::find_by_id(row).one(&app.state.db).await.expect_err("unknown kind");
    assert_eq!(
        err.to_string(),
        format!(r#"Type Error: notifications.kind of row {row}: unknown value "tender_canceled""#)
    );

    // Arguments that are not a JSON object of typed values are the same error.
    set(format!("UPDATE notifications SET kind = 'tender_cancelled', args = '{{\"title\": 1}}' WHERE id = {row}"))
        .await;
    let body = expect_error(supplier.get("/api/v1/notifications").await, 500, "internal").await;
    reference(&body);

    // Put right, the notice reads again.
    set(format!("UPDATE notifications SET args = '{}' WHERE id = {row}", stored.args.replace('\'', "''"))).await;
    let n = &supplier.get_json("/api/v1/notifications").await[0];
    assert_eq!(n["kind"], "tender_cancelled");
    assert!(n["text"].as_str().is_some_and(|t| t.contains("需求变更")), "{n}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_log_names_table_row_and_value_under_the_reference() {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let id = published_tender(&app, &agency).await;
    let row = tender_row(&app, &id).await;
    app.state
        .db
        .execute_unprepared(&format!("UPDATE tenders SET state = 'opned' WHERE id = {row}"))
        .await
        .expect("update");

    let port = free_port();
    let log = app.dir.path().join("server.log");
    let server = ServerProcess::start_logging_to(&app.process_env(port), port, app.dir.path(), &log).await;
    let r = reqwest::get(format!("{}/api/v1/tenders/{id}", server.base)).await.expect("send");
    let body = expect_error(r, 500, "internal").await;
    let reference = reference(&body).to_string();
    let wanted = format!(r#"tenders.state of row {row}: unknown value "opned""#);
    // The line is written as the error is answered; give the process a moment to flush it.
    let mut line = None;
    for _ in 0..100 {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        line = text.lines().find(|l| l.contains(&reference)).map(str::to_string);
        if line.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let line = line.unwrap_or_else(|| panic!("no log line with reference {reference}"));
    assert!(line.contains(&wanted), "{line}");
    drop(server);
}
