//! The demo's opening show: each time the demo starts, a tender whose bid deadline is three
//! minutes away, with sealed bids from four suppliers, and a background task that plays the
//! host and three of the bidders, so a newcomer can open the hall and watch a whole opening —
//! or take part as `supplier1` with the key file written beside the demo data.
//!
//! Everything goes through the same services as real use; the bids were sealed with the bidder
//! code and are opened with the keys the simulated bidders release.

use super::actor;
use crate::{
    accounts::model::Actor,
    app::AppState,
    bidder::KeyFile,
    bids::service as bids,
    clock::ManualClock,
    envelope::payload,
    error::{AppError, AppResult},
    money::Money,
    opening::model::{Command, Phase},
    tenders::{
        model::{BidFormField, EvaluationMethod, ProcurementMethod},
        service::{self as tenders, LotInput, TenderInput},
    },
};
use bytes::Bytes;
use chrono::TimeDelta;
use std::{path::Path, sync::Arc, time::Duration};
use uuid::Uuid;

/// The simulated bidders, with their prices; `supplier1` is the newcomer's.
pub(crate) const BIDDERS: &[(&str, &str)] = &[
    ("supplier1", "1268000.00"),
    ("supplier2", "1245600.00"),
    ("supplier3", "1299000.00"),
    ("supplier4", "1230500.00"),
];

/// How long after the launch the bid deadline falls.
pub const MINUTES_TO_DEADLINE: i64 = 3;

/// What the show needs to run.
pub struct Show {
    /// The tender.
    pub tender: Uuid,
    keys: Vec<(Actor, KeyFile)>,
    /// The newcomer's key file (passphrase: the demo password).
    pub key_file: std::path::PathBuf,
    /// The unit of the show's pauses (a second when watched; tests make it short).
    pub pace: Duration,
}

/// `1268000.00` as `1,268,000.00` (the bid file's wording).
fn grouped(price: &str) -> String {
    let (whole, cents) = price.split_once('.').unwrap_or((price, "00"));
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{out}.{cents}")
}

/// Makes this launch's opening tender and its sealed bids. The tender is published "three weeks
/// ago" (a clock set back, as the law's minimum bidding time requires) with its deadline a few
/// minutes from now.
pub async fn prepare(state: &AppState, dir: &Path) -> AppResult<Show> {
    let now = state.clock.now();
    let deadline = now + TimeDelta::minutes(MINUTES_TO_DEADLINE);
    let past_clock: crate::clock::SharedClock = Arc::new(ManualClock::new(now - TimeDelta::days(21)));
    let past_tenders = crate::tenders::Tenders { clock: past_clock.clone(), ..state.tenders.clone() };
    let past_bids = crate::bids::Bids { clock: past_clock, ..state.bids.clone() };
    let agency = actor(state, "agency").await?;
    let units = tenders::procuring_units(&state.db).await?;
    let unit = units.iter().find(|(_, n)| n == "某区教育局").map(|(id, _)| *id);
    let mut form = BidFormField::standard();
    form.truncate(3);
    let title = format!("开标演示：区教育局办公家具采购（{} 开标）", crate::web::fmt_time(&deadline));
    let tender = tenders::create_draft(
        &past_tenders,
        &agency,
        TenderInput {
            title: title.clone(),
            description: "演示用项目：启动后几分钟即到投标截止时间，模拟的主持人和投标人会完成一次完整的不见面开标，随后抽取评标专家并在主场和客场远程评标。"
                .into(),
            procuring_org: unit,
            procurement_method: ProcurementMethod::OpenTender,
            evaluation_method: EvaluationMethod::ComprehensiveScoring,
            bid_deadline: deadline,
            question_cutoff: None,
            bid_form: form,
            min_valid_bids: None,
            lots: vec![LotInput {
                name: "办公桌椅及文件柜".into(),
                budget: Money::parse_yuan("1350000").unwrap_or(Money::ZERO),
                ceiling: None,
            }],
            qualification: "具有独立承担民事责任的能力；具有良好的商业信誉和健全的财务会计制度。".into(),
            region: "南京市江宁区".into(),
            contact_person: "王工".into(),
            contact_phone: "010-68001234".into(),
            documents_from: Some(now - TimeDelta::days(21)),
            documents_until: Some(deadline),
            deposit: Some(Money::parse_yuan("20000").unwrap_or(Money::ZERO)),
        },
    )
    .await?;
    tenders::upload_document(
        &past_tenders,
        &agency,
        tender,
        "招标文件.pdf",
        Bytes::from(crate::demo::documents::tender_document(
            &title,
            "公开招标",
            &[("办公桌椅及文件柜", "1,350,000.00")],
        )?),
    )
    .await?;
    tenders::publish(&past_tenders, &agency, tender).await?;
    let lot = tenders::detail(&past_tenders, Some(&agency), tender).await?.lots[0].id;
    std::fs::create_dir_all(dir).map_err(AppError::internal)?;
    let mut keys = Vec::new();
    let mut key_file = std::path::PathBuf::new();
    for (user, price) in BIDDERS {
        let a = actor(state, user).await?;
        tenders::obtain(&past_tenders, &a, tender).await?;
        let key = KeyFile::generate().map_err(AppError::internal)?;
        let key_id = bids::register_key(
            &past_bids,
            &a,
            &base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &key.public_key),
        )
        .await?;
        let ticket = bids::reserve(&past_bids, &a, tender, lot).await?;
        let mut values = std::collections::BTreeMap::new();
        values.insert("total_price".to_string(), price.to_string());
        values.insert("delivery_days".to_string(), "30".to_string());
        let offer = crate::demo::documents::bid_file(&title, &a.org_name, &grouped(price))?;
        let p = payload::pack(values, &[("投标文件.pdf", &offer)]);
        let id = crate::envelope::BidIdentity {
            tender: ticket.tender,
            lot: ticket.lot,
            bidder: ticket.bidder,
            bid: ticket.bid,
        };
        let mut env = Vec::new();
        let (_, signature) = key.seal(&id, p.as_slice(), &mut env).map_err(AppError::internal)?;
        let mut body = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(Bytes::from(env))]);
        bids::receive(&past_bids, &a, ticket.bid, &key_id, &signature, &mut body).await?;
        if *user == "supplier1" {
            key_file = dir.join("supplier1-bid-key.json");
            // A previous launch's key file belongs to that launch's show tender: replace it.
            match std::fs::remove_file(&key_file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(AppError::internal(e)),
            }
            let text = key.to_json(Some(crate::demo::PASSWORD)).map_err(AppError::internal)?;
            crate::keys::write_private(&key_file, text.as_bytes()).map_err(AppError::internal)?;
        } else {
            // Kept beside the demo data, so that a later launch finishes this show if it is
            // stopped before the end (see `unfinished`).
            let text = key.to_json(Some(crate::demo::PASSWORD)).map_err(AppError::internal)?;
            let own = dir.join(tender.to_string());
            std::fs::create_dir_all(&own).map_err(AppError::internal)?;
            crate::keys::write_private(&own.join(format!("{user}.json")), text.as_bytes())
                .map_err(AppError::internal)?;
            keys.push((a, key));
        }
    }
    Ok(Show { tender, keys, key_file, pace: Duration::from_secs(1) })
}

/// The shows of earlier launches that did not reach their end (the demo was stopped during
/// one): each is played on from where it stands, with its simulated bidders' keys kept in
/// `dir`, so that no show's tender is left waiting in the hall. A show whose keys are gone is
/// skipped; one that has ended is forgotten (its keys are removed).
pub async fn unfinished(state: &AppState, dir: &Path) -> AppResult<Vec<Show>> {
    use crate::tenders::model::TenderState;
    let mut shows = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(shows) };
    for entry in entries.flatten() {
        let Some(tender) = entry.file_name().to_str().and_then(|n| n.parse::<Uuid>().ok()) else { continue };
        let host = actor(state, "agency").await?;
        let Ok(detail) = tenders::detail(&state.tenders, Some(&host), tender).await else { continue };
        let running = match detail.summary.state {
            TenderState::Published | TenderState::ClosedForBidding => true,
            TenderState::Opening => state
                .openings
                .hall_state(&host, tender)
                .await
                .map(|(h, _, _)| !matches!(h.phase, Phase::Closed | Phase::Failed))
                .unwrap_or(true),
            _ => false,
        };
        if !running {
            let _ = std::fs::remove_dir_all(entry.path());
            continue;
        }
        let mut keys = Vec::new();
        for (user, _) in BIDDERS.iter().filter(|(u, _)| *u != "supplier1") {
            let Ok(text) = std::fs::read_to_string(entry.path().join(format!("{user}.json"))) else { continue };
            let key = KeyFile::from_json(&text, Some(crate::demo::PASSWORD)).map_err(AppError::internal)?;
            keys.push((actor(state, user).await?, key));
        }
        shows.push(Show { tender, keys, key_file: dir.join("supplier1-bid-key.json"), pace: Duration::from_secs(1) });
    }
    Ok(shows)
}

/// Plays the host and the simulated bidders until the opening ends. Each step waits a little,
/// so a person watching can follow; the newcomer's own actions as `supplier1` (or as `agency`)
/// are taken into account.
pub fn spawn(state: AppState, show: Show) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = run(&state, &show).await {
            tracing::warn!(error = %e.message, "the demo opening stopped");
        }
    })
}

async fn run(state: &AppState, show: &Show) -> AppResult<()> {
    let host = actor(state, "agency").await?;
    let pause = |n: u32| tokio::time::sleep(show.pace * n);
    // The hall opens at the deadline by its job.
    loop {
        match state.openings.enter(&host, show.tender).await {
            Ok(_) => break,
            Err(e) if e.code == "hall_not_open" => tokio::time::sleep(show.pace.min(Duration::from_millis(500))).await,
            Err(e) => return Err(e),
        }
    }
    for (a, _) in &show.keys {
        pause(5).await;
        let _ = state.openings.execute(a, show.tender, Command::SignIn).await;
    }
    pause(30).await;
    let _ = state.openings.execute(&host, show.tender, Command::StartDecryption).await;
    for (a, key) in &show.keys {
        pause(10).await;
        let (h, _, _) = state.openings.hall_state(a, show.tender).await?;
        for b in h.my_bids.iter().filter(|b| b["outcome"] == "pending") {
            let Some(bid) = b["bid"].as_str().and_then(|s| s.parse::<Uuid>().ok()) else { continue };
            let head = bids::envelope_head(&state.bids, a, bid).await?;
            let cek = key.content_key(&head).map_err(AppError::internal)?;
            let _ = state.openings.execute(a, show.tender, Command::ReleaseKey { bid, key: hex::encode(cek.0) }).await;
        }
    }
    // The host moves on once the window has closed or every bid is decided.
    if !advance_when_allowed(state, &host, show, Phase::Decryption).await {
        return Ok(());
    }
    // Objections: one from a simulated bidder, answered.
    pause(10).await;
    if let Some((a, _)) = show.keys.first() {
        let text = "请核实第三名投标人的交货期是否满足招标文件要求。".to_string();
        let _ = state.openings.execute(a, show.tender, Command::Object { text }).await;
        pause(10).await;
    }
    answer_objections(state, &host, show.tender).await?;
    if !advance_when_allowed(state, &host, show, Phase::Objections).await {
        return Ok(());
    }
    // Confirmations by the simulated bidders, then the close.
    let (h, _, _) = state.openings.hall_state(&host, show.tender).await?;
    let digest = hex::decode(h.record_sha256.unwrap_or_default()).map_err(AppError::internal)?;
    let digest: [u8; 32] = digest.try_into().map_err(|_| AppError::internal("record digest"))?;
    for (a, key) in &show.keys {
        pause(5).await;
        let signature = key.sign_digest(&digest).map_err(AppError::internal)?;
        let _ = state.openings.execute(a, show.tender, Command::Confirm { signature }).await;
    }
    pause(60).await;
    let _ = state.openings.execute(&host, show.tender, Command::Advance { from: Some(Phase::Confirmation) }).await;
    Ok(())
}

/// The host moves on from `phase` as soon as the open window allows (or sees that the window's
/// end moved it on); false if the opening went elsewhere (it failed, or someone else closed it).
async fn advance_when_allowed(state: &AppState, host: &Actor, show: &Show, phase: Phase) -> bool {
    loop {
        tokio::time::sleep(show.pace * 3).await;
        let Ok((h, _, _)) = state.openings.hall_state(host, show.tender).await else { return false };
        if h.phase != phase {
            return matches!(h.phase, Phase::Objections | Phase::Confirmation);
        }
        match state.openings.execute(host, show.tender, Command::Advance { from: Some(phase) }).await {
            Ok(()) => return true,
            // The window is open, or closed by itself since the phase was read.
            Err(e) if e.code == "window_open" || e.code == "out_of_turn" => continue,
            Err(_) => return false,
        }
    }
}

async fn answer_objections(state: &AppState, host: &Actor, tender: Uuid) -> AppResult<()> {
    let events = state.openings.events(host, tender, 0).await?;
    for e in events.iter().filter(|e| e.kind == "objection") {
        let answered = events.iter().any(|a| a.kind == "answer" && a.data["objection"] == e.data["id"]);
        if answered {
            continue;
        }
        if let Some(id) = e.data["id"].as_str().and_then(|s| s.parse::<Uuid>().ok()) {
            let text = "经核实，该投标人开标一览表载明的交货期为30天，满足招标文件要求。".to_string();
            let _ = state.openings.execute(host, tender, Command::Answer { objection: id, text }).await;
        }
    }
    Ok(())
}
