//! Many evaluation sessions at once: 50 sessions, each with a committee of 7 experts scoring 10
//! bids on 10 items (35,000 scores in all), every expert sending its scores at the same steady
//! pace. Reported: the time from an expert's score submission to its `progress` frame on the
//! host's websocket (p50, p99), as a ratio to the opening hall's fan-out measured in the same run:
//! the same 50 tenders' halls, as many senders at the same pace, each a host's note sent to the
//! hall and received on a supervisor's socket. And that nothing is lost: every score on its
//! expert's sheet, every frame received, every session signed with the expected results. Run:
//!
//! ```sh
//! cargo bench --bench evaluations
//! # TENDERHALL_EVALUATIONS_SESSIONS=50 _EXPERTS=7 _BIDS=10 _ITEMS=10 _GAP_MS=1000 _NOTES=20
//! ```
//!
//! Each session's committee is drawn from its own evaluation site's pool (the experts of one
//! site, plus a reserve), so that no expert sits on two sessions at once. The tenders are opened
//! for real first: sealed bids, released keys, the opening closed.

#[path = "common/mod.rs"]
mod common;

use common::{Platform, env_usize, percentile};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tenderhall::bidder::{KeyFile, client::PlatformClient};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
use uuid::Uuid;

/// When each message was sent, and when its frame arrived, by the message's key.
#[derive(Clone, Default)]
struct Clocks {
    sent: Arc<Mutex<HashMap<String, Instant>>>,
    arrived: Arc<Mutex<HashMap<String, Instant>>>,
}

impl Clocks {
    /// Each sent message's time from sending to its frame, sorted, and how many never arrived.
    fn latencies(&self) -> (Vec<Duration>, usize) {
        let sent = self.sent.lock().expect("lock");
        let arrived = self.arrived.lock().expect("lock");
        let mut times: Vec<Duration> =
            sent.iter().filter_map(|(k, t0)| arrived.get(k).map(|t| t.saturating_duration_since(*t0))).collect();
        times.sort();
        let lost = sent.len() - times.len();
        (times, lost)
    }

    /// Waits until every sent message has arrived, or 30 s.
    async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let done = {
                let sent = self.sent.lock().expect("lock");
                let arrived = self.arrived.lock().expect("lock");
                sent.keys().all(|k| arrived.contains_key(k))
            };
            if done {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A logged-in account of the API.
#[derive(Clone)]
struct User {
    http: reqwest::Client,
    csrf: String,
    base: String,
}

impl User {
    async fn login(p: &Platform, name: &str) -> User {
        let (http, csrf) = p.client(name).await;
        User { http, csrf, base: p.base.clone() }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await
            .expect("send")
    }

    /// Sends and expects success; returns the body (null when there is none).
    async fn ok(&self, method: reqwest::Method, path: &str, body: &Value) -> Value {
        let r = self.send(method, path, body).await;
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        assert!(status.is_success(), "{path} {body}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn post(&self, path: &str, body: &Value) -> Value {
        self.ok(reqwest::Method::POST, path, body).await
    }

    async fn get(&self, path: &str) -> Value {
        let r = self.http.get(format!("{}{path}", self.base)).send().await.expect("get");
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).expect("json")
    }

    /// A command to the tender's evaluation session.
    async fn eval(&self, tender: Uuid, body: Value) {
        self.post(&format!("/api/v1/tenders/{tender}/evaluation/commands"), &body).await;
    }
}

/// Connects to a room's websocket with `cookie` and records, by `key_of`, when each frame
/// arrives.
async fn watch(
    url: String,
    cookie: &str,
    arrived: Arc<Mutex<HashMap<String, Instant>>>,
    key_of: fn(&Value) -> Option<String>,
) -> tokio::task::JoinHandle<()> {
    let mut req = url.as_str().into_client_request().expect("request");
    req.headers_mut().insert("cookie", cookie.parse().expect("cookie"));
    let (ws, _) = tokio_tungstenite::connect_async(req).await.expect("websocket");
    tokio::spawn(async move {
        let (_sink, mut stream) = ws.split();
        while let Some(Ok(m)) = stream.next().await {
            if let Message::Text(t) = m {
                let now = Instant::now();
                if let Ok(v) = serde_json::from_str::<Value>(&t)
                    && v["type"] == "event"
                    && let Some(k) = key_of(&v["event"])
                {
                    arrived.lock().expect("lock").entry(k).or_insert(now);
                }
            }
        }
    })
}

/// One sender's messages: `(key, path, body)`, sent one after another `gap` apart, starting
/// `offset` into the first gap so that the senders do not move in step.
async fn pace(user: User, messages: Vec<Outgoing>, gap: Duration, offset: Duration, clocks: Clocks) {
    tokio::time::sleep(offset).await;
    let mut next = tokio::time::Instant::now();
    for (key, path, body) in messages {
        clocks.sent.lock().expect("lock").insert(key, Instant::now());
        user.post(&path, &body).await;
        next += gap;
        tokio::time::sleep_until(next).await;
    }
}

/// One message to send: its key (which frame answers it), the path and the body.
type Outgoing = (String, String, Value);

/// Runs every sender at once and waits for them and for their frames.
async fn run(senders: Vec<(User, Vec<Outgoing>)>, gap: Duration, clocks: &Clocks) -> Duration {
    let n = senders.len().max(1) as u32;
    let t0 = Instant::now();
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(i, (u, m))| tokio::spawn(pace(u, m, gap, gap * i as u32 / n, clocks.clone())))
        .collect();
    for t in tasks {
        t.await.expect("sender");
    }
    let elapsed = t0.elapsed();
    clocks.settle().await;
    elapsed
}

/// A valid 18-digit identity number (GB 11643 check character), unique for serials below 1,000.
fn id_number(n: usize) -> String {
    let body = format!("110105{:04}{:02}{:02}{:03}", 1960 + (n / 336) % 30, 1 + (n / 28) % 12, 1 + n % 28, n % 1000);
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body.chars().zip(W).map(|(c, w)| c.to_digit(10).unwrap_or(0) * w).sum();
    format!("{body}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

/// Goods, comprehensive scoring: price 30 points, `items` subjective items sharing the other 70
/// (in hundredths of a point, in steps of 0.5).
fn criteria(items: usize) -> Value {
    let each = 7000 / items as i64 / 50 * 50;
    let scoring: Vec<Value> = (0..items)
        .map(|i| {
            let max = if i + 1 == items { 7000 - each * (items as i64 - 1) } else { each };
            json!({"key": format!("item{i:02}"), "label": format!("评分项{}", i + 1), "max": max, "step": 50, "objective": false})
        })
        .collect();
    json!({
        "category": "goods",
        "price_weight": 3000,
        "sme_deduction_percent": 10,
        "technical_anonymous": false,
        "qualification": [{"key": "licence", "label": "营业执照"}],
        "compliance": [{"key": "sealed", "label": "按要求签署、盖章"}],
        "scoring": scoring,
    })
}

/// What every expert gives item `item` of the bid at `bid`: the same on every sheet, so that no
/// consistency flag is raised, different across bids so that the ranking means something. In
/// hundredths, within the item's range.
fn points(bid: usize, item: usize, items: usize) -> i64 {
    let max = 7000 / items as i64 / 50 * 50;
    (((bid * 3 + item) % 8) as i64 * 50).min(max)
}

/// A session ready for scoring: its tender, host, experts with their member ids, bids in order.
struct Ready {
    tender: Uuid,
    experts: Vec<(User, String, Uuid)>,
    bids: Vec<Uuid>,
    host_seq: i64,
}

/// Draws the committee from the site's pool, opens the session and takes it through sign-in,
/// the chair's election and both reviews to scoring.
async fn prepare_session(
    p: Arc<Platform>,
    staff: User,
    supervisor: User,
    tender: Uuid,
    site: String,
    logins: HashMap<String, String>,
    committee: usize,
) -> Ready {
    let draw = staff.post(&format!("/api/v1/tenders/{tender}/draw"), &json!({})).await;
    let draw = draw["id"].as_str().expect("draw").to_string();
    let request = json!({
        "groups": [{"specialty": "B01", "site": site, "count": committee}],
        "reserve": 1,
        "session_at": chrono::Utc::now() + chrono::TimeDelta::days(2),
        "duration_minutes": 240
    });
    staff.ok(reqwest::Method::PUT, &format!("/api/v1/draws/{draw}/request"), &request).await;
    let v =
        supervisor.post(&format!("/api/v1/draws/{draw}/contribution"), &json!({"contribution": "5a".repeat(32)})).await;
    let mut experts = Vec::new();
    for pick in v["picks"].as_array().expect("picks").iter().filter(|p| p["status"] == "invited") {
        let login = &logins[pick["expert"].as_str().expect("expert")];
        let u = User::login(&p, login).await;
        u.post(&format!("/api/v1/invitations/{}/answer", pick["id"].as_str().expect("pick")), &json!({"accept": true}))
            .await;
        experts.push((u, login.clone()));
    }
    assert_eq!(experts.len(), committee, "every seat invited");
    staff.post(&format!("/api/v1/draws/{draw}/publish"), &json!({})).await;
    staff.post(&format!("/api/v1/tenders/{tender}/evaluation"), &json!({})).await;

    let advance = |from: &'static str| {
        let staff = staff.clone();
        async move { staff.eval(tender, json!({"op": "advance", "from": from})).await }
    };
    let mut seated = Vec::new();
    for (u, login) in experts {
        u.eval(tender, json!({"op": "sign_in"})).await;
        u.eval(tender, json!({"op": "declare", "conflict": false})).await;
        let me = u.get(&format!("/api/v1/tenders/{tender}/evaluation")).await["me"]
            .as_str()
            .and_then(|m| m.parse::<Uuid>().ok())
            .expect("member");
        seated.push((u, login, me));
    }
    advance("sign_in").await;
    let chair = seated[0].2;
    for (u, _, _) in &seated {
        u.eval(tender, json!({"op": "vote_chair", "member": chair})).await;
    }
    advance("chair").await;
    let view = staff.get(&format!("/api/v1/tenders/{tender}/evaluation")).await;
    let mut bids: Vec<(String, Uuid)> = view["bids"]
        .as_array()
        .expect("bids")
        .iter()
        .map(|b| {
            (
                b["bidder"].as_str().unwrap_or("").to_string(),
                b["id"].as_str().and_then(|s| s.parse().ok()).expect("bid"),
            )
        })
        .collect();
    bids.sort();
    let bids: Vec<Uuid> = bids.into_iter().map(|(_, b)| b).collect();
    for (stage, item) in [("qualification", "licence"), ("compliance", "sealed")] {
        for (u, _, _) in &seated {
            for b in &bids {
                u.eval(tender, json!({"op": "vote", "stage": stage, "bid": b, "item": item, "pass": true})).await;
            }
        }
        advance(stage).await;
    }
    let view = staff.get(&format!("/api/v1/tenders/{tender}/evaluation")).await;
    assert_eq!(view["phase"], "scoring", "{view}");
    Ready { tender, experts: seated, bids, host_seq: view["last_seq"].as_i64().unwrap_or(0) }
}

#[tokio::main]
async fn main() {
    let sessions = env_usize("TENDERHALL_EVALUATIONS_SESSIONS", 50);
    let committee = env_usize("TENDERHALL_EVALUATIONS_EXPERTS", 7);
    let bidders = env_usize("TENDERHALL_EVALUATIONS_BIDS", 10);
    let items = env_usize("TENDERHALL_EVALUATIONS_ITEMS", 10).clamp(1, 14);
    let gap = Duration::from_millis(env_usize("TENDERHALL_EVALUATIONS_GAP_MS", 1000) as u64);
    let notes = env_usize("TENDERHALL_EVALUATIONS_NOTES", 20);
    assert!(committee >= 5 && committee % 2 == 1, "a committee is an odd number of at least 5");
    assert!(bidders >= 3, "an opening needs 3 valid bids");

    let p = Arc::new(
        Platform::start(&[
            ("TENDERHALL_TENDERS__MIN_BIDDING_DAYS", "0"),
            ("TENDERHALL_TENDERS__MIN_VALID_BIDS", "3"),
            ("TENDERHALL_DATABASE__MAX_CONNECTIONS", "16"),
            ("TENDERHALL_OPENING__SIGN_IN_MINUTES", "0"),
            ("TENDERHALL_OPENING__OBJECTION_MINUTES", "0"),
            ("TENDERHALL_OPENING__CONFIRM_MINUTES", "0"),
            // The pace is set by the program, not by the participants' command allowance.
            ("TENDERHALL_LIVE__COMMAND_BURST", "1000000"),
            ("TENDERHALL_LIVE__COMMANDS_PER_MINUTE", "1000000"),
        ])
        .await,
    );
    for (user, role) in [("admin", "platform_admin"), ("watcher", "supervisor"), ("staff", "agency_staff")] {
        p.add_account("交易中心", "centre", user, role);
    }
    for i in 0..bidders {
        p.add_account(&format!("投标人{i:02}"), "supplier", &format!("b{i:02}"), "supplier");
    }

    // The tenders, their bids, and their openings.
    let setup = Instant::now();
    let allowance = Duration::from_secs(env_usize("TENDERHALL_EVALUATIONS_SETUP_SECS", 40) as u64)
        + Duration::from_millis((sessions * (bidders * 60 + 150)) as u64);
    let deadline = chrono::Utc::now() + chrono::TimeDelta::from_std(allowance).expect("delta");
    let rules = criteria(items);
    let lots = || vec![json!({"name": "lot 1", "budget": 500_000_000})];
    let mut tenders = Vec::new();
    for _ in 0..sessions {
        let t = p.publish_tender_with(deadline, "comprehensive_scoring", lots(), Some(&rules)).await;
        tenders.push(t.parse::<Uuid>().expect("uuid"));
    }
    let mut clients = Vec::new();
    for i in 0..bidders {
        let c = PlatformClient::new(&p.base, None)
            .expect("client")
            .login(&format!("b{i:02}"), common::PASSWORD)
            .await
            .expect("login");
        let k = KeyFile::generate().expect("key");
        c.register_key(&k.public_key).await.expect("register");
        clients.push((c, k));
    }
    let file: Vec<u8> = (0..16 << 10).map(|i| (i * 7 % 251) as u8).collect();
    let mut sealed = Vec::new();
    for t in &tenders {
        let lot = clients[0].0.lots(*t).await.expect("lots")[0];
        for (i, (c, k)) in clients.iter().enumerate() {
            let price = format!("{}.00", 3_000_000 + 10_000 * i);
            sealed.push((i, *t, common::seal_bid(c, k, *t, lot, price, &file).await));
        }
    }
    assert!(chrono::Utc::now() < deadline, "setup overran the deadline: raise TENDERHALL_EVALUATIONS_SETUP_SECS");
    tokio::time::sleep((deadline - chrono::Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(1)).await;
    let host = User::login(&p, "agency").await;
    let mut hall_seq = Vec::new();
    for t in &tenders {
        let state = p.wait_for_hall(&host.http, &t.to_string()).await;
        hall_seq.push(state["last_seq"].as_i64().unwrap_or(0));
    }

    // Baseline: the halls' fan-out, at the same pace from as many senders.
    let watcher = p.session_cookie("watcher").await;
    let ws_base = p.base.replacen("http", "ws", 1);
    let hall_clocks = Clocks::default();
    let mut sockets = Vec::new();
    let note_key = |e: &Value| (e["kind"] == "note").then(|| e["data"]["text"].as_str().map(str::to_string)).flatten();
    for (t, after) in tenders.iter().zip(&hall_seq) {
        let url = format!("{ws_base}/api/v1/tenders/{t}/opening/ws?after={after}");
        sockets.push(watch(url, &watcher, hall_clocks.arrived.clone(), note_key).await);
    }
    let mut senders = Vec::new();
    for (h, t) in tenders.iter().enumerate() {
        for s in 0..committee {
            let path = format!("/api/v1/tenders/{t}/opening/commands");
            let messages = (0..notes)
                .map(|k| {
                    let text = format!("load-{h}-{s}-{k}");
                    (text.clone(), path.clone(), json!({"op": "note", "text": text}))
                })
                .collect();
            senders.push((host.clone(), messages));
        }
    }
    let hall_elapsed = run(senders, gap, &hall_clocks).await;
    for s in sockets.drain(..) {
        s.abort();
    }
    let (hall_times, hall_lost) = hall_clocks.latencies();

    // The openings: every key released, every hall read out and closed.
    for t in &tenders {
        host.post(&format!("/api/v1/tenders/{t}/opening/commands"), &json!({"op": "start_decryption"})).await;
    }
    let releases: Vec<_> = sealed
        .iter()
        .map(|(i, t, b)| {
            let c = clients[*i].0.clone();
            let (t, body) = (*t, json!({"op": "release_key", "bid": b.bid, "key": hex::encode(b.cek.0)}));
            tokio::spawn(async move { c.hall_command(t, &body).await.expect("release") })
        })
        .collect();
    for r in releases {
        r.await.expect("release");
    }
    for t in &tenders {
        for _ in 0..100 {
            let state = host.get(&format!("/api/v1/tenders/{t}/opening")).await;
            if state["phase"] == "closed" {
                break;
            }
            // A window's job may move the hall on first: then this advance is out of turn.
            let _ = host
                .send(
                    reqwest::Method::POST,
                    &format!("/api/v1/tenders/{t}/opening/commands"),
                    &json!({"op": "advance"}),
                )
                .await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(host.get(&format!("/api/v1/tenders/{t}")).await["state"], "evaluating", "{t}");
    }

    // One evaluation site per session, each with its committee and a reserve.
    let admin = User::login(&p, "admin").await;
    let staff = User::login(&p, "staff").await;
    let supervisor = User::login(&p, "watcher").await;
    let mut pools = Vec::new();
    for s in 0..sessions {
        let site = admin
            .post("/api/v1/admin/sites", &json!({"name": format!("评标场地{s:02}"), "city": "杭州", "seats": 20}))
            .await;
        let site = site["id"].as_str().expect("site").to_string();
        let mut logins = HashMap::new();
        for k in 0..=committee {
            let n = s * (committee + 1) + k;
            let e = staff
                .post(
                    "/api/v1/experts",
                    &json!({"name": format!("专家{n:03}"), "id_number": id_number(n), "phone": format!("139{:08}", 10_000_000 + n),
                        "title": "高级工程师", "site": site, "specialties": ["B0101"]}),
                )
                .await;
            let id = e["id"].as_str().expect("expert").to_string();
            let login = format!("x{n:03}");
            staff
                .post(
                    &format!("/api/v1/experts/{id}/account"),
                    &json!({"username": login, "password": common::PASSWORD}),
                )
                .await;
            logins.insert(id, login);
        }
        pools.push((site, logins));
    }
    let tasks: Vec<_> = tenders
        .iter()
        .zip(pools)
        .map(|(t, (site, logins))| {
            tokio::spawn(prepare_session(p.clone(), staff.clone(), supervisor.clone(), *t, site, logins, committee))
        })
        .collect();
    let mut ready = Vec::new();
    for t in tasks {
        ready.push(t.await.expect("session"));
    }
    println!(
        "setup: {sessions} tenders with {bidders} bids each opened, {sessions} committees of {committee} drawn and taken to scoring in {:.0} s",
        setup.elapsed().as_secs_f64()
    );

    // The measured part: every expert of every session scores at once, at the same pace.
    let host_cookie = p.session_cookie("staff").await;
    let eval_clocks = Clocks::default();
    let progress_key = |e: &Value| {
        (e["kind"] == "progress")
            .then(|| format!("{}/{}", e["data"]["member"].as_str().unwrap_or(""), e["data"]["done"]))
    };
    for r in &ready {
        let url = format!("{ws_base}/api/v1/tenders/{}/evaluation/ws?after={}", r.tender, r.host_seq);
        sockets.push(watch(url, &host_cookie, eval_clocks.arrived.clone(), progress_key).await);
    }
    let mut senders = Vec::new();
    for r in &ready {
        let path = format!("/api/v1/tenders/{}/evaluation/commands", r.tender);
        for (u, _, member) in &r.experts {
            let mut messages = Vec::new();
            for (b, bid) in r.bids.iter().enumerate() {
                for i in 0..items {
                    let pts = points(b, i, items);
                    let body = json!({"op": "score", "bid": bid, "item": format!("item{i:02}"), "points": format!("{}.{:02}", pts / 100, pts % 100)});
                    messages.push((format!("{member}/{}", messages.len() + 1), path.clone(), body));
                }
            }
            senders.push((u.clone(), messages));
        }
    }
    let scores: usize = senders.iter().map(|(_, m)| m.len()).sum();
    let eval_elapsed = run(senders, gap, &eval_clocks).await;
    for s in sockets.drain(..) {
        s.abort();
    }
    let (eval_times, eval_lost) = eval_clocks.latencies();

    // Every score recorded: each sheet complete, each session signed with the expected means.
    let mut missing_scores = 0;
    let mut wrong_results = 0;
    for r in &ready {
        for (u, _, _) in &r.experts {
            let v = u.get(&format!("/api/v1/tenders/{}/evaluation", r.tender)).await;
            missing_scores +=
                (r.bids.len() * items).saturating_sub(v["my_scores"].as_array().map(Vec::len).unwrap_or(0));
        }
        staff.eval(r.tender, json!({"op": "advance", "from": "scoring"})).await;
        for (u, _, _) in &r.experts {
            u.eval(r.tender, json!({"op": "sign", "password": common::PASSWORD})).await;
        }
        let v = staff.get(&format!("/api/v1/tenders/{}/evaluation", r.tender)).await;
        assert_eq!(v["phase"], "signed", "{}", r.tender);
        for (b, bid) in r.bids.iter().enumerate() {
            let expected: Vec<i64> = (0..items).map(|i| points(b, i, items)).collect();
            let row = v["results"].as_array().and_then(|rows| rows.iter().find(|row| row["bid"] == json!(bid)));
            if row.map(|row| row["item_means"].clone()) != Some(json!(expected)) {
                wrong_results += 1;
            }
        }
    }

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (h50, h99) = (percentile(&hall_times, 0.5), percentile(&hall_times, 0.99));
    let (e50, e99) = (percentile(&eval_times, 0.5), percentile(&eval_times, 0.99));
    let senders = sessions * committee;
    println!("{sessions} rooms at once, {senders} senders, one message each every {} ms", gap.as_millis());
    println!(
        "  opening halls, note -> supervisor's frame: {} notes in {:.0} s, p50 {:.1} ms, p99 {:.1} ms, lost {hall_lost}",
        hall_times.len() + hall_lost,
        hall_elapsed.as_secs_f64(),
        ms(h50),
        ms(h99)
    );
    println!(
        "  evaluation sessions, score -> host's frame: {scores} scores in {:.0} s, p50 {:.1} ms, p99 {:.1} ms, lost {eval_lost}",
        eval_elapsed.as_secs_f64(),
        ms(e50),
        ms(e99)
    );
    println!(
        "  ratio to the hall: p50 {:.2}, p99 {:.2}",
        e50.as_secs_f64() / h50.as_secs_f64().max(1e-9),
        e99.as_secs_f64() / h99.as_secs_f64().max(1e-9)
    );
    println!(
        "  recorded: {} of {scores} scores on the experts' sheets; {sessions} sessions signed, {wrong_results} results off",
        scores - missing_scores
    );
    assert_eq!(missing_scores, 0, "scores missing from the sheets");
    assert_eq!(wrong_results, 0, "results that do not match the scores sent");
    assert_eq!(eval_lost + hall_lost, 0, "frames never received");
}
