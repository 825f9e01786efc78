// The two-factor page: once django-otp-webauthn has registered a passkey, load the page again
// so that it lists the new passkey (and shows the first recovery codes, when they are due).
document.addEventListener("otp_webauthn.register_complete", () => {
  window.location.reload();
});
