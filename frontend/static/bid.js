// The sealed-bid panel of a tender page: bid key files, sealing in the browser with WebCrypto
// (envelope.js), signing, uploading with progress, and the signed receipt.
// Key file and payload formats: docs/envelope.md (the same as `tenderhall bidder`).

import { concat, fromHex, seal, sha256, signDigest, toHex } from "/static/envelope.js";

const panel = document.getElementById("bid");
const subtle = crypto.subtle;
const enc = new TextEncoder();
const msg = (k) => panel.dataset[k] ?? k;
const csrf = document.querySelector("meta[name=csrf-token]")?.content ?? "";
const el = (role) => panel.querySelector(`[data-role=${role}]`);
const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
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

async function passKey(pass, salt, iterations) {
  const base = await subtle.importKey("raw", enc.encode(pass), "PBKDF2", false, ["deriveKey"]);
  return subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

const KEYFILE_AAD = enc.encode("tenderhall key file v1");

async function keyFileText(bidKey, pkcs8, pub, pass) {
  const plain = JSON.stringify({ version: 1, bid_key: toHex(bidKey), signing_pkcs8: b64(pkcs8), public_key: b64(pub) });
  if (!pass) return plain;
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const k = await passKey(pass, salt, 600000);
  const sealed = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: KEYFILE_AAD }, k, enc.encode(plain)));
  return JSON.stringify({ version: 1, kdf: "pbkdf2-sha256", iterations: 600000, salt: toHex(salt), nonce: toHex(nonce), sealed: b64(sealed) });
}

async function readKeyFile(text, pass) {
  let v = JSON.parse(text);
  if (v.sealed) {
    const k = await passKey(pass, fromHex(v.salt), v.iterations);
    const plain = await subtle.decrypt({ name: "AES-GCM", iv: fromHex(v.nonce), additionalData: KEYFILE_AAD }, k, unb64(v.sealed));
    v = JSON.parse(new TextDecoder().decode(plain));
  }
  return { bidKey: fromHex(v.bid_key), pkcs8: unb64(v.signing_pkcs8), pub: unb64(v.public_key) };
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

async function packPayload(form, files) {
  const entries = [];
  const datas = [];
  for (const f of files) {
    const data = new Uint8Array(await f.arrayBuffer());
    entries.push({ name: f.name, size: data.length, sha256: toHex(await sha256(data)) });
    datas.push(data);
  }
  const manifest = enc.encode(JSON.stringify({ form, files: entries }));
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, manifest.length);
  return concat(enc.encode("THBID1\0\0"), len, manifest, ...datas);
}

function upload(bid, envelope, signature) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open("PUT", `/api/v1/bids/${bid}/envelope`);
    x.setRequestHeader("x-csrf-token", csrf);
    x.setRequestHeader("x-bidder-key", key.keyId);
    x.setRequestHeader("x-bid-signature", b64(signature));
    x.setRequestHeader("content-type", "application/octet-stream");
    x.upload.onprogress = (e) => {
      if (e.lengthComputable) {
        const pct = Math.round((e.loaded / e.total) * 100);
        el("progress").value = pct;
        el("progress-text").textContent = `${msg("msgUploading")} ${pct}%`;
      }
    };
    x.onload = () => {
      let body = {};
      try { body = JSON.parse(x.responseText); } catch { /* not JSON */ }
      if (x.status === 201) resolve(body);
      else reject(new Error(body?.error?.message ?? `HTTP ${x.status}`));
    };
    x.onerror = () => reject(new Error("network"));
    x.send(envelope);
  });
}

function showReceipt(receipt) {
  const box = el("receipt");
  box.replaceChildren();
  const dl = document.createElement("dl");
  dl.className = "facts";
  for (const [k, v] of [["bid", receipt.bid], ["sha256", receipt.envelope_sha256], ["size", receipt.size], ["received_at", receipt.received_at], ["audit_seq", receipt.audit_seq]]) {
    const dt = document.createElement("dt");
    dt.textContent = k;
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
  box.append(dl, a);
}

async function submit() {
  const status = el("progress-text");
  if (!key) {
    status.textContent = msg("msgNeedKey");
    return;
  }
  const form = {};
  for (const input of panel.querySelectorAll("[data-field]")) {
    const v = input.value.trim();
    if (!v && input.dataset.required === "true") {
      status.textContent = `${msg("msgNeedField")} ${input.closest("label")?.firstChild?.textContent ?? input.dataset.field}`;
      input.focus();
      return;
    }
    if (v) form[input.dataset.field] = v;
  }
  const button = panel.querySelector("[data-action=submit]");
  button.disabled = true;
  try {
    status.textContent = msg("msgSealing");
    const lot = el("lot").value;
    const r = await api("POST", `/api/v1/tenders/${panel.dataset.tender}/lots/${lot}/bids`);
    if (!r.ok) throw new Error(r.data?.error?.message ?? `HTTP ${r.status}`);
    const t = r.data;
    const payload = await packPayload(form, Array.from(el("files").files));
    const sealed = await seal(key.bidKey, { tender: t.tender, lot: t.lot, bidder: t.bidder, bid: t.bid }, payload);
    const signature = await signDigest(key.privateKey, sealed.digest);
    const receipt = await upload(t.bid, sealed.envelope, signature);
    status.textContent = msg("msgDone");
    showReceipt(receipt);
  } catch (e) {
    status.textContent = `${msg("msgFailed")} ${e.message}`;
  } finally {
    button.disabled = false;
  }
}

if (panel) {
  panel.querySelector("[data-action=keygen]").addEventListener("click", () => keygen().catch((e) => { el("key-status").textContent = e.message; }));
  el("keyfile").addEventListener("change", (e) => e.target.files[0] && loadKey(e.target.files[0]));
  panel.querySelector("[data-action=submit]").addEventListener("click", submit);
}
