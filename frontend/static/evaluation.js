// The evaluation session page (and a guest deployment's page of a host's session): the page is
// drawn by the server; this keeps it current by
// listening to the session's websocket and reloading the page when an event arrives (unless
// the viewer is typing into a form, in which case it says that the page has news).
const root = document.getElementById("session");
if (root) {
  const tender = root.dataset.tender;
  let seq = Number(root.dataset.seq || 0);
  const conn = root.querySelector("[data-role=conn]");
  // A refused form shows what was typed with the refusal: it is kept like a form being typed.
  let typing = document.querySelector("[data-testid=form-summary]") !== null;
  let stale = false;
  // Once a form is sent the page is on its way out: an event of the commands being saved must
  // not reload it, which would cut the sending off.
  let leaving = false;
  let current = null;
  document.addEventListener("input", () => { typing = true; });
  let delay = 1000;
  const connect = () => {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    // The page names its websocket (a guest deployment's room of a host's session does), else the
    // tender's session.
    const path = root.dataset.ws || `/api/v1/tenders/${tender}/evaluation/ws`;
    const ws = new WebSocket(`${proto}//${location.host}${path}?after=${seq}`);
    current = ws;
    ws.onopen = () => { delay = 1000; if (conn) conn.textContent = root.dataset.msgLive || ""; };
    ws.onmessage = (m) => {
      let frame;
      try { frame = JSON.parse(m.data); } catch { return; }
      if (leaving || frame.type !== "event" || !frame.event) return;
      seq = Math.max(seq, frame.event.seq || 0);
      if (typing) {
        stale = true;
        if (conn) conn.textContent = root.dataset.msgNews || "";
        return;
      }
      // The page's own address: a page drawn after a refused form answered a POST.
      location.replace(root.dataset.page || location.href);
    };
    ws.onclose = (e) => {
      if (leaving) return;
      if (conn) conn.textContent = root.dataset.msgOffline || "";
      if (e.code === 4401 || e.code === 1008) return; // the session ended: log in again
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  };
  connect();
  document.addEventListener("submit", () => {
    leaving = true;
    if (current) current.close();
  });
  void stale;
}
