// Start Swagger UI on /docs from a file, not an inline script, so the page keeps the strict CSP.
(function () {
  var el = document.getElementById("swagger-ui");
  if (!el || !window.SwaggerUIBundle) return;
  window.ui = SwaggerUIBundle({
    url: el.dataset.openapi, dom_id: "#swagger-ui", layout: "BaseLayout", deepLinking: true,
    validatorUrl: null,  // the default badge would load from validator.swagger.io
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
  });
})();
