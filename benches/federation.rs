//! A guest member's command across two deployments against the same on one site. Two real
//! `tenderhall serve` processes (the host and the guest, each with its own database, linked over
//! mutually authenticated TLS on loopback) hold a session with five members of the host and two
//! of the guest, brought to scoring. Then, one command in flight at a time:
//!
//! - **one site**: a host member sends a score to the host; measured until its `progress` frame
//!   reaches the host's screen (the centre's websocket of the session);
//! - **across sites**: a guest member sends a score to the guest, which relays it to the host;
//!   measured until its `progress` frame reaches the host's screen, and until the outcome
//!   (`command_result`) is back on the guest member's own screen (its websocket at the guest).
//!
//! Reported: p50 and p99 of each, and the ratios of the cross-site ones to one site. Run:
//!
//! ```sh
//! cargo bench --bench federation        # TENDERHALL_FEDERATION_ROUNDS=200
//! ```

#[path = "../tests/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use futures_util::StreamExt;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::federation::{DEMO_PASSWORD, convene_with_guest, in_phase, scores, session_pair_with, to_scoring};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// The cookies of a session of `user` at `base`.
async fn cookie(base: &str, user: &str) -> String {
    let http = reqwest::Client::new();
    let csrf = http.get(format!("{base}/api/v1/csrf")).send().await.expect("csrf");
    let mut cookies: Vec<String> = csrf
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
        .collect();
    let token = csrf.json::<Value>().await.expect("json")["csrf_token"].as_str().expect("token").to_string();
    let r = http
        .post(format!("{base}/api/v1/session"))
        .header("cookie", cookies.join("; "))
        .header("x-csrf-token", token)
        .json(&json!({"username": user, "password": DEMO_PASSWORD}))
        .send()
        .await
        .expect("login");
    cookies.extend(
        r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string)),
    );
    cookies.join("; ")
}

/// Every event frame of a room's websocket, with when it arrived.
async fn frames(url: String, cookie: String) -> mpsc::UnboundedReceiver<(Instant, Value)> {
    let mut req = url.as_str().into_client_request().expect("request");
    req.headers_mut().insert("cookie", cookie.parse().expect("cookie"));
    let (ws, _) = tokio_tungstenite::connect_async(req).await.expect("websocket");
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (_sink, mut stream) = ws.split();
        while let Some(Ok(m)) = stream.next().await {
            if let Message::Text(t) = m
                && let Ok(v) = serde_json::from_str::<Value>(&t)
                && v["type"] == "event"
                && tx.send((Instant::now(), v["event"].clone())).is_err()
            {
                return;
            }
        }
    });
    rx
}

/// Waits for the first frame arrived after `since` that `want` picks; its arrival time. (A
/// socket first sends the room's history, and earlier rounds' frames may still be queued.)
async fn until(
    rx: &mut mpsc::UnboundedReceiver<(Instant, Value)>,
    since: Instant,
    want: impl Fn(&Value) -> bool,
) -> Instant {
    loop {
        let (at, e) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("a frame within 30 s")
            .expect("the websocket is open");
        if at >= since && want(&e) {
            return at;
        }
    }
}

fn report(name: &str, mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let (p50, p99) = (percentile(&v, 0.5), percentile(&v, 0.99));
    println!("{name:<44} p50 {:>8.2} ms   p99 {:>8.2} ms", p50.as_secs_f64() * 1e3, p99.as_secs_f64() * 1e3);
    (p50, p99)
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("TENDERHALL_FEDERATION_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    // The members send far more than a person would: their allowance must not be what is measured.
    let env = [("TENDERHALL_LIVE__COMMANDS_PER_MINUTE", "1000000"), ("TENDERHALL_LIVE__COMMAND_BURST", "1000000")];
    let (host, guest, tender) = session_pair_with(&env, &[]).await;
    let convened = convene_with_guest(&host, &guest, tender).await;
    to_scoring(&convened.centre, &convened.hands, tender).await;
    let (host_base, guest_base) =
        (format!("http://127.0.0.1:{}", host.port), format!("http://127.0.0.1:{}", guest.port));
    let local = &convened.hands[0];
    let remote = &convened.hands[5];
    let lv = in_phase(local, tender, "scoring").await;
    let rv = in_phase(remote, tender, "scoring").await;
    let (local_member, remote_member) = (lv["me"].clone(), rv["me"].clone());
    let all = scores(&lv);
    // The item scored again and again, alternating between two points it takes.
    let again = |i: usize| {
        let mut s = all[0].clone();
        s["points"] = if i.is_multiple_of(2) { all[0]["points"].clone() } else { json!("0.00") };
        s
    };
    let ws = |base: &str, path: String| format!("{}{path}", base.replacen("http", "ws", 1));
    let mut host_screen =
        frames(ws(&host_base, format!("/api/v1/tenders/{tender}/evaluation/ws")), cookie(&host_base, "centre").await)
            .await;
    let remote_login = "expert6";
    let mut guest_screen = frames(
        ws(&guest_base, format!("/api/v1/federation/sessions/{}/ws", convened.session)),
        cookie(&guest_base, remote_login).await,
    )
    .await;
    // The sockets' history arrives before the first round.
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The guest member's hand must be expert6's.
    let mine = remote.client.get_json("/api/v1/federation/sessions").await;
    assert_eq!(mine[0]["member"], remote_member, "the bench's guest member is {remote_login}");

    let (mut one_site, mut to_host, mut round_trip) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..rounds {
        // One site.
        let t0 = Instant::now();
        let r = local.client.post(&format!("/api/v1/tenders/{tender}/evaluation/commands"), &again(i)).await;
        assert!(r.status().is_success(), "{:?}", r.text().await);
        let t1 = until(&mut host_screen, t0, |e| e["kind"] == "progress" && e["data"]["member"] == local_member).await;
        one_site.push(t1 - t0);
        // Across sites.
        let t0 = Instant::now();
        let r =
            remote.client.post(&format!("/api/v1/federation/sessions/{}/commands", convened.session), &again(i)).await;
        assert_eq!(r.status(), 202);
        let id = r.json::<Value>().await.expect("json")["command_id"].clone();
        let t1 = until(&mut host_screen, t0, |e| e["kind"] == "progress" && e["data"]["member"] == remote_member).await;
        let t2 = until(&mut guest_screen, t0, |e| e["kind"] == "command_result" && e["data"]["command_id"] == id).await;
        to_host.push(t1 - t0);
        round_trip.push(t2 - t0);
    }
    println!("{rounds} rounds, one command in flight at a time");
    let (b50, b99) = report("one site: submission → host's screen", one_site);
    let (h50, h99) = report("guest: submission → host's screen", to_host);
    let (r50, r99) = report("guest: submission → host → guest's screen", round_trip);
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    println!(
        "ratio to one site (p50 / p99): host's screen {:.2} / {:.2}; back at the guest {:.2} / {:.2}",
        ratio(h50, b50),
        ratio(h99, b99),
        ratio(r50, b50),
        ratio(r99, b99)
    );
    drop((host, guest));
}
