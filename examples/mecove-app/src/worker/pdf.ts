// HTML -> PDF with puppeteer-core and the host's Chromium (never a downloaded
// browser: PUPPETEER_EXECUTABLE_PATH, default /usr/bin/chromium).
// One browser process per job: ~0.5 s launch on amd64, nothing survives a crash.
import type { Browser } from "puppeteer-core";
import { withTimeout } from "../shared/async";

export interface PdfOptions {
  executablePath: string;
  args: string[];
  timeoutMs: number;
}

export async function htmlToPdf(html: string, opts: PdfOptions): Promise<Uint8Array> {
  // puppeteer-core is ESM-only; a dynamic import works from this CommonJS build.
  const { default: puppeteer } = await import("puppeteer-core");
  let browser: Browser | undefined;
  try {
    browser = await puppeteer.launch({
      executablePath: opts.executablePath,
      headless: true,
      args: opts.args,
      timeout: opts.timeoutMs,
      // PM2/the worker own the signals: let our shutdown close the browser.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    const page = await browser.newPage();
    page.setDefaultTimeout(opts.timeoutMs);
    // No network: the HTML is self-contained; block any request it might make.
    await page.setRequestInterception(true);
    page.on("request", (req) => {
      if (req.url().startsWith("data:") || req.url() === "about:blank") void req.continue();
      else void req.abort();
    });
    await page.setContent(html, { waitUntil: "load", timeout: opts.timeoutMs });
    // Wait for web fonts (Noto) to be laid out before printing.
    await withTimeout(page.evaluate("document.fonts.ready.then(() => true)"), opts.timeoutMs, "fonts");
    return await page.pdf({ format: "A4", printBackground: true, timeout: opts.timeoutMs });
  } finally {
    if (browser) await browser.close().catch(() => browser?.process()?.kill("SIGKILL"));
  }
}
