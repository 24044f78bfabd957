// aws-sdk-js v3 in a real browser (Debian's headless Chromium, driven by Playwright): a page
// served from another origin than tegata's gets guest credentials with fromCognitoIdentityPool
// and calls STS with them, which needs tegata's CORS answers, preflight included.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import path from "node:path";
import { after, before, test } from "node:test";

import { build } from "esbuild";
import { chromium } from "playwright-core";

import { poolWithRoles, ROOT, startTegata } from "./tegata.mjs";

let bundle;
let browser;
before(async () => {
  const built = await build({
    entryPoints: [path.join(ROOT, "tests/js/page.mjs")],
    bundle: true,
    format: "esm",
    platform: "browser",
    write: false,
    logLevel: "silent",
  });
  bundle = built.outputFiles[0].text;
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
});
after(async () => {
  await browser?.close();
});

// Serves the page on another port of loopback: another origin than tegata's. `config()` is read
// at each request, since tegata starts after the page's origin is known.
async function servePage(config) {
  const server = createServer((request, response) => {
    if (request.url === "/app.js") {
      response.writeHead(200, { "content-type": "text/javascript" });
      response.end(bundle);
      return;
    }
    response.writeHead(200, { "content-type": "text/html" });
    response.end(`<!doctype html><html><body>
<script>window.TEGATA = ${JSON.stringify(config())};</script>
<script type="module" src="/app.js"></script></body></html>`);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, close: () => new Promise((resolve) => server.close(resolve)) };
}

// Opens the page in a fresh browser context and waits for the app's outcome.
async function outcome(origin) {
  const context = await browser.newContext();
  try {
    const tab = await context.newPage();
    await tab.goto(`${origin}/`);
    await tab.waitForFunction(() => window.result !== undefined, null, { timeout: 30_000 });
    return await tab.evaluate(() => window.result);
  } finally {
    await context.close();
  }
}

// Runs the page against a tegata started with `args(pageOrigin)`.
async function pageAgainst(args) {
  let config = {};
  const page = await servePage(() => config);
  try {
    const tegata = await startTegata(args(page.origin));
    try {
      const { IdentityPoolId, roles } = await poolWithRoles(tegata);
      config = { url: tegata.url, identityPoolId: IdentityPoolId };
      return { result: await outcome(page.origin), roles };
    } finally {
      await tegata.stop();
    }
  } finally {
    await page.close();
  }
}

function assertGuestSession({ result, roles }) {
  assert.equal(result.error, undefined);
  const roleName = roles.unauthenticated.split("/").pop();
  assert.match(result.arn, new RegExp(`:assumed-role/${roleName}/CognitoIdentityCredentials$`));
}

test("any origin by default: a page gets guest credentials and calls STS", async () => {
  assertGuestSession(await pageAgainst(() => []));
});

test("an origin on the allowed list gets them too", async () => {
  assertGuestSession(
    await pageAgainst((origin) => ["--cors-allowed-origins", `https://app.example.com,${origin}`]),
  );
});

test("an origin that is not allowed is refused by the browser", async () => {
  const { result } = await pageAgainst(() => ["--cors-allowed-origins", "https://app.example.com"]);
  assert.equal(result.arn, undefined);
  // The browser withholds the answer: fetch fails, and the SDK reports it.
  assert.match(result.error, /Failed to fetch/);
});
