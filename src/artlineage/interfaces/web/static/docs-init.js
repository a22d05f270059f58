// Starts Swagger UI or ReDoc on the API pages (a file, not an inline script, so the CSP holds).
document.addEventListener("DOMContentLoaded", function () {
  var swagger = document.getElementById("swagger-ui");
  if (swagger && window.SwaggerUIBundle) {
    window.SwaggerUIBundle({ url: swagger.dataset.openapi, dom_id: "#swagger-ui", deepLinking: true,
                             presets: [window.SwaggerUIBundle.presets.apis] });
  }
  var redoc = document.getElementById("redoc");
  if (redoc && window.Redoc) {
    window.Redoc.init(redoc.dataset.openapi, { disableSearch: true }, redoc);
  }
});
