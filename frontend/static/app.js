// Small progressive enhancements; every page works without them.

// "Back" links on error pages.
for (const a of document.querySelectorAll("a[data-back]")) {
  a.addEventListener("click", (e) => {
    if (history.length > 1) {
      e.preventDefault();
      history.back();
    }
  });
}

// Countdown to a deadline by the server's clock: the page carries the server's time, and the
// difference to this machine's clock is applied to every countdown. The words are the page's
// (the catalogues' [countdown] texts, on the element as data-msg-left, -passed and -wrap).
const serverTime = Date.parse(document.querySelector("meta[name=server-time]")?.content ?? "");
const offset = Number.isNaN(serverTime) ? 0 : serverTime - Date.now();
function remaining(el, ms) {
  if (ms <= 0) return el.dataset.msgPassed ?? "";
  const d = Math.floor(ms / 86400000);
  const h = Math.floor((ms % 86400000) / 3600000);
  const m = Math.floor((ms % 3600000) / 60000);
  return (el.dataset.msgLeft ?? "").replace("{d}", d).replace("{h}", h).replace("{m}", m);
}
for (const el of document.querySelectorAll("[data-deadline]")) {
  const deadline = Date.parse(el.dataset.deadline);
  const tick = () => { el.textContent = (el.dataset.msgWrap ?? "{t}").replace("{t}", remaining(el, deadline - (Date.now() + offset))); };
  tick();
  setInterval(tick, 30000);
}

// Ask before irreversible actions: a form, or a button or link that scripts act on, carrying
// data-confirm="question" is only sent or acted on when the question is answered with OK.
// The listeners are on the document in the capture phase, so they run before any listener of
// the element itself, and a dismissed question stops those too (nothing happens).
document.addEventListener("submit", (e) => {
  const question = e.submitter?.dataset.confirm ?? e.target.dataset?.confirm;
  if (question && !confirm(question)) {
    e.preventDefault();
    e.stopImmediatePropagation();
  }
}, true);
document.addEventListener("click", (e) => {
  const el = e.target.closest?.("[data-confirm]");
  // Buttons that send a form are asked about by the form's submit above.
  if (!el || el.tagName === "FORM" || (el.form && el.type === "submit")) return;
  if (!confirm(el.dataset.confirm)) {
    e.preventDefault();
    e.stopImmediatePropagation();
  }
}, true);

// The unread badge, live: the user's own inbox room says when a notice reaches the user, and
// the count is read again; on (re)connecting, the room's hello carries the count.
const inboxLink = document.querySelector("a.inbox");
if (inboxLink && "WebSocket" in window) {
  let delay = 1000;
  const show = (n) => {
    let badge = inboxLink.querySelector("[data-testid=unread]");
    if (n > 0) {
      if (!badge) {
        badge = document.createElement("span");
        badge.className = "badge";
        badge.dataset.testid = "unread";
        inboxLink.appendChild(badge);
      }
      badge.textContent = String(n);
    } else if (badge) {
      badge.remove();
    }
  };
  const refresh = () =>
    fetch("/api/v1/notifications/unread", { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : null))
      .then((v) => { if (v) show(Number(v.unread || 0)); })
      .catch(() => {});
  const connect = () => {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/api/v1/notifications/ws`);
    ws.onopen = () => { delay = 1000; };
    ws.onmessage = (m) => {
      let frame;
      try { frame = JSON.parse(m.data); } catch { return; }
      if (frame.type === "hello" && frame.state) show(Number(frame.state.unread || 0));
      if (frame.type === "event") refresh();
    };
    ws.onclose = (e) => {
      if (e.code === 4401 || e.code === 1008) return; // the session ended
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  };
  connect();
}
