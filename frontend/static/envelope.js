// Tenderhall sealed-bid envelope, version 1, with WebCrypto: the browser's implementation of
// docs/envelope.md. It must produce exactly the bytes of the Rust implementation; the browser
// tests check it against tests/vectors/envelope-v1.json and open its output in Rust.

import { sha256 as sha256Stream } from "/static/noble-hashes/sha2.js";

const enc = new TextEncoder();
const MAGIC = enc.encode("THENVLP\0");
const LABEL_WRAP = enc.encode("tenderhall envelope v1 key wrap");
const LABEL_COMMIT = enc.encode("tenderhall envelope v1 key commitment");
const LABEL_PAYLOAD = enc.encode("tenderhall envelope v1 payload key");
const LABEL_PARAMS = enc.encode("tenderhall envelope v1 derived seal parameters");
export const CHUNK_SIZE_DEFAULT = 1 << 20;

const subtle = globalThis.crypto.subtle;

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function fromHex(h) {
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.substr(i * 2, 2), 16);
  return out;
}

export function toHex(b) {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function uuidBytes(u) {
  return fromHex(u.replaceAll("-", ""));
}

function u32(n) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

function random(n) {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

async function hkdf(ikm, salt, info) {
  const key = await subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  return new Uint8Array(await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info }, key, 256));
}

async function aesKey(raw) {
  return subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

async function gcmSeal(key, nonce, aad, data) {
  return new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 }, key, data));
}

async function hmac(keyBytes, msg) {
  const key = await subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await subtle.sign("HMAC", key, msg));
}

export async function sha256(b) {
  return new Uint8Array(await subtle.digest("SHA-256", b));
}

/** The identity bytes: tender ‖ lot ‖ bidder ‖ bid (UUID strings). */
export function identityBytes(id) {
  return concat(uuidBytes(id.tender), uuidBytes(id.lot), uuidBytes(id.bidder), uuidBytes(id.bid));
}

/** The size of the envelope of a payload of `length` bytes. */
export function envelopeSize(length, chunkSize = CHUNK_SIZE_DEFAULT) {
  const count = Math.max(1, Math.ceil(length / chunkSize));
  return 197 + length + 16 * count;
}

/**
 * Seal parameters derived from the bidder key and the bid (docs/envelope.md, "Derived
 * parameters"): sealing the same payload for the same bid again gives the same bytes, so an
 * interrupted upload can resume after the page was closed, without keeping any secret around.
 */
export async function derivedParams(bidKey, id, chunkSize = CHUNK_SIZE_DEFAULT) {
  const key = await subtle.importKey("raw", bidKey, "HKDF", false, ["deriveBits"]);
  const bits = new Uint8Array(
    await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: identityBytes(id), info: LABEL_PARAMS }, key, 71 * 8),
  );
  return { cek: bits.slice(0, 32), wrapSalt: bits.slice(32, 64), noncePrefix: bits.slice(64, 71), chunkSize };
}

/**
 * Seals a payload of `length` bytes chunk by chunk, never holding more than one chunk:
 * `read(offset, n)` resolves to the next payload bytes, `emit(bytes)` receives the envelope in
 * order (and is awaited, so a slow upload slows the sealing). `params` as for `seal`.
 * Resolves to { digest, cek, size }.
 */
export async function sealStream(bidKey, id, length, read, emit, params = {}) {
  const cek = params.cek ?? random(32);
  const wrapSalt = params.wrapSalt ?? random(32);
  const noncePrefix = params.noncePrefix ?? random(7);
  const chunkSize = params.chunkSize ?? CHUNK_SIZE_DEFAULT;
  const ident = identityBytes(id);
  const kek = await aesKey(await hkdf(bidKey, wrapSalt, concat(LABEL_WRAP, ident)));
  const wrapped = await gcmSeal(kek, new Uint8Array(12), LABEL_WRAP, cek);
  const commitment = await hmac(cek, concat(LABEL_COMMIT, ident, noncePrefix));
  const header = concat(MAGIC, Uint8Array.of(1, 1), u32(chunkSize), ident, wrapSalt, wrapped, commitment, noncePrefix);
  const h = await sha256(header);
  const pk = await aesKey(await hkdf(cek, h, LABEL_PAYLOAD));
  const hasher = sha256Stream.create();
  let size = 0;
  const out = async (bytes) => {
    hasher.update(bytes);
    size += bytes.length;
    await emit(bytes);
  };
  await out(header);
  const count = Math.max(1, Math.ceil(length / chunkSize));
  for (let i = 0; i < count; i++) {
    const at = i * chunkSize;
    const chunk = await read(at, Math.min(chunkSize, length - at));
    const nonce = concat(noncePrefix, u32(i), Uint8Array.of(i === count - 1 ? 1 : 0));
    await out(await gcmSeal(pk, nonce, h, chunk));
  }
  return { digest: hasher.digest(), cek, size };
}

/**
 * Seals `payload` (Uint8Array) for the bid `id` with the 32-byte bidder key, in memory.
 * `params` (cek, wrapSalt, noncePrefix, chunkSize) are random unless given (test vectors).
 * Returns { envelope, digest, cek }.
 */
export async function seal(bidKey, id, payload, params = {}) {
  const parts = [];
  const r = await sealStream(bidKey, id, payload.length, async (at, n) => payload.subarray(at, at + n), async (b) => {
    parts.push(b);
  }, params);
  return { envelope: concat(...parts), digest: r.digest, cek: r.cek };
}

/** A SHA-256 that is fed piece by piece (WebCrypto's digest takes only whole inputs). */
export function streamingSha256() {
  return sha256Stream.create();
}

/** Recovers the content key from an envelope's header with the bidder key, checking the commitment. */
export async function contentKey(bidKey, envelope) {
  const ident = envelope.subarray(14, 78);
  const wrapSalt = envelope.subarray(78, 110);
  const wrapped = envelope.subarray(110, 158);
  const commitment = envelope.subarray(158, 190);
  const noncePrefix = envelope.subarray(190, 197);
  const kek = await aesKey(await hkdf(bidKey, wrapSalt, concat(LABEL_WRAP, ident)));
  let cek;
  try {
    cek = new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv: new Uint8Array(12), additionalData: LABEL_WRAP, tagLength: 128 }, kek, wrapped));
  } catch {
    throw new Error("wrong_bidder_key");
  }
  const expect = await hmac(cek, concat(LABEL_COMMIT, ident, noncePrefix));
  if (toHex(expect) !== toHex(commitment)) throw new Error("key_commitment_mismatch");
  return cek;
}

/** Signs an envelope digest with an ECDSA P-256 private CryptoKey; returns r‖s (64 bytes). */
export async function signDigest(privateKey, digest) {
  return new Uint8Array(await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, digest));
}

export const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
export const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

// Key files (docs/envelope.md, "Key file"): the same format as `tenderhall bidder`.

async function passKey(pass, salt, iterations) {
  const base = await subtle.importKey("raw", enc.encode(pass), "PBKDF2", false, ["deriveKey"]);
  return subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

const KEYFILE_AAD = enc.encode("tenderhall key file v1");

/** A key file's text, protected by `pass` unless it is empty. */
export async function keyFileText(bidKey, pkcs8, pub, pass) {
  const plain = JSON.stringify({ version: 1, bid_key: toHex(bidKey), signing_pkcs8: b64(pkcs8), public_key: b64(pub) });
  if (!pass) return plain;
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const k = await passKey(pass, salt, 600000);
  const sealed = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: KEYFILE_AAD }, k, enc.encode(plain)));
  return JSON.stringify({ version: 1, kdf: "pbkdf2-sha256", iterations: 600000, salt: toHex(salt), nonce: toHex(nonce), sealed: b64(sealed) });
}

/** Reads a key file: { bidKey, pkcs8, pub }. Throws on a wrong passphrase or a bad file. */
export async function readKeyFile(text, pass) {
  let v = JSON.parse(text);
  if (v.sealed) {
    const k = await passKey(pass, fromHex(v.salt), v.iterations);
    const plain = await subtle.decrypt({ name: "AES-GCM", iv: fromHex(v.nonce), additionalData: KEYFILE_AAD }, k, unb64(v.sealed));
    v = JSON.parse(new TextDecoder().decode(plain));
  }
  return { bidKey: fromHex(v.bid_key), pkcs8: unb64(v.signing_pkcs8), pub: unb64(v.public_key) };
}
