//! Opening-hall fan-out: 5,000 participants connected to one hall, and the time from the host
//! sending an event to its receipt by the last participant (p50 and p99 over the events), as a
//! ratio to a minimal broadcast server (tokio-tungstenite, one broadcast channel, nothing
//! stored) measured in the same run with the same clients. Run:
//!
//! ```sh
//! cargo bench --bench hall     # TENDERHALL_HALL_PARTICIPANTS=5000, TENDERHALL_HALL_EVENTS=40
//! ```
//!
//! Both servers are separate processes (this program re-runs itself as the minimal server).
//! The participants are supervisors' connections (50 sessions, each with many sockets): a
//! supervisor sees every event, which is the heaviest view. Each event is a host's note, sent
//! through the API; Tenderhall stores it and its audit record before anyone receives it.

#[path = "common/mod.rs"]
mod common;

use common::{env_usize, percentile};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

/// Arrival of each event (by its text) at each participant: count and latest instant.
type Arrivals = Arc<Mutex<HashMap<String, (usize, Instant)>>>;

/// The minimal broadcast server: every text frame from anyone goes to everyone.
async fn minimal_server(port: u16) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    let (tx, _) = tokio::sync::broadcast::channel::<Arc<String>>(1024);
    loop {
        let Ok((tcp, _)) = listener.accept().await else { continue };
        let tx = tx.clone();
        tokio::spawn(async move {
            let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else { return };
            let (mut sink, mut stream) = ws.split();
            let mut rx = tx.subscribe();
            loop {
                tokio::select! {
                    m = rx.recv() => match m {
                        Ok(text) => if sink.send(Message::Text(text.as_str().into())).await.is_err() { return },
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(_) => return,
                    },
                    m = stream.next() => match m {
                        Some(Ok(Message::Text(t))) => { let _ = tx.send(Arc::new(t.to_string())); }
                        Some(Ok(_)) => {}
                        _ => return,
                    },
                }
            }
        });
    }
}

/// Connects `n` participants to `url` (with `cookies[i % len]`), each recording arrivals of
/// texts starting with "load-" found in the frame.
async fn connect_all(url: &str, cookies: &[String], n: usize, arrivals: Arrivals) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::with_capacity(n);
    let mut connected = 0;
    while connected < n {
        let batch = (n - connected).min(200);
        let mut pending = Vec::new();
        for i in connected..connected + batch {
            let mut req = url.into_client_request().expect("request");
            if !cookies.is_empty() {
                req.headers_mut().insert("cookie", cookies[i % cookies.len()].parse().expect("cookie"));
            }
            pending.push(tokio_tungstenite::connect_async(req));
        }
        for ws in futures_util::future::join_all(pending).await {
            let (ws, _) = ws.expect("participant connects");
            let arrivals = arrivals.clone();
            tasks.push(tokio::spawn(async move {
                let (_, mut stream) = ws.split();
                while let Some(Ok(m)) = stream.next().await {
                    if let Message::Text(t) = m
                        && let Some(at) = t.find("load-")
                    {
                        let key: String =
                            t[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
                        let now = Instant::now();
                        let mut map = arrivals.lock().expect("lock");
                        let e = map.entry(key).or_insert((0, now));
                        e.0 += 1;
                        e.1 = e.1.max(now);
                    }
                }
            }));
        }
        connected += batch;
    }
    tasks
}

/// Sends `events` events with `send(i)` spaced `gap` apart; returns each event's time from
/// sending to its receipt by the last of `n` participants.
async fn measure<F, Fut>(
    n: usize,
    events: usize,
    gap: Duration,
    arrivals: &Arrivals,
    mut send: F,
) -> (Vec<Duration>, usize)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut sent = Vec::new();
    for i in 0..events {
        let t0 = Instant::now();
        send(i).await;
        sent.push((format!("load-{i}"), t0));
        tokio::time::sleep(gap).await;
    }
    // Wait for the stragglers.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let done = sent.iter().all(|(k, _)| arrivals.lock().expect("lock").get(k).is_some_and(|e| e.0 >= n));
        if done || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let map = arrivals.lock().expect("lock");
    let mut incomplete = 0;
    let mut times: Vec<Duration> = sent
        .iter()
        .filter_map(|(k, t0)| {
            let e = map.get(k)?;
            if e.0 < n {
                incomplete += 1;
            }
            Some(e.1.duration_since(*t0))
        })
        .collect();
    times.sort();
    (times, incomplete)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--minimal-server") {
        minimal_server(args[i + 1].parse().expect("port")).await;
        return;
    }
    let n = env_usize("TENDERHALL_HALL_PARTICIPANTS", 5000);
    let events = env_usize("TENDERHALL_HALL_EVENTS", 40);
    let gap = Duration::from_millis(250);

    // Baseline: the minimal broadcast server, as its own process.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let mut minimal = std::process::Command::new(std::env::current_exe().expect("exe"))
        .args(["--minimal-server", &port.to_string()])
        .spawn()
        .expect("minimal server");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let url = format!("ws://127.0.0.1:{port}/");
    let arrivals: Arrivals = Arc::default();
    let t0 = Instant::now();
    let tasks = connect_all(&url, &[], n, arrivals.clone()).await;
    let base_connect = t0.elapsed();
    let trigger =
        Arc::new(tokio::sync::Mutex::new(tokio_tungstenite::connect_async(url.as_str()).await.expect("trigger").0));
    let (base, base_incomplete) = measure(n, events, gap, &arrivals, |i| {
        let trigger = trigger.clone();
        async move {
            let msg = Message::Text(json!({"note": format!("load-{i}")}).to_string().into());
            trigger.lock().await.send(msg).await.expect("send");
        }
    })
    .await;
    for t in tasks {
        t.abort();
    }
    let _ = minimal.kill();
    let _ = minimal.wait();

    // Tenderhall: a tender whose deadline has just passed, its hall, 5,000 supervisors' sockets.
    let p = common::Platform::start(&[
        ("TENDERHALL_TENDERS__MIN_BIDDING_DAYS", "0"),
        ("TENDERHALL_DATABASE__MAX_CONNECTIONS", "16"),
        // The host sends its notes as fast as the fan-out allows: this measures the fan-out, not
        // the participants' command allowance.
        ("TENDERHALL_LIVE__COMMAND_BURST", "1000000"),
        ("TENDERHALL_LIVE__COMMANDS_PER_MINUTE", "1000000"),
    ])
    .await;
    p.add_account("交易中心", "centre", "watcher", "supervisor");
    let deadline = chrono::Utc::now() + chrono::TimeDelta::seconds(40);
    let tender = p.publish_tender(deadline, 1).await;
    while chrono::Utc::now() < deadline + chrono::TimeDelta::seconds(1) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (host, csrf) = p.client("agency").await;
    let state: Value = p.wait_for_hall(&host, &tender).await;
    assert_eq!(state["phase"], "sign_in", "{state}");
    let mut cookies = Vec::new();
    for _ in 0..50 {
        cookies.push(p.session_cookie("watcher").await);
    }
    let after = state["last_seq"].as_i64().unwrap_or(0);
    let url = format!("{}/api/v1/tenders/{tender}/opening/ws?after={after}", p.base.replacen("http", "ws", 1));
    let arrivals: Arrivals = Arc::default();
    let t0 = Instant::now();
    let tasks = connect_all(&url, &cookies, n, arrivals.clone()).await;
    let th_connect = t0.elapsed();
    let idle = common::vm(p.pid(), "VmRSS:");
    let base_url = p.base.clone();
    let (th, th_incomplete) = measure(n, events, gap, &arrivals, |i| {
        let req = host
            .post(format!("{base_url}/api/v1/tenders/{tender}/opening/commands"))
            .header("x-csrf-token", &csrf)
            .json(&json!({"op": "note", "text": format!("load-{i}")}));
        async move {
            let r = req.send().await.expect("note");
            assert_eq!(r.status().as_u16(), 204);
        }
    })
    .await;
    let peak = common::vm(p.pid(), "VmHWM:");
    for t in tasks {
        t.abort();
    }

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (b50, b99) = (percentile(&base, 0.5), percentile(&base, 0.99));
    let (t50, t99) = (percentile(&th, 0.5), percentile(&th, 0.99));
    println!(
        "{n} participants, {events} events {} ms apart; fan-out = send to receipt by the last participant",
        gap.as_millis()
    );
    println!(
        "  minimal broadcast server: connect {:.1} s, p50 {:.1} ms, p99 {:.1} ms, incomplete {base_incomplete}",
        base_connect.as_secs_f64(),
        ms(b50),
        ms(b99)
    );
    println!(
        "  tenderhall hall:          connect {:.1} s, p50 {:.1} ms, p99 {:.1} ms, incomplete {th_incomplete}",
        th_connect.as_secs_f64(),
        ms(t50),
        ms(t99)
    );
    println!(
        "  ratio: p50 {:.2}, p99 {:.2} (goal: p99 <= 1.15)",
        t50.as_secs_f64() / b50.as_secs_f64(),
        t99.as_secs_f64() / b99.as_secs_f64()
    );
    println!("  server memory with {n} sockets: {} MiB resident, peak {} MiB", idle / 1024, peak / 1024);
}
