/**
 * The live-topic example page (deploy/examples/live-topic, served at /examples/live-topic/) in
 * headless Chromium through haproxy: records produced to the topic appear on the page.
 * Installs Debian's chromium when it is missing; skips, saying why, only if that fails.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { call, createTopic, lbUrl, unique, V2_BINARY } from "./helpers.ts";

const CHROMIUM = "/usr/bin/chromium";

/** Null when chromium is there (installing it if needed), else why it is not. */
function ensureChromium(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const run = (args: string[]) => spawnSync("apt-get", args, { env, encoding: "utf8", timeout: 900_000 });
  let result = run(["install", "-y", "chromium"]);
  if (!existsSync(CHROMIUM)) {
    run(["update"]);
    result = run(["install", "-y", "chromium"]);
  }
  if (existsSync(CHROMIUM)) return null;
  const why = result.error?.message ?? (result.stderr || result.stdout || "").trim().split("\n").slice(-3).join(" ");
  return `chromium could not be installed (apt-get install -y chromium: ${why})`;
}

const unavailable = ensureChromium();
if (unavailable) console.warn(`skipping the browser test: ${unavailable}`);

describe.skipIf(unavailable !== null)("live-topic example page", () => {
  let browser: Browser | null = null;
  afterAll(async () => {
    await browser?.close();
  });

  it("shows records of a topic as they are produced", async () => {
    const topic = await createTopic(unique("sse-browser"), 3);
    const moved = await call("GET", `${lbUrl()}/examples/live-topic?topic=x`);
    expect([moved.status, moved.headers.location]).toEqual([301, "/examples/live-topic/?topic=x"]);
    const html = await call("GET", `${lbUrl()}/examples/live-topic/`);
    expect([html.status, html.headers["content-type"]]).toEqual([200, "text/html; charset=utf-8"]);
    expect(html.text).toContain('<script src="live-topic.js">');

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${lbUrl()}/examples/live-topic?topic=${topic}&format=string`);
    await page.waitForSelector('#status[data-state="open"]', { timeout: 20_000 });

    const values = Array.from({ length: 6 }, (_, i) => `hello-${i}`);
    const produced = await call("POST", `${lbUrl()}/topics/${topic}`, {
      headers: { "content-type": V2_BINARY },
      body: { records: values.map((v) => ({ value: Buffer.from(v).toString("base64") })) },
    });
    expect(produced.status, produced.text).toBe(200);

    const cells = page.locator("#records tr.record td.value");
    await cells.nth(values.length - 1).waitFor({ timeout: 20_000 });
    const shown = await cells.allTextContents();
    expect(shown.sort()).toEqual(values);
    expect(await page.textContent("#status")).toBe(`Watching ${topic}`);
    expect(errors).toEqual([]);
  });
});
