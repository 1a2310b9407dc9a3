// grader: starts Swagger UI on /docs (api/pages/accounts/docs.py, templates/docs.html) with FastAPI's
// settings, from a file of the service so that the page's Content-Security-Policy needs no inline
// script. The OpenAPI document's URL is the data-openapi-url of the element it renders into.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var bundle = window.SwaggerUIBundle;
  bundle({
    url: root.getAttribute("data-openapi-url"),
    domNode: root,
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null, // no badge fetched from validator.swagger.io
    presets: [bundle.presets.apis, bundle.SwaggerUIStandalonePreset],
  });
})();
