"""Static security scans: checkov over the playbooks and roles, bandit over plugins/.

    python tests/harness/scan.py        (with .venv-scan, which `make setup` builds)

checkov: 0 failed checks, or each one suppressed next to its task with a reason:
`# checkov:skip=<ID>: <reason>` inside the task. bandit: 0 findings of medium or high severity.
Prints the counts; the exit code is non-zero when either falls short.

A gap we work around here: checkov 3.3 ignores skip comments inside a `block:` (it files the
block's suppressions under a key of the form "block..<name>" but reports the failure as
"block.<name>"), so for those the comment is read here, from the lines checkov reports.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / ".venv-scan" / "bin"
SKIP = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+):\s*(\S.*)$")


def checkov():
    proc = subprocess.run([str(TOOLS / "checkov"), "-d", ".", "--framework", "ansible", "--quiet",
                           "--skip-download", "-o", "json",
                           # Not ours, or generated: the venvs and caches, vendored collections, test output.
                           "--skip-path", r"(^|/)\.(venv|cache)", "--skip-path", "collections/ansible_collections",
                           "--skip-path", "tests/output"], cwd=REPO, capture_output=True, text=True, check=False)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        print(f"checkov gave no report (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        return False
    reports = report if isinstance(report, list) else [report]
    results = {"passed": 0, "skipped": 0, "failed": []}
    for one in reports:
        results["passed"] += one["summary"]["passed"]
        results["skipped"] += one["summary"]["skipped"]
        for failure in one["results"].get("failed_checks", []):
            first, last = failure["file_line_range"]
            lines = (REPO / failure["file_path"].lstrip("/")).read_text().splitlines()[first - 1:last]
            reasons = [m.group(2) for m in map(SKIP.search, lines) if m and m.group(1) == failure["check_id"]]
            if reasons:
                results["skipped"] += 1
            else:
                results["failed"].append(f"{failure['check_id']} {failure['file_path']}:{first} {failure['resource']}")
    print(f"checkov (ansible): {results['passed']} passed, {len(results['failed'])} failed, "
          f"{results['skipped']} suppressed next to their task with a reason")
    for failure in results["failed"]:
        print(f"  FAILED {failure}")
    return not results["failed"] and results["passed"] > 0


def bandit():
    proc = subprocess.run([str(TOOLS / "bandit"), "-r", "plugins", "-f", "json", "-q"], cwd=REPO,
                          capture_output=True, text=True, check=False)
    report = json.loads(proc.stdout)
    serious = [r for r in report["results"] if r["issue_severity"] in ("MEDIUM", "HIGH")]
    files = len(report["metrics"]) - 1  # the rest is the _totals entry
    print(f"bandit (plugins/, {files} files): {len(serious)} medium or high, "
          f"{len(report['results']) - len(serious)} low")
    for result in serious:
        print(f"  {result['issue_severity']} {result['test_id']} {result['filename']}:{result['line_number']} "
              f"{result['issue_text']}")
    return not serious and files > 0


def main():
    ok = checkov()
    ok = bandit() and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
