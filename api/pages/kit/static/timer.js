// A timed assignment's time left, counted down from the end the server wrote on the page
// (data-ends, ISO 8601); at zero the page is read again, where the server says what happened.
// While time-up has not yet submitted the answers (data-reload on #time-up-pending), the page
// is read again every few seconds. The time left is said to screen readers (#time-warning, an
// assertive live region) once as it passes 5 minutes and once as it passes 1 minute.
(() => {
  "use strict";
  const shown = document.getElementById("time-left");
  if (shown) {
    const ends = Date.parse(shown.dataset.ends);
    const two = (n) => String(n).padStart(2, "0");
    const warning = document.getElementById("time-warning");
    const warnings = [[300, "5 minutes left."], [60, "1 minute left."]];
    let before = null; // (the first tick announces nothing: a page opened with 3 minutes left shows them)
    let timer = null;
    const tick = () => {
      const left = Math.max(0, Math.floor((ends - Date.now()) / 1000));
      for (const [at, said] of warnings) {
        if (warning && before !== null && left > 0 && left <= at && before > at) warning.textContent = said;
      }
      before = left;
      const hours = Math.floor(left / 3600);
      const minutes = Math.floor((left % 3600) / 60);
      shown.textContent = (hours ? hours + ":" + two(minutes) : String(minutes)) + ":" + two(left % 60);
      if (left === 0) {
        clearInterval(timer);
        setTimeout(() => window.location.reload(), 1500);
      }
    };
    timer = setInterval(tick, 1000);
    tick();
  }
  // Signals for the proctor while the clock runs (a focus loss, a paste): sent, never enforced.
  const signals = document.getElementById("signals-notice");
  if (signals) {
    const headers = JSON.parse(document.body.getAttribute("hx-headers:inherited") || "{}");
    const last = {};
    const send = (signal) => {
      const now = Date.now();
      if (now - (last[signal] || 0) < 2000) return; // (one of each kind per two seconds, as kept)
      last[signal] = now;
      const body = new URLSearchParams({ signal });
      fetch(signals.dataset.signals, { method: "POST", body, headers, credentials: "same-origin" }).catch(() => {});
    };
    window.addEventListener("blur", () => send("focus_loss"));
    document.addEventListener("visibilitychange", () => { if (document.hidden) send("focus_loss"); });
    document.addEventListener("paste", () => send("paste"));
  }
  const pending = document.getElementById("time-up-pending");
  if (pending) {
    setTimeout(() => window.location.reload(), 1000 * Number(pending.dataset.reload || 5));
  }
})();
