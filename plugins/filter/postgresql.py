# -*- coding: utf-8 -*-
# Copyright (c) 2026, meCove platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL helpers for the deploy.

  scram_sha_256(password)   the SCRAM-SHA-256 verifier PostgreSQL stores for a password
                            (SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, RFC 5802/7677)

The deploy sets the app role's password as this verifier, so the plain password never reaches the
server, its logs (a failed ALTER ROLE is logged with its statement) or pg_stat_statements.
"""

import base64
import hashlib
import hmac
import os

from ansible.errors import AnsibleFilterError


def _b64(data):
    return base64.b64encode(data).decode("ascii")


def scram_sha_256(password, salt=None, iterations=4096):
    """The verifier of password; salt (bytes) is random unless given (the tests give one)."""
    if not isinstance(password, str) or not password:
        raise AnsibleFilterError("scram_sha_256: the password must be a non-empty string")
    # PostgreSQL normalizes non-ASCII passwords with SASLprep, which this filter does not implement.
    if not all(" " <= ch <= "~" for ch in password):
        raise AnsibleFilterError("scram_sha_256: the password must be printable ASCII (letters, digits, punctuation)")
    salt = os.urandom(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("ascii"), salt, int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return f"SCRAM-SHA-256${int(iterations)}:{_b64(salt)}${_b64(stored_key)}:{_b64(server_key)}"


class FilterModule:
    """PostgreSQL filters."""

    def filters(self):
        return {"scram_sha_256": scram_sha_256}
