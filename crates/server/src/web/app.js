// drgdip web app: the one script. A job's page polls its status and reloads when done.
(function () {
  var box = document.getElementById("progress");
  if (!box) return;
  var url = box.getAttribute("data-status");
  var bar = document.getElementById("bar");
  var text = document.getElementById("progress-text");
  function poll() {
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.total) { bar.max = s.total; }
        bar.value = s.done;
        text.textContent = s.done + " / " + s.total;
        if (s.finished) { location.reload(); } else { setTimeout(poll, 400); }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 300);
})();
