// The approval page's passkey buttons (data-action="enroll" | "login" | "approve").
// Each press fetches a one-time challenge from the server, asks the phone for the passkey
// (WebAuthn), and sends the answer back; the server verifies it. No secret is kept here.
"use strict";
function enc(buffer) {
  const bytes = new Uint8Array(buffer);
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function dec(text) {
  const plain = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(plain, (c) => c.charCodeAt(0)).buffer;
}
async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({ error: response.statusText }));
  return { ok: response.ok, data };
}
function show(ok, text) {
  const box = document.getElementById("result");
  box.dataset.result = ok ? "ok" : "refused";
  box.textContent = text || "";
  box.hidden = false;
}
function creationOptions(o) {
  o.challenge = dec(o.challenge);
  o.user.id = dec(o.user.id);
  (o.excludeCredentials || []).forEach((c) => { c.id = dec(c.id); });
  return o;
}
function requestOptions(o) {
  o.challenge = dec(o.challenge);
  (o.allowCredentials || []).forEach((c) => { c.id = dec(c.id); });
  return o;
}
function created(c) {
  return { id: c.id, rawId: enc(c.rawId), type: c.type, response: {
    attestationObject: enc(c.response.attestationObject),
    clientDataJSON: enc(c.response.clientDataJSON),
    transports: c.response.getTransports ? c.response.getTransports() : [] } };
}
function asserted(c) {
  return { id: c.id, rawId: enc(c.rawId), type: c.type, response: {
    authenticatorData: enc(c.response.authenticatorData),
    clientDataJSON: enc(c.response.clientDataJSON),
    signature: enc(c.response.signature),
    userHandle: c.response.userHandle ? enc(c.response.userHandle) : null } };
}
async function press(button) {
  const action = button.dataset.action;
  const url = button.dataset.url;
  button.disabled = true;
  try {
    const start = await post(url + "/options", { sha256: button.dataset.sha256 || "" });
    if (!start.ok) return refuse(start.data);
    let answer;
    if (action === "enroll") {
      answer = created(await navigator.credentials.create({ publicKey: creationOptions(start.data.options) }));
    } else {
      answer = asserted(await navigator.credentials.get({ publicKey: requestOptions(start.data.options) }));
    }
    const done = await post(url + "/finish", { ticket: start.data.ticket, credential: answer });
    if (!done.ok) return refuse(done.data);
    show(true, done.data.message);
    if (done.data.next) window.location.assign(done.data.next);
  } catch (error) {
    show(false, String((error && error.message) || error));
  } finally {
    button.disabled = false;
  }
}
function refuse(data) {
  show(false, data.error);
  if (data.reload) window.setTimeout(() => window.location.reload(), 2500);
}
document.querySelectorAll("[data-action]").forEach((button) => {
  button.addEventListener("click", () => press(button));
});
