//! Federation between two separately-run deployments: two real `tenderhall serve` processes,
//! each with its own database and key directory (SQLite and SQLite; with
//! `TENDERHALL_TEST_DATABASE_URL`, the host on PostgreSQL and the guest on SQLite), linked over
//! mutually authenticated TLS on loopback.

use crate::support::federation::{
    Client, Convened, DEMO_PASSWORD, Deployment, advance, certificates, convene_with_guest, guest_events_until,
    in_phase, scores, session_pair, session_pair_with, settled, to_scoring,
};
use crate::support::{Ledger, payment_service};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tenderhall::{
    config::{FederationSettings, PeerSettings},
    entities::{audit_record, expert, peer_message, tender},
    federation::{self, Direction, Identity, link::Frame},
    tenders::model::TenderState,
};
use tokio_tungstenite::tungstenite::{Message, protocol::WebSocketConfig};

/// A host (PostgreSQL when the suite runs on it) and a guest (SQLite), configured as each
/// other's peers, both running.
async fn pair() -> (Deployment, Deployment, PathBuf) {
    let certs = certificates(&["host", "guest", "third"]);
    let mut host = Deployment::seeded("host", false).await;
    let mut guest = Deployment::seeded("guest", true).await;
    host.configure(&certs, &[&guest], tenderhall::demo::experts::HOST_SITE);
    guest.configure(&certs, &[&host], tenderhall::demo::experts::HOST_SITE);
    host.start().await;
    guest.start().await;
    (host, guest, certs)
}

/// A published tender of the host's demo data.
async fn a_tender(host: &Deployment) -> uuid::Uuid {
    tender::Entity::find()
        .filter(tender::Column::State.ne(TenderState::Draft))
        .filter(tender::Column::State.ne(TenderState::Cancelled))
        .order_by_asc(tender::Column::Id)
        .one(&host.app.state.db)
        .await
        .expect("db")
        .expect("a published demo tender")
        .public_id
}

fn ask_body(tender: uuid::Uuid, count: u32) -> Value {
    json!({
        "tender": tender, "peer": "guest", "groups": [{"specialty": "B04", "count": count}], "reserve": 1,
        "session_at": chrono::Utc::now() + chrono::TimeDelta::days(10), "duration_minutes": 180,
    })
}

/// Every message between the two, in both directions, numbered without a gap or a repeat
/// and recorded once in each side's audit chain.
async fn exchanged_once(d: &Deployment, peer: &str) -> (usize, usize) {
    let db = &d.app.state.db;
    let mut counts = (0, 0);
    for (dir, action) in [(Direction::Out, "peer.send"), (Direction::In, "peer.receive")] {
        let rows = peer_message::Entity::find()
            .filter(peer_message::Column::Peer.eq(peer))
            .filter(peer_message::Column::Direction.eq(dir))
            .order_by_asc(peer_message::Column::Seq)
            .all(db)
            .await
            .expect("db");
        let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, (1..=rows.len() as i64).collect::<Vec<_>>(), "{} {dir:?}: numbered 1, 2, …", d.name);
        let audited = audit_record::Entity::find()
            .filter(audit_record::Column::Action.eq(action))
            .filter(audit_record::Column::ObjectId.eq(peer))
            .count(db)
            .await
            .expect("db");
        assert_eq!(audited as usize, rows.len(), "{}: one {action} record per message", d.name);
        match dir {
            Direction::Out => counts.0 = rows.len(),
            Direction::In => counts.1 = rows.len(),
        }
    }
    counts
}

#[tokio::test]
async fn a_guest_draws_from_its_own_pool_and_the_host_verifies_it() {
    let (host, guest, _certs) = pair().await;
    let centre = host.login("centre").await;
    let tender = a_tender(&host).await;

    // The refusals first: a peer nobody listed, the wrong role, a group of nothing.
    let mut bad = ask_body(tender, 2);
    bad["peer"] = json!("nobody");
    let r = centre.post("/api/v1/federation/draws", &bad).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.expect("json")["error"]["fields"][0]["code"], "unknown_peer");
    let agency = host.login("agency").await;
    let r = agency.post("/api/v1/federation/draws", &ask_body(tender, 2)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = centre.post("/api/v1/federation/draws", &ask_body(tender, 0)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let r = centre.post("/api/v1/federation/draws", &ask_body(tender, 2)).await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    let v = settled(&centre, &id).await;
    assert_eq!(v["state"], "drawn", "{v}");
    assert_eq!(v["side"], "host");
    let picks = v["picks"].as_array().expect("picks");
    assert_eq!(picks.len(), 3, "two members and one reserve: {v}");
    assert_eq!(picks.iter().filter(|p| p["role"] == "member").count(), 2);
    assert!(picks.iter().all(|p| p["name"].is_null()), "the host sees pseudonyms only: {v}");

    // The guest's staff see the same draw with the names behind the pseudonyms.
    let centre_guest = guest.login("centre").await;
    let list = centre_guest.get_json("/api/v1/federation/draws").await;
    let theirs =
        list.as_array().expect("list").iter().find(|d| d["request"] == v["request"]).expect("the guest's draw");
    assert_eq!(theirs["side"], "guest");
    assert_eq!(theirs["state"], "drawn");
    let guest_picks = theirs["picks"].as_array().expect("picks");
    assert_eq!(
        guest_picks.iter().map(|p| p["expert"].clone()).collect::<Vec<_>>(),
        picks.iter().map(|p| p["expert"].clone()).collect::<Vec<_>>(),
        "the same pseudonyms on both sides"
    );
    let names: Vec<String> = guest_picks.iter().map(|p| p["name"].as_str().expect("a name").to_string()).collect();

    // No name and no id of the guest's experts crossed: every message the host received.
    let guest_experts = expert::Entity::find().all(&guest.app.state.db).await.expect("db");
    let received = peer_message::Entity::find()
        .filter(peer_message::Column::Direction.eq(Direction::In))
        .all(&host.app.state.db)
        .await
        .expect("db");
    assert!(!received.is_empty());
    for m in &received {
        for e in &guest_experts {
            assert!(!m.body.contains(&e.public_id.to_string()), "an expert's id crossed in {}", m.kind);
            assert!(!m.body.contains(&e.id_number), "an identity number crossed in {}", m.kind);
        }
        for n in &names {
            assert!(!m.body.contains(n.as_str()), "a name crossed in {}", m.kind);
        }
    }
    // The request named the organisations to avoid, which the guest applied.
    let sent = peer_message::Entity::find()
        .filter(peer_message::Column::Direction.eq(Direction::Out))
        .filter(peer_message::Column::Kind.eq("draw.request"))
        .one(&host.app.state.db)
        .await
        .expect("db")
        .expect("the request");
    let asked: Value = serde_json::from_str(&sent.body).expect("json");
    assert!(asked["avoid"].as_array().expect("avoid").iter().any(|p| p["role"] == "procuring_unit"));

    // Both sides hold every message once, numbered, and audited.
    let (host_out, host_in) = exchanged_once(&host, "guest").await;
    let (guest_out, guest_in) = exchanged_once(&guest, "host").await;
    assert_eq!((host_out, host_in), (guest_in, guest_out), "what one sent the other received");
    assert_eq!((host_out, host_in), (2, 2), "request and contribution; commitment and result");
    let verified = audit_record::Entity::find()
        .filter(audit_record::Column::Action.eq("remote_draw.verified"))
        .count(&host.app.state.db)
        .await
        .expect("db");
    assert_eq!(verified, 1);

    // The page shows the peer and the draw.
    let page = centre.get("/admin/federation").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("data-testid=\"peer-guest\"") && html.contains(&format!("remote-draw-{id}")), "{html}");
    // The centre may seat the guest's members from the page; a supervisor only watches.
    assert!(html.contains(&format!("data-testid=\"seat-{id}\"")), "{html}");
    let watcher = host.login("supervisor").await;
    let html = watcher.get("/admin/federation").await.text().await.expect("html");
    assert!(html.contains(&format!("remote-draw-{id}")) && !html.contains(&format!("seat-{id}")), "{html}");
    // A supplier is not shown it.
    let supplier = host.login("supplier1").await;
    assert_eq!(supplier.get("/api/v1/federation/draws").await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_guest_that_cannot_serve_says_why() {
    let (host, _guest, _certs) = pair().await;
    let centre = host.login("centre").await;
    let tender = a_tender(&host).await;
    let r = centre.post("/api/v1/federation/draws", &ask_body(tender, 40)).await;
    // More than a group may ask for is refused at the host.
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = centre.post("/api/v1/federation/draws", &ask_body(tender, 9)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    let v = settled(&centre, &id).await;
    assert_eq!(v["state"], "refused", "{v}");
    assert_eq!(v["failure"], "not_enough_experts");
    assert!(v["picks"].as_array().expect("picks").is_empty());
}

#[tokio::test]
async fn messages_wait_for_a_guest_that_is_down_and_are_applied_once_when_it_returns() {
    let (mut host, mut guest, _certs) = pair().await;
    let centre = host.login("centre").await;
    let tender = a_tender(&host).await;
    guest.kill();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let r = centre.post("/api/v1/federation/draws", &ask_body(tender, 2)).await;
        assert_eq!(r.status(), StatusCode::OK);
        ids.push(r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let peers = centre.get_json("/api/v1/federation/peers").await;
    assert_eq!(peers[0]["name"], "guest");
    assert_eq!(peers[0]["link"]["connected"], false, "{peers}");
    assert_eq!(peers[0]["waiting"], 3, "the requests wait: {peers}");

    // The host restarts too while they wait: they are in its database, not its memory.
    host.kill();
    host.start().await;
    guest.start().await;
    let centre = host.login("centre").await;
    for id in &ids {
        assert_eq!(settled(&centre, id).await["state"], "drawn");
    }
    let (host_out, host_in) = exchanged_once(&host, "guest").await;
    let (guest_out, guest_in) = exchanged_once(&guest, "host").await;
    assert_eq!((host_out, host_in), (6, 6));
    assert_eq!((guest_out, guest_in), (6, 6));
    let peers = centre.get_json("/api/v1/federation/peers").await;
    assert_eq!(peers[0]["waiting"], 0, "{peers}");

    // The guest killed in the middle of an exchange: every draw still completes, once.
    for _ in 0..3 {
        let r = centre.post("/api/v1/federation/draws", &ask_body(tender, 2)).await;
        ids.push(r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string());
    }
    tokio::time::sleep(Duration::from_millis(30)).await;
    guest.kill();
    guest.start().await;
    for id in &ids {
        assert_eq!(settled(&centre, id).await["state"], "drawn");
    }
    assert_eq!(exchanged_once(&host, "guest").await, (12, 12));
    assert_eq!(exchanged_once(&guest, "host").await, (12, 12));
}

/// This test's view of a deployment's identity, for dialling the guest with other certificates.
fn identity(site: &str, certs: &Path, cert: &Path, key: &Path) -> Identity {
    let s = FederationSettings {
        site: site.into(),
        cert: Some(cert.into()),
        key: Some(key.into()),
        ca: Some(certs.join("federation-ca.crt")),
        ..Default::default()
    };
    Identity::load(&s).expect("identity")
}

fn peer(name: &str, port: u16, cert: &Path) -> federation::Peer {
    let s = FederationSettings {
        site: "x".into(),
        peers: vec![PeerSettings {
            name: name.into(),
            address: format!("127.0.0.1:{port}"),
            certificate: cert.into(),
            higher_rate: false,
        }],
        ..Default::default()
    };
    federation::load_peers(&s).expect("peer").remove(0)
}

/// The messages `d` received from its host, in their order.
async fn received_from_host(d: &Deployment) -> Vec<peer_message::Model> {
    peer_message::Entity::find()
        .filter(peer_message::Column::Peer.eq("host"))
        .filter(peer_message::Column::Direction.eq(Direction::In))
        .order_by_asc(peer_message::Column::Seq)
        .all(&d.app.state.db)
        .await
        .expect("db")
}

async fn logged(d: &Deployment, what: &str) -> bool {
    for _ in 0..100 {
        if d.logs().contains(what) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn certificates_other_than_the_listed_ones_are_refused() {
    let (host, guest, certs) = pair().await;
    let guest_peer = peer("guest", guest.peer_port, &certs.join("site-guest.crt"));
    let ws = WebSocketConfig::default();

    // The listed host's certificate is taken (the guest says it is ready).
    let me = identity("host", &certs, &certs.join("site-host.crt"), &certs.join("site-host.key"));
    let mut link = federation::link::dial(&me, &guest_peer, ws).await.expect("the listed certificate is taken");
    let Some(Ok(Message::Text(t))) = link.next().await else { panic!("no ready frame") };
    let Ok(Frame::Ready { site, .. }) = serde_json::from_str::<Frame>(t.as_str()) else { panic!("not ready: {t}") };
    assert_eq!(site, "guest");
    // A message not signed by the host's key closes the link and is not applied.
    let forged = Frame::Msg { seq: 1, kind: "draw.request".into(), body: "{}".into(), sig: "AAAA".into() };
    link.send(Message::text(serde_json::to_string(&forged).expect("json"))).await.expect("send");
    assert!(matches!(link.next().await, None | Some(Err(_)) | Some(Ok(Message::Close(_)))));
    assert!(logged(&guest, "not signed by the peer's key").await);
    assert_eq!(peer_message::Entity::find().count(&guest.app.state.db).await.expect("db"), 0);

    // A certificate of another CA.
    let other = certificates(&["host"]);
    let stranger = identity("host", &certs, &other.join("site-host.crt"), &other.join("site-host.key"));
    assert!(federation::link::dial(&stranger, &guest_peer, ws).await.is_err(), "an unknown CA");
    assert!(logged(&guest, "refused a connection: TLS handshake failed").await);

    // An expired certificate of the federation CA.
    let expired_dir = tempfile::tempdir().expect("dir").keep();
    for f in ["federation-ca.crt", "federation-ca.key"] {
        std::fs::copy(certs.join(f), expired_dir.join(f)).expect("copy");
    }
    let now = time::OffsetDateTime::now_utc();
    tenderhall::certs::federation_valid(
        &expired_dir,
        &["host".to_string()],
        now - time::Duration::days(30),
        now - time::Duration::days(1),
    )
    .expect("expired certificate");
    let expired = identity("host", &certs, &expired_dir.join("site-host.crt"), &expired_dir.join("site-host.key"));
    assert!(federation::link::dial(&expired, &guest_peer, ws).await.is_err(), "an expired certificate");
    assert!(logged(&guest, "xpired").await, "{}", guest.logs());

    // A valid certificate of the CA that is not the listed host's (a third deployment's).
    let third = identity("third", &certs, &certs.join("site-third.crt"), &certs.join("site-third.key"));
    let err = match federation::link::dial(&third, &guest_peer, ws).await {
        Ok(mut l) => l.next().await.and_then(Result::ok).map(|m| format!("{m:?}")).unwrap_or_default(),
        Err(e) => e,
    };
    assert!(!err.contains("ready"), "a third deployment's certificate is refused: {err}");
    assert!(logged(&guest, "is not that of a listed peer").await);

    // Dialling the guest's address while expecting another peer's certificate there.
    let wrong = peer("guest", guest.peer_port, &certs.join("site-third.crt"));
    let Err(err) = federation::link::dial(&me, &wrong, ws).await else { panic!("refused") };
    assert!(err.contains("not the one listed"), "{err}");
    drop(host);
}

#[tokio::test]
async fn guest_members_take_part_in_the_hosts_session_from_their_own_deployment() {
    let (mut host, guest, tender) = session_pair().await;
    let centre = host.login("centre").await;
    let r = centre
        .post(
            "/api/v1/federation/draws",
            &json!({"tender": tender, "peer": "guest", "groups": [{"specialty": "B04", "count": 2}], "reserve": 0,
                    "session_at": chrono::Utc::now() + chrono::TimeDelta::days(1), "duration_minutes": 120}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    assert_eq!(settled(&centre, &id).await["state"], "drawn");
    // Only the centre seats them, once.
    let agency = host.login("agency").await;
    assert_eq!(agency.post_empty(&format!("/api/v1/federation/draws/{id}/seat")).await.status(), StatusCode::FORBIDDEN);
    let r = centre.post_empty(&format!("/api/v1/federation/draws/{id}/seat")).await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let members = r.json::<Value>().await.expect("json")["members"].as_array().cloned().expect("members");
    assert_eq!(members.len(), 2);
    let again = centre.post_empty(&format!("/api/v1/federation/draws/{id}/seat")).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    // Each side counts the session: the host as host, the guest as guest, with the partner.
    let stats = centre.get_json("/api/v1/federation/statistics?from=2026-01-01&to=2030-12-31").await;
    assert_eq!(
        (stats["sessions"].clone(), stats["as_host"].clone(), stats["as_guest"].clone()),
        (json!(1), json!(1), json!(0)),
        "{stats}"
    );
    assert_eq!(stats["partners"], json!([{"peer": "guest", "as_host": 1, "as_guest": 0}]));
    let none = centre.get_json("/api/v1/federation/statistics?from=2020-01-01&to=2020-12-31").await;
    assert_eq!(none["sessions"], 0);
    let r = centre.get("/api/v1/federation/statistics?from=2030-01-01&to=2020-12-31").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(agency.get("/api/v1/federation/statistics?from=2026-01-01&to=2030-12-31").await.status(), 403);

    // At the guest: its supervisor and its two experts see the session; another expert does not.
    let supervisor = guest.login("supervisor2").await;
    let mut session = None;
    for _ in 0..200 {
        let list = supervisor.get_json("/api/v1/federation/sessions").await;
        if let Some(s) = list.as_array().and_then(|l| l.first()) {
            session = s["id"].as_str().map(str::to_string);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let session = session.expect("the guest's session");
    let guest_centre = guest.login("centre2").await;
    let mut stats = Value::Null;
    for _ in 0..100 {
        stats = guest_centre.get_json("/api/v1/federation/statistics?from=2026-01-01&to=2030-12-31").await;
        if stats["sessions"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(stats["partners"], json!([{"peer": "host", "as_host": 0, "as_guest": 1}]), "{stats}");
    let experts = [guest.login("expert6").await, guest.login("expert7").await];
    for e in &experts {
        let mine = e.get_json("/api/v1/federation/sessions").await;
        assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
        assert!(members.contains(&mine[0]["member"]), "{mine}");
    }
    let outsider = guest.login("expert1").await;
    assert_eq!(outsider.get(&format!("/api/v1/federation/sessions/{session}/events")).await.status(), 404);
    let r = outsider.post(&format!("/api/v1/federation/sessions/{session}/commands"), &json!({"op": "sign_in"})).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A malformed command is refused at the guest with a stable code.
    let r = experts[0].post(&format!("/api/v1/federation/sessions/{session}/commands"), &json!({"op": "fly"})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.expect("json")["error"]["code"], "invalid_frame");
    // A signature is checked against the member's own password here, and never leaves.
    let r = experts[0]
        .post(&format!("/api/v1/federation/sessions/{session}/commands"), &json!({"op": "sign", "password": "not-it"}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.expect("json")["error"]["code"], "password_wrong");

    // A command the host's room refuses comes back with the room's code.
    let r = experts[0]
        .post(
            &format!("/api/v1/federation/sessions/{session}/commands"),
            &json!({"op": "vote_chair", "member": members[0]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let refused_id = r.json::<Value>().await.expect("json")["command_id"].clone();
    let events = guest_events_until(&experts[0], &session, |ev| {
        ev.iter().any(|e| e["kind"] == "command_result" && e["data"]["command_id"] == refused_id)
    })
    .await;
    let result = events.iter().find(|e| e["data"]["command_id"] == refused_id).expect("result");
    assert_eq!(result["data"]["ok"], false);
    assert_eq!(result["data"]["code"], "out_of_turn", "{result}");
    // The other member does not see the first one's results.
    let theirs = experts[1].get_json(&format!("/api/v1/federation/sessions/{session}/events?after=0")).await;
    assert!(!theirs.as_array().expect("events").iter().any(|e| e["data"]["command_id"] == refused_id));

    // The host is down while the guest's members sign in and declare: their commands wait and
    // are applied once when it is back.
    host.kill();
    for e in &experts {
        for op in [json!({"op": "sign_in"}), json!({"op": "declare", "conflict": false})] {
            let r = e.post(&format!("/api/v1/federation/sessions/{session}/commands"), &op).await;
            assert_eq!(r.status(), StatusCode::ACCEPTED);
        }
    }
    host.start().await;
    let events = guest_events_until(&supervisor, &session, |ev| {
        ev.iter().filter(|e| e["kind"] == "declared" && members.contains(&e["data"]["member"])).count() == 2
    })
    .await;
    for m in &members {
        let signed_in: Vec<&Value> =
            events.iter().filter(|e| e["kind"] == "signed_in" && e["data"]["member"] == *m).collect();
        assert_eq!(signed_in.len(), 1, "one sign-in of {m}: {events:?}");
        assert_eq!(signed_in[0]["data"]["site"], "guest", "the member's site is the peer");
        assert_eq!(events.iter().filter(|e| e["kind"] == "declared" && e["data"]["member"] == *m).count(), 1);
    }
    // Every event is the host's, numbered by it, except the guest's own: a command's outcome and
    // a member's new brief.
    assert!(
        events.iter().all(|e| e["data"]["host_seq"].is_i64() || e["kind"] == "command_result" || e["kind"] == "brief")
    );

    // The host's session shows them as members at the guest's site, signed in and declared.
    let staff = host.login("centre").await;
    let v = staff.get_json(&format!("/api/v1/tenders/{tender}/evaluation")).await;
    let remote: Vec<&Value> =
        v["members"].as_array().expect("members").iter().filter(|m| m["site"] == "guest").collect();
    assert_eq!(remote.len(), 2, "{v}");
    assert!(remote.iter().all(|m| m["declared"] == true && !m["signed_in_at"].is_null()), "{v}");
    // Their accounts cannot log in at the host.
    let seats = tenderhall::entities::remote_seat::Entity::find().all(&host.app.state.db).await.expect("db");
    for s in seats {
        let u = tenderhall::entities::user::Entity::find_by_id(s.user_id)
            .one(&host.app.state.db)
            .await
            .expect("db")
            .expect("user");
        let http = reqwest::Client::builder().cookie_store(true).build().expect("client");
        let anon = Client::with_http(http, &format!("http://127.0.0.1:{}", host.port)).await;
        let r = anon
            .post(
                "/api/v1/session",
                &json!({"username": u.username, "password": tenderhall::accounts::service::NO_LOGIN}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{:?}", r.text().await);
    }
    exchanged_once(&host, "guest").await;
    exchanged_once(&guest, "host").await;

    // A signed command for a pseudonym that is not in the committee is refused by the host with
    // `not_a_member`, kept as the message's outcome, and changes no member.
    let mut guest = guest;
    guest.kill();
    let certs = host.certs.clone().expect("certificates");
    let me = identity("guest", &certs, &certs.join("site-guest.crt"), &certs.join("site-guest.key"));
    let host_peer = peer("host", host.peer_port, &certs.join("site-host.crt"));
    let before = tenderhall::entities::evaluation_member::Entity::find().all(&host.app.state.db).await.expect("db");
    let mut link = federation::link::dial(&me, &host_peer, WebSocketConfig::default()).await.expect("the link");
    let Some(Ok(Message::Text(t))) = link.next().await else { panic!("no ready frame") };
    let Ok(Frame::Ready { next, .. }) = serde_json::from_str::<Frame>(t.as_str()) else { panic!("not ready: {t}") };
    let request = centre.get_json(&format!("/api/v1/federation/draws/{id}")).await["request"].clone();
    let body = json!({"request": request, "pseudonym": uuid::Uuid::new_v4(), "command_id": uuid::Uuid::new_v4(),
                      "command": {"op": "sign_in"}})
    .to_string();
    let sig = me.sign(&federation::signed_bytes("guest", "host", next, "session.command", &body)).expect("sign");
    let msg = Frame::Msg { seq: next, kind: "session.command".into(), body, sig };
    link.send(Message::text(serde_json::to_string(&msg).expect("json"))).await.expect("send");
    let Some(Ok(Message::Text(t))) = link.next().await else { panic!("no acknowledgement") };
    let Ok(Frame::Ack { seq, outcome }) = serde_json::from_str::<Frame>(t.as_str()) else { panic!("not an ack: {t}") };
    assert_eq!((seq, outcome.as_str()), (next, "not_a_member"));
    let kept = peer_message::Entity::find()
        .filter(peer_message::Column::Direction.eq(Direction::In))
        .filter(peer_message::Column::Seq.eq(next))
        .one(&host.app.state.db)
        .await
        .expect("db")
        .expect("the message is kept");
    assert_eq!(kept.outcome.as_deref(), Some("not_a_member"));
    let after = tenderhall::entities::evaluation_member::Entity::find().all(&host.app.state.db).await.expect("db");
    assert_eq!(before, after, "no member changed");

    // A signed message of a kind the host does not know is refused with `unknown_kind`.
    let body = json!({"anything": 1}).to_string();
    let sig = me.sign(&federation::signed_bytes("guest", "host", next + 1, "session.fly", &body)).expect("sign");
    let msg = Frame::Msg { seq: next + 1, kind: "session.fly".into(), body, sig };
    link.send(Message::text(serde_json::to_string(&msg).expect("json"))).await.expect("send");
    let Some(Ok(Message::Text(t))) = link.next().await else { panic!("no acknowledgement") };
    let Ok(Frame::Ack { seq, outcome }) = serde_json::from_str::<Frame>(t.as_str()) else { panic!("not an ack: {t}") };
    assert_eq!((seq, outcome.as_str()), (next + 1, "unknown_kind"));
    // A message whose signature does not cover what it carries closes the link and is not kept;
    // so does a message out of order.
    let kept = |seq: i64| {
        let db = host.app.state.db.clone();
        async move {
            peer_message::Entity::find()
                .filter(peer_message::Column::Peer.eq("guest"))
                .filter(peer_message::Column::Direction.eq(Direction::In))
                .filter(peer_message::Column::Seq.eq(seq))
                .one(&db)
                .await
                .expect("db")
                .is_some()
        }
    };
    let body = json!({"request": request, "pseudonym": uuid::Uuid::new_v4(), "command_id": uuid::Uuid::new_v4(),
                      "command": {"op": "sign_in"}})
    .to_string();
    let sig = me.sign(&federation::signed_bytes("guest", "host", next + 2, "session.command", "{}")).expect("sign");
    let msg = Frame::Msg { seq: next + 2, kind: "session.command".into(), body: body.clone(), sig };
    link.send(Message::text(serde_json::to_string(&msg).expect("json"))).await.expect("send");
    assert!(!matches!(link.next().await, Some(Ok(Message::Text(_)))), "a forged message is not acknowledged");
    assert!(!kept(next + 2).await, "a forged message is not kept");
    assert!(logged(&host, "is not signed by the peer's key").await, "the forgery is logged");
    let mut link = federation::link::dial(&me, &host_peer, WebSocketConfig::default()).await.expect("the link");
    let Some(Ok(Message::Text(t))) = link.next().await else { panic!("no ready frame") };
    let Ok(Frame::Ready { next: resumed, .. }) = serde_json::from_str::<Frame>(t.as_str()) else {
        panic!("not ready: {t}")
    };
    assert_eq!(resumed, next + 2, "the link resumes after the last message applied");
    let sig = me.sign(&federation::signed_bytes("guest", "host", next + 5, "session.command", &body)).expect("sign");
    let msg = Frame::Msg { seq: next + 5, kind: "session.command".into(), body, sig };
    link.send(Message::text(serde_json::to_string(&msg).expect("json"))).await.expect("send");
    assert!(!matches!(link.next().await, Some(Ok(Message::Text(_)))), "a message out of order is not acknowledged");
    assert!(!kept(next + 5).await, "a message out of order is not kept");
}

#[tokio::test]
async fn a_whole_evaluation_with_guest_members_survives_a_cut_link_and_a_restart() {
    // The guest pays its own experts through its own payment service, which fails its first
    // call and loses the answer to the second.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://127.0.0.1:{}/pay", listener.local_addr().expect("addr").port());
    let guest_env = [
        ("TENDERHALL_FEES__ENDPOINT", endpoint.as_str()),
        ("TENDERHALL_FEES__BACKOFF_SECONDS", "1"),
        ("TENDERHALL_FEES__POLL_MS", "100"),
    ];
    let (mut host, mut guest, tender) = session_pair_with(&[], &guest_env).await;
    let ledger = std::sync::Arc::new(Ledger::default());
    let _service = tokio::spawn(payment_service(listener, ledger.clone(), guest.app.state.key.public(), 1));
    let Convened { centre, hands, session } = convene_with_guest(&host, &guest, tender).await;
    // The host's centre pays more than the guest's default rate; the centres agreed that a guest
    // pays its experts the higher of the two.
    let sites = centre.get_json("/api/v1/admin/sites").await;
    let host_site = sites
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == tenderhall::demo::experts::HOST_SITE))
        .map(|s| s["id"].as_str().expect("id").to_string())
        .expect("host site");
    let host_rate = json!({"base": 90_000, "base_hours": 3, "hourly": 20_000, "daily_cap": 250_000,
                           "withdrawn": 30_000, "holiday_factor": 2});
    let r = centre.put(&format!("/api/v1/admin/sites/{host_site}/fee-rates"), &host_rate).await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    // The tender's technical part is evaluated anonymously (暗标): its criteria say so (set in
    // its row before the session reaches scoring; the session reads them as it goes).
    let row = tender::Entity::find()
        .filter(tender::Column::PublicId.eq(tender))
        .one(&host.app.state.db)
        .await
        .expect("db")
        .expect("tender");
    let mut criteria: Value = serde_json::from_str(row.criteria.as_deref().expect("criteria")).expect("json");
    criteria["technical_anonymous"] = json!(true);
    let mut m: tender::ActiveModel = row.into();
    m.criteria = sea_orm::Set(Some(criteria.to_string()));
    sea_orm::ActiveModelTrait::update(m, &host.app.state.db).await.expect("anonymous");
    let bidders: Vec<String> = centre.get_json(&format!("/api/v1/tenders/{tender}/evaluation")).await["bids"]
        .as_array()
        .expect("bids")
        .iter()
        .map(|b| b["bidder"].as_str().expect("the staff see the bidder").to_string())
        .collect();
    assert!(!bidders.is_empty());
    to_scoring(&centre, &hands, tender).await;
    // From here to the end of the session the guest receives no bidder's name: its members see
    // the bids' letters.
    for h in &hands[5..] {
        let v = in_phase(h, tender, "scoring").await;
        for b in v["bids"].as_array().expect("bids") {
            assert!(b["bidder"].is_null() && b["label"].as_str().is_some_and(|l| !l.is_empty() && l.len() <= 2), "{b}");
        }
    }
    let anonymous_from = received_from_host(&guest).await.last().map(|m| m.seq).unwrap_or(0);

    // Scoring, with the link cut half-way through the first guest member's scores and the
    // guest restarted half-way through the second's.
    let v = in_phase(&hands[0], tender, "scoring").await;
    let scores = scores(&v);
    assert!(scores.len() >= 2);
    for (n, h) in hands.iter().enumerate() {
        in_phase(h, tender, "scoring").await;
        for (k, s) in scores.iter().enumerate() {
            if n == 5 && k == scores.len() / 2 {
                // The link cut: the guest's commands wait while the host is away.
                host.kill();
                for s in &scores[k..] {
                    let r = h.client.post(&format!("/api/v1/federation/sessions/{session}/commands"), s).await;
                    assert_eq!(r.status(), StatusCode::ACCEPTED);
                }
                host.start().await;
                break;
            }
            if n == 6 && k == scores.len() / 2 {
                guest.kill();
                guest.start().await;
            }
            h.send(tender, s.clone()).await;
        }
    }
    let staff = host.login("centre").await;
    // Every score of every member arrived once.
    let mut complete = false;
    for _ in 0..400 {
        let v = staff.get_json(&format!("/api/v1/tenders/{tender}/evaluation")).await;
        let scored = audit_record::Entity::find()
            .filter(audit_record::Column::Action.eq("evaluation.score"))
            .count(&host.app.state.db)
            .await
            .expect("db");
        if scored as usize >= scores.len() * hands.len() {
            assert_eq!(scored as usize, scores.len() * hands.len(), "no score doubled");
            assert!(v["flags"].as_array().is_none_or(|f| f.is_empty()), "{v}");
            complete = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(complete, "every score arrived");
    advance(&centre, tender, "scoring").await;
    for h in &hands {
        in_phase(h, tender, "signing").await;
        h.send(tender, json!({"op": "sign", "password": DEMO_PASSWORD})).await;
    }
    let v = staff.get_json(&format!("/api/v1/tenders/{tender}/evaluation")).await;
    assert_eq!(v["phase"], "signed", "{v}");
    // The report names the guest's site for its members.
    let r = staff.get(&format!("/api/v1/tenders/{tender}/evaluation/report.pdf")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let pdf = r.bytes().await.expect("pdf");
    let text = pdf_extract::extract_text_from_mem(&pdf).expect("text");
    assert!(text.contains("guest"), "the report names the guest's site");
    // The guest receives the signed report, which its supervisor reads.
    let supervisor = guest.login("supervisor2").await;
    let mut received = None;
    for _ in 0..200 {
        let r = supervisor.get(&format!("/api/v1/federation/sessions/{session}/report.pdf")).await;
        if r.status() == StatusCode::OK {
            received = Some(r.bytes().await.expect("pdf"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let received = received.expect("the guest has the report");
    let theirs = pdf_extract::extract_text_from_mem(&received).expect("text");
    assert!(received.starts_with(b"%PDF-") && theirs.contains("guest"), "{theirs}");
    assert_eq!(
        guest.login("expert1").await.get(&format!("/api/v1/federation/sessions/{session}/report.pdf")).await.status(),
        StatusCode::NOT_FOUND,
        "an expert who was not on the committee does not get it"
    );
    // Everything the guest received while the bids were anonymous carries no bidder's name; the
    // names come with the result, when the session completes.
    let received = received_from_host(&guest).await;
    let completed = received
        .iter()
        .find(|m| m.seq > anonymous_from && m.kind == "session.event" && m.body.contains(r#""kind":"completed""#))
        .map(|m| m.seq)
        .expect("the completing event reached the guest");
    let during: Vec<_> = received.iter().filter(|m| m.seq > anonymous_from && m.seq < completed).collect();
    assert!(during.iter().any(|m| m.kind == "session.brief"), "the anonymous part was relayed");
    for m in during {
        for b in &bidders {
            assert!(!m.body.contains(b.as_str()), "message {} ({}) names {b}: {}", m.seq, m.kind, m.body);
        }
    }

    // Each guest member's fee is computed and paid at the guest, once, at the host's (higher)
    // rate; the host pays only its own five.
    let host_rate: tenderhall::fees::Rate = serde_json::from_value(host_rate).expect("rate");
    let guest_default = guest.app.state.settings.fees.default_rate();
    let mut paid = Vec::new();
    for h in &hands[5..] {
        let mut fee = Value::Null;
        for _ in 0..400 {
            fee = h.client.get_json("/api/v1/expert/fees").await;
            if fee[0]["status"] == "paid" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(fee.as_array().map(Vec::len), Some(1), "{fee}");
        let f = &fee[0];
        let rows = tenderhall::entities::expert_fee::Entity::find().all(&guest.app.state.db).await.expect("db");
        assert_eq!(f["status"], "paid", "{fee} {rows:?} {:?}", ledger.calls.lock().expect("lock"));
        let tender_code = tender::Entity::find()
            .filter(tender::Column::PublicId.eq(tender))
            .one(&host.app.state.db)
            .await
            .expect("db")
            .expect("tender")
            .code;
        assert_eq!(f["tender_code"], tender_code.as_str());
        let (minutes, holiday) = (f["minutes"].as_i64().expect("minutes"), f["holiday"].as_bool().expect("holiday"));
        let by_host = tenderhall::fees::fee(&host_rate, minutes, holiday, false);
        assert!(by_host > tenderhall::fees::fee(&guest_default, minutes, holiday, false));
        assert_eq!(f["amount"], by_host.fen(), "{f}");
        let pdf = h.client.get(&format!("/api/v1/expert/fees/{}/statement", f["id"].as_str().expect("id"))).await;
        assert_eq!(pdf.status(), StatusCode::OK);
        assert!(pdf.bytes().await.expect("pdf").starts_with(b"%PDF-"));
        paid.push(by_host.fen());
    }
    let payments = ledger.payments.lock().expect("lock").clone();
    let mut amounts: Vec<i64> = payments.values().map(|p| p.1).collect();
    amounts.sort();
    paid.sort();
    assert_eq!(amounts, paid, "one payment per guest member, at the guest");
    assert!(ledger.calls.lock().expect("lock").len() > payments.len(), "the failed calls were sent again");
    let mut host_fees = Vec::new();
    for _ in 0..200 {
        host_fees = tenderhall::entities::expert_fee::Entity::find().all(&host.app.state.db).await.expect("db");
        if host_fees.len() >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(host_fees.len(), 5, "the host pays its own members only");
    assert!(host_fees.iter().all(|f| f.member_id.is_some() && f.remote_expert_id.is_none()));
    exchanged_once(&host, "guest").await;
    exchanged_once(&guest, "host").await;
}
