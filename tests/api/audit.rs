//! The audit chain: every action recorded; any change to the stored chain detected, by the API
//! and by `tenderhall audit verify`.

use crate::client::{Client, expect_error};
use crate::support::{TestApp, spawn_app};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};
use serde_json::Value;
use tenderhall::entities::audit_record;

async fn busy_app() -> (TestApp, String) {
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let id = crate::tenders::published_tender(&app, &agency).await;
    let supplier = Client::login(&app, "supplier_1").await;
    assert_eq!(supplier.post_empty(&format!("/api/v1/tenders/{id}/obtain")).await.status(), 204);
    (app, id)
}

async fn verify(app: &TestApp) -> Value {
    Client::login(app, "supervisor").await.get_json("/api/v1/audit/verify").await
}

fn cli_verify(app: &TestApp) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tenderhall"))
        .args(["audit", "verify", "--key-dir"])
        .arg(&app.state.settings.storage.key_dir)
        .env("TENDERHALL_DATABASE__URL", &app.state.settings.database.url)
        .env("RUST_LOG", "error")
        .current_dir(app.dir.path())
        .output()
        .expect("run tenderhall");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

async fn exec(app: &TestApp, sql: &str) {
    app.state.db.execute_unprepared(sql).await.expect(sql);
}

#[tokio::test]
async fn every_action_is_recorded_and_the_intact_chain_verifies() {
    let (app, id) = busy_app().await;
    let v = verify(&app).await;
    assert_eq!(v["problems"].as_array().map(Vec::len), Some(0), "{v}");
    assert!(v["checkpoints"].as_i64().unwrap_or(0) >= 1, "checkpoints are signed every 10 records in tests: {v}");
    let sup = Client::login(&app, "supervisor").await;
    let records = sup.get_json(&format!("/api/v1/audit/records?object={id}")).await;
    let actions: Vec<&str> = records.as_array().expect("list").iter().filter_map(|r| r["action"].as_str()).collect();
    for want in ["tender.create", "tender.document_upload", "tender.publish", "tender.documents_obtained"] {
        assert!(actions.contains(&want), "{want} in {actions:?}");
    }
    let publish = records.as_array().expect("list").iter().find(|r| r["action"] == "tender.publish").expect("publish");
    assert!(publish["actor"].as_str().is_some_and(|a| a.contains("agency_x")));
    // Suppliers and agencies may not read the trail.
    let supplier = Client::login(&app, "supplier_1").await;
    expect_error(supplier.get("/api/v1/audit/records").await, 403, "forbidden").await;
    let (ok, out) = cli_verify(&app);
    assert!(ok, "{out}");
    assert!(out.contains("OK"), "{out}");
}

#[tokio::test]
async fn an_altered_record_is_named() {
    let (app, _) = busy_app().await;
    exec(&app, "UPDATE audit_records SET details = '{\"title\":\"forged\"}' WHERE seq = 5").await;
    let v = verify(&app).await;
    assert_eq!(v["problems"][0]["seq"], 5, "{v}");
    let (ok, out) = cli_verify(&app);
    assert!(!ok, "verify must fail: {out}");
    assert!(out.contains("first bad record is #5"), "{out}");
}

#[tokio::test]
async fn an_altered_actor_is_caught_even_with_details_intact() {
    let (app, _) = busy_app().await;
    exec(&app, "UPDATE audit_records SET actor_label = 'somebody else' WHERE seq = 7").await;
    let (ok, out) = cli_verify(&app);
    assert!(!ok);
    assert!(out.contains("first bad record is #7"), "{out}");
}

#[tokio::test]
async fn a_deleted_record_is_named() {
    let (app, _) = busy_app().await;
    exec(&app, "DELETE FROM audit_records WHERE seq = 12").await;
    let (ok, out) = cli_verify(&app);
    assert!(!ok);
    assert!(out.contains("first bad record is #12"), "{out}");
}

#[tokio::test]
async fn reordered_records_are_caught() {
    let (app, _) = busy_app().await;
    exec(&app, "UPDATE audit_records SET seq = -1 WHERE seq = 3").await;
    exec(&app, "UPDATE audit_records SET seq = 3 WHERE seq = 4").await;
    exec(&app, "UPDATE audit_records SET seq = 4 WHERE seq = -1").await;
    let (ok, out) = cli_verify(&app);
    assert!(!ok);
    assert!(out.contains("first bad record is #3"), "{out}");
}

#[tokio::test]
async fn a_rewritten_chain_is_caught_by_the_signed_checkpoints() {
    // Somebody with database access alters record 2 and recomputes every hash after it, so the
    // chain is internally consistent. Only the platform's signatures can tell.
    let (app, _) = busy_app().await;
    let mut records =
        audit_record::Entity::find().order_by_asc(audit_record::Column::Seq).all(&app.state.db).await.expect("records");
    let mut prev = tenderhall::audit::service::GENESIS.to_string();
    for r in records.iter_mut() {
        if r.seq == 2 {
            r.details = "{\"forged\":true}".into();
            r.change_digest = tenderhall::audit::service::details_digest(&r.details);
        }
        r.prev_hash = prev.clone();
        r.hash = tenderhall::audit::service::record_hash(r);
        prev = r.hash.clone();
        exec(&app, &format!(
            "UPDATE audit_records SET details = '{}', change_digest = '{}', prev_hash = '{}', hash = '{}' WHERE seq = {}",
            r.details.replace('\'', "''"), r.change_digest, r.prev_hash, r.hash, r.seq
        )).await;
    }
    exec(&app, &format!("UPDATE audit_head SET hash = '{prev}' WHERE id = 1")).await;
    let (ok, out) = cli_verify(&app);
    assert!(!ok, "{out}");
    assert!(out.contains("chain rewritten"), "{out}");
    // And a checkpoint signed by another key is not accepted either.
    let other = tempfile::tempdir().expect("dir");
    let _ = tenderhall::keys::PlatformKey::load_or_create(other.path()).expect("key");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tenderhall"))
        .args(["audit", "verify", "--key-dir"])
        .arg(other.path())
        .env("TENDERHALL_DATABASE__URL", &app.state.settings.database.url)
        .current_dir(app.dir.path())
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("bad signature or an unknown key"));
}

#[tokio::test]
async fn the_server_refuses_to_start_without_the_key_that_signed_its_checkpoints() {
    use tenderhall::app::{AppState, StartError};
    let (app, _) = busy_app().await;
    let clock: tenderhall::clock::SharedClock = app.clock.clone();
    let mut settings = (*app.state.settings).clone();
    let elsewhere = tempfile::tempdir().expect("dir");
    settings.storage.key_dir = elsewhere.path().join("keys");
    let err = AppState::build(settings.clone(), clock.clone()).await.expect_err("must refuse");
    assert!(matches!(err, StartError::KeyMismatch { .. }), "{err}");
    assert!(!settings.storage.key_dir.join(tenderhall::keys::KEY_FILE).exists(), "no new key was made");
    let _ = tenderhall::keys::PlatformKey::load_or_create(&settings.storage.key_dir).expect("another key");
    let err = AppState::build(settings, clock).await.expect_err("must refuse another key");
    assert!(err.to_string().contains("holds key"), "{err}");
}

/// The records a supervisor lists with `query` (each page's `limit` as asked).
async fn listed(sup: &Client, query: &str) -> Vec<Value> {
    sup.get_json(&format!("/api/v1/audit/records?{query}")).await.as_array().expect("list").clone()
}

fn actions(records: &[Value]) -> Vec<&str> {
    records.iter().filter_map(|r| r["action"].as_str()).collect()
}

#[tokio::test]
async fn supervisors_filter_the_trail_by_tender_organisation_user_action_and_time() {
    use chrono::TimeDelta;
    let app = spawn_app().await;
    let agency = Client::login(&app, "agency_x").await;
    let tender = crate::tenders::published_tender(&app, &agency).await;
    let other = crate::tenders::create_draft(&app, &Client::login(&app, "agency_y").await, 30).await;
    // Two days later a supplier obtains the documents and reserves a (sealed) bid.
    app.clock.advance(TimeDelta::days(2));
    let supplier = Client::login(&app, "supplier_1").await;
    assert_eq!(supplier.post_empty(&format!("/api/v1/tenders/{tender}/obtain")).await.status(), 204);
    let t = supplier.get_json(&format!("/api/v1/tenders/{tender}")).await;
    let lot = t["lots"][0]["id"].as_str().expect("lot");
    assert_eq!(supplier.post_empty(&format!("/api/v1/tenders/{tender}/lots/{lot}/bids")).await.status(), 201);
    let sup = Client::login(&app, "supervisor").await;

    // By tender: its public id or its code; nothing about the other tender.
    let by_id = listed(&sup, &format!("tender={tender}")).await;
    assert!(by_id.iter().all(|r| r["object_type"] == "tender" && r["object_id"] == tender.as_str()), "{by_id:?}");
    for want in ["tender.create", "tender.document_upload", "tender.publish", "tender.documents_obtained"] {
        assert!(actions(&by_id).contains(&want), "{want} in {:?}", actions(&by_id));
    }
    let code = t["code"].as_str().expect("code");
    assert_eq!(listed(&sup, &format!("tender={code}")).await, by_id, "the code finds the same records");
    let draft = listed(&sup, &format!("tender={other}")).await;
    assert_eq!(actions(&draft), ["tender.create"]);
    let e = expect_error(sup.get("/api/v1/audit/records?tender=TH1999-00001").await, 422, "validation_failed").await;
    assert_eq!(e["error"]["fields"][0], serde_json::json!({"field": "tender", "code": "unknown"}));

    // By organisation: by id, credit code or name; what its users did and what was done to it.
    let x = crate::support::org_id(&app, "X招标代理").await.to_string();
    let by_org = listed(&sup, &format!("org={x}")).await;
    assert!(!by_org.is_empty());
    assert!(
        by_org
            .iter()
            .all(|r| r["actor_org"] == x.as_str()
                || (r["object_type"] == "organisation" && r["object_id"] == x.as_str())),
        "{by_org:?}"
    );
    assert!(actions(&by_org).contains(&"organisation.create"), "the fixture created it");
    assert!(actions(&by_org).contains(&"tender.publish"));
    assert!(!by_org.iter().any(|r| r["object_id"] == other.as_str()), "agency Y's draft is not X's");
    assert_eq!(listed(&sup, "org=X招标代理").await, by_org, "the name finds the same records");
    expect_error(sup.get("/api/v1/audit/records?org=没有这个单位").await, 422, "validation_failed").await;

    // By user: by user name or id; the sealed bid's records never show.
    let by_user = listed(&sup, "user=supplier_1").await;
    let seen = actions(&by_user);
    assert!(seen.contains(&"session.login") && seen.contains(&"tender.documents_obtained"), "{seen:?}");
    assert!(!seen.iter().any(|a| a.starts_with("bid.")), "records about bids stay sealed: {seen:?}");
    let me = supplier.get_json("/api/v1/me").await;
    let uid = me["user_public_id"].as_str().expect("id");
    assert!(by_user.iter().all(|r| r["actor_user"] == uid || r["object_id"] == uid), "{by_user:?}");
    assert_eq!(listed(&sup, &format!("user={uid}")).await, by_user);
    assert!(listed(&sup, "action=bid.reserve").await.is_empty(), "not even when asked for by action");
    expect_error(sup.get("/api/v1/audit/records?user=nobody_here").await, 422, "validation_failed").await;

    // By action, and filters combine.
    let published = listed(&sup, "action=tender.publish").await;
    assert_eq!(actions(&published), ["tender.publish"]);
    assert_eq!(listed(&sup, &format!("action=tender.publish&org={x}")).await, published);
    assert!(listed(&sup, "action=tender.publish&user=supplier_1").await.is_empty());
    let e = expect_error(sup.get("/api/v1/audit/records?action=tender.bribe").await, 422, "validation_failed").await;
    assert_eq!(e["error"]["fields"][0]["field"], "action");

    // By time: China Standard Time days, minutes or RFC 3339; the bounds are included.
    let start = crate::support::t0();
    let later = listed(&sup, "from=2026-11-04").await;
    assert!(!later.is_empty() && actions(&later).contains(&"tender.documents_obtained"));
    assert!(later.iter().all(|r| r["at"].as_str().expect("at") >= "2026-11-03T16:00:00Z"), "{later:?}");
    let first_day = listed(&sup, "to=2026-11-02").await;
    assert!(
        actions(&first_day).contains(&"tender.publish") && !actions(&first_day).contains(&"tender.documents_obtained")
    );
    let exactly = start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let at_start = listed(&sup, &format!("from={exactly}&to={exactly}")).await;
    assert!(!at_start.is_empty() && at_start.len() == first_day.len(), "everything of the first day happened at t0");
    assert_eq!(
        listed(&sup, "from=2026-11-02T10:00&to=2026-11-02T10:00").await.len(),
        first_day.len(),
        "the whole minute"
    );
    assert!(listed(&sup, "from=2026-11-02T10:01&to=2026-11-03").await.is_empty());
    let e =
        expect_error(sup.get("/api/v1/audit/records?from=2026-11-05&to=2026-11-04").await, 422, "validation_failed")
            .await;
    assert_eq!(e["error"]["fields"][0], serde_json::json!({"field": "to", "code": "before_start"}));
    let e = expect_error(sup.get("/api/v1/audit/records?from=yesterday").await, 422, "validation_failed").await;
    assert_eq!(e["error"]["fields"][0], serde_json::json!({"field": "from", "code": "invalid"}));
    let e = expect_error(sup.get("/api/v1/audit/records?to=0100-01-01").await, 422, "validation_failed").await;
    assert_eq!(e["error"]["fields"][0], serde_json::json!({"field": "to", "code": "out_of_range"}));

    // Only supervisors and administrators read it, with or without filters.
    assert_eq!(
        Client::login(&app, "admin")
            .await
            .get_json("/api/v1/audit/records?action=tender.publish")
            .await
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    for user in ["agency_x", "buyer_a", "supplier_1"] {
        let c = Client::login(&app, user).await;
        expect_error(c.get(&format!("/api/v1/audit/records?tender={tender}")).await, 403, "forbidden").await;
        crate::client::expect_page_error(c.get("/audit?action=tender.publish").await, 403, "forbidden").await;
    }
    expect_error(Client::anonymous(&app).await.get("/api/v1/audit/records").await, 401, "login_required").await;
}

#[tokio::test]
async fn the_trail_pages_back_to_its_first_record() {
    let (app, _) = busy_app().await;
    let sup = Client::login(&app, "supervisor").await;
    let total = audit_record::Entity::find().all(&app.state.db).await.expect("records").len();
    assert!(total > 12, "enough records for several pages: {total}");
    // Older pages, five at a time, until there are none.
    let mut seqs = Vec::new();
    let mut query = "limit=5".to_string();
    loop {
        let page = listed(&sup, &query).await;
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 5);
        seqs.extend(page.iter().map(|r| r["seq"].as_i64().expect("seq")));
        query = format!("limit=5&before={}", seqs.last().expect("seq"));
    }
    assert_eq!(seqs, (1..=total as i64).rev().collect::<Vec<_>>(), "every record once, newest first, down to #1");
    // The oldest page, and the one after it, straight away.
    let oldest: Vec<i64> =
        listed(&sup, "limit=5&after=0").await.iter().map(|r| r["seq"].as_i64().expect("seq")).collect();
    assert_eq!(oldest, [5, 4, 3, 2, 1]);
    let next: Vec<i64> =
        listed(&sup, "limit=5&after=5").await.iter().map(|r| r["seq"].as_i64().expect("seq")).collect();
    assert_eq!(next, [10, 9, 8, 7, 6]);
    assert_eq!(listed(&sup, "").await.len(), total.min(100), "100 by default");
    for bad in ["limit=0", "limit=501"] {
        let e = expect_error(sup.get(&format!("/api/v1/audit/records?{bad}")).await, 422, "validation_failed").await;
        assert_eq!(e["error"]["fields"][0], serde_json::json!({"field": "limit", "code": "out_of_range"}));
    }

    // The page pages the same way, with labels in the reader's language.
    let page = sup.get("/audit?action=tender.publish").await.text().await.expect("page");
    assert!(page.contains("发布项目") && page.contains("title=\"tender.publish\""), "labelled: {page}");
    let mut link = "/audit?limit=5".to_string();
    let mut pages = 0;
    loop {
        let html = sup.get(&link).await.text().await.expect("page");
        pages += 1;
        let Some(before) = html.split("data-testid=\"page-older\"").next().filter(|_| html.contains("page-older"))
        else {
            assert!(html.contains("data-seq=\"1\""), "the last page holds the first record");
            assert!(!html.contains("data-testid=\"page-oldest\""));
            assert!(html.contains("data-testid=\"page-newest\"") && html.contains("data-testid=\"page-newer\""));
            break;
        };
        link = before
            .rsplit("href=\"")
            .next()
            .and_then(|h| h.split('"').next())
            .expect("href")
            .replace("&#38;", "&")
            .replace("&amp;", "&");
        assert!(link.contains("limit=5"), "the page size stays: {link}");
        assert!(pages < 50, "paging ends");
    }
    assert_eq!(pages, total.div_ceil(5), "one page per five records");
    let oldest = sup.get("/audit?limit=5&after=0").await.text().await.expect("page");
    assert!(
        oldest.contains("data-seq=\"1\"") && oldest.contains("data-seq=\"5\"") && !oldest.contains("data-seq=\"6\"")
    );
    assert!(oldest.contains("data-testid=\"page-newer\""));
    // In English, the labels are English.
    assert_eq!(sup.get("/lang/en?back=/audit").await.status(), 303);
    let page = sup.get("/audit?action=tender.publish").await.text().await.expect("page");
    assert!(page.contains("Tender published") && !page.contains("发布项目"), "{page}");
}
