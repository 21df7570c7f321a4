// 我的投标: the supplier organisation's own bids, from the API (docs/api.md, "Sealed bids"): on a
// tender's page that tender's bids, on the workspace all of them. Each row shows the lot, the
// status, the time received (China Standard Time, to the second), the envelope's digest, the
// receipt to download again (JSON and PDF) and the actions the platform says are open (replace,
// withdraw). The API answers only the caller's own organisation's bids.

const sections = Array.from(document.querySelectorAll("[data-my-bids]"));
const csrf = document.querySelector("meta[name=csrf-token]")?.content ?? "";

const msg = (section, name) => section.getAttribute(`data-msg-${name}`) ?? name;
const part = (section, role) => section.querySelector(`[data-role=${role}]`);

/** An instant as "2026-11-22 10:41:07" in China Standard Time. */
export function chinaTime(iso) {
  const parts = {};
  const f = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Asia/Shanghai", hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  for (const p of f.formatToParts(new Date(iso))) parts[p.type] = p.value;
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

function node(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
}

/** Withdraws a bid; the button asks first (its data-confirm, answered through app.js). */
async function withdraw(section, bid, button) {
  button.disabled = true;
  const r = await fetch(`/api/v1/bids/${bid}/withdraw`, { method: "POST", headers: { "x-csrf-token": csrf } });
  if (!r.ok) {
    const e = await r.json().catch(() => ({}));
    part(section, "message").textContent = `${msg(section, "failed")} ${e?.error?.message ?? r.status}`;
  } else {
    part(section, "message").textContent = msg(section, "withdrawn");
  }
  // An interrupted upload of a withdrawn bid is not to be resumed.
  for (const k of Object.keys(localStorage)) {
    if (k.startsWith("tenderhall-bid:") && localStorage.getItem(k)?.includes(bid)) localStorage.removeItem(k);
  }
  await refreshBids();
}

/** On a tender's page, "replace" brings the bid panel to the lot; elsewhere it opens the page. */
function replaceAction(section, b) {
  const panel = document.getElementById("bid");
  if (section.dataset.tender && panel) {
    const button = node("button", { type: "button", class: "btn small", "data-testid": "my-bid-replace" }, msg(section, "replace"));
    button.addEventListener("click", () => {
      const lot = panel.querySelector("[data-role=lot]");
      if (lot) lot.value = b.lot;
      part(section, "message").textContent = msg(section, "replace-hint");
      panel.scrollIntoView({ behavior: "smooth" });
      panel.querySelector("[data-field]")?.focus();
    });
    return button;
  }
  return node("a", { class: "btn small", href: `/tenders/${b.tender}#bid`, "data-testid": "my-bid-replace" }, msg(section, "replace"));
}

function row(section, b) {
  const all = !section.dataset.tender;
  const tr = node("tr", { "data-testid": "my-bid", "data-bid": b.id, "data-status": b.status });
  if (all) {
    tr.append(node("td", {}, node("a", { href: `/tenders/${b.tender}` }, b.tender_title), node("br"),
      node("code", { class: "muted small" }, b.tender_code)));
  }
  tr.append(node("td", {}, `${b.lot_no}. ${b.lot_name}`));
  tr.append(node("td", {}, node("span", { class: `pill ${b.status}`, "data-testid": "my-bid-status" }, msg(section, `status-${b.status}`))));
  tr.append(node("td", { "data-testid": "my-bid-received" }, b.received_at ? chinaTime(b.received_at) : "—"));
  const digest = node("td", { class: "digest" });
  if (b.envelope_sha256) {
    digest.append(node("code", { "data-testid": "my-bid-digest" }, b.envelope_sha256));
    if (b.size !== null && b.size !== undefined) digest.append(node("br"), node("span", { class: "muted small" }, `${b.size.toLocaleString()} ${msg(section, "bytes")}`));
  } else {
    digest.append("—");
  }
  tr.append(digest);
  const receipt = node("td", { class: "nowrap" });
  if (b.receipt) {
    receipt.append(
      node("a", { class: "btn small", href: `/api/v1/bids/${b.id}/receipt`, download: `receipt-${b.id}.json`, "data-testid": "my-bid-receipt-json" }, msg(section, "receipt-json")),
      " ",
      node("a", { class: "btn small", href: `/api/v1/bids/${b.id}/receipt.pdf`, "data-testid": "my-bid-receipt-pdf" }, msg(section, "receipt-pdf")),
    );
  } else {
    receipt.append("—");
  }
  tr.append(receipt);
  const actions = node("td", { class: "nowrap" });
  if (b.actions.replace) actions.append(replaceAction(section, b), " ");
  if (b.actions.withdraw) {
    const button = node("button", {
      type: "button", class: "btn small danger", "data-testid": "my-bid-withdraw", "data-confirm": msg(section, "withdraw-question"),
    }, msg(section, "withdraw"));
    button.addEventListener("click", () => withdraw(section, b.id, button).catch((e) => { part(section, "message").textContent = e.message; }));
    actions.append(button);
  }
  if (!b.actions.replace && !b.actions.withdraw) actions.append(node("span", { class: "muted small" }, b.status === "submitted" ? msg(section, "closed") : "—"));
  tr.append(actions);
  return tr;
}

async function render(section) {
  const tender = section.dataset.tender;
  const r = await fetch(tender ? `/api/v1/tenders/${tender}/my-bids` : "/api/v1/my-bids");
  if (!r.ok) {
    part(section, "message").textContent = `${msg(section, "failed")} HTTP ${r.status}`;
    return;
  }
  const bids = await r.json();
  const head = node("tr");
  for (const h of [...(tender ? [] : ["tender"]), "lot", "status", "received", "digest", "receipt", "actions"]) head.append(node("th", {}, msg(section, h)));
  part(section, "head").replaceChildren(head);
  part(section, "rows").replaceChildren(...bids.map((b) => row(section, b)));
  part(section, "table").hidden = bids.length === 0;
  part(section, "empty").hidden = bids.length > 0;
}

/** Draws every list on the page again (after a bid was submitted or withdrawn). */
export async function refreshBids() {
  await Promise.all(sections.map((s) => render(s).catch((e) => { part(s, "message").textContent = e.message; })));
}

refreshBids();
