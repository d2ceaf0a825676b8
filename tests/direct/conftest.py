"""Every response is checked for 5xx; `cast` and `new_account` make users and rooms fast."""

from tests.rooms.fixtures import _no_server_errors, cast, new_account

__all__ = ["_no_server_errors", "cast", "new_account"]
