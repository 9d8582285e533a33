// Passkeys and security keys (SPEC §2.9): a few lines over the WebAuthn API, no build step.
// Every button here is hidden until this script shows it; without script the pages offer
// codes and recovery codes instead.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var raw = atob(base64), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(json) {
    json.challenge = toBytes(json.challenge);
    json.user.id = toBytes(json.user.id);
    (json.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return json;
  }

  function requestOptions(json) {
    json.challenge = toBytes(json.challenge);
    (json.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return json;
  }

  function asJson(credential) {
    var r = credential.response, out = { id: credential.id, rawId: toText(credential.rawId), type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toText(r.clientDataJSON) } };
    if (r.attestationObject) {
      out.response.attestationObject = toText(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toText(r.authenticatorData);
      out.response.signature = toText(r.signature);
      if (r.userHandle) out.response.userHandle = toText(r.userHandle);
    }
    return out;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.detail || data.title || String(response.status));
        return data;
      });
    });
  }

  function fail(box, message) {
    var error = box.querySelector(".field-error") || document.querySelector("[data-webauthn-error]");
    if (error) { error.textContent = message; error.hidden = false; }
  }

  function signedIn(data, doneUrl) {
    if (data.mfa_enrolment_required) {
      location.assign(location.pathname.replace(/\/[^/]*(\/second-step)?$/, "/account/security"));
    } else {
      location.assign(doneUrl || location.pathname.replace(/\/login(\/second-step)?$/, "/home"));
    }
  }

  // Security page: add a passkey.
  document.querySelectorAll("[data-webauthn='register']").forEach(function (box) {
    box.hidden = false;
    box.querySelector("button").addEventListener("click", function () {
      var label = box.querySelector("input").value;
      post(box.dataset.optionsUrl).then(function (options) {
        return navigator.credentials.create({ publicKey: creationOptions(options) });
      }).then(function (credential) {
        return post(box.dataset.registerUrl, { credential: asJson(credential), label: label });
      }).then(function () { location.assign(box.dataset.doneUrl); })
        .catch(function (error) { fail(box, box.dataset.failed + " " + (error.message || "")); });
    });
  });

  // Second step of a sign-in, and re-authentication: an assertion with the account's keys.
  document.querySelectorAll("[data-webauthn='second-step'], [data-webauthn='reauthenticate']").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      post(button.dataset.optionsUrl).then(function (options) {
        return navigator.credentials.get({ publicKey: requestOptions(options) });
      }).then(function (credential) {
        return post(button.dataset.verifyUrl, { webauthn: asJson(credential) });
      }).then(function (data) {
        if (button.dataset.webauthn === "second-step") signedIn(data, button.dataset.doneUrl); else location.reload();
      }).catch(function (error) { fail(button.parentNode, button.dataset.failed + " " + (error.message || "")); });
    });
  });

  // Sign-in page: a passkey instead of username and password, from the button or from the
  // username field's autofill (conditional mediation), whichever the person uses.
  document.querySelectorAll("[data-webauthn='sign-in']").forEach(function (button) {
    var pending = null;
    function signIn(mediation) {
      if (pending) pending.abort();
      var controller = new AbortController();
      pending = controller;
      return post(button.dataset.optionsUrl).then(function (options) {
        var request = { publicKey: requestOptions(options), signal: controller.signal };
        if (mediation) request.mediation = mediation;
        return navigator.credentials.get(request);
      }).then(function (credential) {
        return post(button.dataset.verifyUrl, { credential: asJson(credential) });
      }).then(function (data) { signedIn(data, button.dataset.doneUrl); }).catch(function (error) {
        if (error && error.name === "AbortError") return;
        fail(button.parentNode, button.dataset.failed);
      });
    }
    button.hidden = false;
    button.addEventListener("click", function () { signIn(null); });
    if (PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        if (available) signIn("conditional");
      });
    }
  });
})();
