// Bastion web app: the only script besides the vendored libraries. No inline script exists,
// so the Content-Security-Policy can forbid it. htmx requests carry the page's CSRF token.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  }
});
