// After a passkey is registered (django-otp-webauthn's script announces it with a bubbling
// event), reload the second-factor page so it lists the new key and, for a first factor,
// shows the recovery codes. No inline script: the site's CSP allows only its own files.
document.addEventListener("otp_webauthn.register_complete", () => {
  const holder = document.querySelector("[data-after-register]");
  window.location.assign(holder ? holder.dataset.afterRegister : window.location.href);
});
