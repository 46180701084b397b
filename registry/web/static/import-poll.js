/* Import progress: poll GET /api/v1/imports/{id} every second and reload the page once the run is done.
   Without JS the page's <noscript> meta refresh does the same every two seconds. Local file, no CDN. */
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-poll-url");
  var bar = box.querySelector("progress");
  var text = box.querySelector(".progress-text");

  function show(progress) {
    var done = progress.processed_rows || 0, total = progress.total_rows || 0;
    if (total > 0 && done > 0) {  // committed progress (PostgreSQL); SQLite stays indeterminate
      bar.max = total;
      bar.value = done;
      text.textContent = "处理中：已检查 " + done + " / " + total + " 行";
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (run) {
        if (run && run.status !== "queued" && run.status !== "running") {
          window.location.reload();
          return;
        }
        if (run) { show(run.progress || {}); }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 1000); });  // a busy server: try again
  }

  window.setTimeout(poll, 1000);
}());
