"""What the test run sets in the environment, before Django reads its settings.

Loaded as a pytest plugin (`-p tests.environment` in pyproject.toml), because pytest-django
imports the settings before any conftest.py. The settings have no defaults for these on
purpose: without them a process runs with DEBUG off and refuses to start without a
SECRET_KEY. The suite runs as a laptop does (DEBUG on: plain http, no HTTPS redirect), and
the servers and commands it starts (gunicorn, celery, manage.py) inherit the same.
"""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "tests-only-key-" + "0123456789" * 5)
