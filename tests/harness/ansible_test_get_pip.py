"""Offline stand-in for the pip bootstrap script that ansible-test downloads.

ansible-test creates each sanity-test venv without pip, then runs a get-pip script that it
fetches from ci-files.testing.ansible.com, which our machines cannot reach. sanity.sh puts this
file in ansible-test's cache under the expected name. It gives the venv pip through the
interpreter's own ensurepip, then installs the packages ansible-test asked for (pip==X) from
the package index as usual. get-pip's own flags (--no-setuptools, --no-wheel) mean "do not
install those", which plain pip install already does, so they are dropped.
"""

import subprocess
import sys

GET_PIP_ONLY_FLAGS = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call(
    [sys.executable, "-m", "pip", "install", *[a for a in sys.argv[1:] if a not in GET_PIP_ONLY_FLAGS]]
)
