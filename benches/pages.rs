//! Public pages under load: the tender list, the tender search, a tender's page and a catalogue
//! search of the demo, each as requests per second from many keep-alive connections, beside a
//! bare axum JSON handler and Tenderhall's own `/healthz` measured in the same run on the same
//! machine. The goal: each public page at least 0.3× the bare handler. Run:
//!
//! ```sh
//! cargo bench --bench pages
//! # defaults: TENDERHALL_PAGES_SECS=8 TENDERHALL_PAGES_CONNECTIONS=32
//! TENDERHALL_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench pages
//! ```
//!
//! The platform is the release `tenderhall demo` (its demo data: tenders, agreements and the
//! catalogue) started as its own process, on a fresh SQLite database or on a fresh PostgreSQL
//! database made for the run on the server of `TENDERHALL_BENCH_DATABASE_URL` (dropped
//! afterwards). The bare handler is this program run again as a child process with the same
//! multi-threaded tokio runtime, so both servers are separate processes served over loopback.
//! The load comes from this process: a two-thread runtime, one HTTP/1.1 connection per task,
//! no cookies (a first visit, as from a search engine or a link). Only 200 answers are counted.

use axum::{Json, Router, routing::get};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use std::{
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

const BARE_ENV: &str = "TENDERHALL_PAGES_BARE_LISTEN";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port()
}

/// A child process, killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() {
    if let Ok(listen) = std::env::var(BARE_ENV) {
        return bare(listen.parse().expect("address"));
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(run());
}

/// The baseline: one axum route answering a small JSON document.
fn bare(addr: SocketAddr) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async move {
        let app = Router::new()
            .route("/json", get(|| async { Json(json!({"status": "ok", "tenders": [{"id": 1, "title": "示例"}]})) }));
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
        axum::serve(listener, app).await.expect("serve");
    });
}

async fn wait_until_up(url: &str) {
    for _ in 0..1200 {
        if let Ok(r) = reqwest::get(url).await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} did not come up");
}

/// A fresh PostgreSQL database on the server of `url`, and the statement that drops it.
async fn fresh_pg(url: &str) -> (String, String) {
    let admin = Database::connect(url).await.expect("connect");
    let name = format!("th_pages_{}", std::process::id());
    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\"")).await.expect("drop");
    admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create database");
    let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(url);
    (format!("{base}/{name}"), name)
}

async fn run() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let secs = env_u64("TENDERHALL_PAGES_SECS", 8);
    let conns = env_u64("TENDERHALL_PAGES_CONNECTIONS", 32) as usize;
    let pg = std::env::var("TENDERHALL_BENCH_DATABASE_URL").ok().filter(|u| u.starts_with("postgres"));
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("dir");

    let bare_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let _bare = Proc(
        Command::new(std::env::current_exe().expect("exe"))
            .env(BARE_ENV, bare_addr.to_string())
            .stdout(Stdio::null())
            .spawn()
            .expect("bare server"),
    );

    let th_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let mut demo = Command::new(env!("CARGO_BIN_EXE_tenderhall"));
    demo.args(["demo", "--data"]).arg(dir.path().join("demo")).args(["--listen", &th_addr.to_string()]);
    let dropped = match &pg {
        Some(url) => {
            let (db, name) = fresh_pg(url).await;
            demo.args(["--database-url", &db]);
            Some(name)
        }
        None => None,
    };
    let _th = Proc(
        demo.env("RUST_LOG", "warn").current_dir(dir.path()).stdout(Stdio::null()).spawn().expect("tenderhall demo"),
    );
    wait_until_up(&format!("http://{bare_addr}/json")).await;
    wait_until_up(&format!("http://{th_addr}/readyz")).await;

    let tenders: Value =
        reqwest::get(format!("http://{th_addr}/api/v1/tenders")).await.expect("tenders").json().await.expect("json");
    let tender = tenders["items"][0]["id"].as_str().expect("a published tender in the demo").to_string();
    let shown = tenders["items"].as_array().map(Vec::len).unwrap_or(0);

    println!(
        "pages: {} connections, {secs} s each, database {}; the tender list shows {shown} tenders",
        conns,
        if pg.is_some() { "PostgreSQL" } else { "SQLite" }
    );
    let targets: Vec<(&str, SocketAddr, String)> = vec![
        ("bare axum JSON handler", bare_addr, "/json".into()),
        ("tenderhall /healthz", th_addr, "/healthz".into()),
        ("public tender list /tenders", th_addr, "/tenders".into()),
        ("tender search /tenders?q=采购", th_addr, "/tenders?q=%E9%87%87%E8%B4%AD".into()),
        ("a tender's page /tenders/{id}", th_addr, format!("/tenders/{tender}")),
        ("catalogue search /mall?q=打印机", th_addr, "/mall?q=%E6%89%93%E5%8D%B0%E6%9C%BA".into()),
    ];
    let mut baseline = None;
    println!("{:<36} {:>10} {:>9} {:>8} {:>8}", "target", "req/s", "vs bare", "p50 ms", "p99 ms");
    for (name, addr, path) in &targets {
        // A second of warm-up (caches, connections), then the measured run.
        load(*addr, path, conns, Duration::from_secs(1)).await;
        let r = load(*addr, path, conns, Duration::from_secs(secs)).await;
        let rps = r.ok as f64 / r.elapsed.as_secs_f64();
        let base = *baseline.get_or_insert(rps);
        println!(
            "{name:<36} {rps:>10.0} {:>8.2}× {:>8.2} {:>8.2}{}",
            rps / base,
            r.p50_ms,
            r.p99_ms,
            if r.failed > 0 { format!("  ({} answers other than 200)", r.failed) } else { String::new() }
        );
        assert!(r.ok > 0, "{name}: no successful answer");
    }
    drop(_th);
    if let (Some(url), Some(name)) = (&pg, dropped) {
        let admin = Database::connect(url.as_str()).await.expect("connect");
        let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
    }
}

struct Outcome {
    ok: u64,
    failed: u64,
    elapsed: Duration,
    p50_ms: f64,
    p99_ms: f64,
}

/// `conns` connections each sending GET `path` one after another for `dur`.
async fn load(addr: SocketAddr, path: &str, conns: usize, dur: Duration) -> Outcome {
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let until = start + dur;
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (ok, failed, path) = (ok.clone(), failed.clone(), path.to_string());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
            tokio::spawn(conn);
            while Instant::now() < until {
                let req = hyper::Request::get(&path)
                    .header("host", addr.to_string())
                    .header("accept-language", "zh-CN,zh;q=0.9")
                    .body(Empty::<Bytes>::new())
                    .expect("request");
                let sent = Instant::now();
                let Ok(resp) = sender.send_request(req).await else {
                    failed.fetch_add(1, Ordering::Relaxed);
                    break;
                };
                let status = resp.status();
                if resp.into_body().collect().await.is_err() || status != 200 {
                    failed.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                latencies.push(sent.elapsed());
                ok.fetch_add(1, Ordering::Relaxed);
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    let elapsed = start.elapsed();
    all.sort();
    let pct = |p: f64| {
        if all.is_empty() {
            0.0
        } else {
            all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1000.0
        }
    };
    Outcome {
        ok: ok.load(Ordering::Relaxed),
        failed: failed.load(Ordering::Relaxed),
        elapsed,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
    }
}
