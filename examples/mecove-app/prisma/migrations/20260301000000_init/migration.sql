-- CreateEnum
CREATE TYPE "ReportStatus" AS ENUM ('queued', 'done', 'failed');

-- CreateTable
CREATE TABLE "reports" (
    "id" UUID NOT NULL,
    "title" VARCHAR(200) NOT NULL,
    "lines" TEXT[],
    "status" "ReportStatus" NOT NULL DEFAULT 'queued',
    "pdf_path" TEXT,
    "pdf_bytes" INTEGER,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "reports_pkey" PRIMARY KEY ("id")
);
