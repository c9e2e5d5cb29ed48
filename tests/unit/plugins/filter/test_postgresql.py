"""Unit tests of the SCRAM-SHA-256 verifier filter (plugins/filter/postgresql.py)."""

import base64
import hashlib
import hmac

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.mecove.platform.plugins.filter import postgresql

# The SCRAM-SHA-256 exchange of RFC 7677, section 3 (user "user", password "pencil").
SALT = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
AUTH_MESSAGE = (b"n=user,r=rOprNGfwEbeRWgbNEkqO,"
                b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
                b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
CLIENT_PROOF = base64.b64decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
SERVER_SIGNATURE = base64.b64decode("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")


def test_the_verifier_authenticates_the_rfc_7677_exchange_as_a_server_would():
    verifier = postgresql.scram_sha_256("pencil", salt=SALT)
    scheme, rest = verifier.split("$", 1)
    params, keys = rest.split("$")
    assert scheme == "SCRAM-SHA-256" and params == "4096:W22ZaJ0SNY7soEsUEjb6gQ=="
    stored_key, server_key = (base64.b64decode(k) for k in keys.split(":"))
    # What the server does with the client's proof: recover the client key, compare its hash.
    signature = hmac.new(stored_key, AUTH_MESSAGE, hashlib.sha256).digest()
    client_key = bytes(a ^ b for a, b in zip(CLIENT_PROOF, signature))
    assert hashlib.sha256(client_key).digest() == stored_key
    assert hmac.new(server_key, AUTH_MESSAGE, hashlib.sha256).digest() == SERVER_SIGNATURE


def test_each_verifier_has_its_own_salt():
    first, second = postgresql.scram_sha_256("pencil"), postgresql.scram_sha_256("pencil")
    assert first != second and first.startswith("SCRAM-SHA-256$4096:")


@pytest.mark.parametrize("password", ["", None, "pässword", "tab\there"])
def test_a_password_it_cannot_hash_as_postgresql_would_is_refused(password):
    with pytest.raises(AnsibleFilterError, match="scram_sha_256"):
        postgresql.scram_sha_256(password)
