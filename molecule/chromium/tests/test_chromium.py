"""Verify the chromium role on the converged container (testinfra, run by molecule verify).

The proof is a real render: the installed Chromium prints an HTML page with Latin, Devanagari,
a rupee sign and an emoji to PDF, as an unprivileged user, and poppler's pdftotext must read the
text back (pdffonts must show the Devanagari font embedded). poppler-utils is a test tool: the
fixture installs it in the container, the role does not.
"""

import base64
import platform
import re

import pytest

# What the role installs per platform (roles/chromium/vars/<os family>.yml).
EXECUTABLE = {"debian": "/usr/bin/chromium", "amzn": "/usr/bin/chromium-browser"}

LATIN = "Invoice 2026-0042"
DEVANAGARI = "नमस्ते दुनिया"
RUPEE = "₹ 1,250.00"
EMOJI = "😀"
PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>render check</title></head>
<body>
<h1>{LATIN}</h1>
<p lang="hi">{DEVANAGARI}</p>
<p>Total {RUPEE}</p>
<p>{EMOJI}</p>
</body></html>
"""

WORK_DIR = "/tmp/chromium-render-check"

# Flags any headless PDF render in a container needs: no setuid/user-namespace sandbox in an
# unprivileged container, no GPU, /dev/shm is small, and no first-run or background traffic.
LAUNCH_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-extensions",
    "--disable-sync",
    "--no-pdf-header-footer",
]
# Only under QEMU user-mode emulation (arm64 container on an x86_64 machine): Chromium's
# zygote and separate GPU process crash there; running them in the browser process works
# (see the build-machine facts). The network service in-process saves one emulated process.
EMULATION_FLAGS = ["--no-zygote", "--in-process-gpu", "--enable-features=NetworkServiceInProcess"]


def emulated(host):
    return host.system_info.arch != platform.machine()


@pytest.fixture(scope="module")
def executable(host):
    return EXECUTABLE[host.system_info.distribution]


@pytest.fixture(scope="module")
def poppler(host):
    """Install pdftotext/pdffonts in the container (a test tool, not part of the role)."""
    if not host.exists("pdftotext"):
        if host.exists("apt-get"):
            command = (
                "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends poppler-utils"
            )
        else:
            command = "dnf install -y -q poppler-utils"
        result = host.run(command)
        assert result.rc == 0, result.stderr
    assert host.exists("pdftotext")


@pytest.fixture(scope="module")
def render(host, executable, poppler):
    """Print PAGE to PDF as the unprivileged user nobody; return the run and pdftotext/pdffonts output."""
    encoded = base64.b64encode(PAGE.encode()).decode()
    prepared = host.run(
        f"rm -rf {WORK_DIR} && install -d -o nobody -m 0700 {WORK_DIR} "
        f"&& echo {encoded} | base64 -d > {WORK_DIR}/page.html && chown nobody: {WORK_DIR}/page.html"
    )
    assert prepared.rc == 0, prepared.stderr
    flags = LAUNCH_FLAGS + (EMULATION_FLAGS if emulated(host) else [])
    flags += [
        f"--user-data-dir={WORK_DIR}/profile",
        f"--crash-dumps-dir={WORK_DIR}/crashes",
        f"--print-to-pdf={WORK_DIR}/page.pdf",
        f"file://{WORK_DIR}/page.html",
    ]
    # HOME too: Chromium writes its fontconfig cache and .pki there. timeout: a hang fails.
    run = host.run(
        f"cd {WORK_DIR} && timeout 300 runuser -u nobody -- env HOME={WORK_DIR} {executable} {' '.join(flags)}"
    )
    text = host.run(f"pdftotext -enc UTF-8 {WORK_DIR}/page.pdf -")
    fonts = host.run(f"pdffonts {WORK_DIR}/page.pdf")
    info = host.run(f"pdfinfo {WORK_DIR}/page.pdf")
    yield {"run": run, "text": text, "fonts": fonts, "info": info}
    host.run(f"rm -rf {WORK_DIR}")


def test_executable_exists_and_reports_its_version(host, executable):
    assert host.file(executable).exists
    assert host.file(executable).mode & 0o111
    version = host.run(f"{executable} --version")
    assert version.rc == 0, version.stderr
    assert re.match(r"^Chromium \d+\.\d+\.\d+\.\d+", version.stdout), version.stdout


def test_fonts_for_latin_devanagari_and_emoji_are_installed(host):
    families = host.run("fc-list : family")
    assert families.rc == 0, families.stderr
    names = {name.strip() for line in families.stdout.splitlines() for name in line.split(",")}
    for family in ("Liberation Sans", "Liberation Serif", "Noto Sans Devanagari", "Noto Color Emoji"):
        assert family in names, sorted(names)


def test_headless_chromium_prints_the_page_to_pdf(render):
    run = render["run"]
    assert run.rc == 0, run.stderr[-4000:]
    assert re.search(r"\d+ bytes written to file .*/page\.pdf", run.stdout + run.stderr), run.stderr[-4000:]
    assert render["info"].rc == 0, render["info"].stderr
    assert re.search(r"^Pages:\s+1$", render["info"].stdout, re.MULTILINE), render["info"].stdout


def test_pdftotext_reads_back_latin_and_devanagari(render):
    assert render["text"].rc == 0, render["text"].stderr
    text = " ".join(render["text"].stdout.split())
    assert LATIN in text, text
    assert DEVANAGARI in text, text


def test_pdftotext_reads_back_the_rupee_sign_and_the_emoji(render):
    text = " ".join(render["text"].stdout.split())
    assert RUPEE in text, text
    assert EMOJI in text, text


def test_the_devanagari_text_is_set_in_noto_sans_devanagari(render):
    # Proof the glyphs came from the installed font, not a fallback box: the font is embedded.
    assert render["fonts"].rc == 0, render["fonts"].stderr
    assert re.search(r"\+NotoSansDevanagari-", render["fonts"].stdout), render["fonts"].stdout


def test_the_page_text_uses_the_metric_compatible_latin_font(render):
    assert re.search(r"\+Liberation(Serif|Sans)", render["fonts"].stdout), render["fonts"].stdout
