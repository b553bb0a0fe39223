"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test bootstraps pip into each virtualenv it makes by running a cached get-pip.py. The host it downloads
that script from is not reachable here, so scripts/test places this file in ansible-test's cache instead. It
installs pip from the interpreter's bundled wheel (ensurepip) and then lets that pip install the packages
ansible-test asked for, from the configured package index.
"""

import os
import subprocess
import sys

# Options that get-pip.py understands but pip itself does not.
_GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}


def main() -> int:
    caller_env = dict(os.environ)
    subprocess.run(
        [sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], check=True, stdout=subprocess.DEVNULL
    )
    args = [arg for arg in sys.argv[1:] if arg not in _GET_PIP_ONLY]
    # ensurepip points PIP_CONFIG_FILE at /dev/null; the install below needs the caller's index settings.
    return subprocess.run([sys.executable, "-m", "pip", "install", *args], env=caller_env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
