// Unit tests for POST /reports input validation (no I/O).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isUuid, LIMITS, validateReportInput } from "../dist/shared/validate.js";

describe("validateReportInput", () => {
  it("accepts a title and lines, trimming and NFC-normalising", () => {
    const r = validateReportInput({ title: "  Weekly  ", lines: ["a  ", "नमस्ते", ""] });
    assert.deepEqual(r, { ok: true, value: { title: "Weekly", lines: ["a", "नमस्ते", ""] } });
  });

  it("accepts an empty lines array", () => {
    assert.equal(validateReportInput({ title: "t", lines: [] }).ok, true);
  });

  for (const body of [null, [], "x", 42, undefined]) {
    it(`rejects a non-object body (${JSON.stringify(body)})`, () => {
      const r = validateReportInput(body);
      assert.equal(r.ok, false);
    });
  }

  it("reports every problem at once", () => {
    const r = validateReportInput({ title: 5, lines: "no", colour: "red" });
    assert.equal(r.ok, false);
    assert.deepEqual(r.errors, [
      "unknown field(s): colour",
      "title must be a string",
      "lines must be an array of strings",
    ]);
  });

  it("rejects blank, multi-line and over-long titles", () => {
    assert.match(validateReportInput({ title: "   ", lines: [] }).errors[0], /must not be empty/);
    assert.match(validateReportInput({ title: "a\nb", lines: [] }).errors[0], /single line/);
    assert.match(validateReportInput({ title: "x".repeat(LIMITS.titleMax + 1), lines: [] }).errors[0], /at most 200/);
  });

  it("counts characters, not UTF-16 units, for the title limit", () => {
    const title = "😀".repeat(LIMITS.titleMax); // 400 UTF-16 units
    assert.equal(validateReportInput({ title, lines: [] }).ok, true);
  });

  it("rejects non-string lines with their index", () => {
    const r = validateReportInput({ title: "t", lines: ["ok", 3, null] });
    assert.deepEqual(r.errors, ["lines[1] must be a string", "lines[2] must be a string"]);
  });

  it("rejects too many lines and over-long or control-character lines", () => {
    const many = Array.from({ length: LIMITS.linesMax + 1 }, () => "x");
    assert.match(validateReportInput({ title: "t", lines: many }).errors[0], /at most 500 items/);
    assert.match(validateReportInput({ title: "t", lines: ["y".repeat(LIMITS.lineMax + 1)] }).errors[0], /lines\[0\]/);
    assert.match(validateReportInput({ title: "t", lines: ["bell\u0007"] }).errors[0], /control characters/);
  });

  it("keeps tabs and newlines inside a line", () => {
    const r = validateReportInput({ title: "t", lines: ["a\tb\nc"] });
    assert.deepEqual(r.value.lines, ["a\tb\nc"]);
  });
});

describe("isUuid", () => {
  it("recognises UUIDs only", () => {
    assert.equal(isUuid("2b49ae8e-66ff-489f-a6d6-e0d390158880"), true);
    assert.equal(isUuid("2B49AE8E-66FF-489F-A6D6-E0D390158880"), true);
    assert.equal(isUuid("nope"), false);
    assert.equal(isUuid("2b49ae8e-66ff-489f-a6d6-e0d39015888"), false);
    assert.equal(isUuid("../etc/passwd"), false);
  });
});
