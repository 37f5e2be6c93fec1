"""Task-file errors: the shared YAML config-file reader under the names the task loader uses."""

from __future__ import annotations

from satisfice.yamlfile import ConfigFileError, display_path, locate_errors, read_yaml

TaskFileError = ConfigFileError
"""A task file that cannot be used (file, line and field in the message)."""

__all__ = ["TaskFileError", "display_path", "locate_errors", "read_yaml"]
