//! A live room's websocket (the opening hall) lives only as long as its session, opens only from
//! the platform's own pages, and takes commands no faster than the participant's allowance.

use crate::client::expect_error;
use crate::opening::{Login, Socket, cmd, connect, hall, hall_with, next, ok, release, reply};
use crate::support::{Options, TestApp, spawn_app_with};
use chrono::TimeDelta;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

async fn send(ws: &mut Socket, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.expect("send");
}

/// Waits (up to `secs`) for the connection to end, past clock frames; false if anything else
/// arrives first.
async fn ends(ws: &mut Socket, secs: u64) -> Result<(), String> {
    let waited = tokio::time::timeout(Duration::from_secs(secs), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(()),
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap_or(Value::Null);
                    if v["type"] != "clock" {
                        return Err(format!("a frame after the end: {v}"));
                    }
                }
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    waited.unwrap_or_else(|_| Err("still open".into()))
}

/// The connection says its session ended and closes.
async fn ended_by_the_server(ws: &mut Socket, secs: u64) {
    let f = tokio::time::timeout(Duration::from_secs(secs), next(ws)).await.expect("told in time");
    assert_eq!((f["type"].as_str(), f["code"].as_str()), (Some("error"), Some("login_required")), "{f}");
    ends(ws, 5).await.expect("closed after login_required");
}

async fn opened(ws: &mut Socket) {
    assert_eq!(next(ws).await["type"], "hello");
    assert_eq!(next(ws).await["event"]["kind"], "opened");
}

#[tokio::test]
async fn logging_out_ends_the_hall_connections_of_that_session_and_no_other() {
    let (app, tender, host, _bidders) = hall(2).await;
    let first = Login::new(&app.base, "supplier_1").await;
    let mut ws = connect(&app.base, &first.cookies, &tender, 0, None).await.expect("socket");
    opened(&mut ws).await;
    // The same user in another browser: a session of its own.
    let second = Login::new(&app.base, "supplier_1").await;
    let mut other = connect(&app.base, &second.cookies, &tender, 0, None).await.expect("socket");
    opened(&mut other).await;

    let r = first.req(reqwest::Method::DELETE, format!("{}/api/v1/session", app.base)).send().await.expect("logout");
    assert_eq!(r.status(), 204);
    ended_by_the_server(&mut ws, 5).await;

    // What happens next reaches the session still logged in, and nothing reaches the ended one.
    ok(&host, &tender, json!({"op": "start_decryption"})).await;
    assert_eq!(next(&mut other).await["event"]["kind"], "decryption_started");
    let _ = ws.send(Message::Text(json!({"op": "sign_in"}).to_string().into())).await;
    assert!(ws.next().await.is_none_or(|m| m.is_err()), "nothing more on the ended connection");
    // And the ended session cannot open another.
    assert!(connect(&app.base, &first.cookies, &tender, 0, None).await.is_err());
}

#[tokio::test]
async fn a_password_change_a_disabled_account_or_an_expired_session_ends_open_hall_connections() {
    // Connections also check their session every second here: the account is disabled by the
    // command-line tool, another process, whose change this server learns from the database.
    let (app, tender, _host, _bidders) = hall_with(2, Box::new(|s| s.live.session_check_seconds = 1)).await;

    // A password change ends every session of the user, and so their connections.
    let s1 = Login::new(&app.base, "supplier_1").await;
    let mut ws1 = connect(&app.base, &s1.cookies, &tender, 0, None).await.expect("socket");
    opened(&mut ws1).await;
    let r = s1
        .req(reqwest::Method::POST, format!("{}/api/v1/me/password", app.base))
        .json(&json!({"current_password": crate::support::PASSWORD, "new_password": "Another-pass-2026"}))
        .send()
        .await
        .expect("change");
    assert_eq!(r.status(), 204);
    ended_by_the_server(&mut ws1, 5).await;

    // Disabled by the operator, from another process.
    let s2 = Login::new(&app.base, "supplier_2").await;
    let mut ws2 = connect(&app.base, &s2.cookies, &tender, 0, None).await.expect("socket");
    opened(&mut ws2).await;
    let out = crate::accounts::cli(&app, &["accounts", "disable", "supplier_2"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    ended_by_the_server(&mut ws2, 5).await;

    // A session that expires by the platform's clock.
    let s3 = Login::new(&app.base, "supplier_3").await;
    let mut ws3 = connect(&app.base, &s3.cookies, &tender, 0, None).await.expect("socket");
    opened(&mut ws3).await;
    app.clock.advance(TimeDelta::hours(app.state.settings.security.session_hours) + TimeDelta::seconds(1));
    ended_by_the_server(&mut ws3, 5).await;

    // None of them hears of what happens next.
    let host = crate::client::Client::login(&app, "agency_x").await;
    ok(&host, &tender, json!({"op": "start_decryption"})).await;
    for ws in [&mut ws1, &mut ws2, &mut ws3] {
        assert!(ws.next().await.is_none_or(|m| m.is_err()), "nothing more on an ended connection");
    }
}

#[tokio::test]
async fn a_command_on_a_connection_whose_session_ended_elsewhere_is_refused() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use tenderhall::entities::{session, user};
    let (app, tender, host, _bidders) = hall(2).await;
    let s3 = Login::new(&app.base, "supplier_3").await;
    let mut ws = connect(&app.base, &s3.cookies, &tender, 0, None).await.expect("socket");
    opened(&mut ws).await;
    // The session ends without this process being told (as another process on SQLite would end
    // it), long before the next periodic check.
    let u = user::Entity::find().filter(user::Column::Username.eq("supplier_3")).one(&app.state.db).await;
    let u = u.expect("query").expect("user");
    session::Entity::delete_many().filter(session::Column::UserId.eq(u.id)).exec(&app.state.db).await.expect("delete");
    send(&mut ws, json!({"op": "sign_in"})).await;
    ended_by_the_server(&mut ws, 5).await;
    // The command was not carried out.
    let events = crate::opening::events(&host, &tender, 0).await;
    assert!(!events.iter().any(|e| e["kind"] == "signed_in"), "{events:?}");
}

/// The status and error code of a refused handshake.
fn refused(r: Result<Socket, WsError>) -> (u16, String) {
    match r {
        Err(WsError::Http(resp)) => {
            let body: Value =
                resp.body().as_deref().and_then(|b| serde_json::from_slice(b).ok()).unwrap_or(Value::Null);
            (resp.status().as_u16(), body["error"]["code"].as_str().unwrap_or("").to_string())
        }
        Err(e) => panic!("not an HTTP refusal: {e}"),
        Ok(_) => panic!("upgraded"),
    }
}

#[tokio::test]
async fn a_hall_socket_opens_only_from_the_platforms_own_pages() {
    let (app, tender, _host, _bidders) = hall(2).await;
    let s1 = Login::new(&app.base, "supplier_1").await;
    // Another site's page, with the participant's cookies: refused before the upgrade.
    for origin in ["https://evil.example", "null", "http://127.0.0.1:1"] {
        let r = connect(&app.base, &s1.cookies, &tender, 0, Some(origin)).await;
        assert_eq!(refused(r), (403, "origin_not_allowed".to_string()), "{origin}");
    }
    // The platform's own page, and a program that sends no Origin.
    let mut ws = connect(&app.base, &s1.cookies, &tender, 0, Some(&app.base)).await.expect("same origin");
    opened(&mut ws).await;
    let mut ws = connect(&app.base, &s1.cookies, &tender, 0, None).await.expect("a program");
    opened(&mut ws).await;
}

#[tokio::test]
async fn the_hall_socket_refuses_what_is_not_a_handshake_with_a_code() {
    let (app, tender, _host, _bidders) = hall(2).await;
    let s1 = Login::new(&app.base, "supplier_1").await;
    let http = reqwest::Client::new();
    let get = |after: &str, cookies: Option<&str>| {
        let mut r = http.get(format!("{}/api/v1/tenders/{tender}/opening/ws?after={after}", app.base));
        if let Some(c) = cookies {
            r = r.header("cookie", c);
        }
        r.send()
    };
    let code = |r: reqwest::Response| async move {
        let status = r.status().as_u16();
        let v: Value = r.json().await.expect("an error body");
        (status, v["error"]["code"].as_str().unwrap_or("").to_string())
    };
    // A plain request from a participant: not a handshake.
    assert_eq!(
        code(get("0", Some(s1.cookies.as_str())).await.expect("send")).await,
        (426, "websocket_required".into())
    );
    // Without a session, or with a number that is none, the usual refusals come first.
    assert_eq!(code(get("0", None).await.expect("send")).await, (401, "login_required".into()));
    assert_eq!(code(get("abc", Some(s1.cookies.as_str())).await.expect("send")).await, (400, "query_invalid".into()));
    // A handshake still opens.
    let mut ws = connect(&app.base, &s1.cookies, &tender, 0, None).await.expect("a handshake");
    opened(&mut ws).await;
}

#[tokio::test]
async fn with_a_public_address_only_its_origin_may_open_a_socket() {
    let app: TestApp = spawn_app_with(Options {
        settings: Some(Box::new(|s| s.server.public_url = Some("https://Tender.Example/".into()))),
        ..Default::default()
    })
    .await;
    let s = Login::new(&app.base, "supplier_1").await;
    let nowhere = uuid::Uuid::new_v4().to_string();
    // The public origin passes the origin check (and then finds no hall: 404).
    let r = connect(&app.base, &s.cookies, &nowhere, 0, Some("https://tender.example")).await;
    assert_eq!(refused(r), (404, "not_found".to_string()));
    // The server's own host is not the public address.
    for origin in [app.base.as_str(), "http://tender.example", "https://tender.example:8443"] {
        let r = connect(&app.base, &s.cookies, &nowhere, 0, Some(origin)).await;
        assert_eq!(refused(r), (403, "origin_not_allowed".to_string()), "{origin}");
    }
}

#[tokio::test]
async fn hall_commands_beyond_the_allowance_are_refused_until_it_refills() {
    // 20 commands at once, then one a second; an objection costs 10.
    let (app, tender, host, bidders) = hall_with(
        2,
        Box::new(|s| {
            s.live.command_burst = 20;
            s.live.commands_per_minute = 60;
        }),
    )
    .await;
    let mut ws = crate::opening::socket(&app, "supplier_1", &tender, 0).await;
    opened(&mut ws).await;
    for _ in 0..20 {
        send(&mut ws, json!({"op": "sign_in"})).await;
        assert_eq!(reply(&mut ws).await["type"], "ok");
    }
    send(&mut ws, json!({"op": "sign_in"})).await;
    let refusal = reply(&mut ws).await;
    assert_eq!(
        (refusal["code"].as_str(), refusal["retry_after"].as_u64()),
        (Some("rate_limited"), Some(1)),
        "{refusal}"
    );
    // The HTTP endpoint draws on the same allowance.
    let s1 = &bidders[0].0.client;
    let r = cmd(s1, &tender, json!({"op": "sign_in"})).await;
    assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    let body = expect_error(r, 429, "rate_limited").await;
    assert_eq!(body["error"]["retry_after"], 1);
    // Others are not held back, and after a second the participant may go on.
    ok(&bidders[1].0.client, &tender, json!({"op": "sign_in"})).await;
    app.clock.advance(TimeDelta::seconds(1));
    send(&mut ws, json!({"op": "sign_in"})).await;
    assert_eq!(reply(&mut ws).await["type"], "ok");

    // To the objections, once the allowance has refilled.
    app.clock.advance(TimeDelta::seconds(20));
    ok(&host, &tender, json!({"op": "start_decryption"})).await;
    for (b, s) in &bidders[..2] {
        ok(&b.client, &tender, release(s)).await;
    }
    app.clock.advance(TimeDelta::minutes(31));
    ok(&host, &tender, json!({"op": "advance"})).await;
    let objector = &bidders[1].0.client;
    for i in 0..2 {
        ok(objector, &tender, json!({"op": "object", "text": format!("异议 {i}")})).await;
    }
    let body =
        expect_error(cmd(objector, &tender, json!({"op": "object", "text": "异议 2"})).await, 429, "rate_limited")
            .await;
    assert_eq!(body["error"]["retry_after"], 10, "{body}");
    app.clock.advance(TimeDelta::seconds(10));
    ok(objector, &tender, json!({"op": "object", "text": "异议 3"})).await;
    let objections =
        crate::opening::events(&host, &tender, 0).await.into_iter().filter(|e| e["kind"] == "objection").count();
    assert_eq!(objections, 3, "the refused objection was not recorded");
}
