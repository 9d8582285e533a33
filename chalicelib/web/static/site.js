// Progressive enhancements; every page works without them.
(function () {
  "use strict";
  var KEY = "mitroo-form:" + location.pathname;

  // Switching language keeps what was typed (never passwords or hidden fields).
  function keep() {
    var saved = {};
    document.querySelectorAll("form input, form select, form textarea").forEach(function (el) {
      if (!el.name || el.type === "password" || el.type === "hidden" || el.type === "submit") return;
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

  document.addEventListener("DOMContentLoaded", function () {
    restore();
    document.querySelectorAll("[data-lang-switch]").forEach(function (link) {
      link.addEventListener("click", keep);
    });
    var problem = document.getElementById("problem");
    if (problem && !problem.hidden) problem.focus();
  });
})();
