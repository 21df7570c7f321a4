//! The demo centre's finance office: a payment endpoint on loopback that speaks the fees'
//! protocol (docs/award.md, "Expert fees"), so that the demo's experts see their fees paid.
//!
//! It checks each instruction's Ed25519 signature with the platform's public key and pays an
//! idempotency key once: a repeated instruction gets the first payment's id. What it paid is
//! kept in memory only, which is enough for a demonstration; a real centre's endpoint keeps its
//! ledger. It is started by `tenderhall demo` when no endpoint is configured.

use crate::keys::PublicKey;
use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};
use tokio::net::TcpListener;

/// The path instructions are posted to.
pub const PATH: &str = "/demo-finance/pay";

#[derive(Clone)]
struct Payee {
    key: PublicKey,
    /// Payment ids by idempotency key.
    paid: Arc<Mutex<HashMap<String, String>>>,
}

/// Serves the payee on `listener` (bound before the platform is built, so that its address can
/// be the configured endpoint) until the process ends.
pub fn spawn(listener: TcpListener, key: PublicKey) -> tokio::task::JoinHandle<()> {
    let payee = Payee { key, paid: Arc::default() };
    let app = Router::new().route(PATH, post(pay)).with_state(payee);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(error = %e, "the demo payment endpoint stopped");
        }
    })
}

async fn pay(State(p): State<Payee>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let signed = hex::decode(header("x-tenderhall-signature")).is_ok_and(|sig| p.key.verify(&body, &sig));
    let key = header("idempotency-key");
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if !signed || key.is_empty() || v["idempotency_key"] != key.as_str() {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "unsigned or inconsistent instruction"})))
            .into_response();
    }
    let Ok(mut paid) = p.paid.lock() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let next = format!("DEMO-PAY-{:05}", paid.len() + 1);
    let id = paid.entry(key).or_insert(next).clone();
    tracing::info!(payment = %id, amount_fen = %v["amount_fen"], "the demo finance office paid an expert's fee");
    Json(json!({"payment_id": id})).into_response()
}
