// The HCP's content page: sends what the reader did to the page's beacon URL.
// * read: dwell time (while visible) and the deepest scroll, once when the page is hidden or left
//   (navigator.sendBeacon survives the page closing);
// * video: the furthest point watched, with the read;
// * forward: each tap on "forward" (the system share sheet, or the link copied).
(function () {
  var reader = document.querySelector("[data-reader]");
  if (!reader) return;
  var visibleMs = 0, shownAt = Date.now(), deepest = 0, sent = false, forwards = 0;
  var video = reader.querySelector("[data-video]"), watched = 0, duration = 0;
  function beacon(payload) {
    payload.view_id = payload.view_id || reader.dataset.view;
    var body = new Blob([JSON.stringify(payload)], { type: "application/json" });
    if (!navigator.sendBeacon || !navigator.sendBeacon(reader.dataset.events, body)) {
      fetch(reader.dataset.events, { method: "POST", body: body, keepalive: true });
    }
  }
  function depth() {
    var doc = document.documentElement;
    var seen = (window.scrollY + window.innerHeight) / Math.max(doc.scrollHeight, 1);
    deepest = Math.max(deepest, Math.min(1, seen));
  }
  function send() {
    if (sent) return;
    if (shownAt) visibleMs += Date.now() - shownAt;
    sent = true;
    beacon({
      type: "read",
      dwell_seconds: Math.round(visibleMs / 100) / 10,
      scroll_depth: Math.round(deepest * 100) / 100
    });
    if (video && duration > 0) {
      beacon({
        type: "video", view_id: reader.dataset.view + "-v",
        video_seconds: Math.round(watched), video_percent: Math.round(100 * watched / duration) / 100
      });
    }
  }
  if (video) {
    video.addEventListener("timeupdate", function () {
      duration = video.duration || duration;
      watched = Math.max(watched, video.currentTime);
    });
  }
  var forward = document.querySelector("[data-action=forward]");
  if (forward) {
    forward.addEventListener("click", function () {
      forwards += 1;
      beacon({ type: "forward", view_id: reader.dataset.view + "-f" + forwards });
      var url = forward.dataset.url;
      if (navigator.share) {
        navigator.share({ title: document.title, url: url }).catch(function () {});
      } else if (navigator.clipboard) {
        navigator.clipboard.writeText(url).then(function () { forward.textContent = forward.dataset.copied; });
      }
    });
  }
  depth();
  window.addEventListener("scroll", depth, { passive: true });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") send(); else shownAt = Date.now();
  });
  window.addEventListener("pagehide", send);
})();
