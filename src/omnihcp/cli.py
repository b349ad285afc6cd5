"""The ``omnihcp`` command: Django's management commands under friendlier names.

``omnihcp serve`` runs the development web server, ``omnihcp web`` the production one
(gunicorn: ``omnihcp web --workers 3 --threads 2 --bind 0.0.0.0:8000``), ``omnihcp worker``
the django-tasks database worker, ``omnihcp demo`` generates the demo company, ``omnihcp
audit verify`` checks the audit chain; anything else is passed to Django's ``manage.py`` unchanged.
"""

from __future__ import annotations

import os
import sys

ALIASES = {
    "serve": ["runserver", "--noreload"],
    "worker": ["db_worker", "--no-reload"],
}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnihcp.config.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "web":
        from gunicorn.app.wsgiapp import run

        sys.argv = ["gunicorn", "omnihcp.config.wsgi", *args[1:]]
        run()
        return
    if args and args[0] in ALIASES:
        args = ALIASES[args[0]] + args[1:]
    execute_from_command_line(["omnihcp", *args])


if __name__ == "__main__":
    main()
