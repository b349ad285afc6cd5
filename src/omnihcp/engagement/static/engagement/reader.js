// Reading beacon of the HCP's content page: dwell time and deepest scroll, sent once when
// the page is hidden or left (navigator.sendBeacon survives the page closing).
(function () {
  var reader = document.querySelector("[data-reader]");
  if (!reader) return;
  var visibleMs = 0, shownAt = Date.now(), deepest = 0, sent = false;
  function depth() {
    var doc = document.documentElement;
    var seen = (window.scrollY + window.innerHeight) / Math.max(doc.scrollHeight, 1);
    deepest = Math.max(deepest, Math.min(1, seen));
  }
  function send() {
    if (sent) return;
    if (shownAt) visibleMs += Date.now() - shownAt;
    sent = true;
    var body = JSON.stringify({
      type: "read", view_id: reader.dataset.view,
      dwell_seconds: Math.round(visibleMs / 100) / 10, scroll_depth: Math.round(deepest * 100) / 100
    });
    navigator.sendBeacon(reader.dataset.events, new Blob([body], { type: "application/json" }));
  }
  depth();
  window.addEventListener("scroll", depth, { passive: true });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") send(); else shownAt = Date.now();
  });
  window.addEventListener("pagehide", send);
})();
