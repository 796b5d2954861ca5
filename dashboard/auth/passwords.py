"""Password hashing with Argon2id (argon2-cffi): a maintained, memory-hard, salted hash.

The library's defaults follow RFC 9106's recommendations; a stored hash made with weaker
parameters is upgraded at the next successful login (``needs_rehash``).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 1_024

_HASHER = PasswordHasher()
#: Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY = _HASHER.hash("citywall-no-such-user")


class PasswordRejected(ValueError):
    """A password that may not be set (too short or too long); the message never quotes it."""


def check_new(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(f"password too short (at least {MIN_LENGTH} characters)")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(f"password too long (at most {MAX_LENGTH} characters)")
    return password


def hash_password(password: str) -> str:
    return _HASHER.hash(check_new(password))


def verify(stored: str | None, password: str) -> bool:
    """Constant work whether or not there is a stored hash."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return False
