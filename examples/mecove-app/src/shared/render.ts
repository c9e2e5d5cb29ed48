// HTML for a report. Pure: the worker hands the string to Chromium.

export interface RenderableReport {
  id: string;
  title: string;
  lines: string[];
  createdAt: Date;
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

// Noto Sans covers Latin; Noto Sans Devanagari covers Hindi/Marathi text
// (Debian: fonts-noto-core; AL2023: google-noto-sans-devanagari-fonts).
export const FONT_STACK = "'Noto Sans', 'Noto Sans Devanagari', 'DejaVu Sans', sans-serif";

export function renderReportHtml(report: RenderableReport): string {
  const body = report.lines.length
    ? `<ol class="lines">\n${report.lines.map((l) => `      <li>${escapeHtml(l)}</li>`).join("\n")}\n    </ol>`
    : `<p class="empty">(no lines)</p>`;
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>${escapeHtml(report.title)}</title>
    <style>
      @page { size: A4; margin: 18mm 16mm; }
      body { font-family: ${FONT_STACK}; font-size: 11pt; color: #1a1a1a; line-height: 1.45; }
      h1 { font-size: 20pt; margin: 0 0 4mm 0; }
      .meta { color: #666; font-size: 9pt; margin-bottom: 6mm; }
      ol.lines { padding-left: 7mm; }
      ol.lines li { margin: 0 0 2mm 0; white-space: pre-wrap; overflow-wrap: anywhere; }
      .empty { color: #888; font-style: italic; }
    </style>
  </head>
  <body>
    <h1>${escapeHtml(report.title)}</h1>
    <div class="meta">Report ${escapeHtml(report.id)} &middot; ${escapeHtml(report.createdAt.toISOString())}</div>
    ${body}
  </body>
</html>
`;
}
