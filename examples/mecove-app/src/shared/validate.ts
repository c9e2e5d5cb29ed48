// Input validation for POST /reports. Pure functions: unit-tested without I/O.

export const LIMITS = {
  titleMax: 200,
  linesMax: 500,
  lineMax: 2000,
} as const;

export interface ReportInput {
  title: string;
  lines: string[];
}

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: string[] };

// C0 controls except tab/newline/carriage return, plus DEL.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export function validateReportInput(body: unknown): Validation<ReportInput> {
  const errors: string[] = [];
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return { ok: false, errors: ["body must be a JSON object {title, lines}"] };
  }
  const { title, lines, ...rest } = body as Record<string, unknown>;

  const unknownKeys = Object.keys(rest);
  if (unknownKeys.length > 0) errors.push(`unknown field(s): ${unknownKeys.sort().join(", ")}`);

  let cleanTitle = "";
  if (typeof title !== "string") {
    errors.push("title must be a string");
  } else {
    cleanTitle = title.normalize("NFC").trim();
    if (cleanTitle.length === 0) errors.push("title must not be empty");
    else if ([...cleanTitle].length > LIMITS.titleMax) errors.push(`title must be at most ${LIMITS.titleMax} characters`);
    else if (CONTROL.test(cleanTitle) || /[\r\n]/.test(cleanTitle)) errors.push("title must be a single line without control characters");
  }

  const cleanLines: string[] = [];
  if (!Array.isArray(lines)) {
    errors.push("lines must be an array of strings");
  } else if (lines.length > LIMITS.linesMax) {
    errors.push(`lines must have at most ${LIMITS.linesMax} items`);
  } else {
    lines.forEach((line, i) => {
      if (typeof line !== "string") {
        errors.push(`lines[${i}] must be a string`);
        return;
      }
      const l = line.normalize("NFC").replace(/\s+$/u, "");
      if ([...l].length > LIMITS.lineMax) errors.push(`lines[${i}] must be at most ${LIMITS.lineMax} characters`);
      else if (CONTROL.test(l)) errors.push(`lines[${i}] contains control characters`);
      else cleanLines.push(l);
    });
  }

  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { title: cleanTitle, lines: cleanLines } };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}
