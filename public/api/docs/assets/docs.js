// Starts Swagger UI on the service's own OpenAPI document. A separate file,
// not an inline script, so the page's CSP can forbid inline scripts.
window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  // Off: Swagger UI would keep the bearer token in localStorage, where any script on this origin, or the next user of the browser, finds it.
  persistAuthorization: false,
  displayRequestDuration: true,
});
