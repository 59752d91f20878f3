// Genesis console: small progressive enhancement; every page works
// without it. While a campaign runs, its page reloads the convergence
// plot and swaps in its live part (state, counts, best so far) every few
// seconds, without reloading the page. The fragment is HTML the server
// rendered and escaped (html/template) from this origin.
(function () {
  "use strict";
  var every = 5000;
  var plot = document.querySelector("#plot img[data-live]");
  var n = 0;
  function tick() {
    n++;
    if (plot) {
      plot.setAttribute("src", plot.getAttribute("src").split("?")[0] + "?t=" + n);
    }
    var live = document.getElementById("campaign-live");
    var url = live && live.getAttribute("data-live");
    if (!url) {
      return;
    }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var t = document.createElement("template");
        t.innerHTML = html;
        var fresh = t.content.getElementById("campaign-live");
        if (fresh) { live.replaceWith(fresh); }
      })
      .catch(function () {});
  }
  if (plot || document.querySelector("#campaign-live[data-live]")) {
    setInterval(tick, every);
  }
})();
