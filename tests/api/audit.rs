//! The audit chain: every action recorded; any change to the stored chain detected, by the API
//! and by `tenderhall audit verify`.

use crate::client::Client;
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
    crate::client::expect_error(supplier.get("/api/v1/audit/records").await, 403, "forbidden").await;
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
