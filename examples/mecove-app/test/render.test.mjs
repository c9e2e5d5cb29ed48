// Unit tests for the report HTML (no browser).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { escapeHtml, FONT_STACK, renderReportHtml } from "../dist/shared/render.js";

const base = { id: "2b49ae8e-66ff-489f-a6d6-e0d390158880", createdAt: new Date("2026-03-01T10:00:00Z") };

describe("escapeHtml", () => {
  it("escapes the five HTML metacharacters", () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });
});

describe("renderReportHtml", () => {
  it("renders title, id, timestamp and one list item per line", () => {
    const html = renderReportHtml({ ...base, title: "Weekly", lines: ["one", "two"] });
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /<meta charset="utf-8">/);
    assert.match(html, /<h1>Weekly<\/h1>/);
    assert.match(html, /<title>Weekly<\/title>/);
    assert.ok(html.includes(base.id));
    assert.ok(html.includes("2026-03-01T10:00:00.000Z"));
    assert.equal(html.match(/<li>/g).length, 2);
  });

  it("never lets user text become markup", () => {
    const html = renderReportHtml({ ...base, title: "<script>x()</script>", lines: ["<img src=x onerror=y>", "a & b"] });
    assert.ok(!html.includes("<script>"));
    assert.ok(!html.includes("<img"));
    assert.ok(html.includes("&lt;script&gt;x()&lt;/script&gt;"));
    assert.ok(html.includes("a &amp; b"));
  });

  it("keeps Devanagari text and asks for a Devanagari-capable font", () => {
    const html = renderReportHtml({ ...base, title: "साप्ताहिक सारांश", lines: ["नमस्ते"] });
    assert.ok(html.includes("साप्ताहिक सारांश"));
    assert.ok(html.includes("नमस्ते"));
    assert.ok(FONT_STACK.includes("'Noto Sans Devanagari'"));
    assert.ok(html.includes(`font-family: ${FONT_STACK}`));
  });

  it("says so when there are no lines", () => {
    const html = renderReportHtml({ ...base, title: "Empty", lines: [] });
    assert.ok(html.includes("(no lines)"));
    assert.ok(!html.includes("<ol"));
  });
});
