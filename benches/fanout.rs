//! One new tender notice matching 10,000 subscribed suppliers: the release server publishes the
//! tender (the notice, its inbox event and its e-mail delivery for every subscriber, in the
//! publication's one transaction) and its sender delivers every e-mail to a local SMTP server
//! (aiosmtpd, `tests/support/smtp_server.py`). Checks that every subscriber got exactly one
//! mail, and reports the time from the publish request to the last mail received as a ratio to
//! a bare lettre loop sending the same number of messages of the same shape to a second,
//! identical SMTP server in the same run. Run:
//!
//! ```sh
//! cargo bench --bench fanout        # TENDERHALL_FANOUT_COUNT=10000
//! TENDERHALL_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/fanout cargo bench --bench fanout
//! ```
//!
//! Needs `python3` with aiosmtpd (`pip install aiosmtpd==1.4.6`, as `.ci/run` does), or makes
//! the tests' virtual environment with it.

mod common;
#[path = "../tests/support/smtp.rs"]
mod smtp;

use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor, message::MultiPart};
use sea_orm::{ActiveModelTrait, Set, TransactionTrait};
use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use tenderhall::{
    accounts::model::{OrgKind, Role, Status},
    entities::{organisation, subscription, user},
};

/// A local SMTP server writing each message it takes to a directory; killed when dropped.
struct Sink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    /// Held open while the server runs, so that nothing it prints meets a closed pipe.
    _out: std::process::ChildStdout,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port()
}

impl Sink {
    fn start() -> Sink {
        let port = free_port();
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
        let mut child = Command::new(smtp::python())
            .arg(script)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir.path())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd");
        let mut out = child.stdout.take().expect("stdout");
        let mut line = [0u8; 5];
        std::io::Read::read_exact(&mut out, &mut line).expect("the SMTP server says ready");
        assert_eq!(&line, b"ready");
        Sink { child, port, dir, _out: out }
    }

    fn count(&self) -> usize {
        std::fs::read_dir(self.dir.path())
            .expect("dir")
            .filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json")))
            .count()
    }

    /// Waits until `n` messages are in, or fails after `limit`.
    async fn wait_for(&self, n: usize, limit: Duration) -> Instant {
        let start = Instant::now();
        loop {
            if self.count() >= n {
                return Instant::now();
            }
            assert!(start.elapsed() < limit, "only {} of {n} messages arrived in {limit:?}", self.count());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Each recipient and how many messages it got.
    fn recipients(&self) -> std::collections::HashMap<String, usize> {
        let mut seen = std::collections::HashMap::new();
        for e in std::fs::read_dir(self.dir.path()).expect("dir") {
            let p = e.expect("entry").path();
            if p.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).expect("read")).expect("json");
            for r in v["rcpt_tos"].as_array().expect("rcpt") {
                *seen.entry(r.as_str().unwrap_or("").to_string()).or_insert(0) += 1;
            }
        }
        seen
    }
}

/// `n` supplier organisations, each with a user with an address and a subscription to goods,
/// written straight into the platform's database in one transaction.
async fn subscribers(url: &str, n: usize) {
    let db = tenderhall::db::connect(&tenderhall::config::DatabaseSettings { url: url.into(), max_connections: 2 })
        .await
        .expect("connect");
    let hash = tenderhall::accounts::service::hash_password(common::PASSWORD).expect("hash");
    let now = chrono::Utc::now();
    let txn = db.begin().await.expect("txn");
    for i in 0..n {
        let org = organisation::ActiveModel {
            public_id: Set(uuid::Uuid::new_v4()),
            name: Set(format!("订阅供应商{i:05}有限公司")),
            kind: Set(OrgKind::Supplier),
            size_class: Set(None),
            credit_code: Set(None),
            contact_phone: Set(None),
            status: Set(Status::Active),
            created_at: Set(now),
            approved_at: Set(Some(now)),
            status_reason: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .expect("org");
        let u = user::ActiveModel {
            public_id: Set(uuid::Uuid::new_v4()),
            org_id: Set(org.id),
            username: Set(format!("sub{i:05}")),
            display_name: Set(format!("订阅者{i}")),
            role: Set(Role::Supplier),
            password_hash: Set(hash.clone()),
            status: Set(Status::Active),
            email: Set(Some(format!("sub{i:05}@example.com"))),
            created_at: Set(now),
            password_changed_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .expect("user");
        subscription::ActiveModel {
            public_id: Set(uuid::Uuid::new_v4()),
            user_id: Set(u.id),
            org_id: Set(org.id),
            name: Set("货物类".into()),
            categories: Set("[\"goods\"]".into()),
            regions: Set("[]".into()),
            keywords: Set("[]".into()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .expect("subscription");
    }
    txn.commit().await.expect("commit");
}

/// The bare loop: one lettre transport, `n` messages of the notice's shape (Chinese subject,
/// text and HTML parts), sent one after the other.
async fn bare_loop(port: u16, n: usize) {
    let t = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1").port(port).build();
    let text = "新招标公告符合您的订阅「货物类」：【bench】（ZB-2026-0001），投标截止 2026-12-31 09:30";
    for i in 0..n {
        let m = Message::builder()
            .from("公共资源交易平台 <noreply@tenderhall.test>".parse().expect("from"))
            .to(format!("sub{i:05}@example.com").parse().expect("to"))
            .subject("【消息提醒】订阅的招标公告")
            .message_id(Some(format!("<bare.{i}@tenderhall.test>")))
            .multipart(MultiPart::alternative_plain_html(text.to_string(), format!("<p>{text}</p>")))
            .expect("message");
        t.send(m).await.expect("send");
    }
}

#[tokio::main]
async fn main() {
    let n = common::env_usize("TENDERHALL_FANOUT_COUNT", 10_000);
    let sink = Sink::start();
    let port = sink.port.to_string();
    let p = common::Platform::start(&[
        ("TENDERHALL_EMAIL__HOST", "127.0.0.1"),
        ("TENDERHALL_EMAIL__PORT", &port),
        ("TENDERHALL_EMAIL__SECURITY", "none"),
        ("TENDERHALL_EMAIL__FROM", "公共资源交易平台 <noreply@tenderhall.test>"),
        ("TENDERHALL_EMAIL__POLL_MS", "100"),
    ])
    .await;
    let t = Instant::now();
    subscribers(&p.db_url(), n).await;
    println!("{n} subscribed suppliers written in {:.2?}", t.elapsed());

    let start = Instant::now();
    p.publish_tender(chrono::Utc::now() + chrono::TimeDelta::days(25), 1).await;
    let published = start.elapsed();
    let done = sink.wait_for(n, Duration::from_secs(3600)).await;
    let platform = done - start;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = sink.recipients();
    let twice = got.values().filter(|c| **c > 1).count();
    let missed = (0..n).filter(|i| !got.contains_key(&format!("sub{i:05}@example.com"))).count();
    println!(
        "platform: publish answered in {published:.2?}; {} mails to {} recipients in {platform:.2?}; missed {missed}, twice {twice}",
        sink.count(),
        got.len()
    );
    assert_eq!((missed, twice, got.len()), (0, 0, n), "every subscriber gets the notice exactly once");

    let bare_sink = Sink::start();
    let start = Instant::now();
    bare_loop(bare_sink.port, n).await;
    let done = bare_sink.wait_for(n, Duration::from_secs(3600)).await;
    let bare = done - start;
    println!("bare lettre loop: {} mails in {bare:.2?}", bare_sink.count());
    println!(
        "ratio platform / bare: {:.2} ({:.0} vs {:.0} mails/s)",
        platform.as_secs_f64() / bare.as_secs_f64(),
        n as f64 / platform.as_secs_f64(),
        n as f64 / bare.as_secs_f64()
    );
}
