// The sealed-bid panel of a tender page: bid key files, sealing in the browser with WebCrypto
// (envelope.js), chunk by chunk straight from the chosen files, uploading as it seals with the
// resumable protocol (docs/api.md), signing, progress, and the signed receipt; the list of the
// organisation's bids on the tender (mybids.js) is drawn again once a bid is recorded.
// Key file and payload formats: docs/envelope.md (the same as `tenderhall bidder`).
//
// An upload that is cut off (network lost, tab closed) resumes: the bid in progress is kept in
// localStorage (ids and a fingerprint of the form and files, no secret), the seal parameters
// are derived from the bid key and the bid, so sealing the same form and files again gives the
// same bytes, and only what the platform does not hold yet is sent.

import { b64, derivedParams, envelopeSize, keyFileText, readKeyFile, sealStream, sha256, signDigest, streamingSha256, toHex } from "/static/envelope.js";
import { checkForm } from "/static/bidform.js";
import { chinaTime, refreshBids } from "/static/mybids.js";

const panel = document.getElementById("bid");
const subtle = crypto.subtle;
const enc = new TextEncoder();
const msg = (k) => panel.dataset[k] ?? k;
const csrf = document.querySelector("meta[name=csrf-token]")?.content ?? "";
const el = (role) => panel.querySelector(`[data-role=${role}]`);
let key = null; // { bidKey, privateKey, keyId }

async function api(method, path, body) {
  const r = await fetch(path, {
    method,
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await r.json().catch(() => ({}));
  return { ok: r.ok, status: r.status, data };
}

async function useKey(bidKey, pkcs8, pub) {
  const privateKey = await subtle.importKey("pkcs8", pkcs8, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  const keyId = toHex((await sha256(pub)).subarray(0, 8));
  const r = await api("POST", "/api/v1/me/bidder-keys", { public_key: b64(pub) });
  if (!r.ok && r.data?.error?.code !== "key_exists") throw new Error(r.data?.error?.message ?? `HTTP ${r.status}`);
  key = { bidKey, privateKey, keyId };
  el("key-status").textContent = `${msg("msgKeyReady")} ${keyId}`;
}

async function keygen() {
  const bidKey = crypto.getRandomValues(new Uint8Array(32));
  const pair = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const pkcs8 = new Uint8Array(await subtle.exportKey("pkcs8", pair.privateKey));
  const pub = new Uint8Array(await subtle.exportKey("raw", pair.publicKey));
  const text = await keyFileText(bidKey, pkcs8, pub, el("passphrase").value);
  const link = el("key-download");
  link.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  link.hidden = false;
  await useKey(bidKey, pkcs8, pub);
  el("key-status").textContent += ` — ${msg("msgKeySaved")}`;
}

async function loadKey(file) {
  try {
    const k = await readKeyFile(await file.text(), el("passphrase").value);
    await useKey(k.bidKey, k.pkcs8, k.pub);
  } catch {
    el("key-status").textContent = msg("msgWrongPass");
  }
}

const SLICE = 4 << 20; // bytes read from a file at a time
const BATCH = 4 << 20; // envelope bytes per upload request
const pending = () => `tenderhall-bid:${panel.dataset.tender}:${el("lot").value}`;

function setProgress(fraction, text) {
  el("progress").value = Math.round(fraction * 100);
  el("progress-text").textContent = text;
}

/** Hashes the files piece by piece; resolves to the manifest entries. */
async function hashFiles(files) {
  const total = files.reduce((n, f) => n + f.size, 0) || 1;
  let done = 0;
  const entries = [];
  for (const f of files) {
    const h = streamingSha256();
    for (let at = 0; at < f.size; at += SLICE) {
      const part = new Uint8Array(await f.slice(at, Math.min(f.size, at + SLICE)).arrayBuffer());
      h.update(part);
      done += part.length;
      setProgress(done / total, `${msg("msgHashing")} ${Math.round((done / total) * 100)}%`);
    }
    entries.push({ name: f.name, size: f.size, sha256: toHex(h.digest()) });
  }
  return entries;
}

/** The payload as segments (manifest header, then each file), readable at any offset. */
function payloadReader(form, entries, files) {
  const manifest = enc.encode(JSON.stringify({ form, files: entries }));
  const head = new Uint8Array(12 + manifest.length);
  head.set(enc.encode("THBID1\0\0"));
  new DataView(head.buffer).setUint32(8, manifest.length);
  head.set(manifest, 12);
  const segments = [{ start: 0, size: head.length, bytes: head }];
  let at = head.length;
  for (const f of files) {
    segments.push({ start: at, size: f.size, file: f });
    at += f.size;
  }
  const read = async (offset, n) => {
    const out = new Uint8Array(n);
    let filled = 0;
    for (const seg of segments) {
      const from = Math.max(offset + filled, seg.start);
      const to = Math.min(offset + n, seg.start + seg.size);
      if (from >= to) continue;
      const part = seg.bytes
        ? seg.bytes.subarray(from - seg.start, to - seg.start)
        : new Uint8Array(await seg.file.slice(from - seg.start, to - seg.start).arrayBuffer());
      out.set(part, from - offset);
      filled = to - offset;
    }
    return out;
  };
  return { length: at, read, manifest };
}

function request(method, url, headers, body, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open(method, url);
    x.setRequestHeader("x-csrf-token", csrf);
    for (const [k, v] of Object.entries(headers)) x.setRequestHeader(k, v);
    if (onProgress) x.upload.onprogress = (e) => onProgress(e.loaded);
    x.onload = () => {
      let data = {};
      try { data = JSON.parse(x.responseText); } catch { /* not JSON */ }
      resolve({ ok: x.status >= 200 && x.status < 300, status: x.status, data });
    };
    x.onerror = () => reject(new Error(msg("msgNetwork")));
    x.send(body);
  });
}

const failure = (r) => new Error(r.data?.error?.message ?? `HTTP ${r.status}`);

/**
 * Receives the envelope as it is sealed and sends it in batches, skipping what the platform
 * already holds (after checking it is the start of these very bytes). A batch that fails is
 * retried from where the platform says it stands.
 */
class Uploader {
  constructor(bid, state, total) {
    this.bid = bid;
    this.have = state.offset; // bytes the platform held when we started
    this.haveSha = state.sha256;
    this.prefix = streamingSha256();
    this.pos = 0; // envelope bytes seen
    this.sent = state.offset; // bytes the platform holds
    this.batch = [];
    this.total = total;
  }

  async push(bytes) {
    let b = bytes;
    if (this.pos < this.have) {
      const take = Math.min(b.length, this.have - this.pos);
      this.prefix.update(b.subarray(0, take));
      this.pos += take;
      b = b.subarray(take);
      if (this.pos === this.have && toHex(this.prefix.digest()) !== this.haveSha) throw new Error("changed");
    }
    if (!b.length) return;
    this.batch.push(b);
    this.pos += b.length;
    if (this.pos - this.sent >= BATCH) await this.flush();
  }

  async flush() {
    for (let attempt = 0; this.pos > this.sent; attempt++) {
      const body = new Blob(this.batch);
      try {
        const r = await request("PATCH", `/api/v1/bids/${this.bid}/upload`,
          { "upload-offset": String(this.sent), "content-type": "application/octet-stream" }, body,
          (loaded) => this.show(this.sent + loaded));
        if (!r.ok && r.data?.error?.code !== "upload_offset_mismatch" && r.data?.error?.code !== "upload_busy") throw failure(r);
        if (r.ok) {
          this.sent = r.data.offset;
          this.batch = [];
          this.show(this.sent);
          return;
        }
      } catch (e) {
        if (attempt >= 5) throw e;
      }
      // Realign with what the platform holds, and send only the rest of the batch.
      await new Promise((ok) => setTimeout(ok, 500 * (attempt + 1)));
      const st = await api("GET", `/api/v1/bids/${this.bid}/upload`);
      if (!st.ok) throw failure(st);
      const skip = st.data.offset - this.sent;
      if (skip < 0 || skip > this.pos - this.sent) throw new Error("changed");
      if (skip > 0) {
        this.batch = [await new Blob(this.batch).slice(skip).arrayBuffer().then((a) => new Uint8Array(a))];
        this.sent = st.data.offset;
      }
    }
  }

  show(done) {
    setProgress(done / this.total, `${msg("msgUploading")} ${Math.round((done / this.total) * 100)}%`);
  }
}

/** The bid to seal for: the interrupted one for the same lot, form and files, or a new one. */
async function ticketFor(lot, fingerprint) {
  const saved = JSON.parse(localStorage.getItem(pending()) ?? "null");
  if (saved && saved.fingerprint === fingerprint) {
    const st = await api("GET", `/api/v1/bids/${saved.ticket.bid}/upload`);
    const mine = await api("GET", `/api/v1/tenders/${panel.dataset.tender}/my-bids`);
    const status = mine.ok ? mine.data.find((b) => b.id === saved.ticket.bid)?.status : null;
    if (st.ok && status === "reserved") return { ticket: saved.ticket, state: st.data };
  } else if (saved) {
    // Another form or other files: the interrupted bid is given up.
    await api("POST", `/api/v1/bids/${saved.ticket.bid}/withdraw`).catch(() => {});
  }
  const r = await api("POST", `/api/v1/tenders/${panel.dataset.tender}/lots/${lot}/bids`);
  if (!r.ok) throw failure(r);
  const ticket = r.data;
  localStorage.setItem(pending(), JSON.stringify({ ticket, fingerprint }));
  return { ticket, state: { offset: 0, sha256: "" } };
}

function showReceipt(receipt) {
  const box = el("receipt");
  box.replaceChildren();
  const dl = document.createElement("dl");
  dl.className = "facts";
  const received = chinaTime(receipt.received_at);
  const lot = Array.from(el("lot").options).find((o) => o.value === receipt.lot)?.textContent ?? "";
  for (const [k, v] of [["msgRLot", lot], ["msgRReceived", received], ["msgRSha", receipt.envelope_sha256], ["msgRSize", receipt.size.toLocaleString()], ["msgRSeq", `#${receipt.audit_seq}`]]) {
    const dt = document.createElement("dt");
    dt.textContent = msg(k);
    const dd = document.createElement("dd");
    dd.textContent = String(v);
    dl.append(dt, dd);
  }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([JSON.stringify(receipt, null, 2)], { type: "application/json" }));
  a.download = `receipt-${receipt.bid}.json`;
  a.className = "btn small";
  a.textContent = "receipt.json";
  a.dataset.testid = "receipt-download";
  const pdf = document.createElement("a");
  pdf.href = `/api/v1/bids/${receipt.bid}/receipt.pdf`;
  pdf.className = "btn small";
  pdf.textContent = msg("msgReceiptPdf");
  pdf.dataset.testid = "receipt-pdf";
  box.append(dl, a, " ", pdf);
}

/** The message shown next to a bid form item (made on first use). */
function fieldError(input) {
  let box = panel.querySelector(`[data-error-for="${input.dataset.field}"]`);
  if (!box) {
    box = document.createElement("small");
    box.className = "field-errors";
    box.dataset.errorFor = input.dataset.field;
    box.dataset.testid = `field-error-${input.dataset.field}`;
    box.setAttribute("role", "alert");
    input.after(box);
  }
  return box;
}

/**
 * The bid form as it will be sealed, checked against the tender's items (bidform.js, the rules
 * the opening applies); null after marking each item that is wrong with its message.
 */
function checkedForm() {
  const inputs = Array.from(panel.querySelectorAll("[data-field]"));
  const items = inputs.map((i) => ({ key: i.dataset.field, kind: i.dataset.kind, required: i.dataset.required === "true" }));
  const { form, problems } = checkForm(items, Object.fromEntries(inputs.map((i) => [i.dataset.field, i.value])));
  for (const input of inputs) {
    const problem = problems.find((p) => p.item === input.dataset.field);
    const box = fieldError(input);
    box.textContent = problem ? msg(`msgForm_${problem.code}`) : "";
    box.hidden = !problem;
    input.setAttribute("aria-invalid", String(Boolean(problem)));
  }
  const first = inputs.find((i) => problems.some((p) => p.item === i.dataset.field));
  if (first) {
    first.focus();
    return null;
  }
  return form;
}

async function submit() {
  const status = el("progress-text");
  if (!key) {
    status.textContent = msg("msgNeedKey");
    return;
  }
  const form = checkedForm();
  if (!form) {
    status.textContent = msg("msgFormFix");
    return;
  }
  const button = panel.querySelector("[data-action=submit]");
  button.disabled = true;
  try {
    const files = Array.from(el("files").files);
    const entries = await hashFiles(files);
    const payload = payloadReader(form, entries, files);
    const fingerprint = toHex(await sha256(payload.manifest));
    let { ticket, state } = await ticketFor(el("lot").value, fingerprint);
    const id = { tender: ticket.tender, lot: ticket.lot, bidder: ticket.bidder, bid: ticket.bid };
    if (state.offset > 0) status.textContent = `${msg("msgResuming")} ${Math.round((state.offset / envelopeSize(payload.length)) * 100)}%`;
    let up = new Uploader(ticket.bid, state, envelopeSize(payload.length));
    let sealed;
    try {
      sealed = await sealStream(key.bidKey, id, payload.length, payload.read, (b) => up.push(b), await derivedParams(key.bidKey, id));
    } catch (e) {
      if (e.message !== "changed") throw e;
      // What the platform holds is not the start of this envelope: give that bid up, start anew.
      localStorage.removeItem(pending());
      await api("POST", `/api/v1/bids/${ticket.bid}/withdraw`).catch(() => {});
      ({ ticket, state } = await ticketFor(el("lot").value, fingerprint));
      const fresh = { tender: ticket.tender, lot: ticket.lot, bidder: ticket.bidder, bid: ticket.bid };
      up = new Uploader(ticket.bid, state, envelopeSize(payload.length));
      sealed = await sealStream(key.bidKey, fresh, payload.length, payload.read, (b) => up.push(b), await derivedParams(key.bidKey, fresh));
    }
    await up.flush();
    const signature = await signDigest(key.privateKey, sealed.digest);
    const r = await request("POST", `/api/v1/bids/${ticket.bid}/upload/complete`, { "x-bidder-key": key.keyId, "x-bid-signature": b64(signature) }, null);
    if (!r.ok) throw failure(r);
    localStorage.removeItem(pending());
    setProgress(1, msg("msgDone"));
    el("resume-note").hidden = true;
    showReceipt(r.data);
    await refreshBids();
  } catch (e) {
    status.textContent = `${msg("msgFailed")} ${e.message}`;
  } finally {
    button.disabled = false;
  }
}

if (panel) {
  // An upload of this tender that did not finish: say how to resume it.
  el("resume-note").hidden = !Object.keys(localStorage).some((k) => k.startsWith(`tenderhall-bid:${panel.dataset.tender}:`));
  panel.querySelector("[data-action=keygen]").addEventListener("click", () => keygen().catch((e) => { el("key-status").textContent = e.message; }));
  el("keyfile").addEventListener("change", (e) => e.target.files[0] && loadKey(e.target.files[0]));
  panel.querySelector("[data-action=submit]").addEventListener("click", submit);
}
