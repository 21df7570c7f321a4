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
