// Public JSON shape of a report row (GET /reports/:id).

export interface ReportRow {
  id: string;
  title: string;
  lines: string[];
  status: "queued" | "done" | "failed";
  attempts: number;
  error: string | null;
  pdfPath: string | null;
  pdfBytes: number | null;
  renderMs: number | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

export function reportView(r: ReportRow) {
  return {
    id: r.id,
    title: r.title,
    lines: r.lines,
    status: r.status,
    attempts: r.attempts,
    error: r.error,
    pdf: r.status === "done" && r.pdfPath ? { path: r.pdfPath, size: r.pdfBytes, renderMs: r.renderMs } : null,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    completedAt: r.completedAt ? r.completedAt.toISOString() : null,
  };
}

