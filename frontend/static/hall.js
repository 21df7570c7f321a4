// The opening hall page: one websocket to the hall (docs/api.md, "The opening hall"), the phase
// and its countdown by the server's clock, the events as they happen, the reading, and the
// controls of the viewer's role. A lost connection is resumed from the last event number, so
// nothing is missed or shown twice.

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
let socket = null;

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
  el("window-label").textContent = windowEnds ? text("remaining") : "";
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

function describe(e) {
  const d = e.data ?? {};
  const who = d.bidder ? `${d.bidder}` : d.by ? `${d.by}` : "";
  const parts = [text(`ev-${e.kind}`, e.kind)];
  if (who) parts.push(who);
  if (d.lot) parts.push(d.lot);
  if (d.text) parts.push(`“${d.text}”`);
  if (d.reason) parts.push(`(${d.reason})`);
  if (d.record_sha256) parts.push(`SHA-256 ${d.record_sha256}`);
  return parts.join(" · ");
}

const lang = document.documentElement.lang;
const label = (item) => (lang === "en" && item.label_en ? item.label_en : item.label_zh);

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
  box.replaceChildren();
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
    const why = b.outcome === "decrypt_failed" ? text("decrypt-failed") : `${text("invalid")} ${b.reason ?? ""}`;
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
  time.textContent = new Date(e.at).toLocaleTimeString(document.documentElement.lang || undefined, { timeZone: "Asia/Shanghai" });
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
  switch (e.kind) {
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
      setPhase("confirmation", null);
      break;
    case "closed":
      setPhase("closed", null);
      break;
    case "failed":
      setPhase("failed", null);
      break;
    default:
  }
  if (["key_accepted", "bid_invalid", "reading"].includes(e.kind)) refreshMine();
}

async function refreshMine() {
  const r = await fetch(`/api/v1/tenders/${tender}/opening`);
  if (r.ok) myBids = (await r.json()).my_bids ?? [];
}

function status(msg) {
  el("status").textContent = msg;
}

function send(cmd) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(cmd));
  else status(text("disconnected"));
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/api/v1/tenders/${tender}/opening/ws?after=${last}`);
  socket.onopen = () => {
    el("conn").textContent = "●";
    el("conn").dataset.state = "open";
  };
  socket.onmessage = (m) => {
    const f = JSON.parse(m.data);
    if (f.type === "hello") {
      offset = new Date(f.state.server_time).getTime() - Date.now();
      myBids = f.state.my_bids ?? [];
      record = f.state.record_sha256 ?? record;
      setPhase(f.state.phase, f.state.window_ends_at);
    } else if (f.type === "event") {
      if (f.server_time) offset = new Date(f.server_time).getTime() - Date.now();
      if (f.event.seq > last) {
        last = f.event.seq;
        addEvent(f.event);
      }
    } else if (f.type === "clock") {
      offset = new Date(f.server_time).getTime() - Date.now();
    } else if (f.type === "error") {
      status(f.message);
    } else if (f.type === "ok") {
      status("");
    }
  };
  socket.onclose = () => {
    el("conn").textContent = text("disconnected");
    el("conn").dataset.state = "closed";
    setTimeout(connect, 1500);
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
