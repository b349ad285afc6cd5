// The visit form on a phone: the draft is kept on the device while it is typed, a visit that
// cannot be sent (no network) waits in an outbox on the device and is sent when the network is
// back. The form's client_key travels with it, so the server stores it once however often it
// is sent. No library: fetch, FormData, localStorage and the Geolocation API.
(function () {
  "use strict";
  var OUTBOX = "omnihcp.visit-outbox";
  var form = document.querySelector("[data-visit-form]");
  var notice = document.querySelector("[data-outbox]");
  if (!form) { return; }
  var draftKey = "omnihcp.visit-draft." + form.elements.hcp.value;

  function say(text, isError) {
    notice.hidden = !text;
    notice.textContent = text || "";
    notice.classList.toggle("flash-error", Boolean(isError));
  }
  function outbox() {
    try { return JSON.parse(localStorage.getItem(OUTBOX) || "[]"); } catch (e) { return []; }
  }
  function keep(items) { localStorage.setItem(OUTBOX, JSON.stringify(items)); }
  function body() { return new URLSearchParams(new FormData(form)).toString(); }
  function post(encoded) {
    return fetch(form.action, {
      method: "POST",
      body: encoded,
      credentials: "same-origin",
      headers: {
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
        "X-CSRFToken": form.elements.csrfmiddlewaretoken.value
      }
    });
  }

  function flush() {
    var items = outbox();
    if (!items.length || !navigator.onLine) { return Promise.resolve(); }
    var left = [];
    var chain = Promise.resolve();
    items.forEach(function (item) {
      chain = chain.then(function () {
        return post(item.body).then(function (response) {
          if (response.status >= 500) { left.push(item); }
        }, function () { left.push(item); });
      });
    });
    return chain.then(function () {
      keep(left);
      say(left.length ? form.dataset.msgPending + " " + left.length : form.dataset.msgSent);
    });
  }

  // the draft: restored on load, saved on every change
  try {
    var saved = JSON.parse(localStorage.getItem(draftKey) || "null");
    if (saved && !document.querySelector("[data-error]")) {
      Object.keys(saved).forEach(function (name) {
        var field = form.elements[name];
        if (!field || name === "csrfmiddlewaretoken") { return; }
        if (field instanceof RadioNodeList || field.type === "radio") {
          Array.prototype.forEach.call(form.querySelectorAll('[name="' + name + '"]'), function (el) {
            el.checked = [].concat(saved[name]).indexOf(el.value) >= 0;
          });
        } else if (field.type === "checkbox") {
          field.checked = [].concat(saved[name]).indexOf(field.value) >= 0;
        } else if (field.multiple) {
          Array.prototype.forEach.call(field.options, function (o) {
            o.selected = [].concat(saved[name]).indexOf(o.value) >= 0;
          });
        } else {
          field.value = saved[name];
        }
      });
    }
  } catch (e) { /* a broken draft is dropped */ }
  form.addEventListener("input", function () {
    var data = {};
    new FormData(form).forEach(function (value, name) {
      data[name] = name in data ? [].concat(data[name], value) : value;
    });
    localStorage.setItem(draftKey, JSON.stringify(data));
  });

  form.querySelectorAll("[data-locate]").forEach(function (button) {
    button.addEventListener("click", function () {
      var prefix = button.dataset.locate;
      var status = form.querySelector("[data-location-status]");
      if (!navigator.geolocation) { status.textContent = form.dataset.msgNoLocation; return; }
      navigator.geolocation.getCurrentPosition(function (position) {
        form.elements[prefix + "_lat"].value = position.coords.latitude.toFixed(6);
        form.elements[prefix + "_lng"].value = position.coords.longitude.toFixed(6);
        status.textContent = form.dataset.msgLocated;
        form.dispatchEvent(new Event("input"));
      }, function () { status.textContent = form.dataset.msgNoLocation; },
      { enableHighAccuracy: true, timeout: 15000 });
    });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var encoded = body();
    post(encoded).then(function (response) {
      return response.json().then(function (answer) {
        if (response.ok) {
          localStorage.removeItem(draftKey);
          window.location.href = form.action + answer.visit + "/";
          return;
        }
        say(answer.error, true);
        if (answer.field) {
          var field = form.elements[answer.field] || form.querySelector('[data-locate="' + answer.field + '"]');
          if (field && field.setAttribute) { field.setAttribute("aria-invalid", "true"); }
        }
      });
    }, function () {
      var items = outbox();
      items.push({ key: form.elements.client_key.value, body: encoded });
      keep(items);
      localStorage.removeItem(draftKey);
      say(form.dataset.msgSaved);
    });
  });

  window.addEventListener("online", flush);
  flush();
})();
