"""Shared helpers: input validation, atomic I/O, progress bars."""

from structlearn.utils.io import atomic_directory, atomic_write_json, atomic_write_text, read_json
from structlearn.utils.progress import progress, set_quiet
from structlearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_labels,
    check_option,
    check_random_state,
    check_scalar,
    check_tensor,
    to_numpy,
)

__all__ = [
    "atomic_directory",
    "atomic_write_json",
    "atomic_write_text",
    "check_array",
    "check_consistent_length",
    "check_labels",
    "check_option",
    "check_random_state",
    "check_scalar",
    "check_tensor",
    "progress",
    "read_json",
    "set_quiet",
    "to_numpy",
]
