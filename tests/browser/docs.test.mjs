// The interactive API reference in a real browser: Debian's headless
// Chromium, driven by playwright-core (which downloads no browser of its
// own). Loads local-api's /docs, waits for the rendered page, and checks:
// - every operation of openapi.yaml (OPERATIONS_FILE, extracted from the
//   repository's document, not from what the server serves) is on the page,
//   in its tag's section, and the sections come in the document's order;
// - "Try it out" on GET /groups/{jid}/invite with the pre-filled demo token
//   answers 200 in the page;
// - the page made no request to any host but local-api (and no CSP
//   violation was reported);
// and keeps a screenshot (SCREENSHOT).
import { chromium } from "playwright-core";
import fs from "node:fs";

const base = process.env.LOCAL_API_BASE;
const { operations, tags } = JSON.parse(fs.readFileSync(process.env.OPERATIONS_FILE, "utf8"));
// Swagger UI's id for an operation in its tag's section.
const blockId = (tag, operationId) => `operations-${tag.trim().replace(/\s/g, "_")}-${operationId}`;
const screenshot = process.env.SCREENSHOT ?? "docs.png";
const demoGroup = "120363039000000000@g.us";
const failures = [];
const fail = (message) => failures.push(message);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  // The machine's network is closed: no background traffic, no sandbox as root.
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests = [];
  const consoleErrors = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));

  const response = await page.goto(`${base}/docs`, { waitUntil: "load" });
  const headers = response.headers();
  if (!(headers["content-security-policy"] ?? "").includes("script-src 'self'")) {
    fail(`no CSP on /docs: ${JSON.stringify(headers)}`);
  }
  if (headers["x-content-type-options"] !== "nosniff") fail("no X-Content-Type-Options: nosniff");
  await page.waitForSelector("body[data-docs-ready=true]", { timeout: 30000 });
  await page.waitForSelector(".opblock", { timeout: 30000 });

  // The sections: one per tag, in the document's order, none untagged.
  const sections = (await page.locator(".opblock-tag-section .opblock-tag").evaluateAll(
    (els) => els.map((e) => e.getAttribute("data-tag")),
  ));
  if (JSON.stringify(sections) !== JSON.stringify(tags)) {
    fail(`sections ${JSON.stringify(sections)}, not the document's tags ${JSON.stringify(tags)}`);
  }

  // Every operation of the document, by its operationId, method and path.
  for (const op of operations) {
    const block = page.locator(`[id="${blockId(op.tag, op.operationId)}"]`);
    if ((await block.count()) !== 1) {
      fail(`missing on the page: ${op.method.toUpperCase()} ${op.path} (${op.operationId})`);
      continue;
    }
    const method = (await block.locator(".opblock-summary-method").innerText()).trim();
    const path = await block.locator(".opblock-summary-path").getAttribute("data-path");
    if (method !== op.method.toUpperCase() || path !== op.path) {
      fail(`${op.operationId} shows ${method} ${path}, not ${op.method.toUpperCase()} ${op.path}`);
    }
  }
  const shown = await page.locator(".opblock").count();
  if (shown !== operations.length) fail(`${shown} operations on the page, ${operations.length} in openapi.yaml`);

  // Try it out with the pre-filled token.
  const block = page.locator(`[id="${blockId("Invites", "getGroupInviteLink")}"]`);
  await block.locator(".opblock-summary").first().click();
  await block.locator("button.try-out__btn").click();
  const jid = block.locator("tr[data-param-name=jid] input");
  await jid.fill(demoGroup);
  await block.locator("button.execute").click();
  const status = block.locator(".live-responses-table tr.response .response-col_status").first();
  await status.waitFor({ timeout: 30000 });
  const code = (await status.innerText()).trim();
  const body = (await block.locator(".live-responses-table tr.response .response-col_description").first().innerText()).trim();
  if (!code.startsWith("200")) fail(`try it out answered ${code}: ${body.slice(0, 300)}`);
  if (!body.includes("https://chat.whatsapp.com/")) fail(`try it out: no invite link in ${body.slice(0, 300)}`);

  await page.screenshot({ path: screenshot, fullPage: true });

  const origin = new URL(base).origin;
  const elsewhere = requests.filter((u) => !u.startsWith("data:") && new URL(u).origin !== origin);
  if (elsewhere.length) fail(`requests to other hosts: ${elsewhere.join(", ")}`);
  const csp = consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e));
  if (csp.length) fail(`CSP violations: ${csp.join(" | ")}`);
  console.log(`docs page: ${shown} operations, try-it-out ${code}, ${requests.length} requests, all to ${origin}; screenshot ${screenshot}`);
  if (consoleErrors.length) console.log(`console errors (not CSP): ${consoleErrors.join(" | ")}`);
} finally {
  await browser.close();
}
if (failures.length) {
  for (const f of failures) console.error(`FAIL: ${f}`);
  process.exit(1);
}
console.log("docs browser test: ok");
