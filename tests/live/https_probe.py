"""One HTTP(S) request to this host's own Caddy, printed back as one JSON line.

Copied to the host under test and run there with its python3 (the suite never sends traffic
anywhere but the host's own loopback):

    python3 https_probe.py SCHEME PORT DOMAIN PATH [CAFILE]

It connects to 127.0.0.1 and sends DOMAIN as Host and, for https, as SNI. The certificate must
verify for DOMAIN against CAFILE, or the system's trust store when none is given; a failed
verification prints {"tls_error": "..."}.
"""

import http.client
import json
import socket
import ssl
import sys


def main(scheme, port, domain, path, cafile=None):
    def connect():
        return socket.create_connection(("127.0.0.1", int(port)), timeout=15)

    if scheme == "https":
        context = ssl.create_default_context(cafile=cafile)
        connection = http.client.HTTPSConnection(domain, int(port), context=context, timeout=15)
        connection.sock = context.wrap_socket(connect(), server_hostname=domain)
    else:
        connection = http.client.HTTPConnection(domain, int(port), timeout=15)
        connection.sock = connect()
    connection.request("GET", path, headers={"Host": domain})
    response = connection.getresponse()
    return {
        "status": response.status,
        "headers": {name.lower(): value for name, value in response.getheaders()},
        "body": response.read(65536).decode("utf-8", "replace"),
    }


if __name__ == "__main__":
    try:
        print(json.dumps(main(*sys.argv[1:])))
    except ssl.SSLError as error:
        print(json.dumps({"tls_error": str(error)}))
