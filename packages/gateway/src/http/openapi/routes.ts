/** GET /openapi.json and GET /docs, a reference page that needs nothing but this gateway. */
import { Hono } from "hono";
import { docsPage } from "./docs-page.ts";
import { openApiDocument } from "./document.ts";

export function openApiRoutes(_deps: unknown): Hono {
  const app = new Hono();
  const json = JSON.stringify(openApiDocument());
  app.get("/openapi.json", (c) => c.body(json, 200, { "content-type": "application/json" }));
  app.get("/docs", (c) => c.body(docsPage, 200, { "content-type": "text/html; charset=utf-8" }));
  return app;
}
