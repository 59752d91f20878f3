// Genesis console, campaign page: while the campaign runs, reload its
// parameter plots with the convergence plot (console.js swaps in the live
// summary). The page works without it.
(function () {
  "use strict";
  var every = 5000;
  var imgs = document.querySelectorAll("img[data-steer-live]");
  if (!imgs.length) { return; }
  var n = 0;
  var timer = setInterval(function () {
    var live = document.getElementById("campaign-live");
    n++;
    for (var i = 0; i < imgs.length; i++) {
      imgs[i].setAttribute("src", imgs[i].getAttribute("src").split("?")[0] + "?t=" + n);
    }
    if (!live || !live.getAttribute("data-live")) {
      clearInterval(timer);
    }
  }, every);
})();
