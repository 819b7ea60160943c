// Starts Swagger UI on the service's own OpenAPI document. A separate file,
// not an inline script, so the page's CSP can forbid inline scripts.
window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  displayRequestDuration: true,
});
