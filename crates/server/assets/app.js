// Detects the provider as the user leaves the email field, shows only the fields it needs, and
// signs in through the JSON API. Without this script the form posts to /login and the server
// answers with the same steps.
"use strict";
(function () {
  var form = document.getElementById("login");
  if (!form) return;
  var $ = function (id) { return document.getElementById(id); };
  var email = $("email");
  var csrf = form.querySelector("input[name=csrf]").value;
  // Where the router is mounted (empty at the root).
  var base = form.dataset.base || "";
  // The page's language carries through the API calls.
  var lang = "?lang=" + encodeURIComponent(document.documentElement.lang || "en");
  var lastEmail = "";
  var view = null;

  function show(el, visible) { if (el) el.hidden = !visible; }
  function text(el, value) { if (el) { el.textContent = value || ""; show(el, !!value); } }

  function applyDetection(d) {
    view = d;
    text($("provider"), d.provider);
    text($("reason"), d.reason);
    // The steps before the password, numbered, each with its link.
    var steps = $("steps");
    steps.textContent = "";
    (d.requires || []).forEach(function (s) {
      var li = document.createElement("li");
      li.dataset.step = s.step;
      li.textContent = s.text;
      if (s.url) {
        var a = document.createElement("a");
        a.href = s.url; a.rel = "noopener"; a.textContent = form.dataset.how;
        li.appendChild(document.createTextNode(" "));
        li.appendChild(a);
      }
      steps.appendChild(li);
    });
    show($("steps-block"), steps.children.length > 0);
    var suggestion = $("suggestion");
    if (d.suggestion) {
      var button = suggestion.querySelector("button");
      if (button) { button.textContent = d.suggestion; button.dataset.email = d.suggestion; }
      show(suggestion, !!button);
    } else {
      show(suggestion, false);
    }
    var oauth = d.auth === "oauth2";
    var manual = d.auth === "manual";
    show($("oauth"), oauth);
    if (oauth) {
      $("oauth").href = d.sign_in_url || "#";
      $("oauth").textContent = form.dataset[d.nylas === "gmail" ? "google" : "microsoft"];
    }
    var unsupported = d.auth === "unsupported";
    show($("password-field"), !oauth && !unsupported);
    $("password-label").textContent = form.dataset[d.auth === "app-password" ? "appPassword" : "password"];
    var help = $("help");
    if (d.auth === "app-password" && d.help_url) { help.href = d.help_url; show(help, true); } else { show(help, false); }
    show($("manual"), manual);
    $("manual-legend").textContent = form.dataset[d.detected ? "confirm" : "enter"];
    if (manual) {
      if (d.incoming && !$("imap_host").value) { $("imap_host").value = d.incoming.host; $("imap_port").value = d.incoming.port; }
      if (d.outgoing && !$("smtp_host").value) { $("smtp_host").value = d.outgoing.host; $("smtp_port").value = d.outgoing.port; }
    }
    show($("submit"), !oauth && !unsupported);
    $("submit").textContent = form.dataset.signIn;
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (j) { return { status: r.status, body: j }; }); });
  }

  function detect() {
    var value = email.value.trim();
    if (!value || value === lastEmail) return Promise.resolve(view);
    lastEmail = value;
    text($("error"), "");
    return post(base + "/api/detect" + lang, { email: value }).then(function (r) {
      if (r.status === 200) applyDetection(r.body); else text($("error"), r.body.message);
      return view;
    });
  }

  // A show-password toggle; without the script the field simply stays a password field.
  var password = $("password");
  var toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "link toggle";
  toggle.setAttribute("aria-controls", "password");
  toggle.textContent = form.dataset.show;
  toggle.addEventListener("click", function () {
    var visible = password.type === "password";
    password.type = visible ? "text" : "password";
    toggle.textContent = form.dataset[visible ? "hide" : "show"];
  });
  password.insertAdjacentElement("afterend", toggle);

  email.addEventListener("blur", detect);
  $("suggestion").addEventListener("click", function (e) {
    var target = e.target.closest("button[data-email]");
    if (target) { email.value = target.dataset.email; detect(); }
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    detect().then(function () {
      if (!view || !$("password").value) { $("password").focus(); return; }
      var body = {};
      ["email", "name", "password", "imap_host", "imap_port", "smtp_host", "smtp_port"].forEach(function (k) {
        var el = form.elements[k];
        if (el && !(el.closest("[hidden]"))) body[k] = el.value;
      });
      $("submit").disabled = true;
      return post(base + "/api/login" + lang, body).then(function (r) {
        $("password").value = "";
        password.type = "password";
        Array.prototype.forEach.call($("steps").children, function (li) {
          var failed = li.dataset.step === r.body.step;
          li.classList.toggle("failed", failed);
          if (failed) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
        });
        if (r.status === 200 && r.body.ok) {
          if (r.body.redirect) { window.location.assign(r.body.redirect); return; }
          form.hidden = true;
          text($("done"), form.dataset.success);
          return;
        }
        if (r.body.kind === "confirm-servers") show($("manual"), true);
        text($("error"), r.body.message);
        // Focus goes where the user must act next.
        var next = r.body.kind === "confirm-servers" || r.body.kind === "server-not-allowed" ? $("imap_host") : password;
        if (next && !next.closest("[hidden]")) next.focus();
        if (r.body.help_url) {
          var link = document.createElement("a");
          link.href = r.body.help_url; link.rel = "noopener"; link.textContent = " " + form.dataset.help;
          $("error").appendChild(link);
        }
      });
    }).catch(function () {
      text($("error"), form.dataset.unavailable);
    }).then(function () { $("submit").disabled = false; });
  });
})();
