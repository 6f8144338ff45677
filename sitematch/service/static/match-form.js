// The match form's progress line: while the server runs the match (the page waits for its answer),
// show the seconds since the submit and how busy the match workers are, as the server says.
// No percentage: the server does not know one. Without JavaScript the form posts just the same.
(function () {
  "use strict";
  var form = document.getElementById("profile-form");
  var line = document.getElementById("match-progress");
  if (!form || !line) return;
  var started = 0, timer = null, busy = "";

  function show() {
    var seconds = Math.round((Date.now() - started) / 1000);
    line.textContent = "Matching\u2026 " + seconds + " s" + busy + ". The result opens when it is ready.";
  }

  function poll() {
    fetch("/match/status", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) return;
        if (s.waiting > 0) {
          busy = " \u2014 queued: " + s.waiting + " waiting, " + s.busy + " of " + s.workers + " workers busy";
        } else if (s.busy > 0) {
          busy = " \u2014 running (" + s.busy + " of " + s.workers + " workers busy)";
        } else {
          busy = " \u2014 starting";
        }
        show();
      })
      .catch(function () { /* the page is being replaced, or the network is gone: keep counting */ });
  }

  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || button.value !== "run") return;
    started = Date.now();
    line.hidden = false;
    show();
    poll();
    timer = window.setInterval(function () { show(); poll(); }, 1000);
    // keep the button's value in the post, then stop a second submit
    window.setTimeout(function () { button.disabled = true; }, 0);
  });

  // back from the result page (bfcache): the form is usable again
  window.addEventListener("pageshow", function () {
    if (timer) window.clearInterval(timer);
    line.hidden = true;
    var run = document.getElementById("run-match");
    if (run) run.disabled = false;
  });
})();
