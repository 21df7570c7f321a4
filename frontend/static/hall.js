// The opening hall page: one websocket to the hall (docs/api.md, "The opening hall"), the phase
// and the countdown to its window's end by the server's clock (sign-in, decryption, objections,
// confirmation), the events as they happen, a table of every bidder's sign-in, decryption and
// confirmation drawn from those events, the reading, and the controls of the viewer's role; a
// control whose action has succeeded shows as done. A lost connection is resumed from the last
// event number, so nothing is missed or shown twice, after a pause that doubles from 1 s up to
// 30 s with each failed try (a random part of it, so that a hall full of browsers does not come
// back all at once), saying meanwhile that it is reconnecting; a connection closed because the
// session ended is not tried again: the hall says so, with a link to log in.

import { b64, contentKey, fromHex, readKeyFile, signDigest, toHex } from "/static/envelope.js";

const hall = document.getElementById("hall");
const tender = hall?.dataset.tender;
const role = hall?.dataset.role;
const el = (r) => hall.querySelector(`[data-role=${r}]`);
const text = (name, fallback = "") => hall.getAttribute(`data-msg-${name}`) ?? fallback;

let last = 0; // the last event number handled
let offset = 0; // server time minus local time, ms
let windowEnds = null;
let phase = "";
let record = null; // the record's SHA-256, hex, once it exists
let myBids = [];
let me = null; // a bidder's own organisation, as events name it (`org`)
let socket = null;
let sessionEnded = false; // the server closed the connection with login_required
let failures = 0; // connections in a row that closed before their hello
let greeted = false; // the current connection had its hello
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30000;
// The bidders' table: one row per bidder and lot, keyed by organisation (or name) and lot.
const bidders = new Map();

// Which controls make sense in which phase.
const CONTROLS = {
  start_decryption: ["sign_in"],
  advance: ["decryption", "objections", "confirmation"],
  sign_in: ["sign_in", "decryption"],
  release: ["decryption"],
  object: ["objections"],
  confirm: ["confirmation"],
  note: ["sign_in", "decryption", "objections", "confirmation"],
};

function showControls(p) {
  for (const [name, phases] of Object.entries(CONTROLS)) {
    for (const c of hall.querySelectorAll(`[data-op=${name}], [data-action=${name}]`)) c.hidden = !phases.includes(p);
  }
  const objection = el("objection")?.closest("label");
  if (objection) objection.hidden = p !== "objections";
  const note = el("note")?.closest("label");
  if (note) note.hidden = !CONTROLS.note.includes(p);
  const key = hall.querySelector(".hall-key");
  if (key) key.hidden = !["decryption", "confirmation"].includes(p);
}

function setPhase(p, ends) {
  phase = p;
  showControls(p);
  windowEnds = ends ? new Date(ends) : null;
  el("phase").textContent = text(`phase-${p}`, p);
  el("phase").dataset.phase = p;
  el("window-label").textContent = windowEnds ? text(`remaining-${p}`, text("remaining")) : "";
  if (["objections", "confirmation", "closed", "failed"].includes(p)) el("record").hidden = false;
}

function tick() {
  if (!windowEnds) {
    el("countdown").textContent = "";
    return;
  }
  const left = Math.max(0, Math.floor((windowEnds.getTime() - (Date.now() + offset)) / 1000));
  const m = String(Math.floor(left / 60)).padStart(2, "0");
  const s = String(left % 60).padStart(2, "0");
  el("countdown").textContent = `${m}:${s}`;
}

const who = (org, bidder) => org ?? `name:${bidder}`;

/** The rows of one bidder (all its lots), or of one bidder and lot. */
function rowsOf(org, bidder, lot) {
  const key = who(org, bidder);
  return [...bidders.values()].filter((r) => r.key === key && (lot === undefined || r.lot === (lot ?? null)));
}

const DECRYPTION = { pending: "st-pending", valid: "st-valid", refused: "st-refused", invalid: "st-invalid", decrypt_failed: "st-decrypt-failed" };

function drawBidders() {
  const body = el("bidders")?.tBodies[0];
  if (!body) return;
  body.replaceChildren();
  for (const r of bidders.values()) {
    const tr = body.insertRow();
    tr.dataset.testid = "hall-bidder";
    tr.dataset.bidder = r.bidder ?? "";
    if (me && r.org === me) tr.className = "mine";
    const cell = (col, value, state) => {
      const td = tr.insertCell();
      td.dataset.col = col;
      if (state !== undefined) td.dataset.state = state;
      td.textContent = value;
    };
    cell("bidder", `${r.bidder ?? ""}${me && r.org === me ? ` ${text("mine")}` : ""}`);
    cell("lot", r.lot ?? "");
    cell("signed_in", r.signedIn ? `✓ ${text("st-signed")}` : text("st-not-signed"), String(r.signedIn));
    cell("decryption", text(DECRYPTION[r.decryption] ?? "st-pending"), r.decryption);
    cell("confirmed", r.confirmed ? `✓ ${text("st-confirmed")}` : text("st-not-confirmed"), String(r.confirmed));
  }
}

/** The bidders' table as an event changes it; whether the event is about the viewer's own bids. */
function trackBidders(e) {
  const d = e.data ?? {};
  const mark = (rows, f) => rows.forEach(f);
  switch (e.kind) {
    case "opened":
      for (const b of d.bids ?? []) {
        const key = who(b.org, b.bidder);
        bidders.set(`${key}|${b.lot ?? ""}`, { key, org: b.org ?? null, bidder: b.bidder, lot: b.lot ?? null, signedIn: false, decryption: "pending", confirmed: false });
      }
      break;
    case "signed_in":
      mark(rowsOf(d.org, d.bidder), (r) => { r.signedIn = true; });
      break;
    case "key_accepted":
      // Releasing a key signs the bidder in.
      mark(rowsOf(d.org, d.bidder, d.lot), (r) => { r.decryption = "valid"; r.signedIn = true; });
      break;
    case "key_refused":
      mark(rowsOf(d.org, d.bidder, d.lot), (r) => { r.decryption = "refused"; });
      break;
    case "bid_invalid":
      mark(rowsOf(d.org, d.bidder, d.lot), (r) => { r.decryption = "invalid"; r.signedIn = true; });
      break;
    case "reading":
      for (const b of d.not_opened ?? []) mark(rowsOf(b.org, b.bidder, b.lot), (r) => { r.decryption = b.outcome; });
      break;
    case "confirmed":
      mark(rowsOf(d.org, d.bidder), (r) => { r.confirmed = true; });
      break;
    default:
      return false;
  }
  drawBidders();
  return Boolean(me && d.org === me);
}

/** Shows a control as done: its action succeeded and need not be repeated. */
function markDone(action) {
  for (const b of hall.querySelectorAll(`[data-op=${action}], [data-action=${action}]`)) {
    if (b.dataset.done === "true") continue;
    b.dataset.done = "true";
    b.disabled = true;
    b.classList.add("done");
    b.textContent = `✓ ${text(`done-${action}`)}`;
  }
}

/** The viewer's own controls as its bids in the hall say (after entering or a change). */
function showMine() {
  if (role !== "bidder" || myBids.length === 0) return;
  if (myBids.every((b) => b.signed_in)) markDone("sign_in");
  if (myBids.every((b) => b.outcome !== "pending")) markDone("release");
  if (myBids.every((b) => b.confirmed)) markDone("confirm");
}

function describe(e) {
  const d = e.data ?? {};
  const who = d.bidder ? `${d.bidder}` : d.by ? `${d.by}` : "";
  const parts = [text(`ev-${e.kind}`, e.kind)];
  if (who) parts.push(who);
  if (d.lot) parts.push(d.lot);
  if (d.text) parts.push(`“${d.text}”`);
  if (d.reason) parts.push(`(${reasonText(d)})`);
  if (d.record_sha256) parts.push(`SHA-256 ${d.record_sha256}`);
  return parts.join(" · ");
}

const lang = document.documentElement.lang;
const label = (item) => (lang === "en" && item.label_en ? item.label_en : item.label_zh);

/**
 * Why a bid is invalid, in the page's language: from its stable code (a bid form problem names
 * the item by its label), else the reason as recorded.
 */
function reasonText(d) {
  const form = d.code ? hall.getAttribute(`data-msg-form-${d.code}`) : null;
  if (form !== null) {
    const item = d.item ? label(d.item) || d.item.key : "";
    return `${text("form-mismatch")}: ${item ? `${item} — ` : ""}${form}`;
  }
  return (d.code && hall.getAttribute(`data-msg-reason-${d.code}`)) || d.reason || d.code || "";
}

/** A bid form value as read out: an amount as ¥ with grouping (and 大写 below), else as given. */
function valueNode(value, amount) {
  if (!amount) return document.createTextNode(value ?? "");
  const box = document.createElement("span");
  const figure = document.createElement("strong");
  figure.textContent = `¥${amount.yuan}`;
  figure.dataset.testid = "amount";
  const words = document.createElement("span");
  words.className = "muted small capitals";
  words.textContent = `${text("capitals")} ${amount.capitals}`;
  box.append(figure, document.createElement("br"), words);
  return box;
}

function renderReading(d) {
  const box = el("reading");
  const heading = document.createElement("h2");
  heading.textContent = text("reading");
  box.replaceChildren(heading);
  const items = d.items ?? [];
  const price = items.find((i) => i.key === "total_price");
  const table = document.createElement("table");
  table.className = "table";
  table.dataset.testid = "reading-table";
  const head = table.createTHead().insertRow();
  for (const h of [text("bidder"), text("lot"), price ? label(price) : text("price"), text("other"), text("files")]) {
    const th = document.createElement("th");
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  for (const b of d.bids ?? []) {
    const row = body.insertRow();
    const form = b.form ?? {};
    const amounts = b.amounts ?? {};
    row.insertCell().textContent = b.bidder ?? "";
    row.insertCell().textContent = b.lot ?? "";
    row.insertCell().append(valueNode(form.total_price, amounts.total_price));
    // The other items in the bid form's order, then any the form does not name.
    const keys = [...items.map((i) => i.key).filter((k) => k in form), ...Object.keys(form).filter((k) => !items.some((i) => i.key === k))];
    const other = row.insertCell();
    for (const k of keys.filter((k) => k !== "total_price")) {
      const item = items.find((i) => i.key === k);
      const line = document.createElement("div");
      line.append(`${item ? label(item) : k}: `, valueNode(form[k], amounts[k]));
      other.append(line);
    }
    row.insertCell().textContent = String((b.files ?? []).length);
  }
  for (const b of d.not_opened ?? []) {
    const row = body.insertRow();
    row.className = "muted";
    const why = b.outcome === "decrypt_failed" ? text("decrypt-failed") : `${text("invalid")} ${reasonText(b)}`;
    for (const v of [b.bidder, b.lot, text("not-opened"), why, ""]) row.insertCell().textContent = v ?? "";
  }
  box.append(table);
}

function addEvent(e) {
  const li = document.createElement("li");
  li.dataset.kind = e.kind;
  li.dataset.seq = e.seq;
  const time = document.createElement("span");
  time.className = "muted small";
  time.textContent = new Date(e.at).toLocaleTimeString(document.documentElement.lang || undefined, { timeZone: "Asia/Shanghai", hourCycle: "h23" });
  li.append(time, " ", describe(e));
  if (role === "host" && e.kind === "objection") {
    const input = document.createElement("input");
    input.dataset.testid = "answer-text";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn small";
    button.textContent = text("answer-btn");
    button.dataset.testid = "answer";
    button.addEventListener("click", () => send({ op: "answer", objection: e.data.id, text: input.value }));
    li.append(" ", input, button);
  }
  el("events").append(li);
  const mine = trackBidders(e);
  switch (e.kind) {
    case "opened":
      setPhase("sign_in", e.data.window_ends_at);
      break;
    case "decryption_started":
      setPhase("decryption", e.data.window_ends_at);
      break;
    case "reading":
      renderReading(e.data);
      break;
    case "objections_started":
      setPhase("objections", e.data.window_ends_at);
      break;
    case "confirmation_started":
      record = e.data.record_sha256;
      setPhase("confirmation", e.data.window_ends_at);
      break;
    case "closed":
      setPhase("closed", null);
      break;
    case "failed":
      setPhase("failed", null);
      break;
    default:
  }
  // Own sign-in, decryption and confirmation: the controls show what is done.
  if (mine || (role === "bidder" && e.kind === "reading")) refreshMine();
}

async function refreshMine() {
  const r = await fetch(`/api/v1/tenders/${tender}/opening`);
  if (r.ok) {
    myBids = (await r.json()).my_bids ?? [];
    showMine();
  }
}

function status(msg) {
  el("status").textContent = msg;
}

function send(cmd) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(cmd));
  else status(text(sessionEnded ? "session-ended" : "disconnected"));
}

// The connection's state beside the phase: open, reconnecting, or ended with a link to log in.
function showConn(state) {
  const conn = el("conn");
  conn.dataset.state = state;
  if (state === "ended") {
    const link = document.createElement("a");
    link.href = `/login?next=${encodeURIComponent(location.pathname)}`;
    link.textContent = text("log-in");
    link.dataset.testid = "hall-login";
    conn.replaceChildren(`${text("session-ended")} `, link);
  } else {
    conn.textContent = state === "open" ? "●" : text("disconnected");
  }
}

// The pause before the next try: up to 1 s, 2 s, 4 s … 30 s, of which a random half.
function retryDelay() {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(failures, 15));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function endSession() {
  sessionEnded = true;
  showConn("ended");
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  greeted = false;
  socket = new WebSocket(`${scheme}://${location.host}/api/v1/tenders/${tender}/opening/ws?after=${last}`);
  socket.onmessage = (m) => {
    const f = JSON.parse(m.data);
    if (f.type === "hello") {
      greeted = true;
      failures = 0;
      showConn("open");
      offset = new Date(f.state.server_time).getTime() - Date.now();
      myBids = f.state.my_bids ?? [];
      me = f.state.org ?? null;
      record = f.state.record_sha256 ?? record;
      setPhase(f.state.phase, f.state.window_ends_at);
      showMine();
      drawBidders();
    } else if (f.type === "event") {
      if (f.server_time) offset = new Date(f.server_time).getTime() - Date.now();
      if (f.event.seq > last) {
        last = f.event.seq;
        addEvent(f.event);
      }
    } else if (f.type === "clock") {
      offset = new Date(f.server_time).getTime() - Date.now();
    } else if (f.type === "error" && f.code === "login_required") {
      endSession();
    } else if (f.type === "error" && f.code === "rate_limited") {
      status(text("rate-limited", f.message).replace("{s}", String(f.retry_after ?? "")));
    } else if (f.type === "error") {
      status(f.message);
    } else if (f.type === "ok") {
      status("");
    }
  };
  socket.onclose = async (e) => {
    if (sessionEnded || e.reason === "login_required") {
      endSession();
      return;
    }
    showConn("reconnecting");
    if (!greeted) {
      failures += 1;
      // A refused handshake does not say why: ask whether the session is still there.
      try {
        const r = await fetch("/api/v1/me");
        if (r.status === 401) {
          endSession();
          return;
        }
      } catch {
        // The server cannot be reached: try again later.
      }
    }
    setTimeout(connect, retryDelay());
  };
}

async function loadKey() {
  const file = el("keyfile").files[0];
  if (!file) throw new Error(text("need-key"));
  try {
    return await readKeyFile(await file.text(), el("passphrase").value);
  } catch {
    throw new Error(text("wrong-pass"));
  }
}

async function release() {
  const k = await loadKey();
  await refreshMine();
  for (const b of myBids.filter((x) => x.outcome === "pending")) {
    const r = await fetch(`/api/v1/bids/${b.bid}/envelope/head`);
    if (!r.ok) continue;
    const head = new Uint8Array(await r.arrayBuffer());
    const cek = await contentKey(k.bidKey, head);
    send({ op: "release_key", bid: b.bid, key: toHex(cek) });
  }
}

async function confirmRecord() {
  const k = await loadKey();
  if (!record) await refreshMine();
  const privateKey = await crypto.subtle.importKey("pkcs8", k.pkcs8, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  send({ op: "confirm", signature: b64(await signDigest(privateKey, fromHex(record))) });
}

if (hall) {
  // Moving on names the phase it moves on from, so a click that crosses a window closing by
  // itself is refused rather than skipping the next phase.
  for (const b of hall.querySelectorAll("[data-op]")) {
    b.addEventListener("click", () => send(b.dataset.op === "advance" ? { op: "advance", from: phase } : { op: b.dataset.op }));
  }
  const on = (action, f) => hall.querySelector(`[data-action=${action}]`)?.addEventListener("click", () => f().catch((e) => status(e.message)));
  on("release", release);
  on("confirm", confirmRecord);
  on("object", async () => send({ op: "object", text: el("objection").value }));
  on("note", async () => send({ op: "note", text: el("note").value }));
  setInterval(tick, 500);
  connect();
}
