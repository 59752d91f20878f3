// Genesis console, operations pages: while a job runs, its page asks the
// server for the job's live part (state, history, placement, log tail)
// every few seconds and swaps it in, without reloading the page; the page
// works without this script (it has a plain Refresh link). The fragment is
// HTML the server rendered and escaped (html/template) on this origin.
// Should the job's label rise above the page's banner, or the job vanish
// from the viewer's sight, the page is loaded again (banner or not-found
// page as the server renders them).
(function () {
  "use strict";
  function current() { return document.getElementById("job-live"); }
  function schedule() {
    var live = current();
    if (!live || !live.getAttribute("data-live")) { return; }
    var every = parseInt(live.getAttribute("data-every"), 10);
    if (!(every > 0)) { every = 2; }
    setTimeout(tick, every * 1000);
  }
  function tick() {
    var live = current();
    var url = live && live.getAttribute("data-live");
    if (!url) { return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        // Gone from sight, or the session ended (sent to sign in): let
        // the server render the page.
        if (r.status === 404 || r.redirected) { location.reload(); return undefined; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html === undefined) { return; }
        if (html !== null) {
          var t = document.createElement("template");
          t.innerHTML = html;
          var fresh = t.content.getElementById("job-live");
          var banner = document.getElementById("banner-top");
          if (fresh && banner && fresh.getAttribute("data-marking") !== banner.textContent.trim()) {
            location.reload();
            return;
          }
          if (fresh) {
            var log = document.getElementById("job-stdout");
            var atEnd = log && log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
            live.replaceWith(fresh);
            var nlog = document.getElementById("job-stdout");
            if (nlog && atEnd) { nlog.scrollTop = nlog.scrollHeight; }
          }
        }
        schedule();
      })
      .catch(function () { schedule(); });
  }
  schedule();
})();
