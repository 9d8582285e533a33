// Progressive enhancements; every page works without them.
(function () {
  "use strict";
  var KEY = "mitroo-form:" + location.pathname;

  // Switching language keeps what was typed (never passwords or hidden fields).
  function keep() {
    var saved = {};
    document.querySelectorAll("form input, form select, form textarea").forEach(function (el) {
      if (!el.name || ["password", "hidden", "submit", "file", "checkbox", "radio"].indexOf(el.type) >= 0) return;
      if (el.value) saved[el.name] = el.value;
    });
    try { sessionStorage.setItem(KEY, JSON.stringify(saved)); } catch (e) { /* storage off: nothing kept */ }
  }

  function restore() {
    var saved;
    try { saved = JSON.parse(sessionStorage.getItem(KEY) || "{}"); sessionStorage.removeItem(KEY); } catch (e) { return; }
    Object.keys(saved).forEach(function (name) {
      document.querySelectorAll("form [name='" + name + "']").forEach(function (el) {
        if (el.type !== "password" && el.type !== "hidden" && !el.value) el.value = saved[name];
      });
    });
  }

  // The live strength meter (seed 004): asks the realm's policy as the visitor types,
  // and keeps the form's submit button disabled until the password is acceptable.
  function meter(box) {
    var form = box.closest("form");
    var password = form && form.querySelector("input[name='password']");
    var submit = form && form.querySelector("button[type='submit']");
    if (!password || !submit) return;
    var bar = box.querySelector(".meter-bar");
    var fill = bar.querySelector("span");
    var text = box.querySelector(".meter-text");
    var email = form.querySelector("input[name='email']");
    var timer = null, sent = 0;
    box.hidden = false;
    submit.disabled = true;

    function show(answer) {
      var score = Math.max(0, Math.min(4, answer.score | 0));
      bar.setAttribute("aria-valuenow", String(score));
      bar.setAttribute("aria-valuetext", box.dataset["score-" + score] || box.getAttribute("data-score-" + score));
      fill.style.width = ((score + 1) * 20) + "%";
      box.className = "meter " + (answer.acceptable ? "ok" : "weak");
      var words = (answer.violations || []).map(function (code) {
        return box.getAttribute("data-violation-" + code.replace(/_/g, "-")) || code;
      });
      var label = box.getAttribute("data-score-" + score) + ". ";
      text.textContent = label + (answer.acceptable ? box.dataset.acceptable
        : box.dataset.notAcceptable + " " + words.join(", "));
      submit.disabled = !answer.acceptable;
    }

    function check() {
      var mine = ++sent;
      if (!password.value) { submit.disabled = true; text.textContent = ""; fill.style.width = "0"; return; }
      text.textContent = box.dataset.checking;
      fetch(box.dataset.checkUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify({
          password: password.value,
          username: box.dataset.username || null,
          email: email && email.value ? email.value : null
        })
      }).then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      }).then(function (answer) {
        if (mine === sent) show(answer);
      }).catch(function () {
        if (mine === sent) { submit.disabled = false; text.textContent = ""; }  // the server still checks
      });
    }

    password.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 300);
    });
  }

  // A job's page follows the job until it ends, then reloads to offer the report.
  function follow(box) {
    if (box.dataset.finished === "yes") return;
    function poll() {
      fetch(box.dataset.statusUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { if (!response.ok) throw new Error(String(response.status)); return response.json(); })
        .then(function (job) {
          ["total", "processed", "accepted", "rejected", "already_applied"].forEach(function (name) {
            var cell = box.querySelector("[data-field='" + name + "']");
            if (cell) cell.textContent = String(job[name]);
          });
          var progress = box.querySelector("progress");
          progress.max = Math.max(job.total, 1);
          progress.value = job.processed;
          box.querySelector("[data-field='status']").textContent = box.getAttribute("data-status-" + job.status) || job.status;
          if (job.status === "completed" || job.status === "failed") location.reload();
          else setTimeout(poll, 1500);
        })
        .catch(function () { setTimeout(poll, 5000); });
    }
    setTimeout(poll, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    restore();
    var job = document.getElementById("job");
    if (job) follow(job);
    document.querySelectorAll(".meter").forEach(meter);
    document.querySelectorAll("[data-lang-switch]").forEach(function (link) {
      link.addEventListener("click", keep);
    });
    // The pupil card's «Print» button (without script the page says how to print it).
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
    var problem = document.getElementById("problem");
    if (problem && !problem.hidden) problem.focus();
  });
})();
