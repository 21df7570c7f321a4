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
// difference to this machine's clock is applied to every countdown.
const lang = document.documentElement.lang;
const serverTime = Date.parse(document.querySelector("meta[name=server-time]")?.content ?? "");
const offset = Number.isNaN(serverTime) ? 0 : serverTime - Date.now();
function remaining(ms) {
  if (ms <= 0) return lang === "en" ? "deadline passed" : "已截止";
  const d = Math.floor(ms / 86400000);
  const h = Math.floor((ms % 86400000) / 3600000);
  const m = Math.floor((ms % 3600000) / 60000);
  return lang === "en" ? `${d} d ${h} h ${m} min left` : `剩余 ${d} 天 ${h} 小时 ${m} 分`;
}
for (const el of document.querySelectorAll("[data-deadline]")) {
  const deadline = Date.parse(el.dataset.deadline);
  const tick = () => { el.textContent = `（${remaining(deadline - (Date.now() + offset))}）`; };
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
