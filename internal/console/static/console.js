// Genesis console: small progressive enhancement. Every page works
// without it. The campaign page's convergence plot is reloaded every few
// seconds while the campaign runs, without reloading the page.
(function () {
  "use strict";
  var plot = document.querySelector("#plot img[data-live]");
  if (!plot) { return; }
  var base = plot.getAttribute("src").split("?")[0];
  var n = 0;
  setInterval(function () {
    n++;
    plot.setAttribute("src", base + "?t=" + n);
  }, 5000);
})();
