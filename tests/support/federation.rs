//! Two deployments linked as peers, for the tests of federation: each a `tenderhall serve`
//! process with its own database (the host on PostgreSQL when the suite runs on it, the guest
//! on SQLite) and key directory, seeded with the demo data, over TLS on loopback.

use super::{ServerProcess, TestApp, free_port};
use reqwest::{Response, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tenderhall::entities::expert;

/// An HTTP session against a deployment: cookies kept, the CSRF header sent.
pub struct Client {
    /// The HTTP client.
    pub http: reqwest::Client,
    /// The deployment's base URL.
    pub base: String,
    /// The session's CSRF token.
    pub csrf: String,
}

impl Client {
    /// A session over `http` (it fetches its CSRF token first).
    pub async fn with_http(http: reqwest::Client, base: &str) -> Client {
        let v: Value =
            http.get(format!("{base}/api/v1/csrf")).send().await.expect("csrf").json().await.expect("csrf json");
        Client { http, base: base.to_string(), csrf: v["csrf_token"].as_str().expect("token").to_string() }
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Response {
        self.http.get(format!("{}{path}", self.base)).header("x-csrf-token", &self.csrf).send().await.expect("send")
    }

    /// GET, expecting success, as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.expect("json")
    }

    /// POST with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send(reqwest::Method::POST, path, body).await
    }

    /// PUT with a JSON body.
    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.send(reqwest::Method::PUT, path, body).await
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> Response {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await
            .expect("send")
    }

    /// POST without a body.
    pub async fn post_empty(&self, path: &str) -> Response {
        self.http.post(format!("{}{path}", self.base)).header("x-csrf-token", &self.csrf).send().await.expect("send")
    }
}

pub const DEMO_PASSWORD: &str = "Tender2026";

/// One deployment: its data (seeded with the demo) and, while it runs, its process.
pub struct Deployment {
    pub name: &'static str,
    pub app: TestApp,
    pub port: u16,
    pub peer_port: u16,
    pub dir: PathBuf,
    /// The logs of the process's runs.
    pub log_parts: Vec<PathBuf>,
    /// More environment for the process (settings).
    pub env: Vec<(String, String)>,
    /// The federation's certificates, once configured.
    pub certs: Option<PathBuf>,
    pub process: Option<ServerProcess>,
}

impl Deployment {
    pub async fn seeded(name: &'static str, sqlite: bool) -> Deployment {
        let dir = tempfile::tempdir().expect("dir").keep();
        let db = dir.join(format!("{name}.db"));
        let app = TestApp::with_demo_data_and(move |s| {
            if sqlite {
                s.database.url = format!("sqlite://{}?mode=rwc", db.display());
            }
        })
        .await;
        let mut d = Deployment {
            name,
            log_parts: Vec::new(),
            env: Vec::new(),
            certs: None,
            app,
            port: free_port(),
            peer_port: free_port(),
            dir,
            process: None,
        };
        d.app.stop_server();
        d
    }

    /// Writes the deployment's federation settings: its site, its peers, and with each peer the
    /// centres' agreement that a guest pays its experts at the higher of the two sites' rates.
    pub fn configure(&self, certs: &Path, peers: &[&Deployment], expert_site: &str) {
        let mut toml = format!(
            "[federation]\nsite = \"{}\"\nexpert_site = \"{expert_site}\"\nlisten = \"127.0.0.1:{}\"\n\
             cert = \"{}\"\nkey = \"{}\"\nca = \"{}\"\nretry_ms = 50\nmax_retry_ms = 300\npoll_ms = 100\n",
            self.name,
            self.peer_port,
            certs.join(format!("site-{}.crt", self.name)).display(),
            certs.join(format!("site-{}.key", self.name)).display(),
            certs.join("federation-ca.crt").display(),
        );
        for p in peers {
            toml.push_str(&format!(
                "\n[[federation.peers]]\nname = \"{}\"\naddress = \"127.0.0.1:{}\"\ncertificate = \"{}\"\nhigher_rate = true\n",
                p.name,
                p.peer_port,
                certs.join(format!("site-{}.crt", p.name)).display()
            ));
        }
        std::fs::write(self.dir.join("tenderhall.toml"), toml).expect("configuration");
    }

    pub async fn start(&mut self) {
        let mut env = self.app.process_env(self.port);
        env.retain(|(k, _)| k != "RUST_LOG");
        env.push(("RUST_LOG".into(), "warn,tenderhall::federation=info".into()));
        env.extend(self.env.iter().cloned());
        // Each run has its log; the test reads them all.
        let log = self.dir.join(format!("{}-{}.log", self.name, self.log_parts.len()));
        self.process = Some(ServerProcess::start_logging_to(&env, self.port, &self.dir, &log).await);
        self.log_parts.push(log);
    }

    pub fn kill(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.kill();
        }
    }

    pub fn logs(&self) -> String {
        self.log_parts.iter().map(|p| std::fs::read_to_string(p).unwrap_or_default()).collect()
    }

    pub async fn login(&self, user: &str) -> Client {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let mut c = Client::with_http(http, &format!("http://127.0.0.1:{}", self.port)).await;
        let r = c.post("/api/v1/session", &json!({"username": user, "password": DEMO_PASSWORD})).await;
        assert_eq!(r.status(), StatusCode::OK, "login {user} at {}", self.name);
        let v: Value = r.json().await.expect("json");
        c.csrf = v["csrf_token"].as_str().expect("csrf").to_string();
        c
    }
}

/// The federation's certificates: one CA, a site certificate for each name.
pub fn certificates(names: &[&str]) -> PathBuf {
    let dir = tempfile::tempdir().expect("dir").keep();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    tenderhall::certs::federation(&dir, &names, 30).expect("certificates");
    dir
}

/// Waits until the remote draw `id` at `at` is in a state other than those given.
pub async fn settled(at: &Client, id: &str) -> Value {
    for _ in 0..600 {
        let v = at.get_json(&format!("/api/v1/federation/draws/{id}")).await;
        if !matches!(v["state"].as_str(), Some("asked") | Some("committed")) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the remote draw {id} did not settle");
}

/// The host's demo tender with its opening closed, its own committee drawn and published, and its
/// session open; the guest's experts of its guest site who have no login suspended, so the two
/// it draws are `expert6` and `expert7`.
pub async fn session_pair() -> (Deployment, Deployment, uuid::Uuid) {
    session_pair_with(&[], &[]).await
}

/// [`session_pair`] with more settings (environment variables) for both processes, and for the
/// guest's alone.
pub async fn session_pair_with(
    env: &[(&str, &str)],
    guest_env: &[(&str, &str)],
) -> (Deployment, Deployment, uuid::Uuid) {
    use tenderhall::{demo, entities::site};
    let certs = certificates(&["host", "guest"]);
    let mut host = Deployment::seeded("host", false).await;
    // The host's tender: its opening played and its committee drawn in the test's time.
    let tender = host.app.play_opening_show().await;
    let centre = tenderhall::accounts::service::actor_by_username(&host.app.state.db, "centre")
        .await
        .expect("db")
        .expect("centre");
    let show = demo::evaluation::Show { tender, pace: Duration::from_millis(1) };
    demo::evaluation::convene(&host.app.state, show, &centre).await.expect("the host's own committee");
    host.app.state.evaluations.open(&centre, tender, Default::default()).await.expect("the session opens");

    let mut guest = Deployment::seeded("guest", true).await;
    let g = &guest.app.state;
    let guest_site = site::Entity::find()
        .filter(site::Column::Name.eq(demo::experts::GUEST_SITE))
        .one(&g.db)
        .await
        .expect("db")
        .expect("the guest site");
    let admin = tenderhall::accounts::service::actor_by_username(&g.db, "centre").await.expect("db").expect("centre");
    for e in expert::Entity::find().filter(expert::Column::SiteId.eq(guest_site.id)).all(&g.db).await.expect("db") {
        if e.user_id.is_none() {
            let input =
                tenderhall::experts::service::SuspendInput { reason: "测试：只抽有账号的专家".into() };
            tenderhall::experts::service::suspend(&g.experts, &admin, e.public_id, &input).await.expect("suspend");
        }
    }
    host.configure(&certs, &[&guest], demo::experts::HOST_SITE);
    guest.configure(&certs, &[&host], demo::experts::GUEST_SITE);
    for d in [&mut host, &mut guest] {
        d.env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        d.certs = Some(certs.clone());
    }
    guest.env.extend(guest_env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    host.start().await;
    guest.start().await;
    (host, guest, tender)
}

/// Waits for the guest room's events until one satisfies `done`; returns them all.
pub async fn guest_events_until(c: &Client, session: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..400 {
        let v = c.get_json(&format!("/api/v1/federation/sessions/{session}/events?after=0")).await;
        let events = v.as_array().cloned().unwrap_or_default();
        if done(&events) {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the events expected did not arrive at the guest");
}

/// A member's hand: the host's own experts through the host's API, the guest's through the
/// guest's, which relays them.
pub struct Hand {
    pub client: Client,
    /// The guest's session id for a guest member; none for a host member.
    pub guest_session: Option<String>,
}

impl Hand {
    pub async fn view(&self, tender: uuid::Uuid) -> Value {
        match &self.guest_session {
            None => self.client.get_json(&format!("/api/v1/tenders/{tender}/evaluation")).await,
            Some(s) => self.client.get_json(&format!("/api/v1/federation/sessions/{s}")).await,
        }
    }

    /// Sends a command; a guest member's is relayed, and this waits for its outcome.
    pub async fn send(&self, tender: uuid::Uuid, body: Value) {
        match &self.guest_session {
            None => {
                let r = self.client.post(&format!("/api/v1/tenders/{tender}/evaluation/commands"), &body).await;
                assert!(r.status().is_success(), "{body}: {:?}", r.text().await);
            }
            Some(s) => {
                let r = self.client.post(&format!("/api/v1/federation/sessions/{s}/commands"), &body).await;
                assert_eq!(r.status(), StatusCode::ACCEPTED, "{body}");
                let id = r.json::<Value>().await.expect("json")["command_id"].clone();
                let events = guest_events_until(&self.client, s, |ev| {
                    ev.iter().any(|e| e["kind"] == "command_result" && e["data"]["command_id"] == id)
                })
                .await;
                let result = events.iter().find(|e| e["data"]["command_id"] == id).expect("result");
                assert_eq!(result["data"]["ok"], true, "{body}: {result}");
            }
        }
    }
}

pub fn points(v: i64) -> String {
    format!("{}.{:02}", v / 100, v % 100)
}

/// Waits until the guest member's view (as the host last sent it) is in `phase`.
pub async fn in_phase(h: &Hand, tender: uuid::Uuid, phase: &str) -> Value {
    for _ in 0..400 {
        let v = h.view(tender).await;
        if v["phase"] == phase {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the session did not reach {phase}");
}

/// The host's session with its own five members and the guest's two seated.
pub struct Convened {
    /// The host's centre, logged in.
    pub centre: Client,
    /// The members' hands: the host's five, then the guest's two.
    pub hands: Vec<Hand>,
    /// The guest's id of the session.
    pub session: String,
}

/// Asks the guest for two experts, seats them, and finds every member's hand.
pub async fn convene_with_guest(host: &Deployment, guest: &Deployment, tender: uuid::Uuid) -> Convened {
    let centre = host.login("centre").await;
    let r = centre
        .post(
            "/api/v1/federation/draws",
            &json!({"tender": tender, "peer": "guest", "groups": [{"specialty": "B04", "count": 2}], "reserve": 0,
                    "session_at": chrono::Utc::now() + chrono::TimeDelta::days(1), "duration_minutes": 120}),
        )
        .await;
    let id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    assert_eq!(settled(&centre, &id).await["state"], "drawn");
    let r = centre.post_empty(&format!("/api/v1/federation/draws/{id}/seat")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut hands = Vec::new();
    for n in 1..=7 {
        let c = host.login(&format!("expert{n}")).await;
        if c.get(&format!("/api/v1/tenders/{tender}/evaluation")).await.status() == StatusCode::OK {
            hands.push(Hand { client: c, guest_session: None });
        }
    }
    assert_eq!(hands.len(), 5, "the host's own committee");
    let supervisor = guest.login("supervisor2").await;
    let mut session = None;
    for _ in 0..200 {
        if let Some(s) =
            supervisor.get_json("/api/v1/federation/sessions").await.as_array().and_then(|l| l.first().cloned())
        {
            session = s["id"].as_str().map(str::to_string);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let session = session.expect("the guest's session");
    for login in ["expert6", "expert7"] {
        hands.push(Hand { client: guest.login(login).await, guest_session: Some(session.clone()) });
    }
    Convened { centre, hands, session }
}

/// The host's centre moves the session on from `from`.
pub async fn advance(centre: &Client, tender: uuid::Uuid, from: &str) {
    let r = centre
        .post(&format!("/api/v1/tenders/{tender}/evaluation/commands"), &json!({"op": "advance", "from": from}))
        .await;
    assert!(r.status().is_success(), "advance from {from}: {:?}", r.text().await);
}

/// Every member signs in, declares, votes for the chair and passes every bid in both reviews;
/// the session is then in scoring.
pub async fn to_scoring(centre: &Client, hands: &[Hand], tender: uuid::Uuid) {
    for h in hands {
        if h.guest_session.is_some() || h.view(tender).await["me"].is_null() {
            h.send(tender, json!({"op": "sign_in"})).await;
        }
        h.send(tender, json!({"op": "declare", "conflict": false})).await;
    }
    advance(centre, tender, "sign_in").await;
    let chair = hands[0].view(tender).await["me"].clone();
    for h in hands {
        in_phase(h, tender, "chair").await;
        h.send(tender, json!({"op": "vote_chair", "member": chair})).await;
    }
    advance(centre, tender, "chair").await;
    for stage in ["qualification", "compliance"] {
        for h in hands {
            let v = in_phase(h, tender, stage).await;
            for b in v["bids"].as_array().expect("bids").iter().filter(|b| b["out"] == false) {
                for item in v["criteria"][stage].as_array().expect("items") {
                    h.send(
                        tender,
                        json!({"op": "vote", "stage": stage, "bid": b["id"], "item": item["key"], "pass": true}),
                    )
                    .await;
                }
            }
        }
        advance(centre, tender, stage).await;
    }
}

/// The scores every member gives: 60 % of each item's maximum, on its step, for every bid.
pub fn scores(view: &Value) -> Vec<Value> {
    let bids: Vec<Value> =
        view["bids"].as_array().expect("bids").iter().filter(|b| b["out"] == false).cloned().collect();
    let items: Vec<Value> = view["criteria"]["scoring"].as_array().expect("items").clone();
    bids.iter()
        .flat_map(|b| {
            items.iter().map(move |i| {
                let (max, step) = (i["max"].as_i64().expect("max"), i["step"].as_i64().expect("step").max(1));
                json!({"op": "score", "bid": b["id"], "item": i["key"], "points": points((max * 60 / 100) / step * step)})
            })
        })
        .collect()
}
