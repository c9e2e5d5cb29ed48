"""Verify the caddy role on the converged container (testinfra, run by molecule verify).

The scenario (molecule.yml) serves app.mecove.test with `tls internal`. A real upstream, a
Python HTTP server on 127.0.0.1:3000 started as a transient systemd unit, stands in for the API;
every HTTP call is made from inside the container with Python (curl is not in the base image),
to 127.0.0.1 with the site's name as SNI and Host, trusting only Caddy's local CA root.
"""

import base64
import json
import secrets
import time

import pytest

DOMAIN = "app.mecove.test"
CONFIG = "/etc/caddy/Caddyfile"
STORAGE = "/var/lib/caddy/storage"
ROOT_CA = f"{STORAGE}/pki/authorities/local/root.crt"
ACCESS_LOG = "/var/log/caddy/access.log"
UPSTREAM_UNIT = "mecove-test-upstream"
UPSTREAM_DIR = "/tmp/mecove-test-upstream"

# Runs in the container: one HTTP(S) request to 127.0.0.1, printed back as JSON.
CLIENT = r"""
import http.client, json, socket, ssl, sys
scheme, port, host, path, cafile = sys.argv[1:6]
if scheme == "https":
    context = ssl.create_default_context(cafile=cafile)  # verifies chain and hostname
    class Connection(http.client.HTTPSConnection):
        def connect(self):
            raw = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            self.sock = context.wrap_socket(raw, server_hostname=self.host)
    connection = Connection(host, int(port), context=context, timeout=10)
else:
    class Connection(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
    connection = Connection(host, int(port), timeout=10)
connection.request("GET", path)
response = connection.getresponse()
print(json.dumps({"status": response.status,
                  "headers": {k.lower(): v for k, v in response.getheaders()},
                  "body": response.read().decode("utf-8", "replace")}))
"""
CLIENT_B64 = base64.b64encode(CLIENT.encode()).decode()


def request(host, scheme, path="/"):
    port = 443 if scheme == "https" else 80
    result = host.run(
        f"echo {CLIENT_B64} | base64 -d > /tmp/mecove-test-client.py && "
        f"python3 /tmp/mecove-test-client.py {scheme} {port} {DOMAIN} '{path}' {ROOT_CA}"
    )
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def upstream(host):
    """A real HTTP server on 127.0.0.1:3000 with a body unique to this test run."""
    token = secrets.token_hex(8)
    body = f"mecove upstream {token}"
    host.run(f"systemctl stop {UPSTREAM_UNIT} 2>/dev/null; rm -rf {UPSTREAM_DIR}")
    assert host.run(f"mkdir -p {UPSTREAM_DIR} && printf '%s' '{body}' > {UPSTREAM_DIR}/index.html").rc == 0
    started = host.run(
        f"systemd-run --unit={UPSTREAM_UNIT} --collect --property=WorkingDirectory={UPSTREAM_DIR} "
        "python3 -m http.server 3000 --bind 127.0.0.1"
    )
    assert started.rc == 0, started.stderr
    for _attempt in range(60):
        if host.run("ss -Hltn 'sport = :3000'").stdout.strip():
            break
        time.sleep(0.5)
    else:
        pytest.fail("the test upstream did not listen on 127.0.0.1:3000")
    yield body
    host.run(f"systemctl stop {UPSTREAM_UNIT}; rm -rf {UPSTREAM_DIR} /tmp/mecove-test-client.py")


def test_service_enabled_and_running(host):
    service = host.service("caddy")
    assert service.is_enabled
    assert service.is_running


def test_listens_on_80_and_443(host):
    for port in (80, 443):
        assert host.run(f"ss -Hltn 'sport = :{port}'").stdout.strip(), f"nothing listens on :{port}"


def test_caddyfile_is_root_owned_and_readable_by_caddy_only(host):
    config = host.file(CONFIG)
    assert (config.user, config.group, config.mode) == ("root", "caddy", 0o640)
    assert f"{DOMAIN} {{" in config.content_string
    assert "tls internal" in config.content_string


def test_storage_and_log_folders_belong_to_caddy(host):
    storage = host.file(STORAGE)
    assert (storage.user, storage.mode) == ("caddy", 0o700)
    logs = host.file("/var/log/caddy")
    assert (logs.user, logs.group, logs.mode) == ("caddy", "caddy", 0o750)


def test_deployed_config_validates(host):
    # As the service user, like the role's pre-deployment check.
    result = host.run(f"runuser -u caddy -- caddy validate --adapter caddyfile --config {CONFIG}")
    assert result.rc == 0, result.stderr
    assert "Valid configuration" in result.stdout + result.stderr


def test_local_ca_belongs_to_caddy(host):
    # Created during validation as caddy, then used by the service: root-owned keys here would
    # stop the service from issuing its certificate.
    result = host.run(f"find {STORAGE} ! -user caddy")
    assert result.rc == 0 and result.stdout.strip() == "", result.stdout
    assert host.file(ROOT_CA).exists


def test_http_redirects_to_https(host, upstream):
    response = request(host, "http", "/some/path?x=1")
    assert response["status"] in (301, 308)
    assert response["headers"]["location"] == f"https://{DOMAIN}/some/path?x=1"


def test_https_proxies_to_the_upstream_with_a_certificate_from_the_local_ca(host, upstream):
    response = request(host, "https", "/")
    assert response["status"] == 200
    assert response["body"] == upstream


def test_security_headers(host, upstream):
    headers = request(host, "https", "/")["headers"]
    assert headers["strict-transport-security"] == "max-age=31536000"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    # Neither Caddy's nor the upstream's (Python's SimpleHTTP) Server header reaches clients.
    assert "server" not in headers


def test_access_log_grows_with_json_entries(host, upstream):
    def lines():
        return host.run(f"cat {ACCESS_LOG} 2>/dev/null").stdout.splitlines()

    before = len(lines())
    marker = f"/log-probe-{secrets.token_hex(4)}"
    request(host, "https", marker)
    for _attempt in range(20):
        after = lines()
        if len(after) > before:
            break
        time.sleep(0.5)
    assert len(after) > before
    entry = json.loads(after[-1])
    assert entry["request"]["host"] == DOMAIN
    assert entry["request"]["uri"] == marker
    assert entry["status"] == 404  # the upstream has no such file; the proxy logged its answer
    log = host.file(ACCESS_LOG)
    assert log.user == "caddy"


def test_reload_keeps_the_process_and_keeps_serving(host, upstream):
    # The role's handler reloads; a reload must not replace the process (no dropped connections).
    pid_before = host.run("systemctl show -p MainPID --value caddy").stdout.strip()
    assert host.run("systemctl reload caddy").rc == 0
    assert host.run("systemctl show -p MainPID --value caddy").stdout.strip() == pid_before
    assert request(host, "https", "/")["body"] == upstream


def test_the_answer_without_an_upstream_keeps_the_security_headers(host, upstream):
    # Caddy drops a site's header operations from error answers; the role's handle_errors
    # applies them again. Last test: it stops the upstream.
    assert host.run(f"systemctl stop {UPSTREAM_UNIT}").rc == 0
    response = request(host, "https", "/")
    assert response["status"] == 502, response
    assert response["headers"]["strict-transport-security"] == "max-age=31536000", response["headers"]
    assert response["headers"]["x-content-type-options"] == "nosniff"
    assert "server" not in response["headers"]
