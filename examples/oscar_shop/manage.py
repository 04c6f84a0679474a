#!/usr/bin/env python
"""The oscar shop's manage.py; pytest-django also finds the project by it."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oscar_shop.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
